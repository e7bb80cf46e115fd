"""Every response under /api/ is problem+json when it is an error, none is cached on the way,
expired keys are refused, and the health endpoints answer load balancers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from banks.services import institution_api_key_issue
from fundmgr.ground.lib.errors import declared_codes

pytestmark = pytest.mark.django_db


def assert_problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert (body["status"], body["code"]) == (status, code) and body["code"] in declared_codes()
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    ["/api/nowhere/", "/api/v1/nowhere/", "/api/v1/filings/not-a-number/", "/api/v1/enterprises/short/"],
)
def test_unmatched_api_paths_are_problem_json(personas, path):
    assert_problem(personas.client("officer").get(path), 404, "not_found")


def test_a_bad_host_header_is_problem_json(personas):
    response = personas.client("officer").get("/api/v1/funds/", HTTP_HOST="evil.example.com")
    assert_problem(response, 400, "malformed_request")


def test_successful_api_responses_are_not_cached_and_pages_are_left_alone(personas, client):
    response = personas.client("bank_a").get("/api/v1/funds/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    page = client.get("/admin/nowhere/")  # outside /api/ errors stay Django's own pages
    assert not page["Content-Type"].startswith("application/problem+json")


def test_an_expired_api_key_is_refused_on_the_next_request(personas):
    api_key, raw = institution_api_key_issue(institution_code="zqrcb")
    bank = APIClient()
    bank.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert bank.get("/api/v1/me/").status_code == 200
    api_key.expiry_date = timezone.now() - dt.timedelta(seconds=1)
    api_key.save(update_fields=["expiry_date"])
    assert_problem(bank.get("/api/v1/me/"), 401, "invalid_credentials")


def test_a_revoked_api_key_is_refused_on_the_next_request(personas):
    from fundmgr.ground.accounts.services import api_key_revoke

    api_key, raw = institution_api_key_issue(institution_code="zqrcb")
    bank = APIClient()
    bank.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert bank.get("/api/v1/me/").status_code == 200
    api_key_revoke(api_key=api_key)
    assert_problem(bank.get("/api/v1/me/"), 401, "invalid_credentials")


def test_health_and_readiness(client, settings):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"


def test_readiness_says_unavailable_when_the_database_is_not(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready["Retry-After"] == "5"
    body = ready.json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "unavailable"


def test_readiness_says_unavailable_when_redis_is_not(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "redis": "unavailable"}


# --- hostile input: a clear 400, never a 500 and never a misread number -----------------------


def _filing(**overrides) -> dict:
    from tests.factories import filing_body

    return filing_body(**overrides)


@pytest.mark.parametrize(
    "principal",
    ["１０００００.００", "1000000.0０", "¹000000.00", "١٠٠٠٠٠٠.٠٠", "1000000.00\u200b", "-1000000.00"],
)
def test_money_takes_ascii_digits_only(personas, business_date, principal):
    business_date("2026-11-21")
    response = personas.client("bank_a").post(
        "/api/v1/filings/", _filing(principal=principal, covered_principal=principal), format="json"
    )
    assert response.status_code == 400, response.content[:200]
    assert response.json()["errors"][0]["field"] == "principal"


@pytest.mark.parametrize("rate", ["４.35", "4.3５", "⁴.35"])
def test_rates_take_ascii_digits_only(personas, business_date, rate):
    business_date("2026-11-21")
    response = personas.client("bank_a").post("/api/v1/filings/", _filing(annual_rate=rate), format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "annual_rate"


def test_counts_and_dates_take_ascii_digits_only_and_stay_in_range(personas, business_date):
    business_date("2026-11-21")
    bank = personas.client("bank_a")
    for value, field in (
        ("２０２６-11-16", "disbursed_on"),
        ("9999-12-31", "matures_on"),
        ("0001-01-01", "disbursed_on"),
        ("20261116", "disbursed_on"),  # ISO, but not the contract's YYYY-MM-DD
        ("2026-W47-1", "disbursed_on"),  # an ISO week date
        ("2026-11-16T00:00", "disbursed_on"),
    ):
        response = bank.post("/api/v1/filings/", _filing(**{field: value}), format="json")
        assert response.status_code == 400, (value, response.content[:200])
        assert response.json()["errors"][0]["field"] == field
    ledger = personas.client("officer").get("/api/v1/funds/zhaoqing/ledger/?from=0001-01-01&to=9999-12-31")
    assert ledger.status_code == 400
    report = personas.client("officer").get("/api/v1/reports/quarterly/?year=２０２６&quarter=4")
    assert report.status_code == 400


def test_deeply_nested_json_is_a_clear_400(personas):
    body = "[" * 5000 + "]" * 5000
    response = personas.client("bank_a").post("/api/v1/filings/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"
    nested = '{"a":' * 40 + "1" + "}" * 40
    response = personas.client("bank_a").post("/api/v1/filings/", nested, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


@pytest.mark.parametrize("text", ['"\\ud800"', '"ok\\u0000"', '"bell\\u0007"'])
def test_lone_surrogates_and_control_characters_are_refused(personas, text):
    body = '{"contract_no": ' + text + ', "purpose": "x"}'
    response = personas.client("bank_a").post(
        "/api/v1/filings/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="surrogate-1"
    )
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


@pytest.mark.parametrize("error", ["database", "redis"])
def test_a_database_or_redis_outage_is_a_503_problem_with_retry_after(personas, monkeypatch, error):
    import redis
    from django.db import OperationalError

    from fundmgr.ground.funds import selectors

    def outage(*args, **kwargs):
        if error == "database":
            raise OperationalError("server closed the connection unexpectedly")
        raise redis.exceptions.ConnectionError("Error 111 connecting to redis")

    monkeypatch.setattr(selectors, "funds_visible_to", outage)
    response = personas.client("officer").get("/api/v1/funds/")
    assert_problem(response, 503, "service_unavailable")
    assert response["Retry-After"] == "5"
