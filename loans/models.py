"""Loan filings (贷款备案) and the covered loans they become.

This module starts with what the fund figures need (covered outstanding, frozen shares);
due diligence, pledges, status reports, claims and recoveries join it as they are built.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField

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

    class Meta:
        verbose_name = _("贷款备案")
        verbose_name_plural = _("贷款备案")
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["fund", "status", "loan_status"], name="filing_fund_status_idx"),
            models.Index(fields=["institution", "status"], name="filing_inst_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "contract_no"], name="filing_contract_unique_per_inst"
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
