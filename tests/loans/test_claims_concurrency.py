"""Concurrent payouts on PostgreSQL that together exceed the fund's balance."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from fundmgr.ground.funds.models import EntryType, Fund, LedgerEntry
from fundmgr.ground.funds.selectors import fund_balance
from fundmgr.ground.funds.services import ledger_entry_record
from fundmgr.ground.lib.errors import Conflict
from loans.models import Claim
from loans.services.claims import claim_transition
from tests.loans.conftest import accept_distinct, approved_claim, make_non_performing


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_payouts_never_overdraw(personas, settings):
    settings.FUNDMGR_BUSINESS_DATE = "2026-11-21"
    fund = Fund.objects.get(code="zhaoqing")
    claims = []
    for filing in accept_distinct(personas, 4, tag="CONC"):
        make_non_performing(personas, filing)
        claim = approved_claim(personas, filing, "M", trigger_date=dt.date(2026, 11, 20))
        claims.append(claim.pk)
    # Each approved claim is 1,000,000; leave 2,500,000 in the fund: only two can be paid.
    ledger_entry_record(fund=fund, entry_type=EntryType.REFUND, amount=Decimal("2500000.00"))
    finance = personas.user("finance")
    barrier = threading.Barrier(len(claims))
    outcomes: list[str] = []
    lock = threading.Lock()

    def pay(claim_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            claim_transition(claim_id=claim_id, name="pay", user=finance)
            result = "paid"
        except Conflict as exc:
            result = exc.code
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=pay, args=(cid,)) for cid in claims]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["fund_balance_insufficient"] * 2 + ["paid"] * 2
    assert fund_balance(fund=fund) == Decimal("500000.00")
    paid = Claim.objects.filter(pk__in=claims, paid_amount__isnull=False).aggregate(total=Sum("paid_amount"))[
        "total"
    ]
    ledger = -LedgerEntry.objects.filter(fund=fund, entry_type=EntryType.COMPENSATION_PAID).aggregate(
        t=Sum("amount")
    )["t"]
    assert paid == ledger == Decimal("2000000.00")
