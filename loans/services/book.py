"""Keeping each fund's loan book figures (`FundBook`, and per district and bank `BookCell`)
as loans change.

A service that may change a loan's contribution to its fund takes `contribution(filing)`
before it changes the loan and calls `book_keep(filing, before)` after, inside its own
transaction: the difference is added with single UPDATEs, the fund's row first, which holds
that row's lock until the transaction ends. `book_lock` takes the lock first, for a check
that must see the figures unchanged until it commits (acceptance against the fund's capacity).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib.money import HUNDRED, ZERO

from ..models import LIVE_LOAN_STATUSES, BookCell, FilingStatus, FundBook, LoanFiling, LoanStatus
from ..selectors.filings import CLASS_OF_STATUS, book_resummed


@dataclass(frozen=True)
class Contribution:
    """What one loan adds to its fund's book: nothing unless it is a live covered loan."""

    covered: Decimal = ZERO
    exposure: Decimal = ZERO  # exact: covered × fund share ÷ 100
    loans: int = 0
    region_code: str = ""
    institution_id: int | None = None
    loan_class: str = ""  # performing | overdue | non_performing


NOTHING = Contribution()


def contribution(filing: LoanFiling) -> Contribution:
    if filing.status != FilingStatus.ACCEPTED or filing.loan_status not in LIVE_LOAN_STATUSES:
        return NOTHING
    covered = filing.covered_outstanding
    return Contribution(
        covered=covered,
        exposure=covered * filing.fund_share / HUNDRED,
        loans=1,
        region_code=filing.enterprise.region_code,
        institution_id=filing.institution_id,
        loan_class=CLASS_OF_STATUS[filing.loan_status],
    )


def _ensure(fund_ids: Iterable[int]) -> None:
    FundBook.objects.bulk_create([FundBook(fund_id=fid) for fid in fund_ids], ignore_conflicts=True)


def book_lock(fund_id: int) -> None:
    """Hold the fund's book row until the transaction ends."""
    _ensure([fund_id])
    FundBook.objects.select_for_update().filter(fund_id=fund_id).values_list("pk").get()


def _add(model, match: dict, changes: dict) -> None:
    if not model.objects.filter(**match).update(**changes):
        model.objects.bulk_create([model(**match)], ignore_conflicts=True)
        model.objects.filter(**match).update(**changes)


def _cell_changes(c: Contribution, sign: int) -> dict:
    changes = {
        "loans": F("loans") + sign,
        "covered_outstanding": F("covered_outstanding") + sign * c.covered,
        "exposure_exact": F("exposure_exact") + sign * c.exposure,
    }
    if c.loan_class == LoanStatus.OVERDUE:
        changes.update(
            overdue_loans=F("overdue_loans") + sign, overdue_amount=F("overdue_amount") + sign * c.covered
        )
    elif c.loan_class == LoanStatus.NON_PERFORMING:
        changes.update(npl_loans=F("npl_loans") + sign, npl_amount=F("npl_amount") + sign * c.covered)
    return changes


def book_keep(filing: LoanFiling, before: Contribution) -> None:
    """Add the loan's change since `before` to its fund's figures (same transaction)."""
    after = contribution(filing)
    if after == before:
        return
    _add(
        FundBook,
        {"fund_id": filing.fund_id},
        {
            "covered_outstanding": F("covered_outstanding") + (after.covered - before.covered),
            "exposure_exact": F("exposure_exact") + (after.exposure - before.exposure),
            "live_loans": F("live_loans") + (after.loans - before.loans),
        },
    )
    for c, sign in ((before, -1), (after, 1)):
        if c.loans:
            cell = {
                "fund_id": filing.fund_id,
                "region_code": c.region_code,
                "institution_id": c.institution_id,
            }
            _add(BookCell, cell, _cell_changes(c, sign))


def book_resum(*, fund_ids: Iterable[int] | None = None) -> None:
    """Rebuild the kept figures from the loans: after a bulk load, an enterprise moved to
    another district, or to repair."""
    with transaction.atomic():
        ids = list(Fund.objects.values_list("pk", flat=True)) if fund_ids is None else list(fund_ids)
        _ensure(ids)
        funds = {row.fund_id: row for row in FundBook.objects.select_for_update().filter(fund_id__in=ids)}
        totals, cells = book_resummed(fund_ids=ids)
        for fid, row in funds.items():
            row.covered_outstanding, row.exposure_exact, row.live_loans = totals.get(fid, (ZERO, ZERO, 0))
        FundBook.objects.bulk_update(funds.values(), ["covered_outstanding", "exposure_exact", "live_loans"])
        BookCell.objects.filter(fund_id__in=ids).delete()
        BookCell.objects.bulk_create(cells, batch_size=2000)


def on_district_changed(*, fund_id: int, since=None) -> None:
    """An enterprise changed district: its live loans count in another cell."""
    book_resum(fund_ids=[fund_id])
