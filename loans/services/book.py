"""Keeping each fund's loan book figures (`FundBook`) as loans change.

A service that may change a loan's contribution to its fund takes `contribution(filing)`
before it changes the loan and calls `book_keep(filing, before)` after, inside its own
transaction: the difference is added to the fund's row with a single UPDATE, which holds the
row's lock until the transaction ends. `book_lock` takes that lock first, for a check that
must see the figures unchanged until it commits (acceptance against the fund's capacity).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib.money import HUNDRED, ZERO

from ..models import LIVE_LOAN_STATUSES, FilingStatus, FundBook, LoanFiling
from ..selectors.filings import covered_resum

Contribution = tuple[Decimal, Decimal, int]  # covered outstanding, exact exposure, live loans

NOTHING: Contribution = (ZERO, ZERO, 0)


def contribution(filing: LoanFiling) -> Contribution:
    """What the loan adds to its fund's book right now (nothing unless it is a live covered loan)."""
    if filing.status != FilingStatus.ACCEPTED or filing.loan_status not in LIVE_LOAN_STATUSES:
        return NOTHING
    covered = filing.covered_outstanding
    return covered, covered * filing.fund_share / HUNDRED, 1


def _ensure(fund_ids: Iterable[int]) -> None:
    FundBook.objects.bulk_create([FundBook(fund_id=fid) for fid in fund_ids], ignore_conflicts=True)


def book_lock(fund_id: int) -> None:
    """Hold the fund's book row until the transaction ends."""
    _ensure([fund_id])
    FundBook.objects.select_for_update().filter(fund_id=fund_id).values_list("pk").get()


def book_keep(filing: LoanFiling, before: Contribution) -> None:
    """Add the loan's change since `before` to its fund's figures (same transaction)."""
    after = contribution(filing)
    if after == before:
        return
    changes = {
        "covered_outstanding": F("covered_outstanding") + (after[0] - before[0]),
        "exposure_exact": F("exposure_exact") + (after[1] - before[1]),
        "live_loans": F("live_loans") + (after[2] - before[2]),
    }
    if not FundBook.objects.filter(fund_id=filing.fund_id).update(**changes):
        _ensure([filing.fund_id])
        FundBook.objects.filter(fund_id=filing.fund_id).update(**changes)


def book_resum(*, fund_ids: Iterable[int] | None = None) -> None:
    """Rebuild the kept figures from the loans: after a bulk load, or to repair."""
    with transaction.atomic():
        ids = list(Fund.objects.values_list("pk", flat=True)) if fund_ids is None else list(fund_ids)
        _ensure(ids)
        rows = {row.fund_id: row for row in FundBook.objects.select_for_update().filter(fund_id__in=ids)}
        totals = covered_resum(fund_ids=ids)
        for fid, row in rows.items():
            row.covered_outstanding, row.exposure_exact, row.live_loans = totals.get(fid, NOTHING)
        FundBook.objects.bulk_update(rows.values(), ["covered_outstanding", "exposure_exact", "live_loans"])
