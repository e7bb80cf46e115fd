"""Loan filings (贷款备案), due diligence, pledges, documents and monthly servicing.

A filing has two lifecycles: `status` (the filing: submitted → due diligence → accepted …)
and, once accepted, `loan_status` (performing → overdue → non-performing …, settled).
Both are declared with `step(...)`; every transition of either is logged.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
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

    class Meta:
        verbose_name = _("贷款备案")
        verbose_name_plural = _("贷款备案")
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["fund", "status", "loan_status"], name="filing_fund_status_idx"),
            models.Index(fields=["institution", "status"], name="filing_inst_status_idx"),
            # The filings list's order (newest first): a page is read from the index, not a sort.
            models.Index(fields=["-submitted_at", "-id"], name="filing_newest_first_idx"),
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


class DocumentKind(models.TextChoices):
    LOAN_CONTRACT = "loan_contract", _("借款合同")
    PLEDGE_CONTRACT = "pledge_contract", _("质押合同")
    PLEDGE_REGISTRATION_NOTICE = "pledge_registration_notice", _("质押登记通知书")
    VALUATION_REPORT = "valuation_report", _("评估报告")
    DISBURSEMENT_VOUCHER = "disbursement_voucher", _("放款凭证")
    CLAIM_APPLICATION = "claim_application", _("补偿申请表")
    OVERDUE_EVIDENCE = "overdue_evidence", _("逾期及风险分类证明")
    COLLECTION_RECORDS = "collection_records", _("催收记录")
    LEGAL_DOCUMENTS = "legal_documents", _("诉讼、仲裁或执行文书")
    LOSS_COMPUTATION = "loss_computation", _("损失计算表")
    WRITE_OFF_FILE = "write_off_file", _("核销材料")
    OTHER = "other", _("其他")


def _document_path(instance, filename: str) -> str:
    # The stored name is the checksum: never the client's file name, which is not trusted.
    return f"filings/{instance.filing_id}/{instance.sha256}.{instance.extension}"


class FilingDocument(models.Model):
    filing = models.ForeignKey(
        LoanFiling, verbose_name=_("备案"), on_delete=models.PROTECT, related_name="documents"
    )
    claim = models.ForeignKey(
        "loans.Claim",
        verbose_name=_("补偿申请"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
        help_text=_("补偿申请的材料同时归档在其贷款备案下"),
    )
    kind = models.CharField(_("类型"), max_length=32, choices=DocumentKind.choices)
    file = models.FileField(_("文件"), upload_to=_document_path, max_length=300)
    original_name = models.CharField(_("原文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=64)
    extension = models.CharField(max_length=8)
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("备案材料")
        verbose_name_plural = _("备案材料")
        ordering = ["filing", "uploaded_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"


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
        return f"{self.filing} 尽调"

    @property
    def complete(self) -> bool:
        return all(getattr(self, item) is True for item in self.REQUIRED_ITEMS)


class RiskClass(models.TextChoices):
    NORMAL = "normal", _("正常")
    SPECIAL_MENTION = "special_mention", _("关注")
    SUBSTANDARD = "substandard", _("次级")
    DOUBTFUL = "doubtful", _("可疑")
    LOSS = "loss", _("损失")


RISK_ORDER = [
    RiskClass.NORMAL,
    RiskClass.SPECIAL_MENTION,
    RiskClass.SUBSTANDARD,
    RiskClass.DOUBTFUL,
    RiskClass.LOSS,
]


class StatusReport(models.Model):
    """A bank's monthly report on one covered loan. Corrections supersede, never overwrite,
    so the delinquency history stays whole."""

    filing = models.ForeignKey(
        LoanFiling, verbose_name=_("贷款"), on_delete=models.PROTECT, related_name="status_reports"
    )
    as_of = models.DateField(_("报告月末"))
    outstanding_principal = models.DecimalField(_("贷款余额(元)"), **MONEY)
    overdue_principal = models.DecimalField(_("逾期本金(元)"), **MONEY)
    overdue_interest = models.DecimalField(_("逾期利息(元)"), **MONEY)
    days_overdue = models.PositiveIntegerField(_("逾期天数"))
    risk_class = models.CharField(_("五级分类"), max_length=16, choices=RiskClass.choices)
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("更正的报告"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    is_current = models.BooleanField(_("有效"), default=True)
    loan_status_after = models.CharField(_("报告后贷款状态"), max_length=16, choices=LoanStatus.choices)
    reported_on = models.DateField(_("报送业务日期"), default=clock.today)
    reported_at = models.DateTimeField(_("报送时间"), auto_now_add=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("报送人"), null=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("月度报告")
        verbose_name_plural = _("月度报告")
        ordering = ["filing", "as_of", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["filing", "as_of"],
                condition=Q(is_current=True),
                name="status_report_one_current_per_month",
            ),
            models.CheckConstraint(
                name="status_report_amounts_nonneg",
                condition=Q(outstanding_principal__gte=0, overdue_principal__gte=0, overdue_interest__gte=0),
            ),
            models.CheckConstraint(
                name="status_report_overdue_within_outstanding",
                condition=Q(overdue_principal__lte=F("outstanding_principal")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filing} {self.as_of:%Y-%m}"


class EarlyWarning(models.Model):
    """An early warning on a covered loan, raised once per kind and subject, shown to staff
    and notified to the bank."""

    class Kind(models.TextChoices):
        IP_EXPIRES_BEFORE_MATURITY = "ip_expires_before_maturity", _("质押知识产权早于贷款到期")
        IP_LAPSED = "ip_lapsed", _("质押知识产权失效")
        MONTHLY_REPORT_MISSING = "monthly_report_missing", _("未报送月度报告")
        DUE_DILIGENCE_DEADLINE = "due_diligence_deadline", _("尽调即将超期")

    filing = models.ForeignKey(
        LoanFiling, verbose_name=_("贷款"), on_delete=models.CASCADE, related_name="warnings"
    )
    kind = models.CharField(_("类型"), max_length=40, choices=Kind.choices)
    subject = models.CharField(_("对象"), max_length=64, help_text=_("例如知识产权号码或报告月份"))
    message = models.CharField(_("内容"), max_length=300)
    raised_on = models.DateField(_("预警日期"))
    resolved_on = models.DateField(_("解除日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-raised_on"]
        constraints = [
            models.UniqueConstraint(fields=["filing", "kind", "subject"], name="warning_once_per_subject"),
        ]

    def __str__(self) -> str:
        return self.message


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    INITIAL_REVIEW = "initial_review", _("初审中")
    RETURNED = "returned", _("退回补正")
    RECOMMENDED = "recommended", _("已复核推荐")
    COMMITTEE_REVIEW = "committee_review", _("决委会审议中")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")
    PAID = "paid", _("已代偿")
    IN_RECOVERY = "in_recovery", _("追偿中")
    CLOSED = "closed", _("已结案")
    WRITTEN_OFF = "written_off", _("已核销")


# A loan has at most one claim that is not finished (database constraint below).
CLOSED_CLAIM_STATUSES = (ClaimStatus.REJECTED, ClaimStatus.CLOSED, ClaimStatus.WRITTEN_OFF)


class Claim(ConcurrentTransitionMixin, models.Model):
    """A bank's compensation claim on a covered loan (风险补偿申请)."""

    filing = models.ForeignKey(
        LoanFiling, verbose_name=_("贷款"), on_delete=models.PROTECT, related_name="claims"
    )
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("资金"), on_delete=models.PROTECT, related_name="claims"
    )
    institution = models.ForeignKey(
        "banks.Institution", verbose_name=_("合作机构"), on_delete=models.PROTECT, related_name="claims"
    )
    reference = models.CharField(_("申请编号"), max_length=32, unique=True)
    status = FSMField(
        _("状态"), max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.SUBMITTED, protected=True
    )
    trigger_date = models.DateField(_("触发日"))
    outstanding_principal = models.DecimalField(_("触发时贷款本金余额(元)"), **MONEY)
    recovered_before_claim = models.DecimalField(_("申请前已回收(元)"), **MONEY)
    legal_action = models.JSONField(_("法律行动"), null=True, blank=True)
    notes = models.TextField(_("说明"), blank=True)
    # The computation, every step kept (recomputed at review steps; the latest is stored).
    computation = models.JSONField(_("计算过程"), default=dict)
    loss_base = models.DecimalField(_("损失基数(元)"), **MONEY)
    fund_share = models.DecimalField(_("资金分担比例(%)"), max_digits=5, decimal_places=2)
    computed_amount = models.DecimalField(_("按比例计算金额(元)"), **MONEY)
    claimable_amount = models.DecimalField(_("可补偿金额(元)"), **MONEY)
    approved_amount = models.DecimalField(_("批准金额(元)"), null=True, blank=True, **MONEY)
    approved_on = models.DateField(_("批准日期"), null=True, blank=True)
    paid_amount = models.DecimalField(_("已付金额(元)"), null=True, blank=True, **MONEY)
    paid_on = models.DateField(_("付款日期"), null=True, blank=True)
    meeting_ref = models.CharField(_("会议纪要编号"), max_length=100, blank=True)
    submitted_on = models.DateField(_("提交日期"), default=clock.today)
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("补偿申请")
        verbose_name_plural = _("补偿申请")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["filing"],
                condition=~Q(status__in=CLOSED_CLAIM_STATUSES),
                name="claim_one_open_per_loan",
            ),
            models.CheckConstraint(
                name="claim_amounts_nonneg",
                condition=Q(loss_base__gte=0, computed_amount__gte=0, claimable_amount__gte=0),
            ),
            models.CheckConstraint(
                name="claim_approved_within_claimable",
                condition=Q(approved_amount__isnull=True)
                | Q(approved_amount__gt=0, approved_amount__lte=F("claimable_amount")),
            ),
            models.CheckConstraint(
                name="claim_paid_within_approved",
                condition=Q(paid_amount__isnull=True)
                | Q(approved_amount__isnull=False, paid_amount__lte=F("approved_amount")),
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @step(
        field=status,
        source=ClaimStatus.SUBMITTED,
        target=ClaimStatus.INITIAL_REVIEW,
        roles=STAFF_REVIEW,
        label=_("开始初审"),
    )
    def start_review(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=[ClaimStatus.INITIAL_REVIEW, ClaimStatus.COMMITTEE_REVIEW],
        target=ClaimStatus.RETURNED,
        roles=(Role.OFFICER, Role.APPROVER, Role.COMMITTEE),
        label=_("退回补正"),
    )
    def return_for_supplement(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=ClaimStatus.RETURNED,
        target=ClaimStatus.SUBMITTED,
        roles=(Role.INSTITUTION,),
        label=_("重新提交"),
        admin=False,
    )
    def resubmit(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=ClaimStatus.INITIAL_REVIEW,
        target=ClaimStatus.RECOMMENDED,
        roles=STAFF_REVIEW,
        differs_from=("start_review",),
        label=_("复核推荐"),
    )
    def recommend(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=[ClaimStatus.INITIAL_REVIEW, ClaimStatus.COMMITTEE_REVIEW],
        target=ClaimStatus.REJECTED,
        roles=(Role.OFFICER, Role.APPROVER, Role.COMMITTEE),
        label=_("不予补偿"),
    )
    def reject(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=ClaimStatus.RECOMMENDED,
        target=ClaimStatus.COMMITTEE_REVIEW,
        roles=(Role.COMMITTEE,),
        label=_("提交决委会"),
    )
    def start_committee_review(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=ClaimStatus.COMMITTEE_REVIEW,
        target=ClaimStatus.APPROVED,
        roles=(Role.COMMITTEE,),
        differs_from=("recommend",),
        label=_("批准补偿"),
        form="loans.forms.ApproveClaimForm",
    )
    def approve(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=ClaimStatus.APPROVED,
        target=ClaimStatus.PAID,
        roles=(Role.FINANCE,),
        label=_("付款"),
    )
    def pay(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=ClaimStatus.PAID,
        target=ClaimStatus.IN_RECOVERY,
        roles=(Role.FINANCE,),
        label=_("转入追偿"),
        admin=False,
        public=False,
    )
    def start_recovery(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=ClaimStatus.IN_RECOVERY,
        target=ClaimStatus.CLOSED,
        roles=STAFF_REVIEW,
        label=_("结案"),
    )
    def close(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=ClaimStatus.IN_RECOVERY,
        target=ClaimStatus.WRITTEN_OFF,
        roles=(Role.APPROVER, Role.COMMITTEE),
        label=_("核销"),
    )
    def write_off(self, *, by=None, description=None) -> None:
        pass


class RecoveryStatus(models.TextChoices):
    RETURN_DUE = "return_due", _("待返还")
    RETURNED = "returned", _("已返还")
    OVERDUE = "overdue", _("逾期未返还")


class Recovery(ConcurrentTransitionMixin, models.Model):
    """Money the bank recovered after compensation, and the fund's part to be returned."""

    class Source(models.TextChoices):
        BORROWER = "borrower", _("借款人")
        GUARANTOR = "guarantor", _("保证人")
        IP_DISPOSAL = "ip_disposal", _("质押物处置")
        INSURANCE = "insurance", _("保险")
        OTHER = "other", _("其他")

    claim = models.ForeignKey(
        Claim, verbose_name=_("补偿申请"), on_delete=models.PROTECT, related_name="recoveries"
    )
    received_on = models.DateField(_("回收日期"))
    gross_amount = models.DecimalField(_("回收总额(元)"), **MONEY)
    costs = models.DecimalField(_("追偿费用(元)"), **MONEY)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    fund_amount = models.DecimalField(_("应返还资金(元)"), **MONEY)
    due_on = models.DateField(_("返还截止日"))
    status = FSMField(
        _("状态"),
        max_length=16,
        choices=RecoveryStatus.choices,
        default=RecoveryStatus.RETURN_DUE,
        protected=True,
    )
    returned_on = models.DateField(_("返还日期"), null=True, blank=True)
    reported_on = models.DateField(_("报告业务日期"), default=clock.today)
    reported_at = models.DateTimeField(_("报告时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("追偿回收")
        verbose_name_plural = _("追偿回收")
        ordering = ["claim", "received_on", "id"]
        constraints = [
            models.CheckConstraint(
                name="recovery_amounts_valid",
                condition=Q(
                    gross_amount__gt=0, costs__gte=0, fund_amount__gte=0, costs__lte=F("gross_amount")
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim} 回收 {self.received_on}"

    @step(
        field=status,
        source=[RecoveryStatus.RETURN_DUE, RecoveryStatus.OVERDUE],
        target=RecoveryStatus.RETURNED,
        roles=(Role.FINANCE,),
        label=_("确认已返还"),
    )
    def confirm_returned(self, *, by=None, description=None) -> None:
        pass

    @step(
        field=status,
        source=RecoveryStatus.RETURN_DUE,
        target=RecoveryStatus.OVERDUE,
        roles=(),
        label=_("逾期"),
        admin=False,
        public=False,
    )
    def mark_overdue(self, *, by=None, description=None) -> None:
        pass
