"""What the funds app needs to know of the loans drawing on a fund, without importing them.

The loans app sits above funds (it files loans *against* a fund), so funds cannot import it.
Instead it declares here what it needs, and the loans app provides it at start-up
(`loans.apps.LoansConfig.ready`): dependency inversion, so the arrow still points down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class KeptFigures:
    """Where the loans app keeps each fund's covered figures (one row per fund, changed under
    that row's lock as loans change, never re-summed on a read), so that the funds app's
    reads join them in the statement that reads the fund: names of a table and its columns."""

    table: str
    fund_column: str
    covered_column: str  # covered outstanding of the live covered loans
    exposure_column: str  # Σ covered × frozen fund share, unrounded: read half-up to the fen


@dataclass(frozen=True)
class LoanBook:
    kept_figures: KeptFigures
    # (fund id, date) → has any loan been filed in the fund on or after that business date?
    filed_since: Callable[[int, dt.date], bool]


_loan_book: LoanBook | None = None


def provide_loan_book(book: LoanBook) -> None:
    global _loan_book
    _loan_book = book


def loan_book() -> LoanBook:
    if _loan_book is None:
        raise ImproperlyConfigured("no loan book provided: is the 'loans' app in INSTALLED_APPS?")
    return _loan_book
