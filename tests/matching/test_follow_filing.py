"""A filing may name the financing need it answers, and the need follows the filing's fate;
the funnel (needs registered → with a bank's interest → filed → accepted) counts the need at
each step it reaches."""

from __future__ import annotations

import pytest
from django_fsm_log.models import StateLog

from fundmgr.ground.accounts.principals import principal_for
from loans.models import LoanFiling
from loans.services.filings import due_diligence_record, filing_transition, filing_withdraw
from matching.errors import MatchingError
from matching.models import FinancingNeed, NeedInterest, NeedStatus
from tests.factories import filing_body
from tests.loans.conftest import ALL_CHECKED, accept_filing
from tests.matching.conftest import JINGYE, ok, register

pytestmark = pytest.mark.django_db


def funnel(personas, who: str = "officer", fund: str = "zhaoqing") -> dict:
    report = ok(
        personas.client(who).get("/api/v1/reports/outreach/", {"year": 2026, "quarter": 4, "fund": fund})
    )
    (row,) = report["funnel"]
    return {k: row[k] for k in ("needs", "needs_with_interest", "needs_filed", "needs_accepted")} | {
        "amount": row["needs_amount_wan_yuan"],
        "accepted_amount": row["accepted_amount_wan_yuan"],
    }


def status(need_id: int) -> str:
    return FinancingNeed.objects.get(pk=need_id).status


def file(personas, need_id: int, **overrides) -> int:
    body = filing_body(financing_need=need_id, **overrides)
    return ok(personas.client("bank_a").post("/api/v1/filings/", body, format="json"), 201)["id"]


def review(personas, filing_id: int) -> None:
    officer = personas.user("officer")
    filing_transition(filing_id=filing_id, name="start_due_diligence", user=officer)
    due_diligence_record(filing_id=filing_id, user=officer, items=ALL_CHECKED)


def test_a_need_followed_to_an_accepted_loan_is_counted_at_each_step(personas):
    need = register(personas)["id"]
    assert funnel(personas) == {
        "needs": 1,
        "needs_with_interest": 0,
        "needs_filed": 0,
        "needs_accepted": 0,
        "amount": "300.00",
        "accepted_amount": "0.00",
    }

    interest = ok(
        personas.client("bank_a").post(
            f"/api/v1/financing-needs/{need}/interest/", {"comment": "可对接"}, format="json"
        ),
        201,
    )
    assert interest["need_status"] == "in_talks" and interest["institution"] == "zqrcb"
    assert funnel(personas)["needs_with_interest"] == 1 and funnel(personas)["needs_filed"] == 0

    filing = ok(
        personas.client("bank_a").post("/api/v1/filings/", filing_body(financing_need=need), format="json"),
        201,
    )
    assert filing["financing_need"] == need and status(need) == NeedStatus.FILED
    assert funnel(personas)["needs_filed"] == 1 and funnel(personas)["needs_accepted"] == 0

    review(personas, filing["id"])
    filing_transition(filing_id=filing["id"], name="accept", user=personas.user("approver"))
    assert status(need) == NeedStatus.CLOSED
    assert funnel(personas) == {
        "needs": 1,
        "needs_with_interest": 1,
        "needs_filed": 1,
        "needs_accepted": 1,
        "amount": "300.00",
        "accepted_amount": "100.00",
    }
    report = ok(
        personas.client("officer").get(
            "/api/v1/reports/outreach/", {"year": 2026, "quarter": 4, "fund": "zhaoqing"}
        )
    )
    assert report["funnel"][0]["accepted_rate"] == "100.00"
    assert report["funnel"][0]["amount_conversion_rate"] == "33.33"  # 100万 of 300万
    steps = list(
        StateLog.objects.filter(content_type__model="financingneed", object_id=need)
        .order_by("id")
        .values_list("transition", "state", "description")
    )
    assert [s[:2] for s in steps] == [
        ("register", "open"),
        ("start_talks", "in_talks"),
        ("mark_filed", "filed"),
        ("close_financed", "closed"),
    ]
    reference = LoanFiling.objects.get(pk=filing["id"]).reference
    assert steps[-1][2] == f"贷款备案 {reference} 已受理入池"
    # the regulator of the city reads the same aggregates; the other city's does not
    assert funnel(personas, "regulator_x")["needs_accepted"] == 1
    assert (
        personas.client("regulator_y")
        .get("/api/v1/reports/outreach/", {"year": 2026, "fund": "zhaoqing"})
        .status_code
        == 404
    )


def test_a_filing_without_interest_counts_its_bank_as_interested(personas):
    need = register(personas)["id"]
    file(personas, need)
    assert NeedInterest.objects.filter(need_id=need, institution__code="zqrcb").exists()
    assert funnel(personas)["needs_with_interest"] == 1 and funnel(personas)["needs_filed"] == 1


def test_a_refused_or_withdrawn_filing_sends_the_need_back_to_talks(personas):
    need = register(personas)["id"]
    first = file(personas, need)
    review(personas, first)
    filing_transition(filing_id=first, name="reject", user=personas.user("approver"), comment="质押登记不全")
    assert status(need) == NeedStatus.IN_TALKS
    second = file(personas, need, pledges=[{**filing_body()["pledges"][0], "number": "201912754910.4"}])
    assert status(need) == NeedStatus.FILED
    filing_withdraw(
        principal=principal_for(personas.user("bank_a")), filing_id=second, comment="企业改变计划"
    )
    assert status(need) == NeedStatus.IN_TALKS
    # the funnel still counts the need as filed: it was
    assert funnel(personas)["needs_filed"] == 1 and funnel(personas)["needs_accepted"] == 0


def test_a_voided_loan_reopens_the_need(personas):
    need = register(personas)["id"]
    filing = accept_filing(personas, financing_need=need)
    assert status(need) == NeedStatus.CLOSED
    filing_transition(filing_id=filing.pk, name="void", user=personas.user("approver"), comment="虚假备案")
    assert status(need) == NeedStatus.IN_TALKS
    assert funnel(personas)["needs_accepted"] == 0


def test_a_filing_naming_a_need_it_cannot_answer_is_refused_and_nothing_is_stored(personas):
    other = register(personas, enterprise_uscc=JINGYE, offered_ip=[])["id"]  # Jingye's need
    before = LoanFiling.objects.count()
    problem = ok(
        personas.client("bank_a").post("/api/v1/filings/", filing_body(financing_need=other), format="json"),
        422,
    )
    assert problem["code"] == MatchingError.FINANCING_NEED_INVALID
    assert problem["errors"][0]["field"] == "financing_need"
    missing = ok(
        personas.client("bank_a").post("/api/v1/filings/", filing_body(financing_need=999999), format="json"),
        422,
    )
    assert missing["code"] == MatchingError.FINANCING_NEED_INVALID
    assert LoanFiling.objects.count() == before and status(other) == NeedStatus.OPEN
    # a need that has ended cannot be named either
    FinancingNeed.objects.filter(pk=other).update(status=NeedStatus.WITHDRAWN)
    body = filing_body(
        enterprise_uscc=JINGYE,
        financing_need=other,
        pledges=[{**filing_body()["pledges"][0], "number": "201814411596.8"}],
    )
    assert ok(personas.client("bank_a").post("/api/v1/filings/", body, format="json"), 422)["code"] == (
        MatchingError.FINANCING_NEED_INVALID
    )
