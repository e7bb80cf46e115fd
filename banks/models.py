"""Partner institutions (合作机构), their cooperation agreements per fund and filed products."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField
from simple_history.models import HistoricalRecords

from fundmgr.ground.accounts.models import Role
from fundmgr.ground.accounts.workflow import STAFF_REVIEW, step

MONEY = {"max_digits": 18, "decimal_places": 2}
SHARE = {
    "max_digits": 5,
    "decimal_places": 2,
    "default": Decimal("0.00"),
    "validators": [MinValueValidator(0), MaxValueValidator(100)],
}


# Company forms dropped from names in narrow lists, longest first.
_COMPANY_FORMS = ("股份有限公司", "有限责任公司", "有限公司")
# The rural commercial banks' long form and the short one staff use (data: matched in names).
_RURAL_BANK_NAMES = ("农村商业银行", "农商银行")


def short_institution_name(name: str) -> str:
    short = name
    for form in _COMPANY_FORMS:
        short = short.replace(form, "")
    short = short.replace(*_RURAL_BANK_NAMES)
    return short or name


class Institution(ConcurrentTransitionMixin, models.Model):
    class Kind(models.TextChoices):
        BANK = "bank", _("银行")
        INSURER = "insurer", _("保险机构")
        GUARANTOR = "guarantor", _("担保机构")
        VALUER = "valuer", _("评估机构")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        APPLIED = "applied", _("已申请")
        UNDER_REVIEW = "under_review", _("审核中")
        ACTIVE = "active", _("合作中")
        SUSPENDED = "suspended", _("已暂停")
        TERMINATED = "terminated", _("已终止")

    code = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.BANK)
    region_code = models.CharField(_("行政区划代码"), max_length=6, blank=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    status = FSMField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.APPLIED, protected=True
    )
    suspension_reason = models.CharField(_("暂停原因"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["status"])

    class Meta:
        verbose_name = _("合作机构")
        verbose_name_plural = _("合作机构")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def short_name(self) -> str:
        """The name as staff say it, for narrow lists: without the company form
        (股份有限公司 …) and with 农村商业银行 as 农商银行; the full name stays everywhere else."""
        return short_institution_name(self.name)

    # Lifecycle (domain-rules §4). Who may take each step, and four-eyes, are declared here;
    # the admin buttons, the API's available_transitions and the service all read it.
    @step(
        field=status,
        source=Status.APPLIED,
        target=Status.UNDER_REVIEW,
        roles=STAFF_REVIEW,
        label=_("开始审核"),
    )
    def start_review(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=Status.UNDER_REVIEW,
        target=Status.ACTIVE,
        roles=STAFF_REVIEW,
        differs_from=("start_review",),
        label=_("准予合作"),
    )
    def activate(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status, source=Status.ACTIVE, target=Status.SUSPENDED, roles=STAFF_REVIEW, label=_("暂停合作")
    )
    def suspend(self, *, by=None, description=None) -> None:
        pass

    # Lifting a suspension is four-eyes, as for a filing suspension: an approver other than
    # whoever suspended the partnership, with a reason (the service requires the comment).
    @step(
        field=status,
        source=Status.SUSPENDED,
        target=Status.ACTIVE,
        roles=(Role.APPROVER,),
        differs_from=("suspend",),
        label=_("恢复合作"),
        form="banks.forms.ReasonForm",
    )
    def reinstate(self, *, by=None, description=None) -> None:
        pass

    # Ending a partnership is the approver's call alone: it cuts the bank off the API.
    @step(
        field=status,
        source=[Status.ACTIVE, Status.SUSPENDED, Status.UNDER_REVIEW],
        target=Status.TERMINATED,
        roles=(Role.APPROVER,),
        label=_("终止合作"),
    )
    def terminate(self, *, by=None, description=None) -> None:
        pass


class FilingsStatus(models.TextChoices):
    """May the institution file new loans in the fund under this agreement?"""

    OPEN = "open", _("正常")
    SUSPENDED = "suspended", _("暂停备案")
    REINSTATEMENT_REQUESTED = "reinstatement_requested", _("恢复待审批")


# Every state but `open` is a suspension in force (a requested reinstatement lifts nothing yet).
SUSPENDED_FILINGS_STATUSES = (FilingsStatus.SUSPENDED, FilingsStatus.REINSTATEMENT_REQUESTED)


class CooperationAgreement(ConcurrentTransitionMixin, models.Model):
    """An institution's agreement with one fund: loss shares, quota and term.

    Shares are percentages that sum to 100 (database CHECK). The fund's share must not exceed
    the policy's maximum in force on the agreement's `valid_from` (banks.rules, applied by the
    service). Signed agreements are not edited: a change is a new agreement from a later
    `valid_from`, and loans copy the shares at acceptance, so history never changes.

    New filings under the agreement can be suspended (`filings_status`): automatically when
    the bank's covered NPL ratio in the fund passes the policy threshold (loans measures it and
    the measurement is kept here), lifted only with four eyes: one staff member requests the
    reinstatement with a reason, a different approver approves or refuses it.
    """

    institution = models.ForeignKey(
        Institution, verbose_name=_("合作机构"), on_delete=models.PROTECT, related_name="agreements"
    )
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("资金"), on_delete=models.PROTECT, related_name="agreements"
    )
    fund_share = models.DecimalField(_("资金分担比例(%)"), **SHARE)
    bank_share = models.DecimalField(_("银行分担比例(%)"), **SHARE)
    insurer_share = models.DecimalField(_("保险分担比例(%)"), **SHARE)
    valuer_share = models.DecimalField(_("评估机构分担比例(%)"), **SHARE)
    quota = models.DecimalField(_("合作额度(元)"), null=True, blank=True, **MONEY)
    reserve_deposit = models.DecimalField(_("风险准备金存放(元)"), null=True, blank=True, **MONEY)
    signed_on = models.DateField(_("签订日期"))
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("到期日期"), null=True, blank=True)
    document_ref = models.CharField(_("协议编号"), max_length=100, blank=True)
    # Per-fund suspension of new filings (automatic when the covered NPL ratio passes the
    # policy threshold); existing loans stay covered. The date, reason and what was measured
    # stay filled while the suspension is in force (`suspended` or `reinstatement_requested`)
    # and are cleared when a reinstatement is approved; the transition log keeps every step.
    filings_status = FSMField(
        _("备案状态"),
        max_length=32,
        choices=FilingsStatus.choices,
        default=FilingsStatus.OPEN,
        protected=True,
    )
    filings_suspended_on = models.DateField(_("暂停备案日期"), null=True, blank=True)
    filings_suspension_reason = models.CharField(_("暂停备案原因"), max_length=300, blank=True)
    filings_suspension_npl_ratio = models.DecimalField(
        _("暂停时在保贷款不良率(%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    filings_suspension_threshold = models.DecimalField(
        _("暂停阈值(%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )

    history = HistoricalRecords(excluded_fields=["filings_status"])

    class Meta:
        verbose_name = _("合作协议")
        verbose_name_plural = _("合作协议")
        ordering = ["fund", "institution", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "fund", "valid_from"], name="agreement_one_per_start"
            ),
            models.CheckConstraint(
                name="agreement_shares_sum_100",
                condition=Exact(
                    F("fund_share") + F("bank_share") + F("insurer_share") + F("valuer_share"),
                    Decimal("100.00"),
                ),
            ),
            models.CheckConstraint(
                name="agreement_valid_range",
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
            ),
            # A suspension in force always says since when (the bank is told the date).
            models.CheckConstraint(
                name="agreement_suspension_dated",
                condition=Q(filings_status="open") | Q(filings_suspended_on__isnull=False),
            ),
            models.CheckConstraint(
                name="agreement_money_nonneg",
                condition=(Q(quota__isnull=True) | Q(quota__gte=0))
                & (Q(reserve_deposit__isnull=True) | Q(reserve_deposit__gte=0)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.institution} · {self.fund}"

    @property
    def total_share(self) -> Decimal:
        return self.fund_share + self.bank_share + self.insurer_share + self.valuer_share

    @property
    def filings_suspended(self) -> bool:
        return self.filings_status in SUSPENDED_FILINGS_STATUSES

    # Filing suspension lifecycle. The suspension itself is the system's (loans' NPL check);
    # lifting it takes two people: whoever requested it may not approve or refuse it.
    @step(
        field=filings_status,
        source=FilingsStatus.OPEN,
        target=FilingsStatus.SUSPENDED,
        roles=(),
        label=_("暂停新增备案"),
        public=False,
    )
    def suspend_filings(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=filings_status,
        source=FilingsStatus.SUSPENDED,
        target=FilingsStatus.REINSTATEMENT_REQUESTED,
        roles=STAFF_REVIEW,
        label=_("申请恢复备案"),
        form="banks.forms.ReasonForm",
    )
    def request_reinstatement(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=filings_status,
        source=FilingsStatus.REINSTATEMENT_REQUESTED,
        target=FilingsStatus.OPEN,
        roles=(Role.APPROVER,),
        differs_from=("request_reinstatement",),
        label=_("批准恢复备案"),
        form="banks.forms.ReasonForm",
    )
    def approve_reinstatement(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=filings_status,
        source=FilingsStatus.REINSTATEMENT_REQUESTED,
        target=FilingsStatus.SUSPENDED,
        roles=(Role.APPROVER,),
        differs_from=("request_reinstatement",),
        label=_("驳回恢复申请"),
        form="banks.forms.ReasonForm",
    )
    def refuse_reinstatement(self, *, by=None, description=None) -> None:
        pass


class Product(models.Model):
    """A loan product filed with the fund manager (产品备案) for one fund.

    Staff record a submitted product, then file it (`filed`, with the filing date) or
    withdraw it; a change to a filed product is a new version, so loans keep pointing at
    the terms they were made under.
    """

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已提交")
        FILED = "filed", _("已备案")
        WITHDRAWN = "withdrawn", _("已撤回")

    institution = models.ForeignKey(
        Institution, verbose_name=_("合作机构"), on_delete=models.PROTECT, related_name="products"
    )
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("资金"), on_delete=models.PROTECT, related_name="products"
    )
    code = models.SlugField(_("产品代码"), max_length=64)
    name = models.CharField(_("产品名称"), max_length=200)
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    accepted_ip_kinds = models.JSONField(_("可质押知识产权类型"), default=list)
    max_principal = models.DecimalField(_("单户最高额度(元)"), null=True, blank=True, **MONEY)
    max_term_months = models.PositiveSmallIntegerField(_("最长期限(月)"), null=True, blank=True)
    max_annual_rate = models.DecimalField(
        _("最高年利率(%)"), max_digits=7, decimal_places=4, null=True, blank=True
    )
    max_pledge_rate = models.DecimalField(
        _("最高质押率(%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    filed_on = models.DateField(_("备案日期"), null=True, blank=True)
    withdrawn_on = models.DateField(_("撤回日期"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("备案产品")
        verbose_name_plural = _("备案产品")
        ordering = ["institution", "fund", "code", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "fund", "code", "version"], name="product_code_version"
            ),
            # A filed product always says when it was filed (loan checks read the date).
            models.CheckConstraint(
                name="product_filed_has_date", condition=~Q(status="filed") | Q(filed_on__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
