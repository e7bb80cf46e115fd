"""Loan filings (贷款备案): the filing and its two lifecycles, pledges, due diligence.

A filing has two lifecycles: `status` (the filing: submitted → due diligence → accepted …)
and, once accepted, `loan_status` (performing → overdue → non-performing …, settled).
Both are declared with `step(...)`; every transition of either is logged.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField

from fundmgr.ground.accounts.models import Role
from fundmgr.ground.accounts.workflow import STAFF_REVIEW, step
from fundmgr.ground.lib import clock

MONEY = {"max_digits": 18, "decimal_places": 2}
SHARE = {"max_digits": 5, "decimal_places": 2, "null": True, "blank": True}


class FilingStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    UNDER_REVIEW = "under_review", _("尽调中")
    RETURNED = "returned", _("退回补正")
    ACCEPTED = "accepted", _("已受理入池")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")
    VOIDED = "voided", _("已作废")


class LoanStatus(models.TextChoices):
    PERFORMING = "performing", _("正常")
    OVERDUE = "overdue", _("逾期")
    NON_PERFORMING = "non_performing", _("不良")
    SETTLED = "settled", _("已结清")
    IN_CLAIM = "in_claim", _("补偿申请中")
    COMPENSATED = "compensated", _("已代偿")
    CLOSED = "closed", _("已关闭")


# Loans whose covered balance still counts against the fund's capacity and exposure.
LIVE_LOAN_STATUSES = (
    LoanStatus.PERFORMING,
    LoanStatus.OVERDUE,
    LoanStatus.NON_PERFORMING,
    LoanStatus.IN_CLAIM,
)
NON_PERFORMING_STATUSES = (LoanStatus.NON_PERFORMING, LoanStatus.IN_CLAIM)


class LoanFiling(ConcurrentTransitionMixin, models.Model):
    class PledgeType(models.TextChoices):
        IP_ONLY = "ip_only", _("纯知识产权质押")
        COMBINED = "combined", _("组合质押")

    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("资金"), on_delete=models.PROTECT, related_name="filings"
    )
    institution = models.ForeignKey(
        "banks.Institution", verbose_name=_("合作机构"), on_delete=models.PROTECT, related_name="filings"
    )
    product = models.ForeignKey(
        "banks.Product",
        verbose_name=_("备案产品"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="filings",
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", verbose_name=_("借款企业"), on_delete=models.PROTECT, related_name="filings"
    )
    reference = models.CharField(_("备案编号"), max_length=32, unique=True)
    contract_no = models.CharField(_("借款合同号"), max_length=100)
    principal = models.DecimalField(_("贷款本金(元)"), **MONEY)
    pledge_type = models.CharField(_("质押方式"), max_length=16, choices=PledgeType.choices)
    covered_principal = models.DecimalField(_("知识产权担保本金(元)"), **MONEY)
    annual_rate = models.DecimalField(_("年利率(%)"), max_digits=7, decimal_places=4)
    disbursed_on = models.DateField(_("放款日"))
    matures_on = models.DateField(_("到期日"))
    purpose = models.CharField(_("用途"), max_length=300, blank=True)
    checks = models.JSONField(_("自动校验结果"), default=list, blank=True)
    due_diligence_due_on = models.DateField(_("尽调截止日"), null=True, blank=True)
    status = FSMField(
        _("备案状态"),
        max_length=16,
        choices=FilingStatus.choices,
        default=FilingStatus.SUBMITTED,
        protected=True,
    )
    loan_status = FSMField(
        _("贷款状态"), max_length=16, choices=LoanStatus.choices, null=True, blank=True, protected=True
    )
    # Frozen at acceptance: the policy version and the agreement's shares the loan is judged by.
    policy_version = models.ForeignKey(
        "funds.PolicyVersion", verbose_name=_("适用政策版本"), null=True, blank=True, on_delete=models.PROTECT
    )
    fund_share = models.DecimalField(_("资金分担比例(%)"), **SHARE)
    bank_share = models.DecimalField(_("银行分担比例(%)"), **SHARE)
    insurer_share = models.DecimalField(_("保险分担比例(%)"), **SHARE)
    valuer_share = models.DecimalField(_("评估机构分担比例(%)"), **SHARE)
    accepted_on = models.DateField(_("受理日期"), null=True, blank=True)
    outstanding_principal = models.DecimalField(_("贷款余额(元)"), **MONEY)
    covered_outstanding = models.DecimalField(_("担保覆盖余额(元)"), **MONEY)
    settled_on = models.DateField(_("结清日期"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    submitted_on = models.DateField(_("提交日期(业务日)"), default=clock.today)
    # The financing need (投融对接) the loan answers, if the bank named one; the need follows
    # the filing's fate (matching.services.need_follow_filing).
    financing_need = models.ForeignKey(
        "matching.FinancingNeed",
        verbose_name=_("对应融资需求"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="filings",
    )

    class Meta:
        verbose_name = _("贷款备案")
        verbose_name_plural = _("贷款备案")
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["fund", "status", "loan_status"], name="filing_fund_status_idx"),
            models.Index(fields=["institution", "status"], name="filing_inst_status_idx"),
            # The filings list's order (newest first): a page is read from the index, not a sort.
            models.Index(fields=["-submitted_at", "-id"], name="filing_newest_first_idx"),
            # Admin search: a contract number typed whole is answered from here.
            models.Index(fields=["contract_no"], name="filing_contract_no_idx"),
            # Reports read a period's loans by business date, not the whole book.
            models.Index(
                fields=["accepted_on", "fund"], name="filing_accepted_on_idx", condition=Q(status="accepted")
            ),
            models.Index(fields=["submitted_on", "fund"], name="filing_submitted_on_idx"),
            # "Had this enterprise borrowed here before?" (enterprises served for the first time).
            models.Index(
                fields=["enterprise", "accepted_on"],
                name="filing_enterprise_accepted_idx",
                condition=Q(status="accepted"),
            ),
            # The admin's work queues (待尽调, 尽调中, 退回补正; 逾期, 不良) count a few thousand
            # open or troubled loans out of the whole book: small partial indexes hold just them.
            models.Index(
                fields=["status"],
                name="filing_open_status_idx",
                condition=Q(status__in=["submitted", "under_review", "returned"]),
            ),
            models.Index(
                fields=["loan_status"],
                name="filing_troubled_idx",
                condition=Q(loan_status__in=["overdue", "non_performing"]),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "contract_no"], name="filing_contract_unique_per_inst"
            ),
            models.CheckConstraint(
                name="filing_ip_only_covers_all",
                condition=~Q(pledge_type="ip_only") | Q(covered_principal=F("principal")),
            ),
            models.CheckConstraint(name="filing_principal_positive", condition=Q(principal__gt=0)),
            models.CheckConstraint(
                name="filing_covered_within_principal",
                condition=Q(covered_principal__gt=0, covered_principal__lte=F("principal")),
            ),
            models.CheckConstraint(
                name="filing_outstanding_range",
                condition=Q(outstanding_principal__gte=0, outstanding_principal__lte=F("principal"))
                & Q(covered_outstanding__gte=0, covered_outstanding__lte=F("covered_principal")),
            ),
            models.CheckConstraint(
                name="filing_maturity_after_disbursal", condition=Q(matures_on__gt=F("disbursed_on"))
            ),
            models.CheckConstraint(name="filing_rate_nonneg", condition=Q(annual_rate__gte=0)),
        ]

    def __str__(self) -> str:
        return self.reference

    # --- the filing (备案) -------------------------------------------------------------
    @step(
        field=status,
        source=FilingStatus.SUBMITTED,
        target=FilingStatus.UNDER_REVIEW,
        roles=STAFF_REVIEW,
        label=_("开始尽调"),
    )
    def start_due_diligence(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=FilingStatus.UNDER_REVIEW,
        target=FilingStatus.RETURNED,
        roles=STAFF_REVIEW,
        label=_("退回补正"),
    )
    def return_for_supplement(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=FilingStatus.RETURNED,
        target=FilingStatus.SUBMITTED,
        roles=(Role.INSTITUTION,),
        label=_("重新提交"),
        admin=False,
    )
    def resubmit(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=FilingStatus.UNDER_REVIEW,
        target=FilingStatus.ACCEPTED,
        roles=STAFF_REVIEW,
        differs_from=("start_due_diligence",),
        label=_("受理入池"),
    )
    def accept(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=FilingStatus.UNDER_REVIEW,
        target=FilingStatus.REJECTED,
        roles=STAFF_REVIEW,
        differs_from=("start_due_diligence",),
        label=_("不予受理"),
    )
    def reject(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=[FilingStatus.SUBMITTED, FilingStatus.UNDER_REVIEW, FilingStatus.RETURNED],
        target=FilingStatus.WITHDRAWN,
        roles=(Role.INSTITUTION,),
        label=_("撤回"),
        admin=False,
    )
    def withdraw(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=FilingStatus.ACCEPTED,
        target=FilingStatus.VOIDED,
        roles=(Role.APPROVER,),
        label=_("作废（虚假备案）"),
    )
    def void(self, *, by=None, description=None) -> None:
        pass

    # --- the covered loan (贷后) ---------------------------------------------------------
    # Driven by the bank's monthly reports and settlement, and by claims; no admin buttons.
    @step(
        field=loan_status,
        source=None,
        target=LoanStatus.PERFORMING,
        roles=STAFF_REVIEW,
        label=_("开始在保"),
        admin=False,
        public=False,
    )
    def start_cover(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=loan_status,
        source=[LoanStatus.PERFORMING, LoanStatus.NON_PERFORMING],
        target=LoanStatus.OVERDUE,
        roles=(Role.INSTITUTION,),
        label=_("逾期"),
        admin=False,
        public=False,
    )
    def mark_overdue(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=loan_status,
        source=[LoanStatus.PERFORMING, LoanStatus.OVERDUE],
        target=LoanStatus.NON_PERFORMING,
        roles=(Role.INSTITUTION,),
        label=_("转为不良"),
        admin=False,
        public=False,
    )
    def mark_non_performing(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=loan_status,
        source=[LoanStatus.OVERDUE, LoanStatus.NON_PERFORMING],
        target=LoanStatus.PERFORMING,
        roles=(Role.INSTITUTION,),
        label=_("恢复正常"),
        admin=False,
        public=False,
    )
    def cure(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=loan_status,
        source=[LoanStatus.PERFORMING, LoanStatus.OVERDUE, LoanStatus.NON_PERFORMING],
        target=LoanStatus.SETTLED,
        roles=(Role.INSTITUTION,),
        label=_("结清"),
        admin=False,
    )
    def settle(self, *, by=None, description=None) -> None:
        pass

    # Driven by the compensation claim (claims.py).
    @step(
        field=loan_status,
        source=LoanStatus.NON_PERFORMING,
        target=LoanStatus.IN_CLAIM,
        roles=(Role.INSTITUTION,),
        label=_("申请补偿"),
        admin=False,
        public=False,
    )
    def start_claim(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=loan_status,
        source=LoanStatus.IN_CLAIM,
        target=LoanStatus.NON_PERFORMING,
        roles=(Role.OFFICER, Role.APPROVER, Role.COMMITTEE),
        label=_("补偿申请未获批准"),
        admin=False,
        public=False,
    )
    def drop_claim(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=loan_status,
        source=LoanStatus.IN_CLAIM,
        target=LoanStatus.COMPENSATED,
        roles=(Role.FINANCE,),
        label=_("已代偿"),
        admin=False,
        public=False,
    )
    def compensate(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=loan_status,
        source=[LoanStatus.COMPENSATED, LoanStatus.SETTLED],
        target=LoanStatus.CLOSED,
        roles=STAFF_REVIEW,
        label=_("关闭"),
        admin=False,
        public=False,
    )
    def close_loan(self, *, by=None, description=None) -> None:
        pass

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_FILING_STATUSES and self.loan_status in (None, *LIVE_LOAN_STATUSES)


# Filings that hold their pledged rights and count against the enterprise's exposure.
LIVE_FILING_STATUSES = (
    FilingStatus.SUBMITTED,
    FilingStatus.UNDER_REVIEW,
    FilingStatus.RETURNED,
    FilingStatus.ACCEPTED,
)


class ReferenceCounter(models.Model):
    """Per fund and year, the last number used in filing references (ZQ-2026-000123)."""

    fund = models.ForeignKey("funds.Fund", on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["fund", "year"], name="reference_counter_unique")]

    def __str__(self) -> str:
        return f"{self.fund_id}/{self.year}: {self.last}"


class Pledge(models.Model):
    """One pledged IP right of a filing, with its pledge registration (质押登记)."""

    filing = models.ForeignKey(
        LoanFiling, verbose_name=_("备案"), on_delete=models.CASCADE, related_name="pledges"
    )
    ip_asset = models.ForeignKey(
        "enterprises.IPAsset", verbose_name=_("知识产权"), on_delete=models.PROTECT, related_name="pledges"
    )
    registration_no = models.CharField(_("质押登记号"), max_length=32)
    registered_on = models.DateField(_("质押登记日"))
    appraised_value = models.DecimalField(_("评估价值(元)"), null=True, blank=True, **MONEY)
    released_on = models.DateField(_("解除质押日"), null=True, blank=True)

    class Meta:
        verbose_name = _("质押物")
        verbose_name_plural = _("质押物")
        ordering = ["filing", "id"]
        constraints = [
            models.UniqueConstraint(fields=["filing", "ip_asset"], name="pledge_unique_per_filing"),
            models.CheckConstraint(
                name="pledge_appraised_nonneg",
                condition=Q(appraised_value__isnull=True) | Q(appraised_value__gte=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filing} · {self.ip_asset}"


class DueDiligence(models.Model):
    """The officer's due-diligence checklist on a filing (尽调)."""

    filing = models.OneToOneField(
        LoanFiling, verbose_name=_("备案"), on_delete=models.CASCADE, related_name="due_diligence"
    )
    enterprise_eligible = models.BooleanField(_("企业仍符合入库条件"), null=True)
    ip_status_checked = models.BooleanField(_("已核查知识产权法律状态"), null=True)
    pledge_registration_checked = models.BooleanField(_("已核查质押登记"), null=True)
    terms_within_limits = models.BooleanField(_("贷款条件符合产品和政策"), null=True)
    documents_complete = models.BooleanField(_("材料齐全"), null=True)
    site_visit = models.BooleanField(_("已实地走访"), null=True)
    notes = models.TextField(_("尽调意见"), blank=True)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("尽调人员"), null=True, on_delete=models.PROTECT
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    REQUIRED_ITEMS = (
        "enterprise_eligible",
        "ip_status_checked",
        "pledge_registration_checked",
        "terms_within_limits",
        "documents_complete",
    )

    class Meta:
        verbose_name = _("尽调记录")
        verbose_name_plural = _("尽调记录")

    def __str__(self) -> str:
        return gettext("%(filing)s 尽调") % {"filing": self.filing}

    @property
    def complete(self) -> bool:
        return not self.missing_items

    @property
    def missing_items(self) -> list[str]:
        """The required items not yet confirmed (是), by their labels, in checklist order."""
        return [
            str(self._meta.get_field(item).verbose_name)
            for item in self.REQUIRED_ITEMS
            if getattr(self, item) is not True
        ]
