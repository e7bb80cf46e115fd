"""Compensation claims (风险补偿) and the recoveries after payment (追偿、返还)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField

from fundmgr.ground.accounts.models import Role
from fundmgr.ground.accounts.workflow import STAFF_REVIEW, step
from fundmgr.ground.lib import clock

from .filings import MONEY, LoanFiling


class LegalActionKind(models.TextChoices):
    """The legal step a bank took before claiming (a claim's `legal_action.kind`)."""

    LAWSUIT = "lawsuit", _("诉讼")
    ARBITRATION = "arbitration", _("仲裁")
    ENFORCEMENT = "enforcement", _("强制执行")
    OTHER = "other", _("其他")


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
# Claims whose amount is committed (approved, not yet paid), and claims paid (whatever followed):
# what the caps' rooms count.
COMMITTED_CLAIM_STATUSES = (ClaimStatus.APPROVED,)
PAID_CLAIM_STATUSES = (ClaimStatus.PAID, ClaimStatus.IN_RECOVERY, ClaimStatus.CLOSED, ClaimStatus.WRITTEN_OFF)


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
        return gettext("%(claim)s 回收 %(date)s") % {"claim": self.claim, "date": self.received_on}

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
