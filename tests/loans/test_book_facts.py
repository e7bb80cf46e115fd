"""`filing_book_facts` (one statement a filing is judged by) says exactly what the selectors it
stands for say: the borrower's live exposure, who holds each pledged right, whether the contract
is already filed, for every borrower, right and excluded filing of a book where loans were
accepted, repaid in part, settled, compensated and voided, beside the seeded book's own."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from fundmgr.ground.accounts.principals import principal_for
from loans.models import LoanFiling, Pledge
from loans.selectors.filings import enterprise_live_exposure, filing_book_facts, pledged_elsewhere
from loans.services.claims import claim_transition
from loans.services.filings import filing_transition
from loans.services.servicing import filing_settle
from tests.loans.conftest import accept_distinct, approved_claim, make_non_performing
from tests.loans.test_fund_book import report


def test_book_facts_equal_the_selectors_on_a_varied_book(personas, business_date):
    business_date("2026-11-21")
    a, b, c, d = accept_distinct(personas, 4)
    make_non_performing(personas, b)
    business_date("2026-12-03")
    report(personas, a, outstanding="1500000.00")
    filing_settle(
        principal=principal_for(personas.user("bank_a")), filing_id=c.pk, settled_on=dt.date(2026, 12, 2)
    )
    claim = approved_claim(personas, LoanFiling.objects.get(pk=b.pk), "M-9")
    claim_transition(claim_id=claim.pk, name="pay", user=personas.user("finance"))
    filing_transition(filing_id=d.pk, name="void", user=personas.user("approver"), comment="虚假备案")

    filings = list(LoanFiling.objects.all())
    enterprises = [None, *sorted({f.enterprise_id for f in filings if f.enterprise_id})]
    assets = sorted(set(Pledge.objects.values_list("ip_asset_id", flat=True)))
    assert len(assets) == 4
    statuses = {(f.status, f.loan_status) for f in filings}
    assert len(statuses) >= 4  # the book is varied: settled, compensated, voided, live
    rng = random.Random(20261203)
    cases = [
        (ent, rng.sample(assets, rng.randint(0, len(assets))), rng.choice([None, *filings]))
        for ent in enterprises
    ]
    cases += [(a.enterprise_id, assets, None), (a.enterprise_id, assets, a), (a.enterprise_id, [], a)]
    for enterprise_id, asset_ids, excluded in cases:
        exclude = excluded.pk if excluded else None
        contract = (
            (excluded.institution_id, excluded.contract_no) if excluded else (a.institution_id, "NEVER-FILED")
        )
        facts = filing_book_facts(
            enterprise_id=enterprise_id, asset_ids=asset_ids, contract=contract, exclude_filing=exclude
        )
        expected_exposure = (
            enterprise_live_exposure(enterprise_id=enterprise_id, exclude_filing=exclude)
            if enterprise_id
            else Decimal("0.00")
        )
        assert facts.enterprise_exposure == expected_exposure
        assert facts.pledged_elsewhere == pledged_elsewhere(asset_ids=asset_ids, exclude_filing=exclude)
        assert (
            facts.contract_filed
            == LoanFiling.objects.filter(institution_id=contract[0], contract_no=contract[1]).exists()
        )
    # the live one is really seen: a's exposure is its outstanding, its right is held by it
    assert filing_book_facts(enterprise_id=a.enterprise_id, asset_ids=[]).enterprise_exposure == Decimal(
        "1500000.00"
    )
    held = Pledge.objects.get(filing=a).ip_asset_id
    assert filing_book_facts(enterprise_id=None, asset_ids=[held]).pledged_elsewhere == {held: a.reference}
    assert (
        filing_book_facts(enterprise_id=None, asset_ids=[held], exclude_filing=a.pk).pledged_elsewhere == {}
    )
