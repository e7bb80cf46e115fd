"""Writes about funds: policy versions and ledger postings.

Every outflow locks the fund row first (`SELECT … FOR UPDATE`), then re-reads the balance,
so concurrent payouts are serialised per fund and can never overdraw it. On PostgreSQL a
trigger refuses, as a last line of defence, any insert that would take the balance below
zero even if some future code forgot the lock.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from fundmgr.ground.funds.errors import FundsError
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.errors import AppError, Conflict, RuleViolations
from fundmgr.ground.lib.money import ZERO, quantize

from . import ports, rules
from .models import OUTFLOW_TYPES, EntryType, Fund, LedgerEntry, PolicyVersion
from .selectors import fund_balance

MANUAL_ENTRY_TYPES = (
    EntryType.CONTRIBUTION,
    EntryType.INTEREST,
    EntryType.FEE,
    EntryType.ADJUSTMENT,
    EntryType.REFUND,
)


def fund_lock(*, fund_id: int) -> Fund:
    """Lock one fund row for the rest of the transaction. Callers lock several in pk order.

    FOR NO KEY UPDATE: it serialises the fund's ledger like FOR UPDATE, but lets other
    transactions insert rows that refer to the fund (their foreign-key check takes a key-share
    lock); FOR UPDATE would block those checks and deadlock with a transaction holding the
    fund's kept loan figures (loans.FundBook) while it inserts such a row."""
    return Fund.objects.select_for_update(no_key=True).get(pk=fund_id)


def ledger_post(
    *,
    fund: Fund,
    entry_type: str,
    amount: Decimal,
    value_date: dt.date,
    government_level: str = "",
    description: str = "",
    reference: str = "",
    by=None,
    claim=None,
) -> LedgerEntry:
    """Post one entry inside the caller's transaction. `amount` is the magnitude (> 0) except
    for adjustments, whose sign says the direction. Outflows lock the fund and are refused
    with `fund_balance_insufficient` when the balance cannot cover them."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_post must run inside a transaction")
    amount = quantize(amount)
    for bad in rules.entry_violations(
        entry_type=entry_type, amount=amount, government_level=government_level
    ):
        raise AppError(bad.code, bad.message, field=bad.field, status=400)
    if entry_type == EntryType.ADJUSTMENT:
        signed = amount
    else:
        signed = -amount if entry_type in OUTFLOW_TYPES else amount

    if signed < 0:
        fund_lock(fund_id=fund.pk)
        balance = fund_balance(fund=fund)
        if balance + signed < ZERO:
            raise Conflict(
                FundsError.FUND_BALANCE_INSUFFICIENT,
                _("资金可用余额 %(balance)s 元不足以支付 %(amount)s 元")
                % {"balance": f"{balance:,.2f}", "amount": f"{-signed:,.2f}"},
            )
    return LedgerEntry.objects.create(
        fund=fund,
        entry_type=entry_type,
        government_level=government_level,
        amount=signed,
        value_date=value_date,
        description=description,
        reference=reference,
        created_by=by,
        claim=claim,
    )


def ledger_entry_record(
    *,
    fund: Fund,
    entry_type: str,
    amount: Decimal,
    value_date: dt.date | None = None,
    government_level: str = "",
    description: str = "",
    reference: str = "",
    by=None,
) -> LedgerEntry:
    """Finance records a manual entry (contribution, interest, fee, adjustment, refund).

    Compensation and recovery returns are posted only by the claim and recovery services.
    """
    if entry_type not in MANUAL_ENTRY_TYPES:
        raise AppError(
            FundsError.ENTRY_TYPE_NOT_MANUAL,
            _("代偿支出和追偿返还只能由补偿、追偿流程记账"),
            field="entry_type",
            status=400,
        )
    with transaction.atomic(durable=True):
        return ledger_post(
            fund=fund,
            entry_type=entry_type,
            amount=amount,
            value_date=value_date or clock.today(),
            government_level=government_level,
            description=description,
            reference=reference,
            by=by,
        )


def policy_version_create(*, fund: Fund, effective_from: dt.date, by=None, **values) -> PolicyVersion:
    """Add a policy version. History is never rewritten: a version may start in the past
    only while no loan has been filed in the fund since that date, because such loans were
    judged under the version it would replace."""
    violations = rules.policy_violations(values)
    if violations:
        raise RuleViolations(violations)
    with transaction.atomic(durable=True):
        if PolicyVersion.objects.filter(fund=fund, effective_from=effective_from).exists():
            raise Conflict(
                FundsError.POLICY_VERSION_EXISTS, _("该生效日期已有政策版本"), field="effective_from"
            )
        if effective_from < clock.today():
            if ports.loan_book().filed_since(fund.pk, effective_from):
                raise Conflict(
                    FundsError.POLICY_BACKDATED,
                    _("该日期之后已有贷款按原政策备案，新政策版本不能追溯生效"),
                    field="effective_from",
                )
        return PolicyVersion.objects.create(fund=fund, effective_from=effective_from, created_by=by, **values)


def policy_version_is_locked(version: PolicyVersion, *, today: dt.date | None = None) -> bool:
    """A version already in force is read-only: change policy by adding a new version."""
    return version.pk is not None and version.effective_from <= (today or clock.today())
