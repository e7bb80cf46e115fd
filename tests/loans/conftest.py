"""Loans fixtures: a loan accepted through the real path, and one that went bad."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fundmgr.ground.accounts.principals import principal_for
from fundmgr.ground.accounts.workflow import run_transition
from loans.models import DueDiligence, LoanFiling
from loans.services.book import book_keep, contribution
from loans.services.claims import claim_submit, claim_transition
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
    """As the bank's monthly report would: the loan passes the trigger (and the fund's kept
    figures count it as non-performing, as `status_report_submit` does)."""
    before = []
    return run_transition(
        model=LoanFiling,
        pk=filing.pk,
        name="mark_non_performing",
        user=personas.user("bank_a"),
        comment="逾期95天",
        prepare=lambda f: before.append(contribution(f)),
        then=lambda f: book_keep(f, before[0]),
    )


# Four demo Zhaoqing borrowers of bank A, each with a patent of its own to pledge
# (None: the enterprise's first patent).
DISTINCT_BORROWERS = (
    ("9144120252133505XP", "201613031399.8"),
    ("91441202951617540K", "201814411596.8"),
    ("914412048288873773", None),
    ("914412844404710410", None),
)


def accept_distinct(
    personas, count: int = 4, *, principal: str = "2000000.00", tag: str = "D"
) -> list[LoanFiling]:
    """`count` loans accepted through the real path, each for a different borrower and patent."""
    from enterprises.models import IPAsset

    filings = []
    for i, (uscc, number) in enumerate(DISTINCT_BORROWERS[:count]):
        if number is None:
            patents = IPAsset.objects.filter(enterprise__uscc=uscc).exclude(kind="trademark")
            number = (
                patents.filter(kind="invention_patent").values_list("number", flat=True).first()
                or patents.values_list("number", flat=True).first()
            )
        asset = IPAsset.objects.get(number=number)
        matures = min("2027-11-15", asset.expires_on.isoformat())
        filings.append(
            accept_filing(
                personas,
                enterprise_uscc=uscc,
                contract_no=f"{tag}-{i}",
                principal=principal,
                covered_principal=principal,
                matures_on=matures,
                pledges=[
                    {
                        "kind": asset.kind,
                        "number": asset.number,
                        "registration_no": f"Y202644000012{i}",
                        "registered_on": "2026-11-10",
                    }
                ],
            )
        )
    return filings


def approved_claim(personas, filing: LoanFiling, meeting: str, *, trigger_date=None):
    """Bank A claims on the loan; officer, approver and committee take it to approval."""
    claim = claim_submit(
        principal=principal_for(personas.user("bank_a")),
        data={
            "filing": filing.pk,
            "trigger_date": trigger_date or dt.date(2026, 12, 1),
            "outstanding_principal": Decimal("2000000.00"),
            "recovered_before_claim": Decimal("0.00"),
        },
    )
    for who, step in (
        ("officer", "start_review"),
        ("approver", "recommend"),
        ("committee", "start_committee_review"),
    ):
        claim_transition(claim_id=claim.pk, name=step, user=personas.user(who))
    claim_transition(claim_id=claim.pk, name="approve", user=personas.user("committee"), meeting_ref=meeting)
    return claim


@pytest.fixture
def accepted(personas, business_date) -> LoanFiling:
    business_date("2026-11-21")
    return accept_filing(personas)


@pytest.fixture
def npl_loan(personas, accepted) -> LoanFiling:
    return make_non_performing(personas, accepted)
