"""GET /api/v1/me/: who the caller is and the funds in its scope, for every persona."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db
ALL_FUNDS = ["foshan", "shantou", "shaoguan", "zhaoqing"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("bank_a", {"kind": "institution", "username": None, "institution": "zqrcb", "role": "institution"}),
        (
            "bank_b",
            {"kind": "institution", "username": None, "institution": "icbc-foshan", "role": "institution"},
        ),
        (
            "regulator_x",
            {"kind": "person", "username": "regulator-zhaoqing", "institution": None, "role": "regulator"},
        ),
        (
            "regulator_y",
            {"kind": "person", "username": "regulator-foshan", "institution": None, "role": "regulator"},
        ),
        ("officer", {"kind": "person", "username": "officer", "institution": None, "role": "officer"}),
        ("finance", {"kind": "person", "username": "finance", "institution": None, "role": "finance"}),
    ],
)
def test_me_says_who_the_caller_is(personas, who, expected):
    body = personas.client(who).get("/api/v1/me/").json()
    assert {k: body[k] for k in expected} == expected


def test_me_lists_the_funds_in_scope(personas):
    funds = {
        who: personas.client(who).get("/api/v1/me/").json()["funds"]
        for who in ("bank_a", "bank_b", "regulator_x", "regulator_y", "officer")
    }
    assert funds["regulator_x"] == ["zhaoqing"] and funds["regulator_y"] == ["foshan"]
    assert funds["officer"] == ALL_FUNDS
    assert "zhaoqing" in funds["bank_a"] and "foshan" not in funds["bank_a"]
    assert funds["bank_b"] == ["foshan"]
    # the same funds the fund list shows each caller
    for who, codes in funds.items():
        listed = personas.client(who).get("/api/v1/funds/").json()
        rows = listed["results"] if isinstance(listed, dict) else listed
        assert sorted(r["code"] for r in rows) == codes, who


def test_me_refuses_the_anonymous_and_costs_a_few_queries(personas):
    assert personas.client("anonymous").get("/api/v1/me/").status_code == 401
    client = personas.client("bank_a")
    client.get("/api/v1/me/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/me/").status_code == 200
    assert len(queries) <= 6, [q["sql"] for q in queries.captured_queries]
