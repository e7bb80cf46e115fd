"""Compensation claims (风险补偿), payout (代偿) and recovery (追偿): money leaves and returns.

Every amount is computed by `rules.compute_claim`, which keeps each step. `claim_pay` posts
the compensation to the fund ledger in the same transaction as the state change, after
locking the fund row, so concurrent payouts can never overdraw the fund.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from banks.selectors import agreement_in_force
from fundmgr.ground.accounts.principals import Principal, require_institution
from fundmgr.ground.accounts.workflow import log_created, require_public, run_transition
from fundmgr.ground.funds.models import EntryType, LedgerEntry
from fundmgr.ground.funds.selectors import fund_balance
from fundmgr.ground.funds.services import ledger_post
from fundmgr.ground.lib import clock, workdays
from fundmgr.ground.lib.errors import AppError, CommonError, Conflict, NotFound, RuleViolations, Violation
from fundmgr.ground.lib.i18n import recorded
from fundmgr.ground.lib.money import ZERO, quantize
from loans.errors import LoansError

from ..events import CLAIM_DECIDED, RECOVERY_OVERDUE
from ..models import (
    CLOSED_CLAIM_STATUSES,
    COMMITTED_CLAIM_STATUSES,
    PAID_CLAIM_STATUSES,
    Claim,
    ClaimStatus,
    FilingStatus,
    LoanFiling,
    LoanStatus,
    Recovery,
    RecoveryStatus,
)
from ..rules import claims as rules
from . import book

log = logging.getLogger(__name__)


def _committed_and_paid(qs) -> Decimal:
    totals = qs.aggregate(
        approved=Coalesce(Sum("approved_amount", filter=Q(status__in=COMMITTED_CLAIM_STATUSES)), ZERO),
        paid=Coalesce(Sum("paid_amount", filter=Q(status__in=PAID_CLAIM_STATUSES)), ZERO),
    )
    return totals["approved"] + totals["paid"]


def committed_unpaid(*, fund_id: int, exclude_claim: int | None = None) -> Decimal:
    qs = Claim.objects.filter(fund_id=fund_id, status__in=COMMITTED_CLAIM_STATUSES)
    if exclude_claim:
        qs = qs.exclude(pk=exclude_claim)
    return qs.aggregate(total=Coalesce(Sum("approved_amount"), ZERO))["total"]


def compute_for(
    *,
    filing: LoanFiling,
    outstanding: Decimal,
    recovered_before: Decimal,
    today: dt.date,
    exclude_claim: int | None = None,
) -> rules.Computation:
    """Gather every cap's remaining room for this loan and run the computation."""
    policy = filing.policy_version
    others = Claim.objects.exclude(pk=exclude_claim) if exclude_claim else Claim.objects.all()
    enterprise_claims = others.filter(filing__enterprise_id=filing.enterprise_id)
    enterprise_loss_base = enterprise_amount = year_amount = institution_amount = None
    if policy.per_enterprise_principal_cap is not None:
        enterprise_loss_base = enterprise_claims.filter(
            status__in=COMMITTED_CLAIM_STATUSES + PAID_CLAIM_STATUSES
        ).aggregate(total=Coalesce(Sum("loss_base"), ZERO))["total"]
    if policy.per_enterprise_comp_cap is not None:
        enterprise_amount = _committed_and_paid(enterprise_claims)
    unpaid = committed_unpaid(fund_id=filing.fund_id, exclude_claim=exclude_claim)
    if policy.annual_comp_cap is not None:
        paid_this_year = -LedgerEntry.objects.filter(
            fund_id=filing.fund_id, entry_type=EntryType.COMPENSATION_PAID, value_date__year=today.year
        ).aggregate(total=Coalesce(Sum("amount"), ZERO))["total"]
        year_amount = paid_this_year + unpaid
    agreement = agreement_in_force(institution=filing.institution, fund=filing.fund, on=today)
    reserve_deposit = agreement.reserve_deposit if agreement is not None else None
    if reserve_deposit is not None:
        institution_amount = _committed_and_paid(
            others.filter(institution_id=filing.institution_id, fund_id=filing.fund_id)
        )
    used = rules.CapsUsed(
        enterprise_loss_base=enterprise_loss_base,
        enterprise_amount=enterprise_amount,
        year_amount=year_amount,
        institution_amount=institution_amount,
        available_balance=fund_balance(fund=filing.fund) - unpaid,
    )
    return rules.compute_claim(
        principal=filing.principal,
        covered_principal=filing.covered_principal,
        outstanding_principal=outstanding,
        recovered_before_claim=recovered_before,
        fund_share=filing.fund_share,
        **rules.cap_rooms(policy=policy, used=used, reserve_deposit=reserve_deposit),
    )


def claim_recomputed(claim: Claim, *, today: dt.date) -> rules.Computation:
    """The claim's computation on `today`: what recommending or approving it would store (the
    caps depend on other claims and the fund's balance now). The admin's forms show it."""
    return compute_for(
        filing=claim.filing,
        outstanding=claim.outstanding_principal,
        recovered_before=claim.recovered_before_claim,
        today=today,
        exclude_claim=claim.pk,
    )


def _claim_ledger_post(claim: Claim, entry_type: str, amount: Decimal, description: str, *, by, on) -> None:
    """Money moving for a claim (the payout, a returned recovery): one ledger entry on the
    claim's fund, referenced to the claim, in the caller's transaction."""
    ledger_post(
        fund=claim.fund,
        entry_type=entry_type,
        amount=amount,
        value_date=on,
        description=description,
        reference=claim.reference,
        by=by,
        claim=claim,
    )


def _trigger_met(filing: LoanFiling) -> bool:
    return filing.loan_status == LoanStatus.NON_PERFORMING


def claim_submit(*, principal: Principal, data: dict[str, Any]) -> Claim:
    """A bank files a claim once the loan's trigger is met, inside the claim window.

    Refusals (422): loan_not_covered, trigger_not_met, claim_window_closed, claim_exists.
    """
    if not principal.is_institution:
        raise AppError(CommonError.INSTITUTION_ONLY, _("补偿申请由合作机构提交"), status=403)
    today = clock.today()
    filing = (
        LoanFiling.objects.select_related("policy_version", "fund", "institution")
        .filter(pk=data.get("filing"), institution_id=principal.institution_id)
        .first()
    )
    if filing is None:
        raise NotFound(_("贷款备案不存在或无权访问"))
    trigger_date: dt.date = data["trigger_date"]
    outstanding: Decimal = data["outstanding_principal"]
    recovered: Decimal = data.get("recovered_before_claim") or ZERO
    for bad in rules.check_claim_figures(
        principal=filing.principal,
        outstanding=outstanding,
        recovered_before=recovered,
        trigger_date=trigger_date,
        today=today,
    ):
        raise AppError(bad.code, bad.message, field=bad.field, status=400)

    violations: list[Violation] = []
    covered = filing.status == FilingStatus.ACCEPTED and filing.loan_status in (
        LoanStatus.PERFORMING,
        LoanStatus.OVERDUE,
        LoanStatus.NON_PERFORMING,
        LoanStatus.IN_CLAIM,
    )
    if not covered:
        violations.append(
            Violation(LoansError.LOAN_NOT_COVERED, _("该贷款不在保（未受理、已结清或已作废）"), "filing")
        )
    elif Claim.objects.filter(filing=filing).exclude(status__in=CLOSED_CLAIM_STATUSES).exists():
        violations.append(Violation(LoansError.CLAIM_EXISTS, _("该贷款已有进行中的补偿申请"), "filing"))
    elif not _trigger_met(filing):
        policy = filing.policy_version
        violations.append(
            Violation(
                LoansError.TRIGGER_NOT_MET,
                _("贷款尚未达到补偿条件（逾期%(days)s天或风险分类为次级及以下，以月度报告为准）")
                % {"days": policy.trigger_days_overdue},
                "filing",
            )
        )
    if covered:
        window = rules.check_claim_window(
            trigger_date=trigger_date, filed_on=today, window_days=filing.policy_version.claim_window_days
        )
        if window is not None:
            violations.append(window)
    if violations:
        raise RuleViolations(violations, code=LoansError.CLAIM_REFUSED)

    computation = compute_for(filing=filing, outstanding=outstanding, recovered_before=recovered, today=today)
    try:
        with transaction.atomic(durable=True):
            filing = LoanFiling.objects.select_for_update().get(pk=filing.pk)
            claim = Claim.objects.create(
                filing=filing,
                fund=filing.fund,
                institution=filing.institution,
                reference=_claim_reference(filing),
                trigger_date=trigger_date,
                outstanding_principal=outstanding,
                recovered_before_claim=recovered,
                legal_action=_jsonable(data.get("legal_action")),
                notes=data.get("notes") or "",
                **_amounts(computation),
                submitted_on=today,
            )
            log_created(
                claim,
                state=ClaimStatus.SUBMITTED,
                user=principal.user,
                comment=recorded(gettext_noop("提交补偿申请")),
            )
            filing.start_claim(
                by=principal.user,
                description=recorded(gettext_noop("提交补偿申请 %(reference)s"), reference=claim.reference),
            )
            filing.save()
    except IntegrityError as exc:  # a concurrent claim on the same loan
        raise RuleViolations(
            [Violation(LoansError.CLAIM_EXISTS, _("该贷款已有进行中的补偿申请"), "filing")],
            code=LoansError.CLAIM_REFUSED,
        ) from exc
    return claim


def _jsonable(value: dict | None) -> dict | None:
    return (
        None
        if value is None
        else {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in value.items()}
    )


def _claim_reference(filing: LoanFiling) -> str:
    return f"{filing.reference}-C{Claim.objects.filter(filing=filing).count() + 1}"


def _amounts(c: rules.Computation) -> dict[str, Any]:
    return {
        "computation": c.as_dict(),
        "loss_base": c.loss_base,
        "fund_share": c.fund_share,
        "computed_amount": c.computed_amount,
        "claimable_amount": c.claimable_amount,
    }


def claim_transition(
    *,
    claim_id: int,
    name: str,
    user,
    comment: str = "",
    meeting_ref: str = "",
    approved_amount: Decimal | None = None,
) -> Claim:
    """Review, committee decision, payment, closing: the admin buttons and the API alike."""
    require_public(Claim, name)
    today = clock.today()

    def prepare(claim: Claim) -> None:
        if name in rules.COMMENT_REQUIRED_STEPS and not comment.strip():
            raise AppError(CommonError.COMMENT_REQUIRED, _("请填写原因"), field="comment", status=400)
        if name in rules.RECOMPUTED_AT_STEPS:
            # Caps depend on other claims and the balance now, not at submission.
            for key, value in _amounts(claim_recomputed(claim, today=today)).items():
                setattr(claim, key, value)
        if name == "approve":
            if not meeting_ref.strip():
                raise AppError(
                    LoansError.MEETING_REF_REQUIRED,
                    _("请填写决策委员会会议纪要编号"),
                    field="meeting_ref",
                    status=400,
                )
            amount = quantize(approved_amount) if approved_amount is not None else claim.claimable_amount
            refused = rules.check_approved_amount(amount=amount, claimable=claim.claimable_amount)
            if refused is not None:
                raise AppError(refused.code, refused.message, field=refused.field)
            claim.approved_amount = amount
            claim.meeting_ref = meeting_ref.strip()
            claim.approved_on = today
        if name == "pay":
            _claim_ledger_post(
                claim,
                EntryType.COMPENSATION_PAID,
                claim.approved_amount,
                recorded(
                    gettext_noop("代偿 %(reference)s（%(enterprise)s）"),
                    reference=claim.reference,
                    enterprise=claim.filing.enterprise.name,
                ),
                by=user,
                on=today,
            )
            claim.paid_amount = claim.approved_amount
            claim.paid_on = today

    def then(claim: Claim) -> None:
        if name in ("approve", "pay", "return_for_supplement", "reject"):
            CLAIM_DECIDED.publish(claim=claim, transition=name)  # a row now; the e-mail after commit
        filing = LoanFiling.objects.select_for_update().get(pk=claim.filing_id)
        if name == "pay":
            claim.start_recovery(by=user, description=recorded(gettext_noop("代偿完成，转入追偿")))
            before = book.contribution(filing)
            filing.compensate(
                by=user,
                description=recorded(
                    gettext_noop("代偿 %(amount)s 元（%(reference)s）"),
                    amount=f"{claim.paid_amount:,.2f}",
                    reference=claim.reference,
                ),
            )
            filing.save()
            book.book_keep(filing, before)
        elif name == "reject":
            filing.drop_claim(
                by=user,
                description=recorded(
                    gettext_noop("补偿申请 %(reference)s 未获批准"), reference=claim.reference
                ),
            )
            filing.save()
        elif name in ("close", "write_off"):
            filing.close_loan(
                by=user,
                description=recorded(
                    gettext_noop("补偿申请 %(reference)s 结案")
                    if name == "close"
                    else gettext_noop("补偿申请 %(reference)s 核销"),
                    reference=claim.reference,
                ),
            )
            filing.save()

    return run_transition(
        model=Claim, pk=claim_id, name=name, user=user, comment=comment, prepare=prepare, then=then
    )


def claim_resubmit(*, principal: Principal, claim_id: int, comment: str = "") -> Claim:
    def prepare(claim: Claim) -> None:
        if claim.institution_id != principal.institution_id:
            raise NotFound()

    return run_transition(
        model=Claim, pk=claim_id, name="resubmit", user=principal.user, comment=comment, prepare=prepare
    )


def _returned_so_far(claim: Claim) -> Decimal:
    return claim.recoveries.aggregate(total=Coalesce(Sum("fund_amount"), ZERO))["total"]


def recovery_report(*, principal: Principal, claim_id: int, data: dict[str, Any]) -> Recovery:
    """The bank reports money recovered after compensation; the fund's part is due back."""
    require_institution(principal, _("追偿回收由合作机构报告"))
    today = clock.today()
    received_on: dt.date = data["received_on"]
    gross: Decimal = data["gross_amount"]
    costs: Decimal = data.get("costs") or ZERO
    for bad in rules.check_recovery(
        gross=gross, costs=costs, received_on=received_on, paid_on=None, today=today
    ):
        raise AppError(bad.code, bad.message, field=bad.field, status=400)
    with transaction.atomic(durable=True):
        claim = (
            Claim.objects.select_for_update(of=("self",))
            .select_related("filing__policy_version")
            .filter(pk=claim_id)
            .first()
        )
        if claim is None or (principal.is_institution and claim.institution_id != principal.institution_id):
            raise NotFound()
        if claim.status != ClaimStatus.IN_RECOVERY:
            raise Conflict(CommonError.TRANSITION_NOT_ALLOWED, _("只有追偿中的补偿申请可以报告回收"))
        for bad in rules.check_recovery(
            gross=gross, costs=costs, received_on=received_on, paid_on=claim.paid_on, today=today
        ):
            raise AppError(bad.code, bad.message, field=bad.field, status=400)
        amount = rules.recovery_fund_amount(
            gross=gross,
            costs=costs,
            paid_amount=claim.paid_amount,
            bank_loss=claim.outstanding_principal - claim.recovered_before_claim,
            already_returned=_returned_so_far(claim),
        )
        policy = claim.filing.policy_version
        recovery = Recovery.objects.create(
            claim=claim,
            received_on=received_on,
            gross_amount=gross,
            costs=costs,
            source=data["source"],
            fund_amount=amount,
            due_on=workdays.add_working_days(received_on, policy.recovery_return_working_days),
        )
        log_created(
            recovery,
            state=RecoveryStatus.RETURN_DUE,
            user=principal.user,
            comment=recorded(gettext_noop("报告追偿回收")),
            transition_name="report",
        )
    return recovery


def recovery_confirm_returned(*, recovery_id: int, user, comment: str = "") -> Recovery:
    """Finance confirms the fund's part arrived: it enters the ledger with its claim."""
    today = clock.today()

    def prepare(recovery: Recovery) -> None:
        claim = Claim.objects.select_for_update().get(pk=recovery.claim_id)
        returned = LedgerEntry.objects.filter(claim=claim, entry_type=EntryType.RECOVERY_RETURNED).aggregate(
            total=Coalesce(Sum("amount"), ZERO)
        )["total"]
        refused = rules.check_returns(returned=returned + recovery.fund_amount, paid=claim.paid_amount)
        if refused is not None:
            raise Conflict(refused.code, refused.message)
        if recovery.fund_amount > ZERO:
            _claim_ledger_post(
                claim,
                EntryType.RECOVERY_RETURNED,
                recovery.fund_amount,
                recorded(
                    gettext_noop("追偿返还 %(reference)s（%(source)s）"),
                    reference=claim.reference,
                    source=Recovery.Source(recovery.source).label,
                ),
                by=user,
                on=today,
            )
        recovery.returned_on = today

    return run_transition(
        model=Recovery, pk=recovery_id, name="confirm_returned", user=user, comment=comment, prepare=prepare
    )


def recoveries_mark_overdue(*, today: dt.date | None = None) -> int:
    """Scheduled: returns past their due date become `overdue` (staff are alerted)."""
    today = today or clock.today()
    count = 0
    for pk in Recovery.objects.filter(status=RecoveryStatus.RETURN_DUE, due_on__lt=today).values_list(
        "pk", flat=True
    ):
        try:
            run_transition(
                model=Recovery,
                pk=pk,
                name="mark_overdue",
                user=None,
                comment=recorded(gettext_noop("超过返还期限未返还")),
                system=True,
                then=lambda recovery: RECOVERY_OVERDUE.publish(recovery=recovery),
            )
            count += 1
        except AppError:
            log.info("recovery %s changed meanwhile", pk)
    return count
