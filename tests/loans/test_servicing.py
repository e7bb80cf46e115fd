"""Post-loan servicing: monthly reports move the loan, settlement, automatic suspension.

Loans are built through the real path (bank A files on 2026-11-21, an officer does the due
diligence, the approver accepts); reports are sent on business dates after the month ends.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from banks.models import CooperationAgreement, Institution
from banks.services import agreement_filings_transition
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.funds.selectors import fund_figures
from loans.models import DueDiligence, LoanFiling, LoanStatus, StatusReport
from loans.services import filings as services
from loans.services.servicing import npl_suspension_check
from tests.factories import filing_body, make_filing

pytestmark = pytest.mark.django_db

BASE = "/api/v1/filings/"
PROBLEM = "application/problem+json"

# Another right of the demo borrower 9144120252133505XP (filing_body pledges 201613031399.8),
# and a right of another Zhaoqing enterprise, so bank A can hold several live loans at once.
SECOND_PATENT = "201912754910.4"
OTHER_ENTERPRISE = "91441202951617540K"
OTHER_ENTERPRISE_PATENT = "201814411596.8"


def pledge(number: str, **overrides) -> list[dict]:
    item = {
        "kind": "invention_patent",
        "number": number,
        "registration_no": "Y2026440000456",
        "registered_on": "2026-11-10",
        "appraised_value": "2000000.00",
    }
    item.update(overrides)
    return [item]


def file_loan(personas, business_date, *, on: str = "2026-11-21", **overrides) -> int:
    business_date(on)
    response = personas.client("bank_a").post(BASE, filing_body(**overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def accept(personas, filing_id: int) -> None:
    officer, approver = personas.user("officer"), personas.user("approver")
    services.filing_transition(filing_id=filing_id, name="start_due_diligence", user=officer)
    services.due_diligence_record(
        filing_id=filing_id, user=officer, items=dict.fromkeys(DueDiligence.REQUIRED_ITEMS, True)
    )
    services.filing_transition(filing_id=filing_id, name="accept", user=approver)


def accepted_loan(personas, business_date, *, on: str = "2026-11-21", **overrides) -> int:
    filing_id = file_loan(personas, business_date, on=on, **overrides)
    accept(personas, filing_id)
    assert LoanFiling.objects.get(pk=filing_id).loan_status == LoanStatus.PERFORMING
    return filing_id


def send_report(
    personas,
    business_date,
    filing_id: int,
    as_of: str,
    *,
    on: str | None = None,
    who: str = "bank_a",
    outstanding: str = "1000000.00",
    overdue_principal: str = "0.00",
    overdue_interest: str = "0.00",
    days: int = 0,
    risk: str = "normal",
    supersedes: int | None = None,
):
    """POST a monthly report; by default three days after the month end."""
    business_date(on or (dt.date.fromisoformat(as_of) + dt.timedelta(days=3)).isoformat())
    body = {
        "as_of": as_of,
        "outstanding_principal": outstanding,
        "overdue_principal": overdue_principal,
        "overdue_interest": overdue_interest,
        "days_overdue": days,
        "risk_class": risk,
    }
    if supersedes is not None:
        body["supersedes"] = supersedes
    return personas.client(who).post(f"{BASE}{filing_id}/status-reports/", body, format="json")


def detail(personas, filing_id: int, who: str = "bank_a") -> dict:
    response = personas.client(who).get(f"{BASE}{filing_id}/")
    assert response.status_code == 200
    return response.json()


def loan_moves(personas, filing_id: int) -> list[tuple[str, str, str, str]]:
    """The loan_status part of the history: (transition, to, by, comment)."""
    names = {"mark_overdue", "mark_non_performing", "cure", "settle"}
    return [
        (h["transition"], h["to"], h["by"], h["comment"])
        for h in detail(personas, filing_id)["history"]
        if h["transition"] in names
    ]


def refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.json()
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == code


def zqrcb_agreement() -> CooperationAgreement:
    return CooperationAgreement.objects.get(institution__code="zqrcb", fund__code="zhaoqing")


# --- the loan moves with its reports ----------------------------------------------------------


def test_reports_move_the_loan_overdue_then_non_performing_at_90_days_then_cured(personas, business_date):
    loan = accepted_loan(personas, business_date)

    response = send_report(personas, business_date, loan, "2026-11-30")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["loan_status_after"] == "performing" and body["is_current"] is True
    assert body["as_of"] == "2026-11-30" and body["supersedes"] is None

    december = send_report(
        personas,
        business_date,
        loan,
        "2026-12-31",
        outstanding="950000.00",
        overdue_principal="50000.00",
        overdue_interest="3625.00",
        days=10,
        risk="special_mention",
    )
    assert december.json()["loan_status_after"] == "overdue"
    january = send_report(
        personas, business_date, loan, "2027-01-31", outstanding="950000.00", days=41, risk="special_mention"
    )
    assert january.json()["loan_status_after"] == "overdue"
    # 89 days: still below the Zhaoqing trigger of 90 days.
    february = send_report(
        personas, business_date, loan, "2027-02-28", outstanding="950000.00", days=89, risk="special_mention"
    )
    assert february.json()["loan_status_after"] == "overdue"
    assert detail(personas, loan)["loan_status"] == "overdue"

    # The bank corrects February: 90 days, exactly the trigger.
    corrected = send_report(
        personas,
        business_date,
        loan,
        "2027-02-28",
        outstanding="950000.00",
        days=90,
        risk="special_mention",
        supersedes=february.json()["id"],
    )
    assert corrected.status_code == 201, corrected.json()
    assert corrected.json()["supersedes"] == february.json()["id"]
    assert corrected.json()["loan_status_after"] == "non_performing"
    assert detail(personas, loan)["loan_status"] == "non_performing"

    march = send_report(personas, business_date, loan, "2027-03-31", outstanding="900000.00")
    assert march.json()["loan_status_after"] == "performing"

    filing = detail(personas, loan)
    assert filing["loan_status"] == "performing"
    assert filing["outstanding_principal"] == "900000.00" and filing["covered_outstanding"] == "900000.00"
    # Only changes are transitions, each by the bank, each saying which report caused it.
    assert loan_moves(personas, loan) == [
        ("mark_overdue", "overdue", "institution", "2026-12 月报：逾期10天，关注"),
        ("mark_non_performing", "non_performing", "institution", "2027-02 月报（更正）：逾期90天，关注"),
        ("cure", "performing", "institution", "2027-03 月报：未逾期，正常"),
    ]
    # The delinquency history is whole: the superseded February report is kept, not current.
    rows = list(
        StatusReport.objects.filter(filing_id=loan)
        .order_by("as_of", "id")
        .values_list("as_of", "days_overdue", "is_current", "loan_status_after")
    )
    assert rows == [
        (dt.date(2026, 11, 30), 0, True, "performing"),
        (dt.date(2026, 12, 31), 10, True, "overdue"),
        (dt.date(2027, 1, 31), 41, True, "overdue"),
        (dt.date(2027, 2, 28), 89, False, "overdue"),
        (dt.date(2027, 2, 28), 90, True, "non_performing"),
        (dt.date(2027, 3, 31), 0, True, "performing"),
    ]


def test_substandard_at_30_days_is_non_performing_by_risk_class(personas, business_date):
    loan = accepted_loan(personas, business_date)
    response = send_report(
        personas,
        business_date,
        loan,
        "2026-12-31",
        overdue_principal="100000.00",
        days=30,
        risk="substandard",
    )
    assert response.json()["loan_status_after"] == "non_performing"
    assert loan_moves(personas, loan) == [
        ("mark_non_performing", "non_performing", "institution", "2026-12 月报：逾期30天，次级")
    ]


def test_overdue_amounts_without_days_make_the_loan_overdue(personas, business_date):
    loan = accepted_loan(personas, business_date)
    response = send_report(personas, business_date, loan, "2026-11-30", overdue_interest="1200.00")
    assert response.json()["loan_status_after"] == "overdue"


def test_a_late_report_for_an_earlier_month_does_not_undo_the_latest(personas, business_date):
    loan = accepted_loan(personas, business_date)
    send_report(personas, business_date, loan, "2026-12-31", days=35, risk="substandard")
    late = send_report(personas, business_date, loan, "2026-11-30", on="2027-01-06", outstanding="990000.00")
    assert late.status_code == 201
    filing = detail(personas, loan)
    assert filing["loan_status"] == "non_performing" and late.json()["loan_status_after"] == "non_performing"
    # The balance, too, is the latest month's.
    assert filing["outstanding_principal"] == "1000000.00"


def test_covered_outstanding_follows_the_report_pro_rata_half_up(personas, business_date):
    loan = accepted_loan(personas, business_date, pledge_type="combined", covered_principal="600000.00")
    send_report(personas, business_date, loan, "2026-11-30", outstanding="333333.33")
    filing = detail(personas, loan)
    # 333333.33 × 600000 / 1000000 = 199999.998 → 200000.00
    assert filing["outstanding_principal"] == "333333.33"
    assert filing["covered_outstanding"] == "200000.00"


# --- refusals -------------------------------------------------------------------------------


def test_a_second_report_for_the_same_month_is_409_unless_it_supersedes(personas, business_date):
    loan = accepted_loan(personas, business_date)
    first = send_report(personas, business_date, loan, "2026-11-30")
    refused(send_report(personas, business_date, loan, "2026-11-30", days=5), 409, "report_exists")
    second = send_report(personas, business_date, loan, "2026-11-30", days=5, supersedes=first.json()["id"])
    assert second.status_code == 201
    # The first one is no longer current: it cannot be superseded again.
    refused(
        send_report(personas, business_date, loan, "2026-11-30", supersedes=first.json()["id"]),
        409,
        "invalid_supersedes",
    )
    # Nor can a report of another month be named.
    refused(
        send_report(personas, business_date, loan, "2026-12-31", supersedes=second.json()["id"]),
        409,
        "invalid_supersedes",
    )
    assert StatusReport.objects.filter(filing_id=loan).count() == 2


@pytest.mark.parametrize(
    ("as_of", "on", "fields", "code"),
    [
        ("2026-11-29", "2026-12-03", {}, "as_of_not_month_end"),
        ("2026-12-31", "2026-12-03", {}, "report_period_not_ended"),
        # The last day of the month is not over yet.
        ("2026-11-30", "2026-11-30", {}, "report_period_not_ended"),
        ("2026-10-31", "2026-12-03", {}, "report_before_disbursement"),
        # Disbursed 2026-11-16: at most 14 days overdue on 2026-11-30.
        ("2026-11-30", "2026-12-03", {"days": 15}, "days_overdue_impossible"),
        ("2026-11-30", "2026-12-03", {"outstanding": "1000000.01"}, "outstanding_exceeds_principal"),
        (
            "2026-11-30",
            "2026-12-03",
            {"outstanding": "500000.00", "overdue_principal": "500000.01"},
            "overdue_exceeds_outstanding",
        ),
    ],
)
def test_impossible_reports_are_400(personas, business_date, as_of, on, fields, code):
    loan = accepted_loan(personas, business_date)
    refused(send_report(personas, business_date, loan, as_of, on=on, **fields), 400, code)
    assert not StatusReport.objects.filter(filing_id=loan).exists()
    assert detail(personas, loan)["loan_status"] == "performing"


def test_bank_b_reporting_on_bank_a_loan_gets_404(personas, business_date):
    loan = accepted_loan(personas, business_date)
    refused(send_report(personas, business_date, loan, "2026-11-30", who="bank_b"), 404, "not_found")
    refused(
        personas.client("bank_b").post(f"{BASE}{loan}/settle/", {"settled_on": "2026-12-01"}, format="json"),
        404,
        "not_found",
    )
    assert not StatusReport.objects.filter(filing_id=loan).exists()


def test_a_filing_not_yet_accepted_cannot_be_reported_on(personas, business_date):
    filing = file_loan(personas, business_date)
    refused(send_report(personas, business_date, filing, "2026-11-30"), 409, "transition_not_allowed")


# --- settlement -----------------------------------------------------------------------------


def test_settlement_releases_the_pledges_and_the_loan_leaves_the_exposure(personas, business_date):
    loan = accepted_loan(personas, business_date)
    fund = Fund.objects.get(code="zhaoqing")
    business_date("2026-12-10")
    before = fund_figures(funds=[fund], on=dt.date(2026, 12, 10))[fund.pk]
    assert before.covered_outstanding == D("1000000.00") and before.exposure == D("500000.00")

    response = personas.client("bank_a").post(
        f"{BASE}{loan}/settle/", {"settled_on": "2026-12-09"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["loan_status"] == "settled" and body["settled_on"] == "2026-12-09"
    assert body["outstanding_principal"] == "0.00" and body["covered_outstanding"] == "0.00"
    assert [p["released_on"] for p in body["pledges"]] == ["2026-12-09"]
    assert body["history"][-1]["transition"] == "settle" and body["history"][-1]["by"] == "institution"

    after = fund_figures(funds=[fund], on=dt.date(2026, 12, 10))[fund.pk]
    assert after.covered_outstanding == D("0.00") and after.exposure == D("0.00")

    # A settled loan takes no more reports and cannot be settled twice.
    refused(
        send_report(personas, business_date, loan, "2026-11-30", on="2026-12-10"),
        409,
        "transition_not_allowed",
    )
    refused(
        personas.client("bank_a").post(f"{BASE}{loan}/settle/", {"settled_on": "2026-12-10"}, format="json"),
        409,
        "transition_not_allowed",
    )
    # The released patent may secure a new loan.
    again = personas.client("bank_a").post(
        BASE, filing_body(disbursed_on="2026-12-08", matures_on="2027-12-07"), format="json"
    )
    assert again.status_code == 201, again.json()


@pytest.mark.parametrize(
    ("settled_on", "code"),
    [("2026-12-11", "settled_on_in_future"), ("2026-11-15", "settled_before_disbursement")],
)
def test_settlement_dates_are_checked(personas, business_date, settled_on, code):
    loan = accepted_loan(personas, business_date)
    business_date("2026-12-10")
    response = personas.client("bank_a").post(
        f"{BASE}{loan}/settle/", {"settled_on": settled_on}, format="json"
    )
    refused(response, 400, code)
    assert detail(personas, loan)["loan_status"] == "performing"
    assert detail(personas, loan)["pledges"][0]["released_on"] is None


# --- automatic suspension -------------------------------------------------------------------


def test_a_non_performing_loan_suspends_the_bank_and_staff_reinstate_it(personas, business_date):
    first = accepted_loan(personas, business_date)
    second = accepted_loan(
        personas,
        business_date,
        enterprise_uscc=OTHER_ENTERPRISE,
        pledges=pledge(OTHER_ENTERPRISE_PATENT),
    )
    # An overdue loan is not non-performing: no suspension.
    send_report(personas, business_date, second, "2026-11-30", days=5, risk="special_mention")
    assert zqrcb_agreement().filings_suspended_on is None

    # Substandard: non-performing; 1,000,000 of 2,000,000 covered is 50.00% > 5.00%.
    response = send_report(personas, business_date, first, "2026-11-30", days=14, risk="substandard")
    assert response.json()["loan_status_after"] == "non_performing"
    agreement = zqrcb_agreement()
    assert agreement.filings_suspended_on == dt.date(2026, 12, 3)
    assert "50.00%" in agreement.filings_suspension_reason and "5.00%" in agreement.filings_suspension_reason

    new_loan = {
        "disbursed_on": "2026-12-01",
        "matures_on": "2027-11-30",
        "pledges": pledge(SECOND_PATENT),
    }
    refused_filing = personas.client("bank_a").post(BASE, filing_body(**new_loan), format="json")
    assert refused_filing.status_code == 422, refused_filing.json()
    assert "institution_suspended" in [e["code"] for e in refused_filing.json()["errors"]]
    # Existing loans stay covered: the bank still corrects and settles them.
    correction = send_report(
        personas,
        business_date,
        second,
        "2026-11-30",
        supersedes=StatusReport.objects.get(filing_id=second).pk,
    )
    assert correction.status_code == 201 and correction.json()["loan_status_after"] == "performing"

    # Lifting it takes two people (four-eyes): one requests, an approver approves.
    agreement_filings_transition(
        agreement_id=agreement.pk,
        name="request_reinstatement",
        user=personas.user("officer"),
        comment="整改完成",
    )
    agreement_filings_transition(
        agreement_id=agreement.pk,
        name="approve_reinstatement",
        user=personas.user("approver"),
        comment="决委会同意恢复备案（会议纪要2026-12）",
    )
    accepted_again = personas.client("bank_a").post(BASE, filing_body(**new_loan), format="json")
    assert accepted_again.status_code == 201, accepted_again.json()


def test_the_check_suspends_only_above_the_threshold_and_only_once(personas, business_date):
    business_date("2026-12-03")
    fund = Fund.objects.get(code="zhaoqing")
    zqrcb = Institution.objects.get(code="zqrcb")
    make_filing(fund=fund, institution=zqrcb, principal=D("19000000.00"))
    npl = make_filing(
        fund=fund, institution=zqrcb, principal=D("1000000.00"), loan_status=LoanStatus.NON_PERFORMING
    )
    # Exactly 5.00% is not above the threshold.
    assert npl_suspension_check(institution_id=zqrcb.pk, fund_id=fund.pk) is False
    assert zqrcb_agreement().filings_suspended_on is None

    # A little more non-performing balance: 1.1m of 20.1m = 5.47%.
    amount = D("1100000.00")
    LoanFiling.objects.filter(pk=npl.pk).update(
        principal=amount, covered_principal=amount, outstanding_principal=amount, covered_outstanding=amount
    )
    assert npl_suspension_check(institution_id=zqrcb.pk, fund_id=fund.pk) is True
    assert zqrcb_agreement().filings_suspended_on == dt.date(2026, 12, 3)
    # Already suspended: nothing more to do, the first reason stays.
    reason = zqrcb_agreement().filings_suspension_reason
    assert npl_suspension_check(institution_id=zqrcb.pk, fund_id=fund.pk) is False
    assert zqrcb_agreement().filings_suspension_reason == reason
    # Another bank of the same fund is not touched.
    assert CooperationAgreement.objects.get(institution__code="ccb-zhaoqing").filings_suspended_on is None


def test_settling_performing_loans_can_tip_the_ratio(personas, business_date):
    """Repaying performing loans shrinks the denominator of the bank's NPL ratio."""
    business_date("2026-12-03")
    fund = Fund.objects.get(code="zhaoqing")
    zqrcb = Institution.objects.get(code="zqrcb")
    make_filing(
        fund=fund, institution=zqrcb, principal=D("1000000.00"), loan_status=LoanStatus.NON_PERFORMING
    )
    big = make_filing(fund=fund, institution=zqrcb, principal=D("20000000.00"))
    assert npl_suspension_check(institution_id=zqrcb.pk, fund_id=fund.pk) is False  # 1/21 = 4.76%

    response = personas.client("bank_a").post(
        f"{BASE}{big.pk}/settle/", {"settled_on": "2026-12-02"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert zqrcb_agreement().filings_suspended_on == dt.date(2026, 12, 3)  # 1/1 = 100%


# --- concurrency (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_for_one_month_store_one(personas, business_date):
    import threading

    from django.db import connection
    from rest_framework.test import APIClient

    from banks.services import institution_api_key_issue

    loan = accepted_loan(personas, business_date)
    business_date("2026-12-03")
    _, raw = institution_api_key_issue(institution_code="zqrcb")
    body = {
        "as_of": "2026-11-30",
        "outstanding_principal": "1000000.00",
        "overdue_principal": "0.00",
        "overdue_interest": "0.00",
        "days_overdue": 14,
        "risk_class": "substandard",
    }
    barrier = threading.Barrier(5)
    answers: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def post() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        try:
            barrier.wait(timeout=10)
            response = client.post(f"{BASE}{loan}/status-reports/", body, format="json")
            with lock:
                answers.append((response.status_code, response.json().get("code")))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(answers, key=lambda a: a[0]) == [(201, None)] + [(409, "report_exists")] * 4
    assert StatusReport.objects.filter(filing_id=loan).count() == 1
    # One transition, and the bank suspended once.
    assert [m[0] for m in loan_moves(personas, loan)] == ["mark_non_performing"]
    assert zqrcb_agreement().filings_suspended_on == dt.date(2026, 12, 3)
