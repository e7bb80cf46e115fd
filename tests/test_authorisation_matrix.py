"""Who may read what: every read endpoint × every persona, with the exact status each gets.

Bank A (zqrcb) lends in Zhaoqing, bank B (icbc-foshan) in Foshan; regulator X oversees Zhaoqing,
regulator Y Foshan; staff see everything. The records named below are made once per test:
a Zhaoqing filing and claim of bank A. A change of any cell is a change of who sees whose data.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

PERSONAS = (
    "anonymous",
    "bank_a",
    "bank_b",
    "regulator_x",
    "regulator_y",
    "officer",
    "approver",
    "committee",
    "finance",
    "admin",
)
STAFF = ("officer", "approver", "committee", "finance", "admin")


def row(anonymous, bank_a, bank_b, regulator_x, regulator_y, staff) -> dict[str, int]:
    return {
        "anonymous": anonymous,
        "bank_a": bank_a,
        "bank_b": bank_b,
        "regulator_x": regulator_x,
        "regulator_y": regulator_y,
        **dict.fromkeys(STAFF, staff),
    }


# path (with {filing}, {claim} filled in per test) → expected status per persona
MATRIX = {
    "/api/v1/me/": row(401, 200, 200, 200, 200, 200),
    "/api/v1/funds/": row(401, 200, 200, 200, 200, 200),
    "/api/v1/funds/zhaoqing/": row(401, 200, 404, 200, 404, 200),
    "/api/v1/funds/foshan/": row(401, 404, 200, 404, 200, 200),
    "/api/v1/funds/zhaoqing/ledger/": row(401, 403, 404, 200, 404, 200),
    "/api/v1/funds/foshan/ledger/": row(401, 404, 403, 404, 200, 200),
    "/api/v1/funds/zhaoqing/position/": row(401, 200, 404, 403, 403, 403),
    "/api/v1/enterprises/": row(401, 200, 200, 200, 200, 200),
    "/api/v1/enterprises/9144120252133505XP/": row(401, 200, 404, 200, 404, 200),
    "/api/v1/institutions/": row(401, 200, 200, 200, 200, 200),
    "/api/v1/institutions/zqrcb/": row(401, 200, 404, 200, 404, 200),
    "/api/v1/filings/": row(401, 200, 200, 200, 200, 200),
    "/api/v1/filings/{filing}/": row(401, 200, 404, 200, 404, 200),
    "/api/v1/filings/{filing}/status-reports/": row(401, 200, 404, 200, 404, 200),
    "/api/v1/claims/": row(401, 200, 200, 200, 200, 200),
    "/api/v1/claims/{claim}/": row(401, 200, 404, 200, 404, 200),
    "/api/v1/claims/{claim}/recoveries/": row(401, 200, 404, 200, 404, 200),
    "/api/v1/notifications/": row(401, 200, 200, 200, 200, 200),
    "/api/v1/reports/quarterly/?year=2026&quarter=4": row(401, 403, 403, 200, 200, 200),
    "/api/v1/reports/quarterly/?year=2026&quarter=4&fund=zhaoqing": row(401, 403, 403, 200, 404, 200),
    "/api/v1/reports/annual/?year=2026": row(401, 403, 403, 200, 200, 200),
    "/api/v1/reports/annual/?year=2026&fund=foshan": row(401, 403, 403, 404, 200, 200),
}


@pytest.fixture
def records(personas, business_date) -> dict[str, int]:
    """A Zhaoqing loan of bank A that went bad, and its claim."""
    from tests.loans.conftest import accept_filing, make_non_performing

    business_date("2026-11-21")
    filing = make_non_performing(personas, accept_filing(personas))
    claim = personas.client("bank_a").post(
        "/api/v1/claims/",
        {
            "filing": filing.pk,
            "trigger_date": "2026-11-20",
            "outstanding_principal": "900000.00",
            "recovered_before_claim": "0.00",
            "legal_action": None,
            "notes": "",
        },
        format="json",
    )
    assert claim.status_code == 201, claim.json()
    return {"filing": filing.pk, "claim": claim.json()["id"]}


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_read_endpoint_answers_each_persona_exactly(personas, records, persona):
    client = personas.client(persona)
    got = {}
    for path in MATRIX:
        response = client.get(path.format(**records))
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
