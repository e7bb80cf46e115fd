"""Enterprises registered in a fund (企业入库) and their IP portfolios."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField
from simple_history.models import HistoricalRecords

from fundmgr.ground.accounts.models import Role
from fundmgr.ground.accounts.workflow import STAFF_REVIEW, step
from fundmgr.ground.lib.identifiers import IP_KINDS

MONEY = {"max_digits": 18, "decimal_places": 2}


class SizeClass(models.TextChoices):
    LARGE = "large", _("大型")
    MEDIUM = "medium", _("中型")
    SMALL = "small", _("小型")
    MICRO = "micro", _("微型")


class Enterprise(ConcurrentTransitionMixin, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已提交")
        UNDER_REVIEW = "under_review", _("审核中")
        RETURNED = "returned", _("退回补正")
        ADMITTED = "admitted", _("已入库")
        REJECTED = "rejected", _("未通过")
        SUSPENDED = "suspended", _("已暂停")
        REMOVED = "removed", _("已出库")
        EXPIRED = "expired", _("已过期")

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("企业名称"), max_length=200)
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("所属资金"), on_delete=models.PROTECT, related_name="enterprises"
    )
    region_code = models.CharField(_("所在区县代码"), max_length=6)
    industry_code = models.CharField(_("行业代码(GB/T 4754)"), max_length=5)
    registered_on = models.DateField(_("成立日期"))
    employees = models.PositiveIntegerField(_("从业人员(人)"), null=True, blank=True)
    annual_revenue = models.DecimalField(_("营业收入(元)"), null=True, blank=True, **MONEY)
    total_assets = models.DecimalField(_("资产总额(元)"), null=True, blank=True, **MONEY)
    size_class = models.CharField(_("企业规模"), max_length=8, choices=SizeClass.choices, blank=True)
    size_basis = models.CharField(_("划型依据"), max_length=300, blank=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=64, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    credit_report_date = models.DateField(_("征信报告日期"), null=True, blank=True)
    credit_record_clean = models.BooleanField(_("征信无不良记录"), null=True, blank=True)
    status = FSMField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT, protected=True)
    admitted_on = models.DateField(_("入库日期"), null=True, blank=True)
    admitted_until = models.DateField(_("入库有效期至"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        "banks.Institution",
        verbose_name=_("代为申请机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="submitted_enterprises",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["status", "updated_at"])

    class Meta:
        verbose_name = _("入库企业")
        verbose_name_plural = _("入库企业")
        ordering = ["fund", "name"]
        indexes = [
            models.Index(fields=["fund", "status"], name="enterprise_fund_status_idx"),
            # The district filter of the filings and claims lists probes loans per district.
            models.Index(fields=["region_code"], name="enterprise_region_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="enterprise_money_nonneg",
                condition=(Q(annual_revenue__isnull=True) | Q(annual_revenue__gte=0))
                & (Q(total_assets__isnull=True) | Q(total_assets__gte=0)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"

    # Lifecycle (domain-rules §12.1). Who may take each step, and four-eyes, are declared here.
    @step(
        field=status,
        source=[Status.DRAFT, Status.RETURNED],
        target=Status.SUBMITTED,
        roles=(Role.OFFICER, Role.INSTITUTION),
        label=_("提交申请"),
    )
    def submit(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=Status.SUBMITTED,
        target=Status.UNDER_REVIEW,
        roles=STAFF_REVIEW,
        label=_("开始审核"),
    )
    def start_review(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=Status.UNDER_REVIEW,
        target=Status.RETURNED,
        roles=STAFF_REVIEW,
        label=_("退回补正"),
    )
    def return_for_supplement(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=Status.UNDER_REVIEW,
        target=Status.ADMITTED,
        roles=STAFF_REVIEW,
        differs_from=("start_review",),
        label=_("同意入库"),
    )
    def admit(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=Status.UNDER_REVIEW,
        target=Status.REJECTED,
        roles=STAFF_REVIEW,
        label=_("不予入库"),
    )
    def reject(self, *, by=None, description=None) -> None:
        pass

    @step(field=status, source=Status.ADMITTED, target=Status.SUSPENDED, roles=STAFF_REVIEW, label=_("暂停"))
    def suspend(self, *, by=None, description=None) -> None:
        pass

    @step(field=status, source=Status.SUSPENDED, target=Status.ADMITTED, roles=STAFF_REVIEW, label=_("恢复"))
    def reinstate(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=[Status.ADMITTED, Status.SUSPENDED, Status.EXPIRED],
        target=Status.REMOVED,
        roles=STAFF_REVIEW,
        label=_("出库"),
    )
    def remove(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=Status.ADMITTED,
        target=Status.EXPIRED,
        roles=(),
        label=_("到期"),
        admin=False,
        public=False,
    )
    def expire(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=[Status.ADMITTED, Status.EXPIRED],
        target=Status.ADMITTED,
        roles=STAFF_REVIEW,
        label=_("延续入库"),
    )
    def renew(self, *, by=None, description=None) -> None:
        pass


class IPAsset(models.Model):
    class Kind(models.TextChoices):
        INVENTION_PATENT = "invention_patent", _("发明专利")
        UTILITY_MODEL = "utility_model", _("实用新型专利")
        DESIGN_PATENT = "design_patent", _("外观设计专利")
        TRADEMARK = "trademark", _("商标")
        COPYRIGHT = "copyright", _("著作权")
        SOFTWARE_COPYRIGHT = "software_copyright", _("软件著作权")
        GEOGRAPHICAL_INDICATION = "geographical_indication", _("地理标志")

    class Status(models.TextChoices):
        VALID = "valid", _("有效")
        LAPSED = "lapsed", _("失效")
        INVALIDATED = "invalidated", _("被宣告无效")
        TRANSFERRED = "transferred", _("已转让")

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="ip_assets"
    )
    kind = models.CharField(_("类型"), max_length=32, choices=Kind.choices)
    number = models.CharField(_("号码"), max_length=64, help_text=_("专利申请号含校验位，如 202110123456.7"))
    title = models.CharField(_("名称"), max_length=200)
    owner_name = models.CharField(_("权利人"), max_length=200, blank=True)
    nice_class = models.PositiveSmallIntegerField(_("尼斯分类"), null=True, blank=True)
    filed_on = models.DateField(_("申请日"), null=True, blank=True)
    expires_on = models.DateField(_("到期日"))
    status = models.CharField(_("法律状态"), max_length=16, choices=Status.choices, default=Status.VALID)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("知识产权")
        verbose_name_plural = _("知识产权")
        ordering = ["enterprise", "kind", "number"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="ip_asset_unique_number"),
            models.CheckConstraint(name="ip_asset_kind_known", condition=Q(kind__in=IP_KINDS)),
            models.CheckConstraint(
                name="ip_asset_nice_class_range",
                condition=Q(nice_class__isnull=True) | Q(nice_class__gte=1, nice_class__lte=45),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


# The SME thresholds table lives with its classification function; importing it here
# registers the model with the app.
from .sme import SMEThreshold  # noqa: E402,F401
