"""Early warnings: pledged rights, missing monthly reports, due-diligence deadlines.

Each scan runs on a chosen business date; a second scan the same day raises nothing new, and
a warning is resolved once its cause is gone.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from enterprises.models import IPAsset
from loans.models import DueDiligence, EarlyWarning, LoanFiling
from loans.services import filings as services
from loans.services.servicing import warnings_scan
from loans.tasks import warnings_scan as warnings_scan_task
from tests.loans.test_servicing import BASE, accepted_loan, file_loan, send_report

pytestmark = pytest.mark.django_db

PATENT = "201613031399.8"  # the right filing_body() pledges; it expires 2036-06-30


def nothing(**raised: int) -> dict[str, int]:
    counts = dict.fromkeys(EarlyWarning.Kind.values, 0)
    counts.update(raised)
    return counts


def open_warnings(filing_id: int) -> list[tuple[str, str]]:
    return sorted(
        EarlyWarning.objects.filter(filing_id=filing_id, resolved_on__isnull=True).values_list(
            "kind", "subject"
        )
    )


def resolved_on(filing_id: int, kind: str, subject: str) -> dt.date | None:
    return EarlyWarning.objects.get(filing_id=filing_id, kind=kind, subject=subject).resolved_on


# --- pledged rights ---------------------------------------------------------------------------


def test_a_pledged_right_expiring_before_maturity_then_lapsing(personas, business_date):
    loan = accepted_loan(personas, business_date)  # matures 2027-11-15
    assert warnings_scan(today=dt.date(2026, 11, 23)) == nothing()

    # The trademark office/CNIPA data shows an earlier end of the right (e.g. a shortened term).
    IPAsset.objects.filter(number=PATENT).update(expires_on=dt.date(2027, 6, 30))
    assert warnings_scan(today=dt.date(2026, 11, 24)) == nothing(ip_expires_before_maturity=1)
    warning = EarlyWarning.objects.get(filing_id=loan)
    assert (warning.kind, warning.subject, warning.raised_on) == (
        "ip_expires_before_maturity",
        PATENT,
        dt.date(2026, 11, 24),
    )
    assert "2027-06-30" in warning.message and "2027-11-15" in warning.message
    # Idempotent: the same cause raises nothing new.
    assert warnings_scan(today=dt.date(2026, 11, 25)) == nothing()
    assert EarlyWarning.objects.filter(filing_id=loan).count() == 1

    # The annual fee is not paid: the right lapses, which says more than its end date.
    IPAsset.objects.filter(number=PATENT).update(status=IPAsset.Status.LAPSED)
    assert warnings_scan(today=dt.date(2026, 11, 26)) == nothing(ip_lapsed=1)
    assert open_warnings(loan) == [("ip_lapsed", PATENT)]
    assert resolved_on(loan, "ip_expires_before_maturity", PATENT) == dt.date(2026, 11, 26)

    # The loan is repaid: the pledge is released and the warning resolved.
    business_date("2026-12-01")
    response = personas.client("bank_a").post(
        f"{BASE}{loan}/settle/", {"settled_on": "2026-11-30"}, format="json"
    )
    assert response.status_code == 200
    assert warnings_scan(today=dt.date(2026, 12, 1)) == nothing()
    assert open_warnings(loan) == []
    assert resolved_on(loan, "ip_lapsed", PATENT) == dt.date(2026, 12, 1)


def test_a_resolved_warning_is_raised_again_when_its_cause_returns(personas, business_date):
    loan = accepted_loan(personas, business_date)
    IPAsset.objects.filter(number=PATENT).update(status=IPAsset.Status.LAPSED)
    assert warnings_scan(today=dt.date(2026, 11, 23))["ip_lapsed"] == 1
    IPAsset.objects.filter(number=PATENT).update(status=IPAsset.Status.VALID)  # restored on appeal
    warnings_scan(today=dt.date(2026, 11, 24))
    assert open_warnings(loan) == []
    IPAsset.objects.filter(number=PATENT).update(status=IPAsset.Status.INVALIDATED)
    assert warnings_scan(today=dt.date(2026, 11, 25))["ip_lapsed"] == 1
    assert open_warnings(loan) == [("ip_lapsed", PATENT)]


# --- monthly reports ---------------------------------------------------------------------------


def test_missing_monthly_reports_are_raised_per_month_and_resolved_by_the_report(personas, business_date):
    loan = accepted_loan(personas, business_date)  # disbursed 2026-11-16

    # November is the disbursement month: its report is welcome but not owed.
    assert warnings_scan(today=dt.date(2026, 12, 2)) == nothing()
    # On the last day of December, December has not ended yet.
    assert warnings_scan(today=dt.date(2026, 12, 31)) == nothing()

    # December's report is due by the policy's 10th working day of January, Friday 2027-01-15
    # (New Year's Day and the weekend do not count): until then it is not late.
    assert warnings_scan(today=dt.date(2027, 1, 4)) == nothing()
    assert warnings_scan(today=dt.date(2027, 1, 15)) == nothing()
    assert warnings_scan(today=dt.date(2027, 1, 16)) == nothing(monthly_report_missing=1)
    assert open_warnings(loan) == [("monthly_report_missing", "2026-12")]
    assert warnings_scan(today=dt.date(2027, 1, 18)) == nothing()

    # Early February: December stays open; January's report is not due before 2027-02-18.
    assert warnings_scan(today=dt.date(2027, 2, 2)) == nothing()
    assert open_warnings(loan) == [("monthly_report_missing", "2026-12")]
    # Still nothing after the 18th: January is missing too.
    assert warnings_scan(today=dt.date(2027, 2, 19)) == nothing(monthly_report_missing=1)
    assert open_warnings(loan) == [
        ("monthly_report_missing", "2026-12"),
        ("monthly_report_missing", "2027-01"),
    ]

    # December's report arrives late: only December's warning goes.
    response = send_report(personas, business_date, loan, "2026-12-31", on="2027-02-22")
    assert response.status_code == 201
    assert warnings_scan(today=dt.date(2027, 2, 22)) == nothing()
    assert open_warnings(loan) == [("monthly_report_missing", "2027-01")]
    assert resolved_on(loan, "monthly_report_missing", "2026-12") == dt.date(2027, 2, 22)


def test_the_report_deadline_is_each_funds_own_policy(personas, business_date):
    from fundmgr.ground.funds.models import PolicyVersion

    loan = accepted_loan(personas, business_date)  # Zhaoqing
    policy = LoanFiling.objects.get(pk=loan).fund.policy_in_force(dt.date(2027, 1, 4))
    PolicyVersion.objects.filter(pk=policy.pk).update(status_report_due_working_days=3)
    # Three working days into January: Wednesday 2027-01-06 is the last day.
    assert warnings_scan(today=dt.date(2027, 1, 6)) == nothing()
    assert warnings_scan(today=dt.date(2027, 1, 7)) == nothing(monthly_report_missing=1)


def test_a_settled_loan_owes_no_more_reports(personas, business_date):
    loan = accepted_loan(personas, business_date)
    assert warnings_scan(today=dt.date(2027, 1, 18)) == nothing(monthly_report_missing=1)
    business_date("2027-01-19")
    response = personas.client("bank_a").post(
        f"{BASE}{loan}/settle/", {"settled_on": "2027-01-19"}, format="json"
    )
    assert response.status_code == 200
    assert warnings_scan(today=dt.date(2027, 2, 19)) == nothing()
    assert open_warnings(loan) == []


# --- due-diligence deadline --------------------------------------------------------------------


def test_due_diligence_deadline_counts_working_days_across_national_day(personas, business_date):
    # Filed Thursday 2026-09-17: ten working days count the make-up Sunday 09-20 and skip the
    # Mid-Autumn Friday 09-25 and the National Day holiday 10-01 to 10-07: Thursday 10-08.
    filing = file_loan(
        personas,
        business_date,
        on="2026-09-17",
        disbursed_on="2026-09-15",
        matures_on="2027-09-14",
        pledges=[
            {
                "kind": "invention_patent",
                "number": PATENT,
                "registration_no": "Y2026440000123",
                "registered_on": "2026-09-10",
                "appraised_value": "3000000.00",
            }
        ],
    )
    assert personas.client("officer").get(f"{BASE}{filing}/").json()["due_diligence_due_on"] == "2026-10-08"
    officer = personas.user("officer")
    services.filing_transition(filing_id=filing, name="start_due_diligence", user=officer)

    # Monday 09-28: three working days left (09-29, 09-30, 10-08).
    assert warnings_scan(today=dt.date(2026, 9, 28)) == nothing()
    # Tuesday 09-29: nine calendar days, but only two working days left.
    assert warnings_scan(today=dt.date(2026, 9, 29)) == nothing(due_diligence_deadline=1)
    warning = EarlyWarning.objects.get(filing_id=filing)
    assert (warning.kind, warning.subject) == ("due_diligence_deadline", "2026-10-08")
    assert "还剩2个工作日" in warning.message
    # During the holiday nothing new.
    assert warnings_scan(today=dt.date(2026, 10, 3)) == nothing()

    # The filing is decided: the warning is resolved.
    business_date("2026-10-08")
    services.due_diligence_record(
        filing_id=filing, user=officer, items=dict.fromkeys(DueDiligence.REQUIRED_ITEMS, True)
    )
    services.filing_transition(filing_id=filing, name="accept", user=personas.user("approver"))
    warnings_scan(today=dt.date(2026, 10, 8))
    assert resolved_on(filing, "due_diligence_deadline", "2026-10-08") == dt.date(2026, 10, 8)


def test_a_filing_not_yet_picked_up_is_warned_too_and_a_returned_one_is_not(personas, business_date):
    waiting = file_loan(personas, business_date)  # submitted 2026-11-21, due 2026-12-04
    returned = file_loan(
        personas,
        business_date,
        enterprise_uscc="91441202951617540K",
        pledges=[
            {
                "kind": "invention_patent",
                "number": "201814411596.8",
                "registration_no": "Y2026440000789",
                "registered_on": "2026-11-10",
                "appraised_value": "2000000.00",
            }
        ],
    )
    officer = personas.user("officer")
    services.filing_transition(filing_id=returned, name="start_due_diligence", user=officer)
    # Wednesday 12-02: the due date, Friday 12-04, is two working days ahead.
    assert warnings_scan(today=dt.date(2026, 12, 2)) == nothing(due_diligence_deadline=2)
    services.filing_transition(
        filing_id=returned, name="return_for_supplement", user=officer, comment="缺质押合同"
    )
    # Returned to the bank: the clock pauses, the warning goes; the waiting filing is overdue.
    assert warnings_scan(today=dt.date(2026, 12, 7)) == nothing()
    assert open_warnings(returned) == []
    assert open_warnings(waiting) == [("due_diligence_deadline", "2026-12-04")]


# --- entry points -------------------------------------------------------------------------------


def test_the_command_and_the_task_scan_for_the_business_date(personas, business_date):
    accepted_loan(personas, business_date)
    out = StringIO()
    call_command("scan_loan_warnings", "--date", "2027-01-18", stdout=out)
    assert "monthly_report_missing (未报送月度报告): 1" in out.getvalue()
    assert "Raised 1 warning(s)." in out.getvalue()

    # The task scans "today" on the business clock; a second run the next day raises nothing.
    business_date("2027-01-19")
    assert warnings_scan_task.apply().get() == nothing()
    assert EarlyWarning.objects.filter(resolved_on__isnull=True).count() == 1


def test_the_command_refuses_a_malformed_date(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("scan_loan_warnings", "--date", "2027-13-01")
