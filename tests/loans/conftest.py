"""Loans fixtures: a loan accepted through the real path, and one that went bad."""

from __future__ import annotations

import pytest

from fundmgr.ground.accounts.workflow import run_transition
from loans.models import DueDiligence, LoanFiling
from loans.services.filings import due_diligence_record, filing_transition
from tests.factories import filing_body

ALL_CHECKED = {item: True for item in DueDiligence.REQUIRED_ITEMS}


def accept_filing(personas, **overrides) -> LoanFiling:
    """Bank A files, officer does due diligence, approver accepts (business date 2026-11-21)."""
    response = personas.client("bank_a").post("/api/v1/filings/", filing_body(**overrides), format="json")
    assert response.status_code == 201, response.json()
    filing_id = response.json()["id"]
    officer, approver = personas.user("officer"), personas.user("approver")
    filing_transition(filing_id=filing_id, name="start_due_diligence", user=officer)
    due_diligence_record(filing_id=filing_id, user=officer, items=ALL_CHECKED)
    return filing_transition(filing_id=filing_id, name="accept", user=approver)


def make_non_performing(personas, filing: LoanFiling) -> LoanFiling:
    """As the bank's monthly report would: the loan passes the trigger."""
    return run_transition(
        model=LoanFiling,
        pk=filing.pk,
        name="mark_non_performing",
        user=personas.user("bank_a"),
        comment="逾期95天",
    )


@pytest.fixture
def accepted(personas, business_date) -> LoanFiling:
    business_date("2026-11-21")
    return accept_filing(personas)


@pytest.fixture
def npl_loan(personas, accepted) -> LoanFiling:
    return make_non_performing(personas, accepted)
