"""The work queues on the start page, by role: which queue each person sees, where its list
is, and how one of its records reads in a row. What is *in* a queue, by when and for whom is
decided by the selectors of the app that owns the records (loans, enterprises, banks); nothing
here computes a rule.

The roles follow the product's division of work (spec/product.md, "Users"): officers review
applications, do due diligence and first-review claims; approvers give the second signature
(admissions, filing acceptance, claim recommendation, lifting a filing suspension); the
committee secretary records committee decisions; finance pays and confirms returns. The system
administrator sees every queue, as an overview.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from banks import selectors as bank_queues
from banks.models import CooperationAgreement, Institution
from enterprises import selectors as enterprise_queues
from enterprises.models import Enterprise
from fundmgr.ground.accounts.models import Role
from fundmgr.ground.accounts.workqueues import QueueSummary
from loans.models import Claim, LoanFiling, Recovery
from loans.selectors import queues as loan_queues
from matching import selectors as need_queues
from matching.models import FinancingNeed


@dataclass(frozen=True)
class Row:
    """One record of a queue as the start page lists it."""

    reference: str
    party: str
    amount: Decimal | None = None


@dataclass(frozen=True)
class QueueSpec:
    key: str
    label: str
    roles: frozenset[str]  # whose start page shows the queue (the system administrator: all)
    select: Callable[..., QueueSummary]  # (user=, today=, limit=) → summary; user None: overview
    model: type[models.Model]
    # The changelist's query: for the apps' queues, the 工作台 filter of the same selector
    # (accounts.admin.WorkQueueFilter), so the list shows exactly the records counted.
    filters: dict[str, str]
    row: Callable[[object], Row]
    party_label: str = _("当事方")
    amount_label: str | None = None  # no amount column when None
    hint: str = ""  # what the user does with an item
    since_label: str = ""  # queues without a deadline: what their date is (default: entering the state)


def _filing_row(filing: LoanFiling) -> Row:
    return Row(filing.reference, filing.enterprise.name, filing.principal)


def _claim_row(claim: Claim) -> Row:
    return Row(claim.reference, claim.institution.name, claim.claimable_amount)


def _approved_claim_row(claim: Claim) -> Row:
    return Row(claim.reference, claim.institution.name, claim.approved_amount)


def _recovery_row(recovery: Recovery) -> Row:
    return Row(recovery.claim.reference, recovery.claim.institution.name, recovery.fund_amount)


def _enterprise_row(enterprise: Enterprise) -> Row:
    by = enterprise.submitted_by.name if enterprise.submitted_by_id else _("工作人员录入")
    return Row(enterprise.name, str(by))


def _institution_row(institution: Institution) -> Row:
    return Row(institution.name, institution.get_kind_display())


def _agreement_row(agreement: CooperationAgreement) -> Row:
    return Row(agreement.institution.name, agreement.fund.name)


def _need_row(need: FinancingNeed) -> Row:
    return Row(need.enterprise.name, need.fund.short_label, need.amount)


OFFICER, APPROVER, COMMITTEE, FINANCE = (
    frozenset({Role.OFFICER}),
    frozenset({Role.APPROVER}),
    frozenset({Role.COMMITTEE}),
    frozenset({Role.FINANCE}),
)

QUEUES: list[QueueSpec] = [
    QueueSpec(
        key="filings_due_diligence",
        label=_("贷款备案待尽调"),
        roles=OFFICER,
        select=loan_queues.filings_awaiting_due_diligence,
        model=LoanFiling,
        filters={"workqueue": "filings_due_diligence"},
        row=_filing_row,
        party_label=_("借款企业"),
        amount_label=_("贷款本金(元)"),
        hint=_("开始尽调并完成尽调清单"),
    ),
    QueueSpec(
        key="enterprises_review",
        label=_("企业入库待审核"),
        roles=OFFICER,
        select=enterprise_queues.enterprises_awaiting_review,
        model=Enterprise,
        filters={"workqueue": "enterprises_review"},
        row=_enterprise_row,
        party_label=_("申请方"),
        hint=_("开始审核"),
    ),
    QueueSpec(
        key="institutions_review",
        label=_("机构入库待审核"),
        roles=OFFICER,
        select=bank_queues.institutions_awaiting_review,
        model=Institution,
        filters={"workqueue": "institutions_review"},
        row=_institution_row,
        party_label=_("机构类型"),
        hint=_("开始审核"),
    ),
    QueueSpec(
        key="claims_review",
        label=_("补偿申请待初审"),
        roles=OFFICER,
        select=loan_queues.claims_awaiting_review,
        model=Claim,
        filters={"workqueue": "claims_review"},
        row=_claim_row,
        party_label=_("申请机构"),
        amount_label=_("可补偿金额(元)"),
        hint=_("开始初审"),
    ),
    QueueSpec(
        key="needs_interest",
        label=_("融资需求：银行有意向待跟进"),
        roles=OFFICER,
        select=need_queues.needs_interest_queue,
        model=FinancingNeed,
        filters={"queue": "interest"},
        row=_need_row,
        party_label=_("资金"),
        amount_label=_("融资金额(元)"),
        hint=_("联系表达意向的银行和企业，在需求页记录对接情况"),
        since_label=_("银行表达意向"),
    ),
    QueueSpec(
        key="needs_untouched",
        label=_("融资需求：长期无进展"),
        roles=OFFICER,
        select=need_queues.needs_untouched_queue,
        model=FinancingNeed,
        filters={"queue": "untouched"},
        row=_need_row,
        party_label=_("资金"),
        amount_label=_("融资金额(元)"),
        hint=_("联系企业和合作银行推进对接，或撤回已不需要的需求"),
        since_label=_("最近进展"),
    ),
    QueueSpec(
        key="filings_acceptance",
        label=_("贷款备案待受理"),
        roles=APPROVER,
        select=loan_queues.filings_awaiting_acceptance,
        model=LoanFiling,
        filters={"workqueue": "filings_acceptance"},
        row=_filing_row,
        party_label=_("借款企业"),
        amount_label=_("贷款本金(元)"),
        hint=_("尽调已完成，决定受理入池或不予受理"),
    ),
    QueueSpec(
        key="claims_recommendation",
        label=_("补偿申请待复核推荐"),
        roles=APPROVER,
        select=loan_queues.claims_awaiting_recommendation,
        model=Claim,
        filters={"workqueue": "claims_recommendation"},
        row=_claim_row,
        party_label=_("申请机构"),
        amount_label=_("可补偿金额(元)"),
        hint=_("复核推荐、退回补正或不予补偿"),
    ),
    QueueSpec(
        key="enterprises_admission",
        label=_("企业入库待复核"),
        roles=APPROVER,
        select=enterprise_queues.enterprises_awaiting_admission,
        model=Enterprise,
        filters={"workqueue": "enterprises_admission"},
        row=_enterprise_row,
        party_label=_("申请方"),
        hint=_("同意入库、退回补正或不予入库"),
    ),
    QueueSpec(
        key="institutions_activation",
        label=_("机构入库待复核"),
        roles=APPROVER,
        select=bank_queues.institutions_awaiting_activation,
        model=Institution,
        filters={"workqueue": "institutions_activation"},
        row=_institution_row,
        party_label=_("机构类型"),
        hint=_("准予合作"),
    ),
    QueueSpec(
        key="agreements_reinstatement",
        label=_("恢复备案申请待审批"),
        roles=APPROVER,
        select=bank_queues.agreements_awaiting_reinstatement,
        model=CooperationAgreement,
        filters={"workqueue": "agreements_reinstatement"},
        row=_agreement_row,
        party_label=_("资金"),
        hint=_("批准恢复备案或驳回申请"),
    ),
    QueueSpec(
        key="claims_committee",
        label=_("补偿申请待决委会审议"),
        roles=COMMITTEE,
        select=loan_queues.claims_awaiting_committee,
        model=Claim,
        filters={"workqueue": "claims_committee"},
        row=_claim_row,
        party_label=_("申请机构"),
        amount_label=_("可补偿金额(元)"),
        hint=_("提交决委会，记录会议纪要并批准"),
    ),
    QueueSpec(
        key="claims_payment",
        label=_("补偿待付款"),
        roles=FINANCE,
        select=loan_queues.claims_awaiting_payment,
        model=Claim,
        filters={"workqueue": "claims_payment"},
        row=_approved_claim_row,
        party_label=_("收款机构"),
        amount_label=_("批准金额(元)"),
        hint=_("付款（记入资金台账）"),
    ),
    QueueSpec(
        key="recoveries_return",
        label=_("追偿款待确认返还"),
        roles=FINANCE,
        select=loan_queues.recoveries_awaiting_return,
        model=Recovery,
        filters={"workqueue": "recoveries_return"},
        row=_recovery_row,
        party_label=_("返还机构"),
        amount_label=_("应返还资金(元)"),
        hint=_("到账后确认已返还"),
    ),
]
