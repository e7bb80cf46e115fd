"""The funds endpoints, as each persona sees them."""

from __future__ import annotations

from decimal import Decimal

import pytest

pytestmark = pytest.mark.django_db

ALL = {"zhaoqing", "foshan", "shaoguan", "shantou"}


def codes(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("officer", ALL),
        ("approver", ALL),
        ("committee", ALL),
        ("finance", ALL),
        ("regulator_x", {"zhaoqing"}),
        ("regulator_y", {"foshan"}),
        ("gdee-viewer", ALL),
        ("bank_a", {"zhaoqing"}),
        ("bank_b", {"foshan"}),
    ],
)
def test_list_is_scoped(personas, persona, visible):
    assert codes(personas.client(persona).get("/api/v1/funds/")) == visible


@pytest.mark.parametrize(
    ("persona", "hidden"),
    [("regulator_x", "foshan"), ("regulator_y", "zhaoqing"), ("bank_a", "foshan"), ("bank_b", "shantou")],
)
def test_other_tenants_fund_is_404_for_detail_and_ledger(personas, persona, hidden):
    client = personas.client(persona)
    for url in (f"/api/v1/funds/{hidden}/", f"/api/v1/funds/{hidden}/ledger/"):
        response = client.get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "not_found"


def test_anonymous_gets_401_problem(personas):
    response = personas.client("anonymous").get("/api/v1/funds/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["Content-Type"] == "application/problem+json"


def test_bad_credentials_get_401(demo):
    from rest_framework.test import APIClient

    for header in ("Api-Key nope.nope", "Token not-a-token", "Token"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get("/api/v1/funds/")
        assert response.status_code == 401, header
        assert response.json()["code"] == "invalid_credentials"


def test_revoked_key_and_token_stop_working(personas):
    from fundmgr.ground.accounts.models import ApiToken, InstitutionAPIKey
    from fundmgr.ground.accounts.services import api_key_revoke, token_revoke

    bank, regulator = personas.client("bank_a"), personas.client("regulator_x")
    assert bank.get("/api/v1/funds/").status_code == 200
    api_key_revoke(api_key=InstitutionAPIKey.objects.get(institution__code="zqrcb"))
    token_revoke(token=ApiToken.objects.get(user__username="regulator-zhaoqing"))
    assert bank.get("/api/v1/funds/").status_code == 401
    assert regulator.get("/api/v1/funds/").status_code == 401


def test_regulator_cannot_write(personas):
    response = personas.client("regulator_x").post("/api/v1/funds/", {}, format="json")
    assert response.status_code == 403


def test_detail_has_policy_and_figures_as_strings(personas):
    body = personas.client("regulator_x").get("/api/v1/funds/zhaoqing/").json()
    assert body["region_code"] == "441200"
    assert body["policy"]["fund_share"] == "50.00"
    assert body["policy"]["filing_deadline_working_days"] == 10
    assert body["policy"]["max_enterprise_exposure"] == "5000000.00"
    assert body["policy"]["accepted_ip_kinds"] == [
        "invention_patent",
        "utility_model",
        "design_patent",
        "trademark",
    ]
    assert body["figures"]["balance"] == "5000000.00"
    assert body["figures"]["leverage_limit"] == "10.00"


def test_ledger_statement_with_period(personas):
    client = personas.client("regulator_y")
    body = client.get("/api/v1/funds/foshan/ledger/?from=2017-01-01&to=2017-12-31").json()
    assert body["opening_balance"] == "30000000.00"
    assert [e["amount"] for e in body["entries"]] == ["20000000.00", "10000000.00"]
    assert body["closing_balance"] == "60000000.00"
    whole = client.get("/api/v1/funds/foshan/ledger/").json()
    assert whole["opening_balance"] == "0.00" and whole["closing_balance"] == "60000000.00"
    assert len(whole["entries"]) == 6


@pytest.mark.parametrize("query", ["from=2017-13-01", "from=2018-01-01&to=2017-01-01", "to=yesterday"])
def test_ledger_bad_period_is_400(personas, query):
    response = personas.client("regulator_y").get(f"/api/v1/funds/foshan/ledger/?{query}")
    assert response.status_code == 400
    assert response.json()["errors"] or response.json()["code"] == "invalid_period"


def test_pagination_shape_and_limit(personas):
    body = personas.client("officer").get("/api/v1/funds/?page_size=2").json()
    assert body["count"] == 4 and len(body["results"]) == 2 and body["next"]
    assert personas.client("officer").get("/api/v1/funds/?page=9").status_code == 404


def test_banks_read_their_position_not_the_fund_ledger(personas, business_date):
    from tests.loans.conftest import accept_filing

    business_date("2026-11-21")
    filing = accept_filing(personas)  # bank A, Zhaoqing, 1,000,000 covered at 50 %
    bank = personas.client("bank_a")
    refused = bank.get("/api/v1/funds/zhaoqing/ledger/")
    assert refused.status_code == 403 and refused.json()["code"] == "ledger_not_for_institutions"
    assert personas.client("regulator_x").get("/api/v1/funds/zhaoqing/ledger/").status_code == 200
    assert personas.client("officer").get("/api/v1/funds/zhaoqing/ledger/").status_code == 200

    position = bank.get("/api/v1/funds/zhaoqing/position/").json()
    assert position["institution"] == "zqrcb" and position["fund"] == "zhaoqing"
    assert position["covered_outstanding"] == f"{filing.covered_outstanding:.2f}" == "1000000.00"
    assert position["exposure"] == "500000.00" and position["non_performing"] == "0.00"
    assert position["filings_suspended"] is False
    if position["quota"] is not None:
        assert Decimal(position["quota_available"]) == Decimal(position["quota"]) - Decimal("1000000.00")
    # another bank's figures are not in it, another city's fund is not found, staff are sent elsewhere
    assert personas.client("bank_b").get("/api/v1/funds/zhaoqing/position/").status_code == 404
    assert bank.get("/api/v1/funds/foshan/position/").status_code == 404
    staff = personas.client("officer").get("/api/v1/funds/zhaoqing/position/")
    assert staff.status_code == 403 and staff.json()["code"] == "institution_only"
