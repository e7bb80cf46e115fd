"""/api/v1/filings/: input format, duplicates, idempotency, the 201 shape, the review workflow
(four-eyes, due diligence, return and resubmit, withdrawal) and scope per tenant.

The rule-by-rule refusals are in test_filing_rules.py.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from banks import services as bank_services
from banks.models import Institution
from banks.services import institution_api_key_issue
from fundmgr.ground.funds.models import Fund, PolicyVersion
from fundmgr.ground.funds.services import ledger_entry_record, policy_version_create
from loans.models import DueDiligence, LoanFiling, Pledge
from loans.services.filings import due_diligence_record
from tests.factories import filing_body, make_filing

pytestmark = pytest.mark.django_db

URL = "/api/v1/filings/"
PROBLEM = "application/problem+json"
TODAY = "2026-11-21"

BORROWER = "9144120252133505XP"
PATENT = "201613031399.8"
PATENT_2 = "201912754910.4"
OTHER_ZQ = "91441202951617540K"
OTHER_ZQ_PATENT = "201814411596.8"
FOSHAN_ENTERPRISE = "91440605453878334M"
FOSHAN_PATENT = "202110735671.2"

CHECKLIST = (
    "enterprise_eligible",
    "ip_status_checked",
    "pledge_registration_checked",
    "terms_within_limits",
    "documents_complete",
)


@pytest.fixture
def today(business_date):
    business_date(TODAY)
    return dt.date.fromisoformat(TODAY)


@pytest.fixture
def bank_a(personas, today):
    return personas.client("bank_a")


def pledge(number: str = PATENT, kind: str = "invention_patent", **overrides) -> dict:
    item = {
        "kind": kind,
        "number": number,
        "registration_no": "Y2026440000123",
        "registered_on": "2026-11-10",
        "appraised_value": "3000000.00",
    }
    item.update(overrides)
    return item


def foshan_body(**overrides) -> dict:
    """A valid filing by bank B (icbc-foshan) in Foshan."""
    return filing_body(
        fund="foshan", enterprise_uscc=FOSHAN_ENTERPRISE, pledges=[pledge(FOSHAN_PATENT)], **overrides
    )


def stored() -> tuple[int, int]:
    return LoanFiling.objects.count(), Pledge.objects.count()


def file_ok(client, body: dict) -> dict:
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def act(personas, who: str, filing_id: int, name: str, comment: str = ""):
    return personas.client(who).post(
        f"{URL}{filing_id}/transitions/{name}/", {"comment": comment}, format="json"
    )


def assert_problem(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code, body
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body


def complete_checklist(personas, filing_id: int, **items) -> None:
    due_diligence_record(
        filing_id=filing_id, user=personas.user("officer"), items={**dict.fromkeys(CHECKLIST, True), **items}
    )


def under_review(personas, filing_id: int) -> None:
    response = act(personas, "officer", filing_id, "start_due_diligence")
    assert response.status_code == 200 and response.json()["status"] == "under_review"


def accept_via_api(personas, filing_id: int) -> dict:
    under_review(personas, filing_id)
    complete_checklist(personas, filing_id)
    response = act(personas, "approver", filing_id, "accept")
    assert response.status_code == 200, response.json()
    return response.json()


def returned(personas, filing_id: int) -> None:
    under_review(personas, filing_id)
    response = act(personas, "officer", filing_id, "return_for_supplement", "请补充质押登记通知书")
    assert response.status_code == 200 and response.json()["status"] == "returned"


# --- the 201 answer -------------------------------------------------------------------------------


def test_submitted_filing_shape_reference_checks_and_history(bank_a):
    # A refused filing does not use up a reference number.
    assert bank_a.post(URL, filing_body(annual_rate="9.0000"), format="json").status_code == 422
    body = file_ok(bank_a, filing_body(contract_no="ZQRCB-LOAN-1"))
    assert re.fullmatch(r"ZQ-2026-\d{6}", body["reference"])
    assert body["reference"] == "ZQ-2026-000001"
    assert {k: body[k] for k in ("status", "loan_status", "fund", "institution", "enterprise_uscc")} == {
        "status": "submitted",
        "loan_status": None,
        "fund": "zhaoqing",
        "institution": "zqrcb",
        "enterprise_uscc": BORROWER,
    }
    assert (body["contract_no"], body["principal"], body["covered_principal"]) == (
        "ZQRCB-LOAN-1",
        "1000000.00",
        "1000000.00",
    )
    assert (body["submitted_on"], body["fund_share"], body["accepted_on"]) == (TODAY, None, None)
    assert body["checks"] and all(c["passed"] is True for c in body["checks"])
    assert {"enterprise_not_admitted", "filing_deadline_passed", "ip_already_pledged"} <= {
        c["code"] for c in body["checks"]
    }
    assert body["pledges"] == [
        {
            "kind": "invention_patent",
            "number": PATENT,
            "registration_no": "Y2026440000123",
            "registered_on": "2026-11-10",
            "appraised_value": "3000000.00",
            "expires_on": "2036-06-30",
            "released_on": None,
        }
    ]
    [entry] = body["history"]
    assert {k: entry[k] for k in ("from", "to", "transition", "by")} == {
        "from": None,
        "to": "submitted",
        "transition": "submit",
        "by": "institution",
    }
    # Timestamps are wall-clock time in Asia/Shanghai (only the business date can be moved).
    assert dt.datetime.fromisoformat(entry["at"]).utcoffset() == dt.timedelta(hours=8)

    second = file_ok(bank_a, filing_body(pledges=[pledge(PATENT_2)]))
    assert second["reference"] == "ZQ-2026-000002"
    detail = bank_a.get(f"{URL}{body['id']}/").json()
    assert detail["reference"] == "ZQ-2026-000001" and detail["checks"] == body["checks"]


def test_references_are_numbered_per_fund(personas, bank_a):
    file_ok(bank_a, filing_body())
    foshan = file_ok(personas.client("bank_b"), foshan_body())
    assert foshan["reference"] == "FS-2026-000001"


# --- input format -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "field"),
    [
        pytest.param({"principal": 1000000}, "principal", id="principal-number"),
        pytest.param({"principal": 1000000.00}, "principal", id="principal-float"),
        pytest.param({"principal": "-1.00"}, "principal", id="principal-negative"),
        pytest.param({"principal": "1.005"}, "principal", id="principal-three-decimals"),
        pytest.param({"principal": "100"}, "principal", id="principal-no-decimals"),
        pytest.param({"principal": "0.00"}, "principal", id="principal-zero"),
        pytest.param({"covered_principal": 1000000}, "covered_principal", id="covered-number"),
        pytest.param({"annual_rate": 4.35}, "annual_rate", id="rate-number"),
        pytest.param({"annual_rate": "4.35001"}, "annual_rate", id="rate-five-decimals"),
        pytest.param({"annual_rate": "-1.0000"}, "annual_rate", id="rate-negative"),
        pytest.param({"pledges": []}, "pledges", id="no-pledge"),
        pytest.param({"pledges": [pledge("201613031399.1")]}, "pledges[0].number", id="bad-check-digit"),
    ],
)
def test_malformed_input_is_400_naming_the_field(bank_a, override, field):
    before = stored()
    response = bank_a.post(URL, filing_body(**override), format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert stored() == before


@pytest.mark.parametrize(
    ("item", "field"),
    [
        pytest.param({"appraised_value": "3e6"}, "pledges[0].appraised_value", id="appraised-value"),
        pytest.param({"kind": "patent"}, "pledges[0].kind", id="unknown-kind"),
        pytest.param({"registered_on": "2026-13-01"}, "pledges[0].registered_on", id="bad-date"),
    ],
)
def test_pledge_field_errors_use_the_documented_path(bank_a, item, field):
    # api.md: errors name pledge fields as "pledges[0].number"; the rules do (pledges[0].number).
    response = bank_a.post(URL, filing_body(pledges=[pledge(**item)]), format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]


# --- duplicates and idempotency -----------------------------------------------------------------


def test_duplicate_contract_is_409_and_unique_per_institution(personas, bank_a):
    file_ok(bank_a, filing_body(contract_no="SHARED-001"))
    before = stored()
    again = bank_a.post(URL, filing_body(contract_no="SHARED-001", pledges=[pledge(PATENT_2)]), format="json")
    assert_problem(again, 409, "duplicate_contract", "contract_no")
    assert stored() == before
    # Another bank may use the same contract number for its own loan.
    file_ok(personas.client("bank_b"), foshan_body(contract_no="SHARED-001"))


def test_a_withdrawn_filing_still_holds_its_contract_number(bank_a):
    first = file_ok(bank_a, filing_body(contract_no="C-WD-1"))
    bank_a.post(f"{URL}{first['id']}/withdraw/", {"comment": ""}, format="json")
    assert_problem(
        bank_a.post(URL, filing_body(contract_no="C-WD-1"), format="json"), 409, "duplicate_contract"
    )


def test_idempotent_replay_and_reused_key(bank_a):
    body = filing_body()
    first = bank_a.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="filing-42")
    assert first.status_code == 201
    replay = bank_a.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="filing-42")
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert LoanFiling.objects.count() == 1 and Pledge.objects.count() == 1

    other = dict(body, principal="2000000.00", covered_principal="2000000.00")
    reused = bank_a.post(URL, other, format="json", HTTP_IDEMPOTENCY_KEY="filing-42")
    assert_problem(reused, 409, "idempotency_key_reused")
    assert LoanFiling.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("callers", [2, 4])
def test_concurrent_filings_with_one_contract_number(settings, callers):
    from fundmgr.top.demo import seed_demo

    settings.FUNDMGR_BUSINESS_DATE = TODAY
    seed_demo(password="x-123456789")
    _, raw = institution_api_key_issue(institution_code="zqrcb")
    body = filing_body(contract_no="RACE-0001")
    barrier = threading.Barrier(callers)
    answers: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def post() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        try:
            barrier.wait(timeout=10)
            response = client.post(URL, body, format="json")
            code = response.json().get("code") if response.status_code != 201 else None
            with lock:
                answers.append((response.status_code, code))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(answers, key=lambda a: a[0]) == [(201, None)] + [(409, "duplicate_contract")] * (
        callers - 1
    )
    assert LoanFiling.objects.filter(contract_no="RACE-0001").count() == 1
    assert Pledge.objects.filter(filing__contract_no="RACE-0001").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_filings_pledging_one_ip_right_make_one_filing(settings):
    """16 filings at once, different contracts, the same patent: one is filed, every other is
    refused with ip_already_pledged (a lock on the right, not only a check)."""
    from fundmgr.top.demo import seed_demo

    settings.FUNDMGR_BUSINESS_DATE = TODAY
    seed_demo(password="x-123456789")
    _, raw = institution_api_key_issue(institution_code="zqrcb")
    callers = 16
    barrier = threading.Barrier(callers)
    answers: list[tuple[int, list[str]]] = []
    lock = threading.Lock()

    def post(n: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        try:
            barrier.wait(timeout=20)
            response = client.post(URL, filing_body(contract_no=f"RACE-IP-{n:02d}"), format="json")
            codes = (
                [e["code"] for e in response.json().get("errors", [])] if response.status_code != 201 else []
            )
            with lock:
                answers.append((response.status_code, codes))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(status for status, _ in answers) == [201] + [422] * (callers - 1)
    assert all(codes == ["ip_already_pledged"] for status, codes in answers if status == 422)
    assert LoanFiling.objects.filter(contract_no__startswith="RACE-IP-").count() == 1


# --- due diligence, four-eyes, acceptance ---------------------------------------------------------


@pytest.mark.parametrize(("step", "comment"), [("accept", ""), ("reject", "材料不实")])
def test_four_eyes_the_officer_who_started_due_diligence_cannot_decide(personas, bank_a, step, comment):
    filing = file_ok(bank_a, filing_body())
    under_review(personas, filing["id"])
    complete_checklist(personas, filing["id"])  # so only the four-eyes rule stands in the way
    assert_problem(act(personas, "officer", filing["id"], step, comment), 403, "four_eyes_required")
    assert bank_a.get(f"{URL}{filing['id']}/").json()["status"] == "under_review"
    # Another staff member may.
    decided = act(personas, "officer2", filing["id"], step, comment)
    assert decided.status_code == 200
    assert decided.json()["status"] == {"accept": "accepted", "reject": "rejected"}[step]


def test_decision_is_not_offered_to_the_officer_who_started(personas, bank_a):
    filing = file_ok(bank_a, filing_body())
    under_review(personas, filing["id"])
    as_officer = personas.client("officer").get(f"{URL}{filing['id']}/").json()["available_transitions"]
    as_approver = personas.client("approver").get(f"{URL}{filing['id']}/").json()["available_transitions"]
    assert "accept" not in as_officer and "reject" not in as_officer
    assert {"accept", "reject", "return_for_supplement"} <= set(as_approver)


@pytest.mark.parametrize("missing", [None, *CHECKLIST])
def test_accept_needs_the_complete_due_diligence_checklist(personas, bank_a, missing):
    filing = file_ok(bank_a, filing_body())
    under_review(personas, filing["id"])
    if missing is not None:  # None: the checklist as opened, nothing confirmed yet
        complete_checklist(personas, filing["id"], **{missing: False})
    refused = act(personas, "approver", filing["id"], "accept")
    assert_problem(refused, 422, "due_diligence_incomplete")
    # the refusal names each item still to confirm, by its label
    label = str(DueDiligence._meta.get_field(missing).verbose_name) if missing else "企业仍符合入库条件"
    confirmed = 0 if missing is None else len(DueDiligence.REQUIRED_ITEMS) - 1
    assert f"已确认 {confirmed}/{len(DueDiligence.REQUIRED_ITEMS)}" in refused.json()["detail"]
    assert label in refused.json()["detail"]
    assert bank_a.get(f"{URL}{filing['id']}/").json()["status"] == "under_review"


def test_accept_with_complete_checklist_freezes_the_shares(personas, bank_a):
    filing = file_ok(bank_a, filing_body())
    body = accept_via_api(personas, filing["id"])
    assert body["status"] == "accepted"
    assert (body["fund_share"], body["bank_share"], body["accepted_on"]) == ("50.00", "50.00", TODAY)
    assert body["policy_effective_from"] == "2020-11-01"
    assert [(h["transition"], h["by"]) for h in body["history"]][:3] == [
        ("submit", "institution"),
        ("start_due_diligence", "officer"),
        ("accept", "approver"),
    ]
    # The bank sees the same.
    assert bank_a.get(f"{URL}{filing['id']}/").json()["fund_share"] == "50.00"


def test_accepted_loan_is_performing(personas, bank_a):
    filing = file_ok(bank_a, filing_body())
    assert accept_via_api(personas, filing["id"])["loan_status"] == "performing"


def test_loans_accepted_through_the_workflow_use_up_fund_capacity(personas, bank_a):
    # Capital 5,000,000 − 4,850,000 refunded = 150,000 × 10 → capacity 1,500,000.
    ledger_entry_record(
        fund=Fund.objects.get(code="zhaoqing"), entry_type="refund", amount=Decimal("4850000.00")
    )
    first = file_ok(bank_a, filing_body())
    accept_via_api(personas, first["id"])
    over = filing_body(principal="600000.00", covered_principal="600000.00", pledges=[pledge(PATENT_2)])
    response = bank_a.post(URL, over, format="json")
    assert response.status_code == 422, response.json()
    assert "fund_capacity_exceeded" in [e["code"] for e in response.json()["errors"]]


def test_cover_cannot_start_on_a_filing_not_accepted(personas, bank_a):
    filing = file_ok(bank_a, filing_body())
    offered = personas.client("officer").get(f"{URL}{filing['id']}/").json()["available_transitions"]
    response = act(personas, "officer", filing["id"], "start_cover")
    body = bank_a.get(f"{URL}{filing['id']}/").json()
    assert (body["status"], body["loan_status"]) == ("submitted", None)
    assert response.status_code in (404, 409)
    assert "start_cover" not in offered


def test_later_agreement_and_policy_changes_do_not_touch_accepted_shares(personas, bank_a, today):
    first = file_ok(bank_a, filing_body())
    accept_via_api(personas, first["id"])
    fund = Fund.objects.get(code="zhaoqing")
    bank_services.agreement_sign(
        institution=Institution.objects.get(code="zqrcb"),
        fund=fund,
        data={"fund_share": "40.00", "bank_share": "60.00", "valid_from": TODAY},
        by=personas.user("approver"),
    )
    current = fund.policy_in_force(today)
    skip = {"id", "fund", "effective_from", "created_by", "created_at", "document_ref"}
    values = {
        f.name: getattr(current, f.name) for f in PolicyVersion._meta.concrete_fields if f.name not in skip
    }
    policy_version_create(fund=fund, effective_from=today, **values)

    old = bank_a.get(f"{URL}{first['id']}/").json()
    assert (old["fund_share"], old["bank_share"], old["policy_effective_from"]) == (
        "50.00",
        "50.00",
        "2020-11-01",
    )
    # A loan accepted now takes the new terms: the changes are real, the old loan is frozen.
    second = file_ok(bank_a, filing_body(pledges=[pledge(PATENT_2)]))
    new = accept_via_api(personas, second["id"])
    assert (new["fund_share"], new["bank_share"], new["policy_effective_from"]) == ("40.00", "60.00", TODAY)


def test_staff_roles_that_may_not_review(personas, bank_a):
    filing = file_ok(bank_a, filing_body())
    for who in ("committee", "finance"):
        assert_problem(act(personas, who, filing["id"], "start_due_diligence"), 403, "transition_forbidden")
    assert act(personas, "officer", filing["id"], "accept").status_code == 409  # not under review yet


# --- return, correct, resubmit, withdraw ----------------------------------------------------


def test_return_needs_a_comment(personas, bank_a):
    filing = file_ok(bank_a, filing_body())
    under_review(personas, filing["id"])
    assert_problem(
        act(personas, "officer", filing["id"], "return_for_supplement", "  "), 400, "comment_required"
    )
    assert bank_a.get(f"{URL}{filing['id']}/").json()["status"] == "under_review"


def test_return_correct_and_resubmit_reruns_the_checks(personas, bank_a):
    filing = file_ok(bank_a, filing_body())
    returned(personas, filing["id"])
    patched = bank_a.patch(
        f"{URL}{filing['id']}/",
        {"principal": "1500000.00", "annual_rate": "4.0000", "pledges": [pledge(PATENT_2)]},
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["status"], patched.json()["principal"]) == ("returned", "1500000.00")
    assert patched.json()["covered_principal"] == "1500000.00"  # ip_only follows the principal
    assert [p["number"] for p in patched.json()["pledges"]] == [PATENT_2]

    resubmitted = bank_a.post(f"{URL}{filing['id']}/resubmit/", {"comment": "已补正"}, format="json")
    assert resubmitted.status_code == 200, resubmitted.json()
    body = resubmitted.json()
    assert (body["status"], body["annual_rate"]) == ("submitted", "4.0000")
    exposure = next(c for c in body["checks"] if c["code"] == "enterprise_exposure_exceeded")
    assert exposure["passed"] and "1,500,000.00" in exposure["message"]  # judged on the new terms
    assert [(h["transition"], h["by"]) for h in body["history"]][-2:] == [
        ("return_for_supplement", "officer"),
        ("resubmit", "institution"),
    ]
    assert body["history"][-2]["comment"] == "请补充质押登记通知书"
    # The replaced pledge is free again.
    file_ok(bank_a, filing_body(pledges=[pledge(PATENT)]))


def test_a_correction_that_breaks_a_rule_makes_resubmit_422(personas, bank_a):
    filing = file_ok(bank_a, filing_body())
    returned(personas, filing["id"])
    assert bank_a.patch(f"{URL}{filing['id']}/", {"annual_rate": "6.5000"}, format="json").status_code == 200
    response = bank_a.post(f"{URL}{filing['id']}/resubmit/", {"comment": ""}, format="json")
    body = assert_problem(response, 422, "filing_refused")
    assert [(e["code"], e["field"]) for e in body["errors"]] == [("rate_exceeds_limit", "annual_rate")]
    assert bank_a.get(f"{URL}{filing['id']}/").json()["status"] == "returned"


def test_resubmit_is_checked_against_other_live_filings(personas, bank_a):
    # PATCH only checks ownership; whether the new pledge is held elsewhere is judged at resubmit.
    other = file_ok(bank_a, filing_body(pledges=[pledge(PATENT_2)]))
    filing = file_ok(bank_a, filing_body())
    returned(personas, filing["id"])
    assert (
        bank_a.patch(f"{URL}{filing['id']}/", {"pledges": [pledge(PATENT_2)]}, format="json").status_code
        == 200
    )
    response = bank_a.post(f"{URL}{filing['id']}/resubmit/", {"comment": ""}, format="json")
    body = assert_problem(response, 422, "filing_refused")
    assert [(e["code"], e["field"]) for e in body["errors"]] == [("ip_already_pledged", "pledges[0].number")]
    assert other["reference"] in body["errors"][0]["message"]


def test_patch_with_a_pledge_the_borrower_does_not_own_is_refused(personas, bank_a):
    filing = file_ok(bank_a, filing_body())
    returned(personas, filing["id"])
    response = bank_a.patch(f"{URL}{filing['id']}/", {"pledges": [pledge(OTHER_ZQ_PATENT)]}, format="json")
    body = assert_problem(response, 422, "rule_violation")
    assert [(e["code"], e["field"]) for e in body["errors"]] == [("ip_not_owned", "pledges[0].number")]
    assert [p["number"] for p in bank_a.get(f"{URL}{filing['id']}/").json()["pledges"]] == [PATENT]


def test_patch_to_a_contract_number_already_filed_is_409(personas, bank_a):
    file_ok(bank_a, filing_body(contract_no="TAKEN-1", pledges=[pledge(PATENT_2)]))
    filing = file_ok(bank_a, filing_body())
    returned(personas, filing["id"])
    response = bank_a.patch(f"{URL}{filing['id']}/", {"contract_no": "TAKEN-1"}, format="json")
    assert_problem(response, 409, "duplicate_contract", "contract_no")


@pytest.mark.parametrize("state", ["submitted", "under_review", "accepted", "withdrawn"])
def test_patch_only_while_returned(personas, bank_a, state):
    filing = file_ok(bank_a, filing_body())
    if state == "under_review":
        under_review(personas, filing["id"])
    elif state == "accepted":
        accept_via_api(personas, filing["id"])
    elif state == "withdrawn":
        bank_a.post(f"{URL}{filing['id']}/withdraw/", {"comment": ""}, format="json")
    response = bank_a.patch(f"{URL}{filing['id']}/", {"annual_rate": "4.0000"}, format="json")
    assert_problem(response, 409, "transition_not_allowed")
    assert bank_a.get(f"{URL}{filing['id']}/").json()["annual_rate"] == "4.3500"


def test_resubmit_only_while_returned(personas, bank_a):
    filing = file_ok(bank_a, filing_body())
    response = bank_a.post(f"{URL}{filing['id']}/resubmit/", {"comment": ""}, format="json")
    assert_problem(response, 409, "transition_not_allowed")


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        pytest.param(
            {"pledge_type": "combined", "covered_principal": "2000000.00"},
            "covered_principal",
            id="covered-over",
        ),
        pytest.param(
            {"pledge_type": "combined", "covered_principal": None}, "covered_principal", id="combined-null"
        ),
        pytest.param({"principal": "0.00"}, "principal", id="principal-zero"),
        pytest.param(
            {"pledges": [pledge(registered_on=None)]}, "pledges[0].registered_on", id="no-registration-date"
        ),
    ],
)
def test_patch_refused_by_the_rules_is_a_client_error(personas, bank_a, patch, field):
    filing = file_ok(bank_a, filing_body())
    returned(personas, filing["id"])
    bank_a.raise_request_exception = False  # see the 500 a client would get
    response = bank_a.patch(f"{URL}{filing['id']}/", patch, format="json")
    assert response.status_code in (400, 422), response.status_code
    assert response["Content-Type"].startswith(PROBLEM)
    assert field in [e["field"] for e in response.json()["errors"]]


def test_a_correction_cannot_file_a_loan_not_yet_disbursed(personas, bank_a):
    filing = file_ok(bank_a, filing_body())
    returned(personas, filing["id"])
    bank_a.patch(f"{URL}{filing['id']}/", {"disbursed_on": "2026-12-01"}, format="json")
    bank_a.post(f"{URL}{filing['id']}/resubmit/", {"comment": ""}, format="json")
    body = bank_a.get(f"{URL}{filing['id']}/").json()
    assert (body["status"], body["disbursed_on"]) != ("submitted", "2026-12-01"), "filed before disbursement"


@pytest.mark.parametrize("state", ["submitted", "under_review", "returned"])
def test_withdraw_before_acceptance_releases_the_pledge(personas, bank_a, state):
    filing = file_ok(bank_a, filing_body())
    if state == "under_review":
        under_review(personas, filing["id"])
    elif state == "returned":
        returned(personas, filing["id"])
    response = bank_a.post(f"{URL}{filing['id']}/withdraw/", {"comment": "客户提前还款"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "withdrawn"
    assert body["pledges"][0]["released_on"] == TODAY
    assert (body["history"][-1]["transition"], body["history"][-1]["by"]) == ("withdraw", "institution")
    assert body["available_transitions"] == []


def test_withdraw_after_acceptance_is_409(personas, bank_a):
    filing = file_ok(bank_a, filing_body())
    accept_via_api(personas, filing["id"])
    response = bank_a.post(f"{URL}{filing['id']}/withdraw/", {"comment": ""}, format="json")
    assert_problem(response, 409, "transition_not_allowed")
    assert bank_a.get(f"{URL}{filing['id']}/").json()["status"] == "accepted"


def test_rejection_releases_the_pledge_and_needs_a_reason(personas, bank_a):
    filing = file_ok(bank_a, filing_body())
    under_review(personas, filing["id"])
    assert_problem(act(personas, "approver", filing["id"], "reject"), 400, "comment_required")
    body = act(personas, "approver", filing["id"], "reject", "质押登记与合同不符").json()
    assert body["status"] == "rejected" and body["pledges"][0]["released_on"] == TODAY
    file_ok(bank_a, filing_body())  # the patent may be pledged again


def test_four_eyes_follows_the_latest_due_diligence(personas, bank_a):
    filing = file_ok(bank_a, filing_body())
    returned(personas, filing["id"])  # officer started the first round
    bank_a.post(f"{URL}{filing['id']}/resubmit/", {"comment": ""}, format="json")
    assert act(personas, "officer2", filing["id"], "start_due_diligence").status_code == 200
    complete_checklist(personas, filing["id"])
    assert_problem(act(personas, "officer2", filing["id"], "accept"), 403, "four_eyes_required")
    assert act(personas, "officer", filing["id"], "accept").json()["status"] == "accepted"


# --- scope ------------------------------------------------------------------------------------------


@pytest.fixture
def filing_a(bank_a) -> dict:
    return file_ok(bank_a, filing_body())


def test_bank_b_never_sees_or_touches_bank_as_filing(personas, filing_a):
    b = personas.client("bank_b")
    detail = f"{URL}{filing_a['id']}/"
    assert_problem(b.get(detail), 404, "not_found")
    assert b.get(URL).json()["count"] == 0
    assert_problem(b.patch(detail, {"annual_rate": "4.0000"}, format="json"), 404, "not_found")
    for action in ("resubmit", "withdraw", "transitions/accept", "transitions/start_due_diligence"):
        assert_problem(b.post(f"{detail}{action}/", {"comment": "x"}, format="json"), 404, "not_found")
    body = personas.client("bank_a").get(detail).json()
    assert (body["status"], body["annual_rate"], len(body["history"])) == ("submitted", "4.3500", 1)


def test_a_bank_lists_only_its_own(personas, filing_a):
    mine = file_ok(personas.client("bank_b"), foshan_body())
    assert [r["id"] for r in personas.client("bank_b").get(URL).json()["results"]] == [mine["id"]]
    assert [r["id"] for r in personas.client("bank_a").get(URL).json()["results"]] == [filing_a["id"]]


def test_a_bank_may_not_take_staff_steps_on_its_own_filing(personas, filing_a):
    response = act(personas, "bank_a", filing_a["id"], "start_due_diligence")
    assert_problem(response, 403, "transition_forbidden")


def test_regulators_see_their_citys_filings_and_cannot_write(personas, filing_a):
    detail = f"{URL}{filing_a['id']}/"
    x, y = personas.client("regulator_x"), personas.client("regulator_y")
    assert x.get(detail).status_code == 200 and x.get(detail).json()["reference"] == filing_a["reference"]
    assert [r["id"] for r in x.get(URL).json()["results"]] == [filing_a["id"]]
    assert_problem(y.get(detail), 404, "not_found")
    assert y.get(URL).json()["count"] == 0
    for client in (x, y):
        assert client.post(URL, filing_body(), format="json").status_code == 403
    assert x.patch(detail, {"annual_rate": "4.0000"}, format="json").status_code == 403
    for action in ("withdraw", "transitions/start_due_diligence"):
        assert x.post(f"{detail}{action}/", {"comment": "x"}, format="json").status_code == 403
    assert personas.client("bank_a").get(detail).json()["status"] == "submitted"


def test_staff_see_every_filing(personas, filing_a):
    b = file_ok(personas.client("bank_b"), foshan_body())
    listed = {r["id"] for r in personas.client("officer").get(URL).json()["results"]}
    assert listed == {filing_a["id"], b["id"]}
    assert personas.client("officer").get(f"{URL}{b['id']}/").status_code == 200


def test_staff_cannot_file_a_loan(personas, today):
    assert_problem(
        personas.client("officer").post(URL, filing_body(), format="json"), 403, "institution_only"
    )


def test_anonymous_is_401(personas, filing_a):
    anonymous = personas.client("anonymous")
    assert anonymous.get(URL).status_code == 401
    assert anonymous.get(f"{URL}{filing_a['id']}/").status_code == 401
    assert anonymous.post(URL, filing_body(), format="json").status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Api-Key not-a-key")
    assert_problem(bad.get(URL), 401, "invalid_credentials")


def test_list_filters(personas, bank_a):
    a1 = file_ok(bank_a, filing_body(contract_no="FILTER-A1"))
    a2 = file_ok(
        bank_a,
        filing_body(contract_no="FILTER-A2", enterprise_uscc=OTHER_ZQ, pledges=[pledge(OTHER_ZQ_PATENT)]),
    )
    under_review(personas, a2["id"])
    b1 = file_ok(personas.client("bank_b"), foshan_body(contract_no="FILTER-B1"))
    loan = make_filing(
        fund=Fund.objects.get(code="foshan"), institution=Institution.objects.get(code="nanhai-rcb")
    )
    officer = personas.client("officer")

    def ids(**params) -> set[int]:
        body = officer.get(URL, params).json()
        assert {"count", "next", "previous", "results"} <= set(body)
        return {r["id"] for r in body["results"]}

    assert ids(status="under_review") == {a2["id"]}
    assert ids(status="submitted") == {a1["id"], b1["id"]}
    assert ids(fund="foshan") == {b1["id"], loan.pk}
    assert ids(fund="zhaoqing", status="submitted") == {a1["id"]}
    assert ids(enterprise_uscc=OTHER_ZQ) == {a2["id"]}
    assert ids(contract_no="FILTER-A1") == {a1["id"]}
    assert ids(loan_status="performing") == {loan.pk}
    page = officer.get(URL, {"page_size": 1}).json()
    assert (page["count"], len(page["results"]), bool(page["next"])) == (4, 1, True)
    # Filters never widen a bank's scope.
    assert {r["id"] for r in bank_a.get(URL, {"fund": "foshan"}).json()["results"]} == set()
