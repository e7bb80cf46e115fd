"""Who sees which enterprise: every read and write of another tenant's record is refused."""

from __future__ import annotations

import pytest

from tests.factories import application_body

pytestmark = pytest.mark.django_db

ZHAOQING_ADMITTED = "9144120252133505XP"
FOSHAN_ADMITTED = "91440605453878334M"
SHAOGUAN_SUBMITTED = "91440205644436061W"


@pytest.fixture
def bank_a_application(personas, business_date):
    business_date("2026-11-21")
    body = application_body()
    assert personas.client("bank_a").post("/api/v1/enterprises/", body, format="json").status_code == 201
    return body["uscc"]


def usccs(client, query: str = "") -> set[str]:
    response = client.get(f"/api/v1/enterprises/?page_size=200{query}")
    assert response.status_code == 200
    return {row["uscc"] for row in response.json()["results"]}


def test_bank_a_sees_admitted_in_its_fund_and_its_own_application(personas, bank_a_application):
    seen = usccs(personas.client("bank_a"))
    assert ZHAOQING_ADMITTED in seen and bank_a_application in seen
    assert FOSHAN_ADMITTED not in seen and SHAOGUAN_SUBMITTED not in seen
    assert len(seen) == 5  # four admitted Zhaoqing enterprises + its application


def test_bank_b_cannot_see_or_touch_bank_a_application(personas, bank_a_application):
    bank_b = personas.client("bank_b")
    assert bank_a_application not in usccs(bank_b)
    assert bank_b.get(f"/api/v1/enterprises/{bank_a_application}/").status_code == 404
    response = bank_b.post(f"/api/v1/enterprises/{bank_a_application}/transitions/submit/", {}, format="json")
    assert response.status_code == 404
    assert bank_b.get(f"/api/v1/enterprises/{ZHAOQING_ADMITTED}/").status_code == 404


def test_other_banks_customer_shows_only_public_fields(personas, demo):
    body = personas.client("bank_a").get(f"/api/v1/enterprises/{ZHAOQING_ADMITTED}/").json()
    assert set(body) == {"uscc", "name", "fund", "status", "size_class", "admitted_until", "ip_assets"}


def test_regulators_see_only_their_city(personas, bank_a_application):
    x, y = personas.client("regulator_x"), personas.client("regulator_y")
    assert bank_a_application in usccs(x) and FOSHAN_ADMITTED not in usccs(x)
    assert y.get(f"/api/v1/enterprises/{ZHAOQING_ADMITTED}/").status_code == 404
    assert y.get(f"/api/v1/enterprises/{FOSHAN_ADMITTED}/").status_code == 200
    assert (
        x.post(
            f"/api/v1/enterprises/{bank_a_application}/transitions/start_review/", {}, format="json"
        ).status_code
        == 403
    )
    assert x.post("/api/v1/enterprises/", application_body(), format="json").status_code == 403


def test_staff_see_everything_with_eligibility(personas, bank_a_application):
    officer = personas.client("officer")
    assert len(usccs(officer)) == 13
    assert usccs(officer, "&fund=shaoguan&status=submitted") == {SHAOGUAN_SUBMITTED}
    detail = officer.get(f"/api/v1/enterprises/{bank_a_application}/").json()
    assert {f["status"] for f in detail["eligibility"]} == {"passed"}
    assert detail["available_transitions"] == ["start_review"]


def test_anonymous_is_401(client, demo):
    assert client.get(f"/api/v1/enterprises/{ZHAOQING_ADMITTED}/").status_code == 401


def test_list_costs_the_same_queries_whatever_the_page_size(personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    officer = personas.client("officer")
    officer.get("/api/v1/enterprises/?page_size=1")  # warm the token and caches
    counts = []
    for size in (1, 12):
        with CaptureQueriesContext(connection) as ctx:
            assert officer.get(f"/api/v1/enterprises/?page_size={size}").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
