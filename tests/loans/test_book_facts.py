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


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_a_filings_other_reads_equal_the_orms(demo):
    """The enterprise by USCC, the institution's agreements in a fund (with the fund) and the
    borrower's rights the pledges name, each read by one plain statement, are what the ORM
    reads: every field, on every enterprise, institution × fund and right of the demo book."""
    from banks.models import CooperationAgreement, Institution
    from banks.selectors import agreements_in_fund
    from enterprises.models import Enterprise, IPAsset
    from enterprises.selectors import enterprise_by_uscc
    from fundmgr.ground.funds.models import Fund
    from loans.services.filings import _rights_named

    enterprises = list(Enterprise.objects.order_by("id"))
    assert enterprises
    for enterprise in enterprises:
        assert _fields(enterprise_by_uscc(enterprise.uscc)) == _fields(enterprise)
    assert enterprise_by_uscc("91440000NOSUCHUSCC") is None

    found = 0
    for institution in Institution.objects.all():
        for code in [*Fund.objects.values_list("code", flat=True), "no-such-fund"]:
            expected = list(
                CooperationAgreement.objects.filter(institution=institution, fund__code=code)
                .select_related("fund")
                .order_by("id")
            )
            read = agreements_in_fund(institution_id=institution.pk, fund_code=code)
            assert [_fields(a) for a in read] == [_fields(a) for a in expected]
            assert [_fields(a.fund) for a in read] == [_fields(a.fund) for a in expected]
            found += len(read)
    assert found == CooperationAgreement.objects.count() > 0

    rights = list(IPAsset.objects.order_by("id")[:40])
    assert rights
    for right in rights:
        named = [{"kind": right.kind, "number": right.number}, {"kind": "trademark", "number": "NOT-HELD"}]
        for lock in (False, True):
            assert [_fields(a) for a in _rights_named(right.enterprise_id, named, lock=lock)] == [
                _fields(right)
            ]
    other = next(e for e in enterprises if e.pk != rights[0].enterprise_id)
    assert _rights_named(other.pk, [{"kind": rights[0].kind, "number": rights[0].number}], lock=False) == []
