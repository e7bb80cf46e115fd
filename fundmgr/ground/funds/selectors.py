"""Reads about funds: scope, policy in force, balances, exposure and leverage, statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from fundmgr.ground.accounts.models import Organization
from fundmgr.ground.accounts.principals import Principal, scoped
from fundmgr.ground.lib import rawsql
from fundmgr.ground.lib.errors import Forbidden, NotFound
from fundmgr.ground.lib.money import HUNDRED, ZERO, quantize
from fundmgr.ground.lib.rawsql import columns

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
    """The version in force on `on` for several funds, in one plain statement (one version a
    day per fund, so the latest one started is the one in force)."""
    ids = [f.id for f in funds]
    if not ids:
        return {}
    q = connection.ops.quote_name
    policy = columns(PolicyVersion, "p")
    in_ids, params = rawsql.in_list(f"f.{q('id')}", ids)
    sql = (
        f"SELECT {policy.sql} FROM {q(Fund._meta.db_table)} f"
        + _policy_join(q(PolicyVersion._meta.db_table))
        + f" WHERE {in_ids}"
    )
    found = (policy.instance(row) for row in rawsql.rows(sql, [on, *params]) if row[0] is not None)
    return {version.fund_id: version for version in found}


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
    # the version in force the figures were judged by (None before the first)
    policy: PolicyVersion | None = None

    @property
    def available_balance(self) -> Decimal:
        # domain-rules §2.3: contributions + interest − compensation − fees + recoveries,
        # which is exactly the ledger balance; the fund answers only up to it.
        return self.balance


_LEDGER_KINDS = (
    EntryType.CONTRIBUTION,
    EntryType.REFUND,
    EntryType.COMPENSATION_PAID,
    EntryType.RECOVERY_RETURNED,
)


@dataclass(frozen=True)
class ListedFund:
    """A fund as the fund list shows it."""

    code: str
    name: str
    region_code: str
    status: str
    start_date: dt.date
    end_date: dt.date | None
    manager_name: str
    figures: FundFigures


LISTED_FIELDS = ("code", "name", "region_code", "status", "start_date", "end_date")


def _policy_join(version_t: str) -> str:
    """Joins `p`, the version in force on the date parameter: PostgreSQL plans a lateral
    subquery in half the time of the portable form SQLite needs."""
    q = connection.ops.quote_name
    latest = (
        f" WHERE v.{q('fund_id')} = f.{q('id')} AND v.{q('effective_from')} <= %s"
        f" ORDER BY v.{q('effective_from')} DESC LIMIT 1"
    )
    if connection.vendor == "postgresql":
        return f" LEFT JOIN LATERAL (SELECT * FROM {version_t} v{latest}) p ON TRUE"
    return f" LEFT JOIN {version_t} p ON p.{q('id')} = (SELECT v.{q('id')} FROM {version_t} v{latest})"


# The funds a read covers: given a column of fund ids, SQL and parameters saying it is one of them.
Scope = Callable[[str], tuple[str, list]]


def _fund_rows(
    scope: Scope | None, on: dt.date, *, with_funds: bool, ledger_until: dt.date | None = None
) -> list[tuple]:
    """For the funds `scope` selects (None: every fund, with no subquery for the planner to
    join), in code order: (id, the fund's `LISTED_FIELDS` and its manager's name when asked, its
    ledger sums (balance, contributions, refunds, compensation, recoveries; of the entries valued
    up to `ledger_until` when given), its covered outstanding and exposure as the loans app keeps
    them, the policy version in force on `on`). One statement for any number of funds, prepared
    on PostgreSQL: the fund list's whole read (the ORM would spend more compiling four queries
    than the database spends answering them). Plain SQL that both backends speak (`lib.rawsql`)."""
    q = connection.ops.quote_name
    kept = ports.loan_book().kept_figures
    entry, fund_t = q(LedgerEntry._meta.db_table), q(Fund._meta.db_table)
    version_t, org_t = q(PolicyVersion._meta.db_table), q(Organization._meta.db_table)
    money = columns(LedgerEntry, "l", ["amount"] * 7)
    funds = columns(Fund, "f", LISTED_FIELDS) if with_funds else None
    policy = columns(PolicyVersion, "p")
    by_kind = "".join(
        f", SUM(CASE WHEN {q('entry_type')} = %s THEN {q('amount')} END) AS k{i}"
        for i in range(len(_LEDGER_KINDS))
    )
    ledger_filters, ledger_params = [], []
    if scope is None:
        where = ""
        ids_params: list = []
    else:
        in_ledger, in_ledger_params = scope(q("fund_id"))
        ledger_filters.append(in_ledger)
        ledger_params.extend(in_ledger_params)
        in_funds, ids_params = scope(f"f.{q('id')}")
        where = f" WHERE {in_funds}"
    if ledger_until is not None:
        ledger_filters.append(f"{q('value_date')} <= %s")
        ledger_params.append(ledger_until)
    ledger_where = f" WHERE {' AND '.join(ledger_filters)}" if ledger_filters else ""
    sql = (
        f"SELECT f.{q('id')}, l.balance, l.k0, l.k1, l.k2, l.k3, b.{q(kept.covered_column)},"
        f" b.{q(kept.exposure_column)}"
        + (f", {funds.sql}, m.{q('name')}" if funds else "")
        + f", {policy.sql}"
        + f" FROM {fund_t} f"
        f" LEFT JOIN (SELECT {q('fund_id')}, SUM({q('amount')}) AS balance{by_kind} FROM {entry}"
        f"{ledger_where} GROUP BY {q('fund_id')}) l ON l.{q('fund_id')} = f.{q('id')}"
        f" LEFT JOIN {q(kept.table)} b ON b.{q(kept.fund_column)} = f.{q('id')}"
        + (f" INNER JOIN {org_t} m ON m.{q('id')} = f.{q('manager_id')}" if with_funds else "")
        + _policy_join(version_t)
        + f"{where} ORDER BY f.{q('code')}"
    )
    params = [*_LEDGER_KINDS, *ledger_params, on, *ids_params]
    out = []
    for row in rawsql.rows(sql, params):
        sums = [ZERO if v is None else v for v in money.values(row[1:8])]
        fund = found = None
        at = 8
        if funds:
            fund, at = [*funds.values(row[at:]), row[at + len(funds)]], at + len(funds) + 1
        if row[at] is not None:
            found = policy.instance(row[at:])
        out.append((row[0], fund, sums[:5], (sums[5], quantize(sums[6])), found))
    return out


def _figures(
    fund_id: int, sums: list[Decimal], covered: tuple[Decimal, Decimal], policy: PolicyVersion | None
) -> FundFigures:
    balance, contributions, refunds, compensation, recoveries = sums
    # Capital is what contributors put in, less what was refunded to them at expiry.
    capital = contributions + refunds
    outstanding, exposure = covered
    limit = policy.leverage if policy else None
    capacity = quantize(capital * limit) if limit is not None else None
    return FundFigures(
        fund_id=fund_id,
        balance=balance,
        capital=capital,
        contributions=contributions,
        compensation_paid=-compensation,
        recoveries_returned=recoveries,
        covered_outstanding=outstanding,
        exposure=exposure,
        leverage=(outstanding / capital).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if capital > 0
        else None,
        leverage_limit=limit,
        capacity=capacity,
        headroom=(capacity - outstanding) if capacity is not None else None,
        policy=policy,
    )


def fund_figures(
    *, funds: Iterable[Fund], on: dt.date, ledger_until: dt.date | None = None
) -> dict[int, FundFigures]:
    """Live figures for several funds in one statement whatever their number: the ledger sums
    (of the entries valued up to `ledger_until` when given: a report's balance and capital at a
    period's end), the covered loans' figures the loans app keeps, and the policies in force."""
    ids = [f.id for f in funds]
    if not ids:
        return {}
    return {
        fid: _figures(fid, sums, covered, policy)
        for fid, _, sums, covered, policy in _fund_rows(
            lambda column: rawsql.in_list(column, ids), on, with_funds=False, ledger_until=ledger_until
        )
    }


def _visible_ids(principal: Principal, code: str | None) -> Scope | None:
    """The funds `principal` sees (the one with `code`, when given), as `funds_visible_to`
    decides, as a subquery of their ids; None for every fund (staff: no subquery for the planner
    to join). Raises EmptyResultSet when the principal sees none."""
    visible = funds_visible_to(principal).order_by()
    if code is not None:
        visible = visible.filter(code=code)
    if not visible.query.where:
        return None
    sql, params = visible.values("id").query.sql_with_params()
    return lambda column: (f"{column} IN ({sql})", list(params))


def funds_visible_list(*, principal: Principal) -> list[Fund]:
    """`funds_visible_to(principal)` in code order, read in one plain statement: the funds a
    regulator table covers (building the ORM's query cost more than the database's answer)."""
    try:
        scope = _visible_ids(principal, None)
    except EmptyResultSet:  # a principal who sees no fund
        return []
    fund = columns(Fund, "f")
    where, params = ("", []) if scope is None else scope(f"f.{connection.ops.quote_name('id')}")
    if where:
        where = f" WHERE {where}"
    sql = f"SELECT {fund.sql} FROM {fund.table()}{where} ORDER BY f.{connection.ops.quote_name('code')}"
    return [fund.instance(row) for row in rawsql.rows(sql, params)]


def funds_with_figures(*, principal: Principal, on: dt.date, code: str | None = None) -> list[ListedFund]:
    """The funds `principal` sees (or the one of them with `code`), in code order, each with
    its manager's name, its live figures and the policy in force (`FundFigures.policy`): the
    fund list's read, one statement."""
    try:
        scope = _visible_ids(principal, code)  # None: staff see every fund
    except EmptyResultSet:  # a principal who sees no fund
        return []
    return [
        ListedFund(*fields, figures=_figures(fid, sums, covered, found))
        for fid, fields, sums, covered, found in _fund_rows(scope, on, with_funds=True)
    ]


def fund_figures_one(*, fund: Fund, on: dt.date) -> FundFigures:
    return fund_figures(funds=[fund], on=on)[fund.id]


def fund_with_figures(*, principal: Principal, on: dt.date, code: str) -> ListedFund:
    """`funds_with_figures` for the one fund with `code`; 404 when it is not there or not
    the principal's to see (as `fund_get`)."""
    found = funds_with_figures(principal=principal, on=on, code=code)
    if not found:
        raise NotFound(_("资金不存在或无权访问"))
    return found[0]


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
