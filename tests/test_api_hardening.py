"""Inputs found by fuzzing the API (make fuzz): never a 500 for anything a client can send."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/filings/9999999999999999999999/",
        "/api/v1/claims/9999999999999999999999/",
        "/api/v1/recoveries/9999999999999999999999/",
        "/api/v1/notifications/9999999999999999999999/read/",
    ],
)
def test_ids_too_large_for_any_record_are_404(personas, url):
    client = personas.client("officer")
    response = client.post(url, {}, format="json") if url.endswith("read/") else client.get(url)
    assert response.status_code == 404


def test_filter_with_a_huge_number_is_400(personas):
    response = personas.client("officer").get("/api/v1/claims/?filing=-1.9e%2B115")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_body_reference_out_of_range_is_400(personas):
    response = personas.client("bank_a").post(
        "/api/v1/claims/",
        {
            "filing": 10**30,
            "trigger_date": "2026-11-20",
            "outstanding_principal": "1.00",
            "recovered_before_claim": "0.00",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "filing"
