"""Deadline notices on chosen business dates across the 2026 National Day holiday.

The 2026 calendar these cases lean on: Fri 25 Sep (Mid-Autumn) and Thu 1 – Wed 7 Oct are days
off; Sun 20 Sep and Sat 10 Oct are make-up working days. A deadline is approaching from two
working days before it, breached from the day after; each phase is told once.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import override_settings
from django_fsm_log.models import StateLog

from banks.models import Institution
from fundmgr.ground.funds.models import Fund
from fundmgr.top.notifications.deadlines import KINDS, deadline_scan
from fundmgr.top.notifications.models import Notification
from fundmgr.top.notifications.services import on_recovery_overdue
from fundmgr.top.notifications.tasks import deadline_scan as deadline_scan_task
from loans.models import (
    Claim,
    ClaimStatus,
    DueDiligence,
    FilingStatus,
    LoanFiling,
    LoanStatus,
    Recovery,
    RiskClass,
    StatusReport,
)
from loans.services.claims import recoveries_mark_overdue
from tests.factories import make_filing

pytestmark = pytest.mark.django_db

_seq = itertools.count(1)


# --- builders (rows whose own services are exercised in tests/loans) ---------------------------


def log_entry(obj, state: str, day: dt.date, transition: str = "step", description: str = "") -> None:
    """A transition-log entry on business date `day`: when a step started, as the workflow
    would log it that day (the wall-clock timestamp is whenever the test runs)."""
    with override_settings(FUNDMGR_BUSINESS_DATE=day.isoformat()):
        StateLog.objects.create(
            content_type=ContentType.objects.get_for_model(type(obj)),
            object_id=obj.pk,
            source_state=None,
            state=state,
            transition=transition,
            description=description or None,
        )


def make_claim(filing: LoanFiling, *, status: str) -> Claim:
    amount = Decimal("500000.00")
    decided = status in (ClaimStatus.APPROVED, ClaimStatus.PAID, ClaimStatus.IN_RECOVERY)
    paid = status in (ClaimStatus.PAID, ClaimStatus.IN_RECOVERY)
    return Claim.objects.create(
        filing=filing,
        fund=filing.fund,
        institution=filing.institution,
        reference=f"ZQ-CL-TEST-{next(_seq):04d}",
        status=status,
        trigger_date=dt.date(2026, 8, 31),
        outstanding_principal=Decimal("1000000.00"),
        recovered_before_claim=Decimal("0.00"),
        loss_base=Decimal("1000000.00"),
        fund_share=Decimal("50.00"),
        computed_amount=amount,
        claimable_amount=amount,
        approved_amount=amount if decided else None,
        meeting_ref="JW-2026-09" if decided else "",
        paid_amount=amount if paid else None,
        paid_on=dt.date(2026, 9, 10) if paid else None,
    )


def make_recovery(claim: Claim, *, due_on: dt.date) -> Recovery:
    return Recovery.objects.create(
        claim=claim,
        received_on=dt.date(2026, 9, 22),
        gross_amount=Decimal("200000.00"),
        costs=Decimal("0.00"),
        source=Recovery.Source.BORROWER,
        fund_amount=Decimal("100000.00"),
        due_on=due_on,
    )


def counts(**told: int) -> dict[str, int]:
    """The scan's answer: `due_diligence__approaching=1` for key 'due_diligence.approaching'."""
    result = {f"{kind}.{phase}": 0 for kind in KINDS for phase in ("approaching", "breached")}
    for key, value in told.items():
        result[key.replace("__", ".")] = value
    return result


def told(event: str) -> list[str]:
    return sorted(Notification.objects.filter(event=event).values_list("recipient__username", flat=True))


def scan(year: int, month: int, day: int) -> dict[str, int]:
    return deadline_scan(today=dt.date(year, month, day))


@pytest.fixture
def zhaoqing(personas) -> Fund:
    return Fund.objects.get(code="zhaoqing")


@pytest.fixture
def bank_a(personas) -> Institution:
    return Institution.objects.get(code="zqrcb")


# --- due diligence ------------------------------------------------------------------------------


def test_due_diligence_deadline_across_national_day(personas, zhaoqing, bank_a):
    filing = make_filing(fund=zhaoqing, institution=bank_a, accepted=False)
    LoanFiling.objects.filter(pk=filing.pk).update(
        status=FilingStatus.UNDER_REVIEW, due_diligence_due_on=dt.date(2026, 10, 9)
    )
    DueDiligence.objects.create(filing=filing, officer=personas.user("officer2"))

    assert scan(2026, 9, 29) == counts()
    # Nine calendar days ahead but two working days: the holiday lies in between.
    assert scan(2026, 9, 30) == counts(due_diligence__approaching=1)
    assert told("deadline.due_diligence.approaching") == ["officer2"]  # the officer doing it
    notice = Notification.objects.get(event="deadline.due_diligence.approaching")
    assert filing.reference in notice.subject
    assert "2026-10-09" in notice.body and "还剩 2 个工作日" in notice.body
    assert (notice.object_type, notice.object_id) == ("filing", str(filing.pk))

    # Again the same day, on a holiday, on the due date itself: nothing new.
    for day in (dt.date(2026, 9, 30), dt.date(2026, 10, 3), dt.date(2026, 10, 9)):
        assert deadline_scan(today=day) == counts()

    # The make-up Saturday is a working day: one working day late; officers and approvers hear.
    assert scan(2026, 10, 10) == counts(due_diligence__breached=1)
    assert told("deadline.due_diligence.breached") == ["approver", "officer", "officer2"]
    assert "超期 1 个工作日" in Notification.objects.filter(event="deadline.due_diligence.breached")[0].body
    assert scan(2026, 10, 12) == counts()
    assert Notification.objects.count() == 4


def test_due_diligence_not_yet_started_goes_to_every_officer(personas, zhaoqing, bank_a):
    filing = make_filing(fund=zhaoqing, institution=bank_a, accepted=False)  # submitted
    LoanFiling.objects.filter(pk=filing.pk).update(due_diligence_due_on=dt.date(2026, 10, 12))
    # Thu 8 Oct: the next two working days are Fri 9 and the make-up Sat 10, not Mon 12.
    assert scan(2026, 10, 8) == counts()
    assert scan(2026, 10, 9) == counts(due_diligence__approaching=1)
    assert told("deadline.due_diligence.approaching") == ["officer", "officer2"]


# --- claims ---------------------------------------------------------------------------------------


def test_claim_steps_are_timed_in_working_days_from_their_last_start(personas, zhaoqing, bank_a):
    def claim_in(status: str) -> Claim:
        loan = make_filing(fund=zhaoqing, institution=bank_a, loan_status=LoanStatus.IN_CLAIM)
        return make_claim(loan, status=status)

    # Initial review (10 working days): filed 1 Sep, returned, resubmitted Thu 24 Sep, so the
    # clock restarts on 24 Sep → due Thu 15 Oct.
    review = claim_in(ClaimStatus.INITIAL_REVIEW)
    log_entry(review, "submitted", dt.date(2026, 9, 1), "submit")
    log_entry(review, "returned", dt.date(2026, 9, 3), "return_for_supplement")
    log_entry(review, "submitted", dt.date(2026, 9, 24), "resubmit")
    log_entry(review, "initial_review", dt.date(2026, 9, 28), "start_review")
    # Committee (15 working days, counted from the recommendation on Thu 17 Sep; both make-up
    # days count) → due Wed 14 Oct.
    committee = claim_in(ClaimStatus.COMMITTEE_REVIEW)
    log_entry(committee, "recommended", dt.date(2026, 9, 17), "recommend")
    log_entry(committee, "committee_review", dt.date(2026, 9, 18), "start_committee_review")
    # Payment (10 working days from approval on Tue 29 Sep) → due Mon 19 Oct.
    payment = claim_in(ClaimStatus.APPROVED)
    log_entry(payment, "approved", dt.date(2026, 9, 29), "approve")

    # A calendar count would have the review late since 4 Oct; in working days nothing is near.
    assert scan(2026, 10, 9) == counts()
    assert scan(2026, 10, 12) == counts(committee_review__approaching=1)
    assert told("deadline.committee_review.approaching") == ["committee"]
    assert scan(2026, 10, 13) == counts(claim_review__approaching=1)
    assert told("deadline.claim_review.approaching") == ["approver", "officer", "officer2"]
    assert scan(2026, 10, 15) == counts(committee_review__breached=1, payment__approaching=1)
    assert told("deadline.payment.approaching") == ["finance"]
    assert scan(2026, 10, 16) == counts(claim_review__breached=1)
    assert scan(2026, 10, 20) == counts(payment__breached=1)
    assert told("deadline.payment.breached") == ["finance"]
    assert scan(2026, 10, 20) == counts()

    breached = Notification.objects.get(event="deadline.claim_review.breached", recipient__username="officer")
    assert review.reference in breached.subject
    assert "2026-09-24" in breached.body and "2026-10-15" in breached.body
    assert (breached.object_type, breached.object_id) == ("claim", str(review.pk))


# --- recoveries -----------------------------------------------------------------------------------


def test_recovery_return_deadline_then_one_overdue_notice(personas, zhaoqing, bank_a):
    loan = make_filing(fund=zhaoqing, institution=bank_a, loan_status=LoanStatus.COMPENSATED)
    recovery = make_recovery(make_claim(loan, status=ClaimStatus.IN_RECOVERY), due_on=dt.date(2026, 10, 12))

    # Thu 8 Oct: the next two working days are Fri 9 and the make-up Sat 10.
    assert scan(2026, 10, 8) == counts()
    assert scan(2026, 10, 9) == counts(recovery_return__approaching=1)
    assert told("deadline.recovery_return.approaching") == ["inst:zqrcb"]
    assert scan(2026, 10, 12) == counts()  # due today: already told
    assert scan(2026, 10, 13) == counts(recovery_return__breached=1)
    assert told("recovery.overdue") == ["finance", "inst:zqrcb"]

    # The overdue transition (another service) reports the same occurrence: nobody hears twice.
    assert recoveries_mark_overdue(today=dt.date(2026, 10, 13)) == 1
    assert on_recovery_overdue(Recovery.objects.get(pk=recovery.pk)) == []
    assert scan(2026, 10, 14) == counts()
    assert told("recovery.overdue") == ["finance", "inst:zqrcb"]


# --- monthly reports ------------------------------------------------------------------------------


def test_missing_monthly_report_after_the_tenth_working_day(personas, zhaoqing, bank_a):
    reported = make_filing(fund=zhaoqing, institution=bank_a)  # disbursed 1 Jun 2026
    StatusReport.objects.create(
        filing=reported,
        as_of=dt.date(2026, 9, 30),
        outstanding_principal=Decimal("1000000.00"),
        overdue_principal=Decimal("0.00"),
        overdue_interest=Decimal("0.00"),
        days_overdue=0,
        risk_class=RiskClass.NORMAL,
        loan_status_after=LoanStatus.PERFORMING,
    )
    missing = make_filing(fund=zhaoqing, institution=bank_a)
    first_month = make_filing(fund=zhaoqing, institution=bank_a)
    LoanFiling.objects.filter(pk=first_month.pk).update(disbursed_on=dt.date(2026, 9, 10))  # owes October's

    # October's 10th working day is Tue 20 Oct (8, 9, make-up 10, 12 … 16, 19, 20): a calendar
    # count would call September's reports late from the 12th.
    assert scan(2026, 10, 12) == counts()
    assert scan(2026, 10, 15) == counts()
    assert scan(2026, 10, 16) == counts(monthly_report__approaching=1)
    notice = Notification.objects.get(event="deadline.monthly_report.approaching")
    assert notice.recipient.username == "inst:zqrcb"
    assert "2026-09" in notice.subject and "1 笔" in notice.subject
    assert missing.reference in notice.body
    assert reported.reference not in notice.body and first_month.reference not in notice.body
    assert (notice.object_type, notice.object_id) == ("institution", "zqrcb")

    assert scan(2026, 10, 20) == counts()
    assert scan(2026, 10, 21) == counts(monthly_report__breached=1)
    # The periodic task is the same scan: a second run the same day creates nothing.
    assert deadline_scan_task.delay("2026-10-21").get() == counts()
    assert Notification.objects.count() == 2
