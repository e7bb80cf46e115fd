"""Financing needs through the API: a bank registers one on an enterprise's behalf; banks see
the open needs of consenting enterprises in the funds where they have an active agreement —
only what the consent covers, ordered by priority — and nothing elsewhere; regulators read
only the aggregates of their city."""

from __future__ import annotations

import datetime as dt

import pytest

from banks.models import CooperationAgreement, Institution
from banks.services import institution_api_key_issue
from fundmgr.ground.lib.errors import CommonError
from matching.errors import MatchingError
from matching.models import FinancingNeed, NeedStatus
from tests.matching.conftest import (
    DINGTAI,
    HUAYU,
    JINGYE,
    XINGHE,
    YUNFAN,
    make_enterprise,
    need_body,
    ok,
    register,
)

pytestmark = pytest.mark.django_db


def listing(personas, who: str, **params) -> list[dict]:
    return ok(personas.client(who).get("/api/v1/financing-needs/", params))["results"]


def test_a_bank_registers_a_need_on_the_enterprises_behalf(personas):
    need = register(personas)
    assert need["status"] == "open" and need["fund"] == "zhaoqing" and need["enterprise_uscc"] == XINGHE
    assert need["amount"] == "3000000.00" and need["term_months"] == 24
    assert need["registered_on"] == "2026-11-30"
    assert need["expires_on"] == "2027-03-01"  # 60 working days (the default policy)
    assert need["offered_ip"] == [
        {
            "kind": "invention_patent",
            "number": "201912754910.4",
            "title": "肇庆市星河新相关技术3",
            "expires_on": "2039-06-30",
        }
    ]
    assert need["submitted_by"] == "zqrcb" and need["source"] == "institution"
    assert need["consent_on"] == "2026-11-20" and need["consent_scope"] == "full"
    assert need["history"][0]["transition"] == "register" and need["history"][0]["by"] == "institution"
    stored = FinancingNeed.objects.get(pk=need["id"])
    assert stored.status == NeedStatus.OPEN and stored.last_activity_on == dt.date(2026, 11, 30)


def test_a_retried_registration_replays_the_first_answer(personas):
    client = personas.client("bank_a")
    first = client.post("/api/v1/financing-needs/", need_body(), format="json", HTTP_IDEMPOTENCY_KEY="need-1")
    again = client.post("/api/v1/financing-needs/", need_body(), format="json", HTTP_IDEMPOTENCY_KEY="need-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert FinancingNeed.objects.count() == 1
    other = client.post(
        "/api/v1/financing-needs/", need_body(amount="1.00"), format="json", HTTP_IDEMPOTENCY_KEY="need-1"
    )
    assert other.status_code == 409 and other.json()["code"] == CommonError.IDEMPOTENCY_KEY_REUSED


@pytest.mark.parametrize(
    ("who", "body", "status", "code", "field"),
    [
        ("bank_b", need_body(), 422, "fund_not_available", "fund"),  # no agreement in Zhaoqing
        (
            "bank_b",
            need_body(fund="foshan"),
            422,
            MatchingError.NEED_ENTERPRISE_NOT_ADMITTED,
            "enterprise_uscc",
        ),
        (
            "bank_a",
            need_body(offered_ip=["201817787737.5"]),
            422,
            MatchingError.OFFERED_IP_NOT_OWNED,
            "offered_ip[0]",
        ),
        ("bank_a", need_body(amount=3000000), 400, CommonError.INVALID_MONEY, "amount"),
        ("bank_a", need_body(consent_on="2026-12-01"), 400, MatchingError.CONSENT_DATE_INVALID, "consent_on"),
        ("bank_a", need_body(term_months=0), 400, "min_value", "term_months"),
        ("officer", need_body(), 403, CommonError.INSTITUTION_ONLY, None),  # staff use the admin
        ("regulator_x", need_body(), 403, CommonError.PERMISSION_DENIED, None),
    ],
)
def test_refused_registrations_store_nothing(personas, who, body, status, code, field):
    response = personas.client(who).post("/api/v1/financing-needs/", body, format="json")
    problem = ok(response, status)
    assert problem["code"] == code
    if field:
        assert field in [e["field"] for e in problem["errors"]]
    assert not FinancingNeed.objects.exists()


def test_a_need_of_an_enterprise_not_admitted_is_refused(personas):
    applicant = make_enterprise(status="submitted")
    problem = ok(
        personas.client("bank_a").post(
            "/api/v1/financing-needs/",
            need_body(enterprise_uscc=applicant.uscc, offered_ip=[]),
            format="json",
        ),
        422,
    )
    assert problem["code"] == MatchingError.NEED_ENTERPRISE_NOT_ADMITTED


def test_banks_see_the_open_needs_of_consenting_enterprises_in_their_funds_only(personas):
    listed = register(personas)["id"]
    unconsented = register(personas, enterprise_uscc=JINGYE, offered_ip=[], consent_on=None)["id"]
    # Bank A sees both (it registered them); another Zhaoqing bank sees only the consenting one.
    assert {n["id"] for n in listing(personas, "bank_a")} == {listed, unconsented}
    ccb = personas.client("bank_a").__class__()
    _, key = institution_api_key_issue(institution_code="ccb-zhaoqing")
    ccb.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert [n["id"] for n in ok(ccb.get("/api/v1/financing-needs/"))["results"]] == [listed]
    assert ok(ccb.get(f"/api/v1/financing-needs/{unconsented}/"), 404)["code"] == "not_found"
    # Another city's bank sees nothing of them, not even one by its id.
    assert listing(personas, "bank_b") == []
    assert ok(personas.client("bank_b").get(f"/api/v1/financing-needs/{listed}/"), 404)["code"] == "not_found"
    # A bank without an agreement in the fund sees nothing either.
    valuer = personas.client("bank_a").__class__()
    _, key = institution_api_key_issue(institution_code="liancheng-valuation")
    valuer.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert ok(valuer.get("/api/v1/financing-needs/"))["results"] == []
    # Staff see everything; regulators only the aggregates (the outreach report).
    assert {n["id"] for n in listing(personas, "officer")} == {listed, unconsented}
    for regulator in ("regulator_x", "regulator_y"):
        assert (
            ok(personas.client(regulator).get("/api/v1/financing-needs/"), 403)["code"] == "permission_denied"
        )
        assert personas.client(regulator).get(f"/api/v1/financing-needs/{listed}/").status_code == 403


def test_a_bank_whose_agreement_has_ended_or_is_suspended_sees_nothing(personas):
    need = register(personas)["id"]
    client = personas.client("bank_a").__class__()
    _, key = institution_api_key_issue(institution_code="ccb-zhaoqing")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert [n["id"] for n in ok(client.get("/api/v1/financing-needs/"))["results"]] == [need]
    agreement = CooperationAgreement.objects.get(institution__code="ccb-zhaoqing", fund__code="zhaoqing")
    CooperationAgreement.objects.filter(pk=agreement.pk).update(valid_until=dt.date(2026, 11, 29))
    assert ok(client.get("/api/v1/financing-needs/"))["results"] == []
    CooperationAgreement.objects.filter(pk=agreement.pk).update(
        valid_until=None, filings_status="suspended", filings_suspended_on=dt.date(2026, 11, 1)
    )
    assert ok(client.get("/api/v1/financing-needs/"))["results"] == []
    CooperationAgreement.objects.filter(pk=agreement.pk).update(filings_status="open")
    Institution.objects.filter(code="ccb-zhaoqing").update(status=Institution.Status.SUSPENDED)
    assert ok(client.get("/api/v1/financing-needs/"))["results"] == []  # a suspended partnership


def test_another_bank_reads_only_what_the_consent_covers(personas):
    basic = register(personas, consent_scope="basic")["id"]
    full = register(personas, enterprise_uscc=DINGTAI, offered_ip=[], consent_scope="full")["id"]
    client = personas.client("bank_a").__class__()
    _, key = institution_api_key_issue(institution_code="ccb-zhaoqing")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    rows = {n["id"]: n for n in ok(client.get("/api/v1/financing-needs/"))["results"]}
    for hidden in ("annual_revenue", "offered_ip", "contact_phone", "employees"):
        assert hidden not in rows[basic], hidden
        assert hidden in rows[full], hidden
    for staff_only in ("submitted_by", "consent_on", "source"):
        assert staff_only not in rows[basic] and staff_only not in rows[full]
    assert (
        rows[basic]["enterprise_name"] == "肇庆市星河新材料科技有限公司"
        and rows[basic]["district"] == "端州区"
    )
    assert rows[full]["annual_revenue"] == "127760000.00"
    detail = ok(client.get(f"/api/v1/financing-needs/{basic}/"))
    assert "annual_revenue" not in detail and detail["interests"] == []


def test_filters_and_the_order_by_priority(personas):
    plain = register(personas, enterprise_uscc=HUAYU, offered_ip=[], amount="500000.00")["id"]
    titled = make_enterprise(honours=[("ip_demonstration", "2025-01-01", None)])
    first = register(personas, enterprise_uscc=titled.uscc, offered_ip=[], amount="2000000.00")["id"]
    high_tech = make_enterprise(honours=[("high_tech", "2025-01-01", None)])
    fourth = register(personas, enterprise_uscc=high_tech.uscc, offered_ip=[], amount="800000.00")["id"]
    ranked = listing(personas, "bank_a")
    assert [n["id"] for n in ranked][:2] == [first, fourth]  # class 1, then class 4
    assert ranked[-1]["id"] == plain or ranked[-1]["priority_rank"] is None
    assert [n["id"] for n in listing(personas, "bank_a", priority="high_tech")] == [fourth]
    assert {n["id"] for n in listing(personas, "bank_a", min_amount="800000.00")} >= {first, fourth}
    assert plain not in {n["id"] for n in listing(personas, "bank_a", min_amount="800000.00")}
    assert [n["id"] for n in listing(personas, "bank_a", district="441284")] == [plain]
    assert listing(personas, "bank_a", fund="foshan") == []
    for bad in ("many", "1e400", "NaN", "1.234"):
        assert ok(personas.client("bank_a").get("/api/v1/financing-needs/", {"min_amount": bad}), 400)


def test_a_foshan_need_is_foshans(personas):
    need = register(personas, "bank_b", enterprise_uscc=YUNFAN, fund="foshan", offered_ip=[])
    assert need["fund"] == "foshan"
    assert [n["id"] for n in listing(personas, "bank_b")] == [need["id"]]
    assert listing(personas, "bank_a") == []
