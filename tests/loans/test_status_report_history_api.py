"""The bank and staff read a loan's monthly reports, corrections included."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_report_history_lists_corrections(personas, accepted, business_date):
    business_date("2026-12-03")
    bank = personas.client("bank_a")
    url = f"/api/v1/filings/{accepted.pk}/status-reports/"
    report = {
        "as_of": "2026-11-30",
        "outstanding_principal": "1000000.00",
        "overdue_principal": "0.00",
        "overdue_interest": "0.00",
        "days_overdue": 0,
        "risk_class": "normal",
    }
    first = bank.post(url, report, format="json")
    assert first.status_code == 201, first.json()
    fixed = bank.post(
        url,
        {**report, "days_overdue": 10, "overdue_interest": "300.00", "supersedes": first.json()["id"]},
        format="json",
    )
    assert fixed.status_code == 201, fixed.json()
    rows = bank.get(url).json()
    assert [(r["is_current"], r["days_overdue"], r["loan_status_after"]) for r in rows] == [
        (False, 0, "performing"),
        (True, 10, "overdue"),
    ]
    assert personas.client("officer").get(url).json() == rows
    assert personas.client("bank_b").get(url).status_code == 404
