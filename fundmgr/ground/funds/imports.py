"""Bringing a fund's ledger in from its old books (台账导入).

The ledger stays append-only: imported entries are checked by `ledger_post`'s own rules
(`rules.entry_violations`), under the same lock on the fund, and appended in one insert inside
the importer's single transaction; on PostgreSQL the database guard still checks each row.
Old books are dated in the past, so besides the balance never going below zero now, the
balance must never have gone below zero on any day: `first_negative` walks the entries in
date order, inflows of a day before its outflows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from fundmgr.ground.accounts.imports import bulk_insert
from fundmgr.ground.lib.errors import AppError
from fundmgr.ground.lib.money import ZERO, quantize

from . import rules
from .errors import FundsError
from .models import OUTFLOW_TYPES, EntryType, Fund, LedgerEntry
from .selectors import fund_balance
from .services import fund_lock


@dataclass(frozen=True)
class Movement:
    """A signed amount on a date (inflows positive), with whatever the caller needs to find
    it again (`tag`: e.g. the entry's type and its workbook row)."""

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


@dataclass(frozen=True)
class ImportedEntry:
    entry_type: str
    amount: Decimal  # signed, as in the ledger
    value_date: dt.date
    government_level: str = ""
    description: str = ""
    reference: str = ""
    claim_id: int | None = None  # the claim a payout or a returned recovery belongs to


def ledger_import(*, fund: Fund, entries: Sequence[ImportedEntry], by) -> list[LedgerEntry]:
    """Append imported entries (already checked in date order): each meets `ledger_post`'s
    rules; with the fund locked as for any outflow, every inflow goes in first, then the
    outflows in date order, so the running total never dips below zero on the way (the final
    total is the same in any order)."""
    rows = []
    for e in sorted(entries, key=lambda e: (e.amount < 0, e.value_date)):
        magnitude = e.amount if e.entry_type == EntryType.ADJUSTMENT else abs(e.amount)
        for bad in rules.entry_violations(
            entry_type=e.entry_type, amount=quantize(magnitude), government_level=e.government_level
        ):
            raise AppError(bad.code, bad.message, field=bad.field, status=400)
        signed = -abs(e.amount) if e.entry_type in OUTFLOW_TYPES else quantize(e.amount)
        rows.append(
            LedgerEntry(
                fund=fund,
                entry_type=e.entry_type,
                government_level=e.government_level,
                amount=quantize(signed),
                value_date=e.value_date,
                description=e.description,
                reference=e.reference,
                created_by=by,
                claim_id=e.claim_id,
            )
        )
    if not rows:
        return []
    fund_lock(fund_id=fund.pk)
    low = running = fund_balance(fund=fund)
    for row in rows:
        running += row.amount
        low = min(low, running)
    if low < ZERO:
        raise AppError(
            FundsError.FUND_BALANCE_INSUFFICIENT,
            _("资金可用余额不足：导入后台账余额将低至 %(balance)s 元") % {"balance": f"{low:,.2f}"},
            status=409,
        )
    return bulk_insert(rows)
