"""Who may read what: every read endpoint × every persona, with the exact status each gets.

The endpoints are enumerated from the URL conf (every GET route under /api/), so a new read
endpoint fails `test_every_read_endpoint_is_in_the_matrix` until it has its row here. Bank A
(zqrcb) lends in Zhaoqing, bank B (icbc-foshan) in Foshan; regulator X oversees Zhaoqing,
regulator Y Foshan; staff see everything. The records are bank A's world (tests/authz.py: its
filings, loans, claims, a paid claim with a recovery, a notification) and October's stored
monthly reports. A change of any cell is a change of who sees whose data.
"""

from __future__ import annotations

import pytest
from django.urls import resolve

from tests.authz import PERSONAS, STAFF, World, endpoints, route_of

pytestmark = pytest.mark.django_db


def row(anonymous, bank_a, bank_b, regulator_x, regulator_y, staff) -> dict[str, int]:
    return {
        "anonymous": anonymous,
        "bank_a": bank_a,
        "bank_b": bank_b,
        "regulator_x": regulator_x,
        "regulator_y": regulator_y,
        **dict.fromkeys(STAFF, staff),
    }


MONTHLY = "/api/v1/reports/monthly/?fund=zhaoqing&year=2026&month=10"

# path (with {accepted}, {claim}, {recovery}, {notification} … of the world filled in) →
# expected status per persona
MATRIX = {
    "/api/schema/": row(200, 200, 200, 200, 200, 200),  # the contract is public
    "/api/docs/": row(200, 200, 200, 200, 200, 200),
    "/api/redoc/": row(200, 200, 200, 200, 200, 200),
    "/api/v1/me/": row(401, 200, 200, 200, 200, 200),
    "/api/v1/funds/": row(401, 200, 200, 200, 200, 200),
    "/api/v1/funds/zhaoqing/": row(401, 200, 404, 200, 404, 200),
    "/api/v1/funds/foshan/": row(401, 404, 200, 404, 200, 200),
    "/api/v1/funds/zhaoqing/ledger/": row(401, 403, 404, 200, 404, 200),
    "/api/v1/funds/foshan/ledger/": row(401, 404, 403, 404, 200, 200),
    "/api/v1/funds/zhaoqing/position/": row(401, 200, 404, 403, 403, 403),
    # the fund forecast: staff and the city's regulator; banks are refused whatever the fund
    "/api/v1/funds/zhaoqing/forecast/": row(401, 403, 403, 200, 404, 200),
    "/api/v1/enterprises/": row(401, 200, 200, 200, 200, 200),
    "/api/v1/enterprises/9144120252133505XP/": row(401, 200, 404, 200, 404, 200),
    "/api/v1/institutions/": row(401, 200, 200, 200, 200, 200),
    "/api/v1/institutions/zqrcb/": row(401, 200, 404, 200, 404, 200),
    "/api/v1/filings/": row(401, 200, 200, 200, 200, 200),
    "/api/v1/filings/{accepted}/": row(401, 200, 404, 200, 404, 200),
    "/api/v1/filings/{accepted}/status-reports/": row(401, 200, 404, 200, 404, 200),
    "/api/v1/claims/": row(401, 200, 200, 200, 200, 200),
    "/api/v1/claims/{claim}/": row(401, 200, 404, 200, 404, 200),
    "/api/v1/claims/{paid_claim}/recoveries/": row(401, 200, 404, 200, 404, 200),
    "/api/v1/recoveries/{recovery}/": row(401, 200, 404, 200, 404, 200),
    "/api/v1/notifications/": row(401, 200, 200, 200, 200, 200),
    # the fund report: staff and the city's regulator; a bank reads only its own statement,
    # and another city's fund is not there for it at all
    MONTHLY: row(401, 403, 404, 200, 404, 200),
    MONTHLY + "&institution=zqrcb": row(401, 200, 404, 200, 404, 200),
    "/api/v1/reports/quarterly/?year=2026&quarter=4": row(401, 403, 403, 200, 200, 200),
    "/api/v1/reports/quarterly/?year=2026&quarter=4&fund=zhaoqing": row(401, 403, 403, 200, 404, 200),
    "/api/v1/reports/annual/?year=2026": row(401, 403, 403, 200, 200, 200),
    "/api/v1/reports/annual/?year=2026&fund=foshan": row(401, 403, 403, 404, 200, 200),
    # financing needs: banks in the fund's city (bank B's list is empty), staff; regulators read
    # only the outreach aggregates of their city
    "/api/v1/financing-needs/": row(401, 200, 200, 403, 403, 200),
    "/api/v1/financing-needs/{need}/": row(401, 200, 404, 403, 403, 200),
    "/api/v1/reports/outreach/?year=2026&quarter=4": row(401, 403, 403, 200, 200, 200),
    "/api/v1/reports/outreach/?year=2026&fund=zhaoqing": row(401, 403, 403, 200, 404, 200),
}


def _fill(path: str, world: World) -> str:
    return path.format(**vars(world))


def test_every_read_endpoint_is_in_the_matrix():
    routes = {route for _, route in endpoints(("GET",))}
    assert len(routes) >= 20  # the enumeration itself works
    example = World(**dict.fromkeys(World.__dataclass_fields__, 1))
    covered = {route_of(resolve(_fill(path, example).split("?")[0])) for path in MATRIX}
    assert covered == routes, {
        "missing from the matrix": sorted(routes - covered),
        "not an endpoint": sorted(covered - routes),
    }


@pytest.fixture
def records(world) -> World:
    """Bank A's world and October's monthly reports of Zhaoqing, as the monthly job stores them."""
    from fundmgr.ground.funds.models import Fund
    from fundmgr.top.reports.services import monthly_report_generate

    monthly_report_generate(fund=Fund.objects.get(code="zhaoqing"), year=2026, month=10)
    return world


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_read_endpoint_answers_each_persona_exactly(personas, records, persona):
    client = personas.client(persona)
    got = {}
    for path in MATRIX:
        response = client.get(_fill(path, records))
        got[path] = response.status_code
        if response.status_code >= 400:
            assert response["Content-Type"].startswith("application/problem+json"), path
    assert got == {path: expected[persona] for path, expected in MATRIX.items()}


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("anonymous", 401),
        ("bank_a", 403),  # banks do not take staff steps
        ("bank_b", 404),  # nor see another bank's filing
        ("regulator_x", 403),  # regulators only read
        ("regulator_y", 403),
        ("committee", 403),  # not the committee's step
        ("finance", 403),
        ("officer", 200),
    ],
)
def test_a_staff_step_on_a_filing_by_each_persona(personas, business_date, persona, status):
    from tests.factories import filing_body

    business_date("2026-11-21")
    created = personas.client("bank_a").post("/api/v1/filings/", filing_body(), format="json")
    assert created.status_code == 201, created.json()
    response = personas.client(persona).post(
        f"/api/v1/filings/{created.json()['id']}/transitions/start_due_diligence/", {}, format="json"
    )
    assert response.status_code == status, response.content[:300]
