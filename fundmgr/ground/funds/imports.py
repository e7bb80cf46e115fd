"""Bringing a fund's ledger in from its old books (台账导入).

The ledger stays append-only: imported entries are posted with `ledger_post`, like every
other entry, inside the importer's single transaction. Old books are dated in the past, so
besides the balance never going below zero now (what `ledger_post` and the database guard
check), the balance must never have gone below zero on any day: `balance_violations` walks
the entries in date order, inflows of a day before its outflows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from fundmgr.ground.lib.money import ZERO

from .models import EntryType, Fund, LedgerEntry
from .services import ledger_post


@dataclass(frozen=True)
class Movement:
    """A signed amount on a date (inflows positive), with whatever the caller needs to find
    it again (`tag`: a workbook row, None for an entry already in the ledger)."""

    value_date: dt.date
    amount: Decimal
    tag: object = None


def first_negative(movements: Iterable[Movement]) -> tuple[Movement, Decimal] | None:
    """The movement after which the balance, in date order, first goes below zero, and that
    balance; None if it never does. On one day inflows count before outflows."""
    balance = ZERO
    for m in sorted(movements, key=lambda m: (m.value_date, m.amount < 0)):
        balance += m.amount
        if balance < ZERO:
            return m, balance
    return None


def existing_movements(*, fund: Fund) -> list[Movement]:
    return [
        Movement(value_date, amount)
        for value_date, amount in LedgerEntry.objects.filter(fund=fund).values_list("value_date", "amount")
    ]


@dataclass(frozen=True)
class ImportedEntry:
    entry_type: str
    amount: Decimal  # signed, as in the ledger
    value_date: dt.date
    government_level: str = ""
    description: str = ""
    reference: str = ""
    claim: object = None


def ledger_import(*, fund: Fund, entries: Sequence[ImportedEntry], by) -> list[LedgerEntry]:
    """Post imported entries (already checked in date order) through `ledger_post`: every
    inflow first, then the outflows in date order, so the running total the posting checks
    never dips below zero on the way (the final total is the same in any order)."""
    ordered = sorted(entries, key=lambda e: (e.amount < 0, e.value_date))
    posted = []
    for e in ordered:
        magnitude = e.amount if e.entry_type == EntryType.ADJUSTMENT else abs(e.amount)
        posted.append(
            ledger_post(
                fund=fund,
                entry_type=e.entry_type,
                amount=magnitude,
                value_date=e.value_date,
                government_level=e.government_level,
                description=e.description,
                reference=e.reference,
                by=by,
                claim=e.claim,
            )
        )
    return posted
