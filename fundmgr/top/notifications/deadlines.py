"""Deadline notices: what is about to be late, and what is late, on a business date.

Every deadline is a date counted in PRC working days (`fundmgr.ground.lib.workdays`: weekends,
statutory holidays and 调休 make-up days). One rule for all of them: a deadline is
*approaching* from the day it is within `DEADLINE_WARNING_WORKING_DAYS` working days (the due
date itself included) and *breached* from the day after it. Each phase is notified once per
object and due date (the due date is part of the event key), so the scan can run as often
as one likes, and a new deadline (a resubmitted filing) is notified afresh.

| kind | clock | responsible |
|---|---|---|
| due_diligence | `LoanFiling.due_diligence_due_on` (submitted / under due diligence) | approaching: the officer doing it (else all officers); breached: officers and approvers |
| claim_review | entry into `submitted` + policy `claim_review_working_days`, while submitted / initial_review | officers and approvers |
| committee_review | entry into `recommended` + `committee_review_working_days`, while recommended / committee_review | committee secretaries |
| payment | entry into `approved` + `payment_working_days`, while approved | finance |
| recovery_return | `Recovery.due_on` | approaching: the bank; breached: the bank and finance (same notice as `services.on_recovery_overdue`) |
| monthly_report | the policy's N-th working day of the month (`status_report_due_working_days`, `loans.rules.servicing.report_due_on`), for last month's report of each live accepted loan | the bank (one notice per bank and month, listing the loans) |

A claim step starts on the business date of the last transition-log entry into the step's
first state (`accounts.workflow.state_entered_on_expression`); the log is the record of when
a step began (a returned and resubmitted claim starts again). The clocks are the loans app's
(`loans.selectors.queues.CLAIM_CLOCKS`, `claim_clock`): the work queues show the same dates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_noop

from banks.models import Institution
from fundmgr.ground.accounts.models import Role, User
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib import clock, workdays
from fundmgr.ground.lib.i18n import recorded
from loans.models import (
    Claim,
    ClaimStatus,
    FilingStatus,
    LoanFiling,
    Recovery,
    RecoveryStatus,
    StatusReport,
)
from loans.rules.servicing import report_due_on
from loans.selectors.queues import CLAIM_CLOCKS, claim_clock, claim_step_due
from loans.services.servicing import REPORTABLE_LOAN_STATUSES, last_ended_month_end

from . import services

log = logging.getLogger(__name__)

_LISTED_LOANS = 30  # a bank's monthly notice names at most this many loans

APPROACHING, BREACHED = workdays.APPROACHING, workdays.BREACHED
phase = workdays.deadline_phase  # the one rule (fundmgr.ground.lib.workdays)


# Notices are stored rows: their text is written in the default language (Chinese) whatever
# the language of the request or worker that raises them (fundmgr.ground.lib.i18n).


def _when(today: dt.date, due: dt.date) -> str:
    if today > due:
        late = workdays.working_days_between(due, today)
        return recorded(
            gettext_noop("已于 %(due)s 到期，超期 %(late)s 个工作日"), due=due.isoformat(), late=late
        )
    left = workdays.working_days_between(today, due)
    if not left:
        return recorded(gettext_noop("将于 %(due)s 到期（今日到期）"), due=due.isoformat())
    return recorded(gettext_noop("将于 %(due)s 到期，还剩 %(left)s 个工作日"), due=due.isoformat(), left=left)


class _Staff:
    """Staff lists looked up once per scan."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, ...], list[User]] = {}

    def __call__(self, *roles: str) -> list[User]:
        if roles not in self._cache:
            self._cache[roles] = services.staff_recipients(*roles)
        return self._cache[roles]


def _count(counts: dict[str, int], kind: str, created: list) -> None:
    if created:
        counts[kind] += 1


# --- filings: due diligence ---------------------------------------------------------------


def _due_diligence(today: dt.date, counts: dict[str, int], staff: _Staff) -> None:
    horizon = workdays.due_soon_horizon(today)
    filings = LoanFiling.objects.filter(
        status__in=(FilingStatus.SUBMITTED, FilingStatus.UNDER_REVIEW),
        due_diligence_due_on__isnull=False,
        due_diligence_due_on__lte=horizon,
    ).select_related("enterprise", "institution", "due_diligence__officer")
    for filing in filings:
        due = filing.due_diligence_due_on
        step = phase(today, due)
        if step is None:
            continue
        if step == APPROACHING:
            record = getattr(filing, "due_diligence", None)
            officer = record.officer if record is not None else None
            recipients = [officer] if officer is not None and officer.is_active else staff(Role.OFFICER)
            subject = recorded(gettext_noop("尽调即将到期：贷款备案 %(filing)s"), filing=filing.reference)
        else:
            recipients = staff(Role.OFFICER, Role.APPROVER)
            subject = recorded(gettext_noop("尽调已超期：贷款备案 %(filing)s"), filing=filing.reference)
        event = f"deadline.due_diligence.{step}"
        created = services.notify(
            event=event,
            event_key=f"{event}:{filing.pk}:{due.isoformat()}",
            recipients=recipients,
            subject=subject,
            body=recorded(
                gettext_noop(
                    "%(institution)s报送的贷款备案 %(filing)s（借款企业：%(enterprise)s，"
                    "贷款本金 %(principal)s 元）尽调期限%(when)s。请及时完成尽调并作出受理决定。"
                ),
                institution=filing.institution.name,
                filing=filing.reference,
                enterprise=filing.enterprise.name,
                principal=f"{filing.principal:.2f}",
                when=_when(today, due),
            ),
            obj=filing,
        )
        _count(counts, f"due_diligence.{step}", created)


# --- claims: review, committee, payment ---------------------------------------------------


@dataclass(frozen=True)
class _ClaimStep:
    kind: str
    label: str  # gettext_noop: recorded in notices in the default language
    approaching: str  # the notice's subject, by phase
    breached: str
    starts_in: str  # the state whose latest entry starts the clock (loans' CLAIM_CLOCKS)
    roles: tuple[str, ...]

    @property
    def statuses(self) -> tuple[str, ...]:
        """The claim states this step's clock runs in, as the work queues count them."""
        return tuple(status for status, (start, _days) in CLAIM_CLOCKS.items() if start == self.starts_in)

    @property
    def policy_field(self) -> str:
        return CLAIM_CLOCKS[self.starts_in][1]


CLAIM_STEPS = (
    _ClaimStep(
        "claim_review",
        gettext_noop("补偿初审"),
        gettext_noop("补偿初审即将到期：补偿申请 %(claim)s"),
        gettext_noop("补偿初审已超期：补偿申请 %(claim)s"),
        ClaimStatus.SUBMITTED,
        (Role.OFFICER, Role.APPROVER),
    ),
    _ClaimStep(
        "committee_review",
        gettext_noop("决委会审议"),
        gettext_noop("决委会审议即将到期：补偿申请 %(claim)s"),
        gettext_noop("决委会审议已超期：补偿申请 %(claim)s"),
        ClaimStatus.RECOMMENDED,
        (Role.COMMITTEE,),
    ),
    _ClaimStep(
        "payment",
        gettext_noop("代偿付款"),
        gettext_noop("代偿付款即将到期：补偿申请 %(claim)s"),
        gettext_noop("代偿付款已超期：补偿申请 %(claim)s"),
        ClaimStatus.APPROVED,
        (Role.FINANCE,),
    ),
)


def _claims(today: dt.date, counts: dict[str, int], staff: _Staff) -> None:
    # Each open claim with its step's deadline, computed as the work queues compute it (loans'
    # `claim_clock`: the business date it entered the step's first state, the working days of
    # the policy its loan was accepted under).
    claims = []
    for step in CLAIM_STEPS:
        claims.extend(
            (step, claim)
            for claim in Claim.objects.filter(status__in=step.statuses)
            .annotate(**claim_clock(step.starts_in, step.policy_field))
            .select_related("fund", "institution")
            .order_by("pk")
        )
    for step, claim in claims:
        start = claim.step_started_on
        if start is None:
            log.warning(
                "claim %s in %s has no log of entering %s", claim.reference, claim.status, step.starts_in
            )
            continue
        due = claim_step_due(start, claim.step_days)
        if due is None:  # no policy sets the step's working days
            continue
        when = phase(today, due)
        if when is None:
            continue
        event = f"deadline.{step.kind}.{when}"
        created = services.notify(
            event=event,
            event_key=f"{event}:{claim.pk}:{due.isoformat()}",
            recipients=staff(*step.roles),
            subject=recorded(
                step.approaching if when == APPROACHING else step.breached, claim=claim.reference
            ),
            body=recorded(
                gettext_noop(
                    "%(institution)s的补偿申请 %(claim)s（当前状态：%(status)s）"
                    "自 %(start)s 起计的%(step)s期限（%(days)s 个工作日）%(when)s。"
                ),
                institution=claim.institution.name,
                claim=claim.reference,
                status=ClaimStatus(claim.status).label,
                start=start.isoformat(),
                step=step.label,
                days=claim.step_days,
                when=_when(today, due),
            ),
            obj=claim,
        )
        _count(counts, f"{step.kind}.{when}", created)


# --- recoveries ---------------------------------------------------------------------------


def _recoveries(today: dt.date, counts: dict[str, int]) -> None:
    horizon = workdays.due_soon_horizon(today)
    open_returns = (
        Recovery.objects.filter(
            status__in=(RecoveryStatus.RETURN_DUE, RecoveryStatus.OVERDUE), due_on__lte=horizon
        )
        .select_related("claim__institution", "claim__filing")
        .order_by("pk")
    )
    for recovery in open_returns:
        when = phase(today, recovery.due_on)
        if when == BREACHED:
            # The same notice as the overdue transition's, under the same key: never both.
            _count(counts, "recovery_return.breached", services.on_recovery_overdue(recovery))
            continue
        if when is None or recovery.status != RecoveryStatus.RETURN_DUE:
            continue
        claim = recovery.claim
        event = "deadline.recovery_return.approaching"
        created = services.notify(
            event=event,
            event_key=f"{event}:{recovery.pk}:{recovery.due_on.isoformat()}",
            recipients=services.institution_recipients(claim.institution),
            subject=recorded(gettext_noop("追偿款返还即将到期：%(claim)s"), claim=claim.reference),
            body=recorded(
                gettext_noop(
                    "补偿申请 %(claim)s（贷款备案 %(filing)s）于 %(received)s "
                    "回收款项中应返还资金 %(amount)s 元，返还期限%(when)s。"
                ),
                claim=claim.reference,
                filing=claim.filing.reference,
                received=recovery.received_on.isoformat(),
                amount=f"{recovery.fund_amount:.2f}",
                when=_when(today, recovery.due_on),
            ),
            obj=recovery,
        )
        _count(counts, "recovery_return.approaching", created)


# --- monthly reports -------------------------------------------------------------------------


def _monthly_reports(today: dt.date, counts: dict[str, int]) -> None:
    month = last_ended_month_end(today)
    label = f"{month:%Y-%m}"
    reported = StatusReport.objects.filter(as_of=month, is_current=True).values("filing_id")
    for fund in Fund.objects.filter(status=Fund.Status.ACTIVE).order_by("code"):
        policy = fund.policy_in_force(today)
        if policy is None:
            continue
        due_day = policy.status_report_due_working_days
        due = report_due_on(month, due_day)
        when = phase(today, due)
        if when is None:
            continue
        # A loan disbursed during the month owes its first report for the next one.
        missing = (
            LoanFiling.objects.filter(
                fund=fund,
                status=FilingStatus.ACCEPTED,
                loan_status__in=REPORTABLE_LOAN_STATUSES,
                disbursed_on__lt=month.replace(day=1),
            )
            .exclude(pk__in=reported)
            .order_by("institution_id", "reference")
            .values_list("institution_id", "reference")
        )
        by_institution: dict[int, list[str]] = defaultdict(list)
        for institution_id, reference in missing:
            by_institution[institution_id].append(reference)
        institutions = Institution.objects.in_bulk(list(by_institution))
        event = f"deadline.monthly_report.{when}"
        for institution_id, references in by_institution.items():
            institution = institutions[institution_id]
            listed = "、".join(references[:_LISTED_LOANS])
            if len(references) > _LISTED_LOANS:
                listed += recorded(gettext_noop(" 等 %(count)s 笔"), count=len(references))
            if when == BREACHED:
                subject = gettext_noop("%(month)s 月度贷后报告逾期未报（%(count)s 笔）")
            else:
                subject = gettext_noop("%(month)s 月度贷后报告即将到期（%(count)s 笔）")
            created = services.notify(
                event=event,
                event_key=f"{event}:{institution_id}:{fund.code}:{label}",
                recipients=services.institution_recipients(institution),
                subject=recorded(subject, month=label, count=len(references)),
                body=recorded(
                    gettext_noop(
                        "%(fund)s：%(month)s 月度贷后报告应于本月第 %(days)s 个工作日前报送，"
                        "报送期限%(when)s。以下在保贷款尚未报送：%(loans)s。"
                    ),
                    fund=fund.name,
                    month=label,
                    days=due_day,
                    when=_when(today, due),
                    loans=listed,
                ),
                obj=institution,
            )
            _count(counts, f"monthly_report.{when}", created)


# --- the scan ---------------------------------------------------------------------------------

KINDS = (
    "due_diligence",
    "claim_review",
    "committee_review",
    "payment",
    "recovery_return",
    "monthly_report",
)


def deadline_scan(*, today: dt.date | None = None) -> dict[str, int]:
    """Notify every deadline approaching or breached on `today` (default: the business date).

    Returns, per `<kind>.<phase>`, how many deadlines were newly notified (0 everywhere when
    the same day is scanned again). Each notice commits on its own; a kind that fails does
    not hold back the others, and the first error is raised at the end so the task shows it.
    """
    today = today or clock.today()
    counts = {f"{kind}.{p}": 0 for kind in KINDS for p in (APPROACHING, BREACHED)}
    staff = _Staff()
    parts: list[Callable[[], None]] = [
        lambda: _due_diligence(today, counts, staff),
        lambda: _claims(today, counts, staff),
        lambda: _recoveries(today, counts),
        lambda: _monthly_reports(today, counts),
    ]
    error: Exception | None = None
    for part in parts:
        try:
            part()
        except Exception as exc:
            log.exception("deadline scan %s: a part failed", today.isoformat())
            error = error or exc
    log.info("deadline scan %s: %s", today.isoformat(), {k: v for k, v in counts.items() if v})
    if error is not None:
        raise error
    return counts
