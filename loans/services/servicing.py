"""Servicing of covered loans: monthly reports, settlement, early warnings, automatic suspension.

The bank reports each covered loan once a month (domain-rules §7). Each report moves the
loan's `loan_status` by the trigger of the policy the loan was accepted under (§8.1), and
every move is a logged transition taken by the bank's user, so the delinquency history is
the transition log plus the reports themselves (corrections supersede, never overwrite).
After each report or settlement the bank's covered NPL ratio in the fund is checked against
the policy's suspension threshold (§4.4).
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from banks.models import CooperationAgreement, Institution
from banks.selectors import agreement_in_force
from banks.services import agreement_suspend_filings
from enterprises.errors import EnterprisesError
from fundmgr.ground.accounts.principals import Principal, require_institution
from fundmgr.ground.accounts.workflow import check_transition, run_transition
from fundmgr.ground.funds.models import Fund, PolicyVersion
from fundmgr.ground.funds.selectors import policies_in_force
from fundmgr.ground.lib import clock, workdays
from fundmgr.ground.lib.errors import AppError, CommonError, Conflict, NotFound, Violation
from fundmgr.ground.lib.i18n import recorded
from fundmgr.ground.lib.money import ZERO, quantize
from loans.errors import LoansError

from ..events import BOOK_CHANGED, FILINGS_SUSPENDED, WARNING_RAISED
from ..models import (
    LIVE_LOAN_STATUSES,
    RISK_ORDER,
    EarlyWarning,
    FilingStatus,
    LoanFiling,
    LoanStatus,
    Pledge,
    RiskClass,
    StatusReport,
)
from ..rules import servicing as report_rules
from ..selectors.servicing import npl_ratio
from . import book

logger = logging.getLogger(__name__)

# Loans the bank reports on every month. A loan in claim is the fund's business from then on.
REPORTABLE_LOAN_STATUSES = (LoanStatus.PERFORMING, LoanStatus.OVERDUE, LoanStatus.NON_PERFORMING)

# The transition that brings a loan into each status a report can give it.
_TRANSITION_TO = {
    LoanStatus.PERFORMING: "cure",
    LoanStatus.OVERDUE: "mark_overdue",
    LoanStatus.NON_PERFORMING: "mark_non_performing",
}

# Warn this many working days before the due-diligence deadline (and after it has passed).

# Filings awaiting the manager's decision: the due-diligence clock runs from submission and
# pauses while a filing is returned to the bank.
_AWAITING_DECISION = (FilingStatus.SUBMITTED, FilingStatus.UNDER_REVIEW)


# --- small date helpers ----------------------------------------------------------------------


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def last_ended_month_end(today: dt.date) -> dt.date:
    """The last day of the most recent month that is over (today's month is not)."""
    return today.replace(day=1) - dt.timedelta(days=1)


# --- the trigger -----------------------------------------------------------------------------


def _rank(risk_class: str) -> int:
    """Position in the five-tier scale, normal (0) to loss (4)."""
    return RISK_ORDER.index(RiskClass(risk_class))


def target_loan_status(
    *,
    policy: PolicyVersion,
    days_overdue: int,
    risk_class: str,
    overdue_principal: Decimal,
    overdue_interest: Decimal,
) -> LoanStatus:
    """What a report makes of a loan under `policy`.

    Non-performing when the days overdue reach the policy's trigger or the risk class is at
    or worse than its trigger class; overdue when anything is past due; otherwise performing.
    A trigger of 0 days means the fund triggers on the risk class only (0 would otherwise
    make every loan non-performing).
    """
    by_days = bool(policy.trigger_days_overdue) and days_overdue >= policy.trigger_days_overdue
    by_class = bool(policy.risk_class_trigger) and _rank(risk_class) >= _rank(policy.risk_class_trigger)
    if by_days or by_class:
        return LoanStatus.NON_PERFORMING
    if days_overdue > 0 or overdue_principal > 0 or overdue_interest > 0:
        return LoanStatus.OVERDUE
    return LoanStatus.PERFORMING


def _policy_of(filing: LoanFiling) -> PolicyVersion:
    """The policy frozen at acceptance; rows created before that freeze fall back to the
    version in force on the acceptance date."""
    if filing.policy_version_id:
        return filing.policy_version
    policy = filing.fund.policy_in_force(filing.accepted_on or clock.today())
    if policy is None:
        raise Conflict(EnterprisesError.NO_POLICY_IN_FORCE, _("该贷款没有适用的政策版本"))
    return policy


def _describe(report: StatusReport) -> str:
    """The transition comment, e.g. '2026-11 月报：逾期95天，次级' (recorded)."""
    if report.days_overdue:
        overdue = recorded(gettext_noop("逾期%(days)s天"), days=report.days_overdue)
    elif report.overdue_principal or report.overdue_interest:
        overdue = recorded(
            gettext_noop("逾期本金%(principal)s元、逾期利息%(interest)s元"),
            principal=report.overdue_principal,
            interest=report.overdue_interest,
        )
    else:
        overdue = recorded(gettext_noop("未逾期"))
    return recorded(
        gettext_noop("%(month)s %(label)s：%(overdue)s，%(risk)s"),
        month=f"{report.as_of:%Y-%m}",
        label=gettext_noop("月报（更正）") if report.supersedes_id else gettext_noop("月报"),
        overdue=overdue,
        risk=RiskClass(report.risk_class).label,
    )


def _bad_request(violations: list[Violation]) -> AppError:
    codes = {v.code for v in violations}
    code = codes.pop() if len(codes) == 1 else "validation_failed"
    return AppError(code, "；".join(v.message for v in violations), status=400, errors=violations)


def _own_filing_locked(principal: Principal, filing_id: int) -> LoanFiling:
    require_institution(principal, _("仅放款的合作机构可以报送贷款情况"))
    filing = LoanFiling.objects.select_for_update().filter(pk=filing_id).first()
    if filing is None or filing.institution_id != principal.institution_id:
        raise NotFound(_("贷款不存在或无权访问"))
    return filing


def _validate_report(filing: LoanFiling, data: dict[str, Any], today: dt.date) -> None:
    violations = report_rules.check_report(
        as_of=data["as_of"],
        days_overdue=data["days_overdue"],
        outstanding=data["outstanding_principal"],
        overdue_principal=data["overdue_principal"],
        principal=filing.principal,
        disbursed_on=filing.disbursed_on,
        today=today,
    )
    if violations:
        raise _bad_request(violations)


def _superseded(filing: LoanFiling, data: dict[str, Any]) -> StatusReport | None:
    """The report this one replaces (locked), or None; refuses duplicates and bad corrections."""
    current = (
        StatusReport.objects.select_for_update()
        .filter(filing=filing, as_of=data["as_of"], is_current=True)
        .first()
    )
    supersedes = data.get("supersedes")
    if supersedes is None:
        if current is not None:
            raise Conflict(
                LoansError.REPORT_EXISTS,
                _("%(month)s 的月度报告已报送（id %(id)s）；更正请填写 supersedes")
                % {"month": f"{data['as_of']:%Y-%m}", "id": current.pk},
                field="as_of",
            )
        return None
    if current is None or current.pk != supersedes:
        raise Conflict(
            LoansError.INVALID_SUPERSEDES,
            _("supersedes 须为本笔贷款同一月份当前有效的报告"),
            field="supersedes",
        )
    return current


def status_report_submit(*, principal: Principal, filing_id: int, data: dict[str, Any]) -> StatusReport:
    """The bank's monthly report on one covered loan (one current report per loan and month).

    Refusals: institution_only (403: not a partner bank), not_found (404: not the caller's
    loan), transition_not_allowed (409: not a live covered loan), as_of_not_month_end /
    report_period_not_ended / report_before_disbursement / days_overdue_impossible /
    outstanding_exceeds_principal / overdue_exceeds_outstanding (400),
    report_exists / invalid_supersedes (409). The loan then moves to the status its latest
    report gives it, and the bank's NPL ratio in the fund is checked for suspension.
    """
    today = clock.today()
    with transaction.atomic(durable=True):
        filing = _own_filing_locked(principal, filing_id)
        if filing.status != FilingStatus.ACCEPTED or filing.loan_status not in REPORTABLE_LOAN_STATUSES:
            raise Conflict(
                CommonError.TRANSITION_NOT_ALLOWED, _("只有在保贷款（正常、逾期、不良）可以报送月度报告")
            )
        _validate_report(filing, data, today)
        before = book.contribution(filing)
        old = _superseded(filing, data)
        if old is not None:
            old.is_current = False
            old.save(update_fields=["is_current"])
        report = StatusReport.objects.create(
            filing=filing,
            as_of=data["as_of"],
            outstanding_principal=data["outstanding_principal"],
            overdue_principal=data["overdue_principal"],
            overdue_interest=data["overdue_interest"],
            days_overdue=data["days_overdue"],
            risk_class=data["risk_class"],
            supersedes=old,
            loan_status_after=filing.loan_status,
            reported_by=principal.user,
        )
        # The latest month decides: a late report for an earlier month does not undo a
        # later one, while a correction of the latest month moves the loan again.
        latest = filing.status_reports.filter(is_current=True).order_by("-as_of").first()
        target = target_loan_status(
            policy=_policy_of(filing),
            days_overdue=latest.days_overdue,
            risk_class=latest.risk_class,
            overdue_principal=latest.overdue_principal,
            overdue_interest=latest.overdue_interest,
        )
        if target != filing.loan_status:
            name = _TRANSITION_TO[target]
            check_transition(filing, name, principal.user)
            getattr(filing, name)(by=principal.user, description=_describe(latest))
        filing.outstanding_principal = latest.outstanding_principal
        filing.covered_outstanding = quantize(
            latest.outstanding_principal * filing.covered_principal / filing.principal
        )
        filing.save()
        book.book_keep(filing, before)
        report.loan_status_after = filing.loan_status
        report.save(update_fields=["loan_status_after"])
        BOOK_CHANGED.publish(fund_id=filing.fund_id, since=report.as_of)  # a late or corrected month
    _suspension_follow_up(institution_id=filing.institution_id, fund_id=filing.fund_id)
    return report


def filing_settle(*, principal: Principal, filing_id: int, settled_on: dt.date) -> LoanFiling:
    """The bank reports the loan repaid in full: it leaves the pool and its pledges are released.

    Refusals: institution_only (403: not a partner bank), not_found (404: not the caller's
    loan), transition_not_allowed (409: not a live covered loan), settled_on_in_future /
    settled_before_disbursement (400).
    """
    today = clock.today()
    require_institution(principal, _("仅放款的合作机构可以报告贷款结清"))
    if not LoanFiling.objects.filter(pk=filing_id, institution_id=principal.institution_id).exists():
        raise NotFound(_("贷款不存在或无权访问"))

    before = []

    def prepare(filing: LoanFiling) -> None:
        before.append(book.contribution(filing))
        if filing.status != FilingStatus.ACCEPTED:
            raise Conflict(CommonError.TRANSITION_NOT_ALLOWED, _("只有已受理入池的贷款可以结清"))
        if settled_on > today:
            raise AppError(
                LoansError.SETTLED_ON_IN_FUTURE, _("结清日不能晚于今天"), field="settled_on", status=400
            )
        if settled_on < filing.disbursed_on:
            raise AppError(
                LoansError.SETTLED_BEFORE_DISBURSEMENT,
                _("结清日不能早于放款日 %(date)s") % {"date": filing.disbursed_on.isoformat()},
                field="settled_on",
                status=400,
            )
        filing.settled_on = settled_on
        filing.outstanding_principal = ZERO
        filing.covered_outstanding = ZERO
        filing.pledges.filter(released_on__isnull=True).update(released_on=settled_on)

    filing = run_transition(
        model=LoanFiling,
        pk=filing_id,
        name="settle",
        user=principal.user,
        comment=recorded(gettext_noop("贷款已全部结清，结清日 %(date)s"), date=settled_on.isoformat()),
        prepare=prepare,
        then=lambda filing: _settled(filing, before[0]),
    )
    # Settling a performing loan shrinks the denominator of the bank's NPL ratio.
    _suspension_follow_up(institution_id=filing.institution_id, fund_id=filing.fund_id)
    return filing


def _settled(filing: LoanFiling, before: book.Contribution) -> None:
    book.book_keep(filing, before)
    BOOK_CHANGED.publish(fund_id=filing.fund_id, since=filing.settled_on)  # may be dated back


# --- automatic suspension -------------------------------------------------------------------


def npl_suspension_check(*, institution_id: int, fund_id: int, today: dt.date | None = None) -> bool:
    """Suspend the bank's new filings in the fund when its covered NPL ratio there is above
    the threshold of the policy in force. Returns True if this call suspended it.

    The agreement's `filings_suspended_on` and reason are the durable record (staff see them
    in the admin, the bank in the refusal of its next filing). Runs inside the caller's
    transaction when there is one.
    """
    today = today or clock.today()
    with transaction.atomic():
        institution = Institution.objects.get(pk=institution_id)
        fund = Fund.objects.get(pk=fund_id)
        agreement = agreement_in_force(institution=institution, fund=fund, on=today)
        if agreement is None:
            return False
        # Lock it: two reports of the same bank at once must not both decide to suspend.
        agreement = CooperationAgreement.objects.select_for_update().get(pk=agreement.pk)
        if agreement.filings_suspended_on is not None:
            return False
        policy = fund.policy_in_force(today)
        if policy is None:
            return False
        total, npl, ratio = npl_ratio(institution_id=institution_id, fund_id=fund_id)
        if ratio is None or ratio <= policy.npl_suspend_threshold:
            return False
        reason = recorded(
            gettext_noop(
                "在保贷款不良率 %(ratio)s%%（不良余额 %(npl)s 元 / 在保余额 %(total)s 元）超过暂停阈值 %(threshold)s%%"
            ),
            ratio=ratio,
            npl=f"{npl:,.2f}",
            total=f"{total:,.2f}",
            threshold=policy.npl_suspend_threshold,
        )
        suspended = agreement_suspend_filings(
            agreement_id=agreement.pk,
            reason=reason,
            on=today,
            npl_ratio=ratio,
            threshold=policy.npl_suspend_threshold,
        )
        if suspended is not None:
            FILINGS_SUSPENDED.publish(agreement=suspended)  # the bank and staff are told
    if suspended is not None:
        logger.warning(
            "filings suspended: institution=%s fund=%s npl_ratio=%s threshold=%s",
            institution.code,
            fund.code,
            ratio,
            policy.npl_suspend_threshold,
        )
    return suspended is not None


def _suspension_follow_up(*, institution_id: int, fund_id: int) -> None:
    """Run the check after the bank's command has committed. A failure here must not turn
    the bank's accepted report into an error; it is logged and the next event retries."""
    try:
        npl_suspension_check(institution_id=institution_id, fund_id=fund_id)
    except Exception:
        logger.exception("npl suspension check failed: institution=%s fund=%s", institution_id, fund_id)


# --- early warnings --------------------------------------------------------------------------

_Key = tuple[int, str, str]  # (filing id, kind, subject)


def _raise(
    *, filing_id: int, kind: str, subject: str, message: str, today: dt.date, raised: dict[str, int]
) -> _Key:
    warning, created = EarlyWarning.objects.get_or_create(
        filing_id=filing_id,
        kind=kind,
        subject=subject,
        defaults={"message": message[:300], "raised_on": today},
    )
    if not created and warning.resolved_on is not None:
        # The cause came back (e.g. a right lapsed again): the same warning is open again.
        warning.resolved_on = None
        warning.raised_on = today
        warning.message = message[:300]
        warning.save(update_fields=["resolved_on", "raised_on", "message"])
        created = True
    if created:
        raised[kind] += 1
        # Shown to staff in the admin, and told to the bank (and officers) once per occurrence.
        WARNING_RAISED.publish(warning=warning)
    return (filing_id, kind, subject)


def _pledge_warnings(today: dt.date, raised: dict[str, int]) -> set[_Key]:
    active: set[_Key] = set()
    pledges = Pledge.objects.filter(
        released_on__isnull=True,
        filing__status=FilingStatus.ACCEPTED,
        filing__loan_status__in=LIVE_LOAN_STATUSES,
    ).select_related("ip_asset", "filing")
    for pledge in pledges:
        asset, filing = pledge.ip_asset, pledge.filing
        if asset.status != asset.Status.VALID:
            # A right that is gone makes its expiry date moot: one warning, the stronger one.
            active.add(
                _raise(
                    filing_id=filing.pk,
                    kind=EarlyWarning.Kind.IP_LAPSED,
                    subject=asset.number,
                    message=recorded(
                        gettext_noop("%(reference)s：质押的%(kind)s %(number)s 法律状态为“%(status)s”"),
                        reference=filing.reference,
                        kind=asset.Kind(asset.kind).label,
                        number=asset.number,
                        status=asset.Status(asset.status).label,
                    ),
                    today=today,
                    raised=raised,
                )
            )
        elif asset.expires_on < filing.matures_on:
            active.add(
                _raise(
                    filing_id=filing.pk,
                    kind=EarlyWarning.Kind.IP_EXPIRES_BEFORE_MATURITY,
                    subject=asset.number,
                    message=recorded(
                        gettext_noop(
                            "%(reference)s：质押的%(kind)s %(number)s 于 %(date)s 到期，早于贷款到期日 %(maturity)s"
                        ),
                        reference=filing.reference,
                        kind=asset.Kind(asset.kind).label,
                        number=asset.number,
                        date=asset.expires_on.isoformat(),
                        maturity=filing.matures_on.isoformat(),
                    ),
                    today=today,
                    raised=raised,
                )
            )
    return active


def _reported_filing_ids(month_ends: Iterable[dt.date]) -> set[tuple[int, dt.date]]:
    return set(
        StatusReport.objects.filter(as_of__in=list(month_ends), is_current=True).values_list(
            "filing_id", "as_of"
        )
    )


def _report_warnings(today: dt.date, raised: dict[str, int]) -> set[_Key]:
    """The report for the last ended month is missing once its fund's deadline has passed
    (the policy's N-th working day of the month, `report_rules.report_due_on`: before it the
    report is not late); and earlier months still missing."""
    month = last_ended_month_end(today)
    subject = f"{month:%Y-%m}"
    reportable = LoanFiling.objects.filter(
        status=FilingStatus.ACCEPTED, loan_status__in=REPORTABLE_LOAN_STATUSES
    )
    funds = list(Fund.objects.all())
    late_in = [
        fund_id
        for fund_id, policy in policies_in_force(funds=funds, on=today).items()
        if today > report_rules.report_due_on(month, policy.status_report_due_working_days)
    ]
    # A loan disbursed in that month owes its first report for the next one.
    # values_list, not only(): deferring a protected FSM field makes django-fsm recurse.
    due = reportable.filter(fund_id__in=late_in, disbursed_on__lt=month.replace(day=1)).values_list(
        "pk", "reference"
    )
    reported = _reported_filing_ids([month])
    active: set[_Key] = set()
    for filing_id, reference in due:
        if (filing_id, month) in reported:
            continue
        active.add(
            _raise(
                filing_id=filing_id,
                kind=EarlyWarning.Kind.MONTHLY_REPORT_MISSING,
                subject=subject,
                message=recorded(
                    gettext_noop("%(reference)s：未报送 %(month)s 月度贷后报告"),
                    reference=reference,
                    month=subject,
                ),
                today=today,
                raised=raised,
            )
        )
    # Warnings for earlier months stay open until that month's report arrives.
    older = list(
        EarlyWarning.objects.filter(
            kind=EarlyWarning.Kind.MONTHLY_REPORT_MISSING,
            resolved_on__isnull=True,
            filing__in=reportable,
        ).exclude(subject=subject)
    )
    ends = {w.pk: month_end(dt.date.fromisoformat(f"{w.subject}-01")) for w in older}
    reported = _reported_filing_ids(set(ends.values()))
    active |= {(w.filing_id, w.kind, w.subject) for w in older if (w.filing_id, ends[w.pk]) not in reported}
    return active


def _due_diligence_warnings(today: dt.date, raised: dict[str, int]) -> set[_Key]:
    horizon = workdays.due_soon_horizon(today)  # the deadline notices' horizon
    active: set[_Key] = set()
    filings = LoanFiling.objects.filter(
        status__in=_AWAITING_DECISION, due_diligence_due_on__isnull=False, due_diligence_due_on__lte=horizon
    ).values_list("pk", "reference", "due_diligence_due_on")
    for filing_id, reference, due in filings:
        left = 0
        if due < today:
            when = gettext_noop("%(reference)s：已超过尽调截止日 %(date)s")
        else:
            left = workdays.working_days_between(today, due)
            when = (
                gettext_noop("%(reference)s：尽调截止日 %(date)s（还剩%(left)s个工作日）")
                if left
                else gettext_noop("%(reference)s：尽调截止日 %(date)s（今日到期）")
            )
        active.add(
            _raise(
                filing_id=filing_id,
                kind=EarlyWarning.Kind.DUE_DILIGENCE_DEADLINE,
                subject=due.isoformat(),
                message=recorded(when, reference=reference, date=due.isoformat(), left=left),
                today=today,
                raised=raised,
            )
        )
    return active


def warnings_scan(*, today: dt.date | None = None) -> dict[str, int]:
    """Raise the early warnings whose cause exists today and resolve those whose cause is gone.

    Idempotent: a warning is raised once per filing, kind and subject; scanning again the same
    day raises nothing. Returns how many warnings of each kind were raised (or reopened).
    """
    today = today or clock.today()
    raised = {kind: 0 for kind in EarlyWarning.Kind.values}
    with transaction.atomic(durable=True):
        active = (
            _pledge_warnings(today, raised)
            | _report_warnings(today, raised)
            | _due_diligence_warnings(today, raised)
        )
        gone = [
            pk
            for pk, filing_id, kind, subject in EarlyWarning.objects.filter(
                resolved_on__isnull=True
            ).values_list("pk", "filing_id", "kind", "subject")
            if (filing_id, kind, subject) not in active
        ]
        if gone:
            EarlyWarning.objects.filter(pk__in=gone).update(resolved_on=today)
    logger.info("loan warnings scan %s: raised %s, resolved %d", today.isoformat(), raised, len(gone))
    return raised
