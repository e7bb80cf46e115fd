"""Reads about funds: scope, policy in force, balances, exposure and leverage, statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from fundmgr.ground.accounts.principals import Principal, scoped
from fundmgr.ground.lib.errors import Forbidden, NotFound
from fundmgr.ground.lib.money import HUNDRED, ZERO, quantize

from . import ports
from .errors import FundsError
from .models import EntryType, Fund, LedgerEntry, PolicyVersion

_ZERO_SUM = Coalesce(Sum("amount"), ZERO)


def funds_visible_to(principal: Principal) -> QuerySet[Fund]:
    """Staff see every fund; a regulator its own; an institution those it has an agreement with."""
    with_agreement = Fund.objects.filter(agreements__institution_id=principal.institution_id)
    return scoped(
        Fund.objects.select_related("manager"),
        principal,
        regulator=Q(id__in=principal.fund_ids),
        institution=Q(id__in=with_agreement.values("id")),
    )


def fund_get(*, principal: Principal, code: str) -> Fund:
    fund = funds_visible_to(principal).filter(code=code).first()
    if fund is None:
        raise NotFound(_("资金不存在或无权访问"))
    return fund


def policies_in_force(*, funds: Iterable[Fund], on: dt.date) -> dict[int, PolicyVersion]:
    """The version in force for several funds in one query."""
    ids = [f.id for f in funds]
    result: dict[int, PolicyVersion] = {}
    for version in PolicyVersion.objects.filter(fund_id__in=ids, effective_from__lte=on).order_by(
        "fund_id", "-effective_from"
    ):
        result.setdefault(version.fund_id, version)
    return result


def fund_balance(*, fund: Fund, as_of: dt.date | None = None) -> Decimal:
    """The sum of the fund's ledger entries (up to and including `as_of`)."""
    entries = LedgerEntry.objects.filter(fund=fund)
    if as_of is not None:
        entries = entries.filter(value_date__lte=as_of)
    return entries.aggregate(total=_ZERO_SUM)["total"]


@dataclass(frozen=True)
class FundFigures:
    fund_id: int
    balance: Decimal
    capital: Decimal
    contributions: Decimal
    compensation_paid: Decimal
    recoveries_returned: Decimal
    covered_outstanding: Decimal
    exposure: Decimal
    leverage: Decimal | None
    leverage_limit: Decimal | None
    capacity: Decimal | None
    headroom: Decimal | None

    @property
    def available_balance(self) -> Decimal:
        # domain-rules §2.3: contributions + interest − compensation − fees + recoveries,
        # which is exactly the ledger balance; the fund answers only up to it.
        return self.balance


def fund_figures(
    *, funds: Iterable[Fund], on: dt.date, policies: dict[int, PolicyVersion] | None = None
) -> dict[int, FundFigures]:
    """Live figures for several funds with a fixed number of queries (no per-fund loop).
    `policies`: the versions in force on `on`, when the caller already has them."""
    funds = list(funds)
    ids = [f.id for f in funds]
    ledger = {
        row["fund_id"]: row
        for row in LedgerEntry.objects.filter(fund_id__in=ids)
        .values("fund_id")
        .annotate(
            balance=_ZERO_SUM,
            contributions=Coalesce(Sum("amount", filter=Q(entry_type=EntryType.CONTRIBUTION)), ZERO),
            refunds=Coalesce(Sum("amount", filter=Q(entry_type=EntryType.REFUND)), ZERO),
            compensation=Coalesce(Sum("amount", filter=Q(entry_type=EntryType.COMPENSATION_PAID)), ZERO),
            recoveries=Coalesce(Sum("amount", filter=Q(entry_type=EntryType.RECOVERY_RETURNED)), ZERO),
        )
    }
    covered = ports.loan_book().covered_totals(ids)
    if policies is None:
        policies = policies_in_force(funds=funds, on=on)
    out: dict[int, FundFigures] = {}
    for fund in funds:
        row = ledger.get(fund.id, {})
        contributions = row.get("contributions", ZERO)
        # Capital is what contributors put in, less what was refunded to them at expiry.
        capital = contributions + row.get("refunds", ZERO)
        outstanding, exposure = covered.get(fund.id, (ZERO, ZERO))
        policy = policies.get(fund.id)
        limit = policy.leverage if policy else None
        capacity = quantize(capital * limit) if limit is not None else None
        out[fund.id] = FundFigures(
            fund_id=fund.id,
            balance=row.get("balance", ZERO),
            capital=capital,
            contributions=contributions,
            compensation_paid=-row.get("compensation", ZERO),
            recoveries_returned=row.get("recoveries", ZERO),
            covered_outstanding=outstanding,
            exposure=exposure,
            leverage=(outstanding / capital).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            if capital > 0
            else None,
            leverage_limit=limit,
            capacity=capacity,
            headroom=(capacity - outstanding) if capacity is not None else None,
        )
    return out


def fund_figures_one(*, fund: Fund, on: dt.date, policy: PolicyVersion | None = None) -> FundFigures:
    policies = None if policy is None else {fund.id: policy}
    return fund_figures(funds=[fund], on=on, policies=policies)[fund.id]


@dataclass(frozen=True)
class Statement:
    fund: Fund
    date_from: dt.date | None
    date_to: dt.date | None
    opening_balance: Decimal
    entries: list[LedgerEntry]
    closing_balance: Decimal
    inflows: Decimal
    outflows: Decimal


def ledger_statement(*, fund: Fund, date_from: dt.date | None, date_to: dt.date | None) -> Statement:
    entries = LedgerEntry.objects.filter(fund=fund).select_related("created_by")
    opening = ZERO
    if date_from is not None:
        opening = fund_balance(fund=fund, as_of=date_from - dt.timedelta(days=1))
        entries = entries.filter(value_date__gte=date_from)
    if date_to is not None:
        entries = entries.filter(value_date__lte=date_to)
    rows = list(entries.order_by("value_date", "id"))
    inflows = sum((e.amount for e in rows if e.amount > 0), ZERO)
    outflows = sum((e.amount for e in rows if e.amount < 0), ZERO)
    return Statement(
        fund=fund,
        date_from=date_from,
        date_to=date_to,
        opening_balance=opening,
        entries=rows,
        closing_balance=opening + inflows + outflows,
        inflows=inflows,
        outflows=outflows,
    )


def share_of(amount: Decimal, share_percent: Decimal) -> Decimal:
    return quantize(amount * share_percent / HUNDRED)


def require_ledger_reader(principal: Principal) -> None:
    """The ledger statement (every payout, to every bank) is for staff and the fund's own
    regulators (fund_get already scoped the fund); a bank reads its own position instead."""
    if not (principal.is_staff_member or principal.is_regulator):
        raise Forbidden(
            FundsError.LEDGER_NOT_FOR_INSTITUTIONS,
            _("资金台账仅供资金管理人和本市监管部门查看；合作机构请查看本机构头寸"),
        )
