"""The loans app's work queues: filings waiting for due diligence or acceptance, claims at each
review step, recoveries to confirm. Each says what is in it for a user (who may act comes from
the step declarations on the models, four-eyes included: `accounts.workqueues.waiting_for`)
and by when (the due-diligence deadline on the filing, a claim step's deadline from the policy
it is judged under, a recovery's return date), in working days.

`user=None` is the overview (the system administrator): everything in the queue's states.

Each queue's records for a user come from one `*_waiting(user)` function: its summary (the
start page's card) counts them, and its `WorkQueue` (the admin list's 工作台 filter) lists them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from fundmgr.ground.accounts.workflow import state_entered_on_expression
from fundmgr.ground.accounts.workqueues import (
    QueueSummary,
    Waiting,
    WorkQueue,
    acted_by,
    alias_last_actor,
    may_take,
    summary_by_computed_due,
    summary_by_due_date,
    waiting_for,
)
from fundmgr.ground.funds.models import PolicyVersion
from fundmgr.ground.lib import clock, workdays

from ..models import Claim, ClaimStatus, DueDiligence, FilingStatus, LoanFiling, Recovery

ITEMS = 5  # the items a summary lists, due soonest first

# --- filings ------------------------------------------------------------------------------------


def due_diligence_complete_q() -> Q:
    """Filings whose due-diligence checklist is answered yes on every required item (what
    acceptance requires: services.filings.filing_transition)."""
    done = DueDiligence.objects.filter(**{item: True for item in DueDiligence.REQUIRED_ITEMS})
    return Q(pk__in=done.values("filing_id"))


def _filings() -> QuerySet[LoanFiling]:
    return LoanFiling.objects.select_related("enterprise", "institution", "fund")


def filings_due_diligence_waiting(user) -> Waiting:
    """待尽调: filings to start due diligence on (submitted), and those under due diligence
    whose checklist is not complete yet — for a user, the ones they started themselves."""
    started = ("start_due_diligence",)
    queryset = alias_last_actor(_filings(), started)
    in_progress = Q(status=FilingStatus.UNDER_REVIEW) & ~due_diligence_complete_q()
    if user is not None:
        in_progress &= acted_by(started, user)
    if not may_take(LoanFiling, "start_due_diligence", user):
        queryset = queryset.none()
    return Waiting(queryset.filter(Q(status=FilingStatus.SUBMITTED) | in_progress), Q(pk__isnull=False))


def filings_awaiting_due_diligence(*, user, today: dt.date | None = None, limit: int = ITEMS) -> QueueSummary:
    """待尽调 (`filings_due_diligence_waiting`), by the filing's due-diligence deadline."""
    waiting = filings_due_diligence_waiting(user)
    return summary_by_due_date(waiting, due="due_diligence_due_on", today=today or clock.today(), limit=limit)


def filings_acceptance_waiting(user) -> Waiting:
    """待受理: filings under due diligence with a complete checklist, waiting for the decision
    (accept, by someone other than who started the due diligence)."""
    return waiting_for(_filings(), ["accept"], user=user).narrowed(due_diligence_complete_q())


def filings_awaiting_acceptance(*, user, today: dt.date | None = None, limit: int = ITEMS) -> QueueSummary:
    """待受理 (`filings_acceptance_waiting`), by the filing's due-diligence deadline."""
    waiting = filings_acceptance_waiting(user)
    return summary_by_due_date(waiting, due="due_diligence_due_on", today=today or clock.today(), limit=limit)


# --- claims -------------------------------------------------------------------------------------

# Each review step of a claim has a deadline: the policy's working days from the day the claim
# entered the step's first state (the latest entry: a returned and resubmitted claim starts
# again). The deadline notices (notifications.deadlines) read the same clocks.
CLAIM_CLOCKS: dict[str, tuple[str, str]] = {
    # status: (the state whose entry starts the clock, the policy's working days)
    ClaimStatus.SUBMITTED: (ClaimStatus.SUBMITTED, "claim_review_working_days"),
    ClaimStatus.INITIAL_REVIEW: (ClaimStatus.SUBMITTED, "claim_review_working_days"),
    ClaimStatus.RECOMMENDED: (ClaimStatus.RECOMMENDED, "committee_review_working_days"),
    ClaimStatus.COMMITTEE_REVIEW: (ClaimStatus.RECOMMENDED, "committee_review_working_days"),
    ClaimStatus.APPROVED: (ClaimStatus.APPROVED, "payment_working_days"),
}


def _claims() -> QuerySet[Claim]:
    return Claim.objects.select_related("institution", "fund", "filing__enterprise")


def claim_clock(starts_in: str, policy_field: str) -> dict[str, Any]:
    """The values a claim's step deadline is computed from: the business date the step started
    and the working days of the policy the loan was accepted under (a claim is always on an
    accepted loan; failing that, the fund's policy in force when the claim was submitted), as
    annotations `step_started_on` and `step_days`: `claim_step_due` gives the deadline."""
    started = state_entered_on_expression(Claim, state=starts_in)
    if starts_in == ClaimStatus.SUBMITTED:
        started = Coalesce(started, F("submitted_on"))
    in_force = (
        PolicyVersion.objects.filter(fund=OuterRef("fund_id"), effective_from__lte=OuterRef("submitted_on"))
        .order_by("-effective_from")
        .values(policy_field)[:1]
    )
    return {
        "step_started_on": started,
        "step_days": Coalesce(F(f"filing__policy_version__{policy_field}"), Subquery(in_force)),
    }


def claim_step_due(started_on: dt.date | None, working_days: int | None) -> dt.date | None:
    if started_on is None or working_days is None:
        return None
    return workdays.add_working_days(started_on, working_days)


def _claim_summary(waiting: Waiting, status: str, *, today: dt.date | None, limit: int) -> QueueSummary:
    starts_in, policy_field = CLAIM_CLOCKS[status]
    return summary_by_computed_due(
        waiting,
        values=claim_clock(starts_in, policy_field),
        due_of=lambda row: claim_step_due(row["step_started_on"], row["step_days"]),
        today=today or clock.today(),
        limit=limit,
    )


def claims_review_waiting(user) -> Waiting:
    """待初审: submitted claims, to start the initial review."""
    return waiting_for(_claims(), ["start_review"], user=user)


def claims_awaiting_review(*, user, today: dt.date | None = None, limit: int = ITEMS) -> QueueSummary:
    """待初审 (`claims_review_waiting`), by the review deadline."""
    return _claim_summary(claims_review_waiting(user), ClaimStatus.SUBMITTED, today=today, limit=limit)


def claims_recommendation_waiting(user) -> Waiting:
    """待复核推荐: claims in initial review, to recommend (by someone other than who started
    the review)."""
    return waiting_for(_claims(), ["recommend"], user=user)


def claims_awaiting_recommendation(*, user, today: dt.date | None = None, limit: int = ITEMS) -> QueueSummary:
    """待复核推荐 (`claims_recommendation_waiting`), by the review deadline."""
    waiting = claims_recommendation_waiting(user)
    return _claim_summary(waiting, ClaimStatus.INITIAL_REVIEW, today=today, limit=limit)


def claims_committee_waiting(user) -> Waiting:
    """待决委会: recommended claims to put to the committee, and claims before it to decide
    (approve: by someone other than who recommended)."""
    return waiting_for(_claims(), ["start_committee_review", "approve"], user=user)


def claims_awaiting_committee(*, user, today: dt.date | None = None, limit: int = ITEMS) -> QueueSummary:
    """待决委会 (`claims_committee_waiting`), by the committee deadline."""
    return _claim_summary(claims_committee_waiting(user), ClaimStatus.RECOMMENDED, today=today, limit=limit)


def claims_payment_waiting(user) -> Waiting:
    """待付款: approved claims to pay."""
    return waiting_for(_claims(), ["pay"], user=user)


def claims_awaiting_payment(*, user, today: dt.date | None = None, limit: int = ITEMS) -> QueueSummary:
    """待付款 (`claims_payment_waiting`), by the payment deadline."""
    return _claim_summary(claims_payment_waiting(user), ClaimStatus.APPROVED, today=today, limit=limit)


# --- recoveries ---------------------------------------------------------------------------------


def recoveries_return_waiting(user) -> Waiting:
    """待确认返还: recoveries whose fund part the bank owes, for finance to confirm when it
    arrives."""
    queryset = Recovery.objects.select_related("claim__institution", "claim__filing__enterprise")
    return waiting_for(queryset, ["confirm_returned"], user=user)


def recoveries_awaiting_return(*, user, today: dt.date | None = None, limit: int = ITEMS) -> QueueSummary:
    """待确认返还 (`recoveries_return_waiting`), by the return date."""
    waiting = recoveries_return_waiting(user)
    return summary_by_due_date(waiting, due="due_on", today=today or clock.today(), limit=limit)


# --- the queues by name: the start page's cards, the admin lists' 工作台 filter -------------------

FILING_QUEUES = (
    WorkQueue("filings_due_diligence", _("贷款备案待尽调"), filings_due_diligence_waiting),
    WorkQueue("filings_acceptance", _("贷款备案待受理"), filings_acceptance_waiting),
)
CLAIM_QUEUES = (
    WorkQueue("claims_review", _("补偿申请待初审"), claims_review_waiting),
    WorkQueue("claims_recommendation", _("补偿申请待复核推荐"), claims_recommendation_waiting),
    WorkQueue("claims_committee", _("补偿申请待决委会审议"), claims_committee_waiting),
    WorkQueue("claims_payment", _("补偿待付款"), claims_payment_waiting),
)
RECOVERY_QUEUES = (WorkQueue("recoveries_return", _("追偿款待确认返还"), recoveries_return_waiting),)
