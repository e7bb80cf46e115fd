"""Report figures: grouped aggregation queries, amounts in yuan (万元 only at the edge).

Every figure is computed for a set of funds and a period, grouped by one or more
*dimensions*: the fund, the district (the borrower's `region_code`) or the institution
(always together with its fund, since a bank may lend in several cities). The number of
queries is fixed: it does not grow with the number of funds, loans or pledges.

Two kinds of figures:

- **Flows** (loans accepted, IP pledged, enterprises admitted, claims filed/approved/paid,
  recoveries returned) are counted by their business date within the period, and
  cumulatively from inception to the period's end.
- **Stocks** (covered outstanding, overdue, non-performing, exposure, balance, capital) are
  *as at* the period's end. The ledger is dated, so the balance is exact on any day. The
  loan book is rebuilt from dated records when the day is in the past: a loan is in the
  book if it was accepted on or before that day, not settled and not compensated by then;
  its covered outstanding and class come from its latest monthly report as of that day
  (none yet: the whole covered principal, performing), and a claim filed on or before that
  day, not followed by a later report, makes it non-performing. For today (or a period not
  over yet) the live loan fields are used, which are the same facts plus changes that have
  no date of their own.

Voided filings (false filings) never count. Loan statuses are the system's covered-loan
view: amounts are the IP-covered part (`covered_outstanding`), the same base as the NPL
ratio that suspends a bank and the leverage of the fund.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth

from enterprises.models import Enterprise, IPAsset
from fundmgr.ground.funds.models import EntryType, Fund, LedgerEntry
from fundmgr.ground.funds.selectors import fund_figures
from fundmgr.ground.lib import rawsql
from fundmgr.ground.lib.identifiers import IP_KINDS, PATENT_KINDS
from fundmgr.ground.lib.money import FEN, HUNDRED, ZERO, quantize
from fundmgr.ground.lib.rawsql import columns
from loans.models import (
    LIVE_LOAN_STATUSES,
    NON_PERFORMING_STATUSES,
    BookCell,
    Claim,
    ClaimStatus,
    FilingStatus,
    LoanFiling,
    LoanStatus,
    Pledge,
    Recovery,
    StatusReport,
)
from matching.models import EventKind, EventSigning, FinancingNeed, NeedInterest, OutreachEvent

from .models import FigureSnapshot

FUND = "fund"
DISTRICT = "district"
INSTITUTION = "institution"
DIMENSIONS = (FUND, DISTRICT, INSTITUTION)

# Every figure is first computed per *cell* — fund × district × institution, the finest
# grain — in one pass, then rolled up to the dimensions asked for (`_rollup`). The cell's
# key columns, as paths from a loan filing:
_CELL = ("fund_id", "enterprise__region_code", "institution_id")
# Enterprises admitted: by the fund they are registered in, their district, and the bank
# that applied on their behalf (applications entered by staff have no bank: None).
_ENTERPRISE_CELL = ("fund_id", "region_code", "submitted_by_id")

Key = tuple


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    as_of: dt.date  # min(end, today): flows and stocks stop here while a period is running

    @classmethod
    def clipped(cls, start: dt.date, end: dt.date, today: dt.date) -> Period:
        return cls(start=start, end=end, as_of=min(end, today))


@dataclass
class Figures:
    """One group's figures. Money in yuan (Decimal, two places), counts as int."""

    # Loans accepted (受理入池): in the period and from inception
    accepted: int = 0
    accepted_amount: Decimal = ZERO
    accepted_covered: Decimal = ZERO
    enterprises_served: int = 0
    cum_accepted: int = 0
    cum_accepted_amount: Decimal = ZERO
    cum_enterprises_served: int = 0
    ip: dict[str, int] = field(default_factory=lambda: dict.fromkeys(IP_KINDS, 0))
    cum_ip: dict[str, int] = field(default_factory=lambda: dict.fromkeys(IP_KINDS, 0))
    # The regulators' patent and trademark pledge-financing tables: a loan counts in the
    # patent table if it pledges any patent, in the trademark table if it pledges any
    # trademark (a loan pledging both counts in both, and once in `accepted_amount`).
    patent_projects: int = 0
    patent_amount: Decimal = ZERO
    trademark_projects: int = 0
    trademark_amount: Decimal = ZERO
    # Filings received (备案申请) in the period, whatever became of them
    received: int = 0
    received_amount: Decimal = ZERO
    # Enterprises admitted (入库)
    new_enterprises: int = 0
    cum_admitted_enterprises: int = 0
    # Claims and recoveries
    claims_filed: int = 0
    claims_filed_amount: Decimal = ZERO
    claims_approved: int = 0
    claims_approved_amount: Decimal = ZERO
    claims_paid: int = 0
    claims_paid_amount: Decimal = ZERO
    cum_claims_paid: int = 0
    cum_claims_paid_amount: Decimal = ZERO
    recoveries_returned: int = 0
    recoveries_returned_amount: Decimal = ZERO
    cum_recoveries_returned_amount: Decimal = ZERO
    # The covered loan book as at the period's end
    covered_loans: int = 0
    covered_outstanding: Decimal = ZERO
    overdue_loans: int = 0
    overdue_amount: Decimal = ZERO
    non_performing_loans: int = 0
    non_performing_amount: Decimal = ZERO
    exposure_exact: Decimal = Decimal("0")
    # Fund level only (dimension FUND)
    balance: Decimal | None = None
    capital: Decimal | None = None
    leverage_limit: Decimal | None = None

    def add(self, other: Figures) -> None:
        """Add another group's additive figures (everything but the distinct-enterprise counts
        and the fund-level ledger fields, which do not add up across groups)."""
        for name in _ADDITIVE:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind, n in other.ip.items():
            self.ip[kind] = self.ip.get(kind, 0) + n
        for kind, n in other.cum_ip.items():
            self.cum_ip[kind] = self.cum_ip.get(kind, 0) + n

    def add_cumulative(self, other: Figures) -> None:
        """Add another's from-inception figures (kept at an earlier day) to these."""
        for name in _CUMULATIVE:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for kind, n in other.cum_ip.items():
            self.cum_ip[kind] = self.cum_ip.get(kind, 0) + n

    def to_json(self) -> dict:
        """The stored form (snapshots): money as strings, exact; only the figures that are not
        zero (most of a bank's or a district's are), which `from_json` reads back as zeros.
        The stored rows are read on every report of a closed period: half the size is half the
        time the database spends writing them out and Python reading them."""
        out: dict = {}
        for name in _STORED:
            value = getattr(self, name)
            if value:
                out[name] = str(value) if name in _MONEY else value
        for name in ("ip", "cum_ip"):
            kinds = {kind: n for kind, n in getattr(self, name).items() if n}
            if kinds:
                out[name] = kinds
        return out

    @classmethod
    def from_json(cls, data: dict) -> Figures:
        """The figures `to_json` stored (a figure it left out is zero; snapshots written before
        it left zeros out hold them all). A closed quarter of the province reads some 360 of
        these, so every field is set here in one go, as `__init__` would set it (setting them
        one by one after `__init__` had set every default took twice as long)."""
        values = {**_STORED_ZEROS, "ip": dict(_NO_IP), "cum_ip": dict(_NO_IP)}
        for name, value in data.items():
            if name in _MONEY:
                values[name] = Decimal(value)
            elif name == "ip" or name == "cum_ip":
                values[name].update(value)
            else:
                values[name] = value
        f = cls.__new__(cls)
        f.__dict__ = values
        return f

    def copy(self) -> Figures:
        """An independent copy (its IP counts too), made without `__init__`."""
        f = Figures.__new__(Figures)
        values = dict(self.__dict__)
        values["ip"], values["cum_ip"] = dict(self.ip), dict(self.cum_ip)
        f.__dict__ = values
        return f

    @property
    def patents(self) -> int:
        return ip_split(self.ip)[0]

    @property
    def cum_patents(self) -> int:
        return ip_split(self.cum_ip)[0]

    @property
    def trademarks(self) -> int:
        return self.ip["trademark"]

    @property
    def cum_trademarks(self) -> int:
        return self.cum_ip["trademark"]

    @property
    def rights(self) -> int:
        """IP rights pledged by the loans accepted in the period, of every kind."""
        return sum(self.ip.values())

    @property
    def other_ip(self) -> int:
        return ip_split(self.ip)[2]

    @property
    def cum_other_ip(self) -> int:
        return ip_split(self.cum_ip)[2]

    @property
    def npl_ratio(self) -> Decimal | None:
        return ratio_percent(self.non_performing_amount, self.covered_outstanding)

    @property
    def exposure(self) -> Decimal:
        return quantize(self.exposure_exact)

    @property
    def leverage(self) -> Decimal | None:
        return None if self.capital is None else leverage_of(self.covered_outstanding, self.capital)

    @property
    def capacity(self) -> Decimal | None:
        if self.capital is None or self.leverage_limit is None:
            return None
        return quantize(self.capital * self.leverage_limit)


_PATENT_KINDS = frozenset(PATENT_KINDS)


def ip_split(ip: dict[str, int]) -> tuple[int, int, int]:
    """(patents, trademarks, other rights) of IP counts by kind: the regulators' three
    columns, which add up to every right counted."""
    patents = trademarks = other = 0
    for kind, n in ip.items():
        if kind in _PATENT_KINDS:
            patents += n
        elif kind == "trademark":
            trademarks += n
        else:
            other += n
    return patents, trademarks, other


_NOT_ADDITIVE = {"enterprises_served", "cum_enterprises_served", "balance", "capital", "leverage_limit"}
_DECIMALS = tuple(
    f.name
    for f in dataclass_fields(Figures)
    if isinstance(f.default, Decimal) and f.name not in _NOT_ADDITIVE
)
_COUNTS = tuple(f.name for f in dataclass_fields(Figures) if type(f.default) is int)
_ADDITIVE = tuple(name for name in (*_DECIMALS, *_COUNTS) if name not in _NOT_ADDITIVE)
_CUMULATIVE = tuple(name for name in (*_DECIMALS, *_COUNTS) if name.startswith("cum_"))
_NO_IP = dict.fromkeys(IP_KINDS, 0)
# The fields a snapshot does not keep (the ledger's, set when the report is read): None by
# default, which `from_json` shares between instances (a mutable default could not be shared).
_NOT_STORED = {
    f.name: f.default
    for f in dataclass_fields(Figures)
    if f.name not in {*_DECIMALS, *_COUNTS, "ip", "cum_ip"}
}
assert all(value is None for value in _NOT_STORED.values()), _NOT_STORED
_MONEY = frozenset(_DECIMALS)
_STORED = (*_DECIMALS, *_COUNTS)  # the figures a snapshot keeps (with the IP counts by kind)
# Every field but the IP counts as a snapshot that does not mention it reads: its default (zero;
# the ledger's fields None).
_STORED_ZEROS = {
    **{f.name: f.default for f in dataclass_fields(Figures) if f.name in _STORED},
    **_NOT_STORED,
}


def leverage_of(covered_outstanding: Decimal, capital: Decimal) -> Decimal | None:
    """Actual leverage (放大倍数): covered outstanding ÷ capital, two decimals, half-up."""
    if capital <= 0:
        return None
    return (covered_outstanding / capital).quantize(FEN, rounding=ROUND_HALF_UP)


def ratio_percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole in percent, two decimals, half-up; None when there is no whole."""
    if not whole:
        return None
    return (part * HUNDRED / whole).quantize(FEN, rounding=ROUND_HALF_UP)


# --- the loan book as at a day ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Position:
    """One covered loan in the book on a day."""

    filing_id: int
    fund_id: int
    institution_id: int
    region_code: str
    reference: str
    contract_no: str
    enterprise_name: str
    accepted_on: dt.date
    principal: Decimal
    covered_outstanding: Decimal
    loan_class: str  # performing | overdue | non_performing
    fund_share: Decimal

    def key(self, dimension: str) -> Key:
        if dimension == FUND:
            return (self.fund_id,)
        if dimension == DISTRICT:
            return (self.fund_id, self.region_code)
        return (self.fund_id, self.institution_id)


_CLASS_OF_STATUS = {
    LoanStatus.PERFORMING: LoanStatus.PERFORMING,
    LoanStatus.OVERDUE: LoanStatus.OVERDUE,
    **{s: LoanStatus.NON_PERFORMING for s in NON_PERFORMING_STATUSES},
}

_POSITION_FIELDS = (
    "pk",
    "fund_id",
    "institution_id",
    "enterprise__region_code",
    "reference",
    "contract_no",
    "enterprise__name",
    "accepted_on",
    "principal",
    "fund_share",
)


def loan_book(*, fund_ids: Sequence[int], on: dt.date, today: dt.date) -> list[Position]:
    """The covered loans in the book at the end of `on`, in one query (see the module doc)."""
    accepted = LoanFiling.objects.filter(fund_id__in=fund_ids, status=FilingStatus.ACCEPTED)
    if on >= today:
        rows = accepted.filter(loan_status__in=LIVE_LOAN_STATUSES).values_list(
            *_POSITION_FIELDS, "covered_outstanding", "loan_status"
        )
        return [
            _position(row[:10], covered=row[10], loan_class=_CLASS_OF_STATUS[row[11]])
            for row in rows.order_by("fund_id", "accepted_on", "pk")
        ]
    latest = StatusReport.objects.filter(filing=OuterRef("pk"), is_current=True, as_of__lte=on).order_by(
        "-as_of"
    )
    claim_filed = (
        Claim.objects.filter(filing=OuterRef("pk"), submitted_on__lte=on)
        .order_by("-submitted_on")
        .values("submitted_on")[:1]
    )
    rows = (
        accepted.filter(accepted_on__lte=on)
        .exclude(settled_on__lte=on)
        .exclude(Exists(Claim.objects.filter(filing=OuterRef("pk"), paid_on__lte=on)))
        .annotate(
            reported_outstanding=Subquery(latest.values("outstanding_principal")[:1]),
            reported_status=Subquery(latest.values("loan_status_after")[:1]),
            reported_as_of=Subquery(latest.values("as_of")[:1]),
            claim_filed_on=Subquery(claim_filed),
        )
        .values_list(
            *_POSITION_FIELDS,
            "covered_principal",
            "reported_outstanding",
            "reported_status",
            "reported_as_of",
            "claim_filed_on",
        )
        .order_by("fund_id", "accepted_on", "pk")
    )
    book = []
    for row in rows:
        principal = row[8]
        covered_principal, outstanding, status, reported_on, claim_on = row[10:]
        if claim_on is not None and (reported_on is None or reported_on < claim_on):
            loan_class = LoanStatus.NON_PERFORMING  # a claim is only filed on a loan that went bad
        elif status:
            loan_class = _CLASS_OF_STATUS.get(status, LoanStatus.PERFORMING)
        else:
            loan_class = LoanStatus.PERFORMING
        # The same proportion the monthly report applies to the live loan (loans.services.servicing).
        covered = (
            covered_principal
            if outstanding is None
            else quantize(outstanding * covered_principal / principal)
        )
        book.append(_position(row[:10], covered=covered, loan_class=loan_class))
    return book


def _position(row: tuple, *, covered: Decimal, loan_class: str) -> Position:
    pk, fund_id, institution_id, region, reference, contract_no, name, accepted_on, principal, share = row
    return Position(
        filing_id=pk,
        fund_id=fund_id,
        institution_id=institution_id,
        region_code=region,
        reference=reference,
        contract_no=contract_no,
        enterprise_name=name,
        accepted_on=accepted_on,
        principal=principal,
        covered_outstanding=covered,
        loan_class=str(loan_class),
        fund_share=share if share is not None else ZERO,
    )


# --- grouped flows --------------------------------------------------------------------------


def _prefixed(prefix: str, keys: Iterable[str]) -> list[str]:
    return [f"{prefix}{k}" for k in keys]


def _key(row: dict, fields: Sequence[str]) -> Key:
    return tuple(row[f] for f in fields)


def _in(period: Period, name: str) -> Q:
    return Q(**{f"{name}__gte": period.start, f"{name}__lte": period.as_of})


def _flows(
    figures: dict[Key, Figures], *, fund_ids: Sequence[int], period: Period, since: dt.date | None = None
) -> None:
    """The period's flows and the cumulative ones, per cell (distinct enterprises: `_served`).

    With `since`, the cumulative figures count only what happened after that day (to be added
    to figures kept as at `since`), so no query reads further back than the period or `since`."""
    keys = _CELL
    as_of = period.as_of
    low = None if since is None else min(since, period.start - dt.timedelta(days=1))

    def at(key: Key) -> Figures:
        if key not in figures:
            figures[key] = Figures()
        return figures[key]

    def window(name: str) -> Q:  # the rows any figure needs: up to as_of, after `low`
        q = Q(**{f"{name}__lte": as_of})
        return q if low is None else q & Q(**{f"{name}__gt": low})

    def cum(name: str) -> Q:  # the rows of the cumulative figures
        return Q() if since is None else Q(**{f"{name}__gt": since})

    in_period = _in(period, "accepted_on")
    accepted = (
        LoanFiling.objects.filter(fund_id__in=fund_ids, status=FilingStatus.ACCEPTED)
        .filter(window("accepted_on"))
        .values(*keys)
        .annotate(
            n=Count("pk", filter=in_period),
            amount=Coalesce(Sum("principal", filter=in_period), ZERO),
            covered=Coalesce(Sum("covered_principal", filter=in_period), ZERO),
            cum_n=Count("pk", filter=cum("accepted_on")),
            cum_amount=Coalesce(Sum("principal", filter=cum("accepted_on")), ZERO),
        )
        .order_by()
    )
    for row in accepted:
        f = at(_key(row, keys))
        f.accepted, f.accepted_amount, f.accepted_covered = row["n"], row["amount"], row["covered"]
        f.cum_accepted, f.cum_accepted_amount = row["cum_n"], row["cum_amount"]

    for key, kinds in _pledged(fund_ids=fund_ids, period=period, low=low, since=since):
        f = at(key)
        f.patent_projects, f.patent_amount, f.trademark_projects, f.trademark_amount = kinds[:4]
        for n, kind in enumerate(IP_KINDS):
            f.ip[kind], f.cum_ip[kind] = kinds[4 + 2 * n], kinds[5 + 2 * n]

    received_period = _in(period, "submitted_on")
    received = (
        LoanFiling.objects.filter(fund_id__in=fund_ids)
        .filter(received_period)
        .values(*keys)
        .annotate(n=Count("pk"), amount=Coalesce(Sum("principal"), ZERO))
        .order_by()
    )
    for row in received:
        f = at(_key(row, keys))
        f.received, f.received_amount = row["n"], row["amount"]

    ent_keys = _ENTERPRISE_CELL
    admitted = (
        Enterprise.objects.filter(fund_id__in=fund_ids)
        .filter(window("admitted_on"))
        .values(*ent_keys)
        .annotate(
            new=Count("pk", filter=_in(period, "admitted_on")), cum=Count("pk", filter=cum("admitted_on"))
        )
        .order_by()
    )
    for row in admitted:
        f = at(_key(row, ent_keys))  # institution None: a staff application, no bank to attribute it to
        f.new_enterprises, f.cum_admitted_enterprises = row["new"], row["cum"]

    claim_keys = _prefixed("filing__", keys)
    filed, paid, approved = _in(period, "submitted_on"), _in(period, "paid_on"), _in(period, "approved_on")
    cum_paid = Q(paid_on__lte=as_of) & cum("paid_on")
    claims = (
        Claim.objects.filter(fund_id__in=fund_ids)
        .values(*claim_keys)
        .annotate(
            x_filed=Count("pk", filter=filed),
            x_filed_amount=Coalesce(Sum("claimable_amount", filter=filed), ZERO),
            x_approved=Count("pk", filter=approved),
            x_approved_amount=Coalesce(Sum("approved_amount", filter=approved), ZERO),
            x_paid=Count("pk", filter=paid),
            x_paid_amount=Coalesce(Sum("paid_amount", filter=paid), ZERO),
            x_cum_paid=Count("pk", filter=cum_paid),
            x_cum_paid_amount=Coalesce(Sum("paid_amount", filter=cum_paid), ZERO),
        )
        .order_by()
    )
    for row in claims:
        if not (row["x_filed"] or row["x_approved"] or row["x_cum_paid"]):
            continue
        f = at(_key(row, claim_keys))
        f.claims_filed, f.claims_filed_amount = row["x_filed"], row["x_filed_amount"]
        f.claims_approved, f.claims_approved_amount = row["x_approved"], row["x_approved_amount"]
        f.claims_paid, f.claims_paid_amount = row["x_paid"], row["x_paid_amount"]
        f.cum_claims_paid, f.cum_claims_paid_amount = row["x_cum_paid"], row["x_cum_paid_amount"]

    recovery_keys = _prefixed("claim__filing__", keys)
    returned = _in(period, "returned_on")
    recoveries = (
        Recovery.objects.filter(claim__fund_id__in=fund_ids)
        .filter(window("returned_on"))
        .values(*recovery_keys)
        .annotate(
            n=Count("pk", filter=returned),
            amount=Coalesce(Sum("fund_amount", filter=returned), ZERO),
            cum_amount=Coalesce(Sum("fund_amount", filter=cum("returned_on")), ZERO),
        )
        .order_by()
    )
    for row in recoveries:
        f = at(_key(row, recovery_keys))
        f.recoveries_returned, f.recoveries_returned_amount = row["n"], row["amount"]
        f.cum_recoveries_returned_amount = row["cum_amount"]


def _pledged(
    *, fund_ids: Sequence[int], period: Period, low: dt.date | None, since: dt.date | None
) -> list[tuple[Key, tuple]]:
    """Per cell, from the pledges of the loans accepted in the window: (patent projects, patent
    amount, trademark projects, trademark amount — for the period's loans), then for each IP
    kind the rights pledged in the period and cumulatively (after `since`, if given).

    A loan counts in the patent table if it pledges any patent, in the trademark table if it
    pledges any trademark. One grouped query in two steps, in SQL: each loan with its flags and
    counts by kind (from its pledges), then the cells; the ORM cannot aggregate over an
    aggregate, and asking each loan with EXISTS was several times slower at province scale."""
    if not fund_ids:
        return []
    filing, enterprise = LoanFiling._meta.db_table, Enterprise._meta.db_table
    pledge, asset = Pledge._meta.db_table, IPAsset._meta.db_table
    funds = ", ".join(["%s"] * len(fund_ids))
    patents = ", ".join(["%s"] * len(PATENT_KINDS))
    count_kinds = ", ".join(
        f"SUM(CASE WHEN a.kind = %s THEN 1 ELSE 0 END) AS n{i}" for i in range(len(IP_KINDS))
    )
    sum_kinds = ", ".join(
        f"SUM(CASE WHEN in_period = 1 THEN n{i} ELSE 0 END), SUM(CASE WHEN cum = 1 THEN n{i} ELSE 0 END)"
        for i in range(len(IP_KINDS))
    )
    window = "" if low is None else "AND f.accepted_on > %s"
    cum = "1" if since is None else "CASE WHEN f.accepted_on > %s THEN 1 ELSE 0 END"
    sql = f"""
        SELECT k0, k1, k2,
               SUM(in_period * has_patent), SUM(CASE WHEN in_period * has_patent = 1 THEN fen ELSE 0 END),
               SUM(in_period * has_trademark), SUM(CASE WHEN in_period * has_trademark = 1 THEN fen ELSE 0 END),
               {sum_kinds}
        FROM (
            SELECT f.id, f.fund_id AS k0, e.region_code AS k1, f.institution_id AS k2,
                   ROUND(f.principal * 100) AS fen,
                   CASE WHEN f.accepted_on >= %s THEN 1 ELSE 0 END AS in_period,
                   {cum} AS cum,
                   MAX(CASE WHEN a.kind IN ({patents}) THEN 1 ELSE 0 END) AS has_patent,
                   MAX(CASE WHEN a.kind = %s THEN 1 ELSE 0 END) AS has_trademark,
                   {count_kinds}
            FROM {filing} f
            JOIN {enterprise} e ON e.id = f.enterprise_id
            JOIN {pledge} p ON p.filing_id = f.id
            JOIN {asset} a ON a.id = p.ip_asset_id
            WHERE f.fund_id IN ({funds}) AND f.status = %s AND f.accepted_on <= %s {window}
            GROUP BY f.id, f.fund_id, e.region_code, f.institution_id, f.principal, f.accepted_on
        ) loans
        GROUP BY k0, k1, k2
    """
    params: list = [period.start]
    if since is not None:
        params.append(since)
    params += [*PATENT_KINDS, "trademark", *IP_KINDS, *fund_ids, FilingStatus.ACCEPTED, period.as_of]
    if low is not None:
        params.append(low)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out = []
    for k0, k1, k2, p_n, p_fen, t_n, t_fen, *kinds in rows:
        out.append(
            (
                (k0, k1, k2),
                (int(p_n or 0), _yuan(p_fen), int(t_n or 0), _yuan(t_fen), *(int(n or 0) for n in kinds)),
            )
        )
    return out


def _served(
    *, fund_ids: Sequence[int], period: Period, since: dt.date | None = None
) -> tuple[dict[Key, tuple[int, int]], dict[Key, tuple[int, int]]]:
    """Distinct enterprises served (in the period, from inception), per cell and per district.

    Distinct counts do not add up across banks (one firm may borrow from two), so the district
    figure is counted on its own; they do add up across districts (a firm has one district),
    so the institution and fund figures are sums of these. With `since`, the cumulative count
    is of the enterprises served after that day for the first time in the group.

    One query: each (cell, enterprise) with a loan in the window, whether it had one in the
    period, after `since`, and (with `since`) before it in the same bank or the same fund."""
    if not fund_ids:
        return {}, {}
    filing, enterprise = LoanFiling._meta.db_table, Enterprise._meta.db_table
    funds = ", ".join(["%s"] * len(fund_ids))
    low = period.start if since is None else min(since + dt.timedelta(days=1), period.start)
    if since is None:
        earlier = "0, 0"
        after = "1"
        params: list = [period.start]
    else:
        before = (
            f"SELECT 1 FROM {filing} g WHERE g.enterprise_id = f.enterprise_id AND g.fund_id = f.fund_id"
            " AND g.status = %s AND g.accepted_on <= %s"
        )
        earlier = (
            f"CASE WHEN EXISTS ({before} AND g.institution_id = f.institution_id) THEN 1 ELSE 0 END, "
            f"CASE WHEN EXISTS ({before}) THEN 1 ELSE 0 END"
        )
        after = "MAX(CASE WHEN f.accepted_on > %s THEN 1 ELSE 0 END)"
        params = [period.start, since, FilingStatus.ACCEPTED, since, FilingStatus.ACCEPTED, since]
    window = "" if since is None else "AND f.accepted_on >= %s"
    sql = f"""
        SELECT f.fund_id, e.region_code, f.institution_id, f.enterprise_id,
               MAX(CASE WHEN f.accepted_on >= %s THEN 1 ELSE 0 END), {after}, {earlier}
        FROM {filing} f JOIN {enterprise} e ON e.id = f.enterprise_id
        WHERE f.fund_id IN ({funds}) AND f.status = %s AND f.accepted_on <= %s {window}
        GROUP BY f.fund_id, e.region_code, f.institution_id, f.enterprise_id
    """
    params += [*fund_ids, FilingStatus.ACCEPTED, period.as_of]
    if since is not None:
        params.append(low)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    cells: dict[Key, list[int]] = {}
    district_period: set[tuple] = set()
    district_new: set[tuple] = set()
    for fund_id, region, institution_id, enterprise_id, in_period, is_after, in_bank, in_fund in rows:
        counts = cells.setdefault((fund_id, region, institution_id), [0, 0])
        counts[0] += in_period
        counts[1] += 1 if is_after and not in_bank else 0
        if in_period:
            district_period.add((fund_id, region, enterprise_id))
        if is_after and not in_fund:
            district_new.add((fund_id, region, enterprise_id))
    districts: dict[Key, list[int]] = {}
    for n, seen in ((0, district_period), (1, district_new)):
        for fund_id, region, _enterprise in seen:
            districts.setdefault((fund_id, region), [0, 0])[n] += 1
    return (
        {key: (a, b) for key, (a, b) in cells.items()},
        {key: (a, b) for key, (a, b) in districts.items()},
    )


def _live_book(figures: dict[Key, Figures], *, fund_ids: Sequence[int]) -> None:
    """Today's covered book per cell: the figures the loans app keeps as loans change
    (`loans.BookCell`), so no loan is read."""
    rows = BookCell.objects.filter(fund_id__in=fund_ids, loans__gt=0).values_list(
        "fund_id",
        "region_code",
        "institution_id",
        "loans",
        "covered_outstanding",
        "exposure_exact",
        "overdue_loans",
        "overdue_amount",
        "npl_loans",
        "npl_amount",
    )
    for fund_id, region, institution_id, n, covered, exposure, od_n, od_amount, npl_n, npl_amount in rows:
        key = (fund_id, region, institution_id)
        f = figures.get(key)
        if f is None:
            f = figures[key] = Figures()
        f.covered_loans += n
        f.covered_outstanding += covered
        f.exposure_exact += exposure
        f.overdue_loans += od_n
        f.overdue_amount += od_amount
        f.non_performing_loans += npl_n
        f.non_performing_amount += npl_amount


def _yuan(fen) -> Decimal:
    """Whole fen summed in SQL (exact on SQLite's floats as on PostgreSQL) → yuan."""
    return quantize(Decimal(int(round(fen or 0))) / HUNDRED)


def _past_book(figures: dict[Key, Figures], *, book: Iterable[Position]) -> None:
    """The covered book per cell from positions rebuilt for a past day (`loan_book`)."""
    for p in book:
        key = (p.fund_id, p.region_code, p.institution_id)
        f = figures.get(key)
        if f is None:
            f = figures[key] = Figures()
        f.covered_loans += 1
        f.covered_outstanding += p.covered_outstanding
        f.exposure_exact += p.covered_outstanding * p.fund_share / HUNDRED
        if p.loan_class == LoanStatus.OVERDUE:
            f.overdue_loans += 1
            f.overdue_amount += p.covered_outstanding
        elif p.loan_class == LoanStatus.NON_PERFORMING:
            f.non_performing_loans += 1
            f.non_performing_amount += p.covered_outstanding


def _rollup(
    cells: dict[Key, Figures],
    *,
    served: tuple[dict[Key, tuple[int, int]], dict[Key, tuple[int, int]]],
    fund_ids: Sequence[int],
    dimensions: Sequence[str],
) -> dict[str, dict[Key, Figures]]:
    """Cells → the figures of each dimension. Every fund gets a FUND row, activity or not."""
    out: dict[str, dict[Key, Figures]] = {d: {} for d in dimensions}
    if FUND in out:
        out[FUND] = {(fid,): Figures() for fid in fund_ids}

    def add(dimension: str, key: Key, f: Figures) -> None:
        target = out[dimension].get(key)
        if target is None:
            target = out[dimension][key] = Figures()
        target.add(f)

    for (fund_id, region, institution_id), f in cells.items():
        if FUND in out:
            add(FUND, (fund_id,), f)
        if DISTRICT in out:
            add(DISTRICT, (fund_id, region), f)
        if INSTITUTION in out and institution_id is not None:
            add(INSTITUTION, (fund_id, institution_id), f)
    by_cell, by_district = served
    for (fund_id, _region, institution_id), (n, cum) in by_cell.items():
        f = out.get(INSTITUTION, {}).get((fund_id, institution_id))
        if f is not None:
            f.enterprises_served += n
            f.cum_enterprises_served += cum
    for (fund_id, region), (n, cum) in by_district.items():
        for dimension, key in ((DISTRICT, (fund_id, region)), (FUND, (fund_id,))):
            f = out.get(dimension, {}).get(key)
            if f is not None:
                f.enterprises_served += n
                f.cum_enterprises_served += cum
    return out


def computed_figures(
    *,
    fund_ids: Sequence[int],
    period: Period,
    today: dt.date,
    book: list[Position] | None = None,
    since: dt.date | None = None,
) -> dict[str, dict[Key, Figures]]:
    """Every dimension's figures computed from the books (no snapshot, no ledger fields):
    one pass per kind of record over fund × district × institution, then rolled up. With
    `since`, cumulative figures count only what came after that day (see `_flows`)."""
    cells: dict[Key, Figures] = {}
    _flows(cells, fund_ids=fund_ids, period=period, since=since)
    if book is not None:
        _past_book(cells, book=book)
    elif period.as_of >= today:
        _live_book(cells, fund_ids=fund_ids)
    else:
        _past_book(cells, book=loan_book(fund_ids=fund_ids, on=period.as_of, today=today))
    served = _served(fund_ids=fund_ids, period=period, since=since)
    return _rollup(cells, served=served, fund_ids=fund_ids, dimensions=DIMENSIONS)


def _plus_cumulative(
    delta: dict[str, dict[Key, Figures]], kept: Iterable[dict[str, dict[Key, Figures]]]
) -> dict[str, dict[Key, Figures]]:
    """Add the cumulative figures kept at a month end to those counted since (`since`)."""
    for per_fund in kept:
        for dimension, groups in per_fund.items():
            target = delta.setdefault(dimension, {})
            for key, f in groups.items():
                into = target.get(key)
                if into is None:
                    into = target[key] = Figures()
                into.add_cumulative(f)
    return delta


def is_closed(period: Period, today: dt.date) -> bool:
    """A period over before today: its figures no longer change unless a dated record is
    corrected, so they may be kept (snapshots)."""
    return period.end < today


# The snapshot rows this process has read, parsed, by row id and the time it was written (the
# time too: SQLite gives an id again after a rollback; as text: parsing some 370 timestamps
# cost more than the rest of the key). A row is written once
# and never changed: a correction deletes the period's rows and writes new ones, with new ids
# (PostgreSQL refuses an UPDATE of a row: migration 0005); so a row read again is taken from
# here instead of being fetched and parsed again. Writing or deleting rows through the services
# forgets them all; a row deleted elsewhere is no longer listed and so no longer read.
_PARSED: dict[tuple, Figures] = {}
_PARSED_LIMIT = 10_000  # rows (some 2 KB each): two years of months, quarters and years, province-wide


def snapshots_forget() -> None:
    """Forget the snapshot rows read so far (the services call this when they write or delete)."""
    _PARSED.clear()


def _parse_snapshots(ids: list[int]) -> dict[tuple, Figures]:
    """The figures of the snapshot rows `ids`, by (row id, written at), in one statement."""
    if not ids:
        return {}
    in_ids, params = rawsql.in_list("id", ids)
    rows = rawsql.rows(
        f"SELECT id, CAST(written_at AS TEXT), figures FROM {FigureSnapshot._meta.db_table} WHERE {in_ids}",
        params,
    )
    # Parsed in one go rather than row by row: the decoder then makes each key once.
    parsed = json.loads("[" + ",".join(text for _id, _written, text in rows) + "]")
    return {
        (row_id, written): Figures.from_json(data)
        for (row_id, written, _), data in zip(rows, parsed, strict=True)
    }


def snapshot_figures(*, fund_ids: Sequence[int], period: Period) -> dict[int, dict[str, dict[Key, Figures]]]:
    """Stored figures of a closed period, per fund that has them (see `FigureSnapshot`). Each
    call returns figures of its own, which the caller may change."""
    out: dict[int, dict[str, dict[Key, Figures]]] = {}
    if not fund_ids:
        return out
    # The period's rows, listed in one plain statement; their figures are fetched and parsed
    # only for the rows not read before (a closed quarter of the province has some 370 rows).
    in_funds, params = rawsql.in_list("fund_id", fund_ids)
    listed = rawsql.rows(
        f"""SELECT id, CAST(written_at AS TEXT), fund_id, dimension, "group"
            FROM {FigureSnapshot._meta.db_table}
            WHERE {in_funds} AND period_start = %s AND period_end = %s""",
        [*params, period.start, period.end],
    )
    # What this call uses is kept here, apart from `_PARSED`, which another thread may clear.
    known = {(row_id, written): _PARSED.get((row_id, written)) for row_id, written, *_ in listed}
    unread = [row_id for (row_id, _written), figures in known.items() if figures is None]
    fresh = _parse_snapshots(unread)
    if len(fresh) < len(unread):  # rows replaced between the two statements: list them again
        return snapshot_figures(fund_ids=fund_ids, period=period)
    known.update(fresh)
    if len(_PARSED) + len(fresh) > _PARSED_LIMIT:
        _PARSED.clear()  # a crude bound: a process that reads every kept period parses again
    _PARSED.update(fresh)
    for row_id, written, fund_id, dimension, group in listed:
        per_fund = out.get(fund_id)
        if per_fund is None:
            per_fund = out[fund_id] = {d: {} for d in DIMENSIONS}
        if dimension == FUND:
            key: Key = (fund_id,)
        elif dimension == DISTRICT:
            key = (fund_id, group)
        else:
            key = (fund_id, int(group))
        per_fund[dimension][key] = known[row_id, written].copy()
    return out


@dataclass(frozen=True)
class LedgerSummary:
    opening_balance: Decimal
    movements: dict[str, Decimal]  # entry type → signed sum in the period
    closing_balance: Decimal
    capital: Decimal  # contributions less refunds, as at the period's end


def ledger_summaries(*, fund_ids: Sequence[int], period: Period) -> dict[int, LedgerSummary]:
    """Opening balance, movements by type and closing balance per fund, in one plain statement:
    the sums per fund and entry type up to the period's end and before its start, added up here
    (one filtered sum per figure and type took several times longer to build than to run)."""
    if not fund_ids:
        return {}
    amount = columns(LedgerEntry, "e", ["amount", "amount"])  # read back as the ORM reads them
    in_funds, params = rawsql.in_list("e.fund_id", fund_ids)
    rows = rawsql.rows(
        f"""SELECT e.fund_id, e.entry_type, SUM(e.amount),
                   SUM(CASE WHEN e.value_date < %s THEN e.amount END)
            FROM {LedgerEntry._meta.db_table} e
            WHERE {in_funds} AND e.value_date <= %s
            GROUP BY e.fund_id, e.entry_type""",
        [period.start, *params, period.as_of],
    )
    rows = [(fund_id, entry_type, *amount.values(sums)) for fund_id, entry_type, *sums in rows]
    sums: dict[int, dict[str, tuple[Decimal, Decimal]]] = {fid: {} for fid in fund_ids}
    for fund_id, entry_type, total, before in rows:
        sums[fund_id][entry_type] = (total, ZERO if before is None else before)
    entry_types = EntryType.values  # built anew on every read of the property
    out = {}
    for fund_id, by_type in sums.items():
        in_period = {t: total - before for t, (total, before) in by_type.items()}
        out[fund_id] = LedgerSummary(
            opening_balance=sum((before for _total, before in by_type.values()), ZERO),
            movements={t: in_period.get(t, ZERO) for t in entry_types},
            closing_balance=sum((total for total, _before in by_type.values()), ZERO),
            capital=sum(
                (by_type[t][0] for t in (EntryType.CONTRIBUTION, EntryType.REFUND) if t in by_type), ZERO
            ),
        )
    return out


def report_figures(
    *,
    funds: Sequence[Fund],
    period: Period,
    today: dt.date,
    dimensions: Sequence[str] = DIMENSIONS,
    book: list[Position] | None = None,
) -> dict[str, dict[Key, Figures]]:
    """Figures for each requested dimension, keyed by the dimension's group key.

    A closed period reads the funds' snapshots where they exist (a few rows per fund); the
    other funds' figures are computed. Every fund gets a FUND row even when it has no
    activity, so a report lists every fund its reader may see.
    """
    fund_ids = [f.pk for f in funds]
    parts: list[dict[str, dict[Key, Figures]]] = []
    missing = fund_ids
    if book is None and is_closed(period, today):
        stored = snapshot_figures(fund_ids=fund_ids, period=period)
        parts.extend(stored.values())
        missing = [fid for fid in fund_ids if fid not in stored]
    elif book is None:
        # A running period: the cumulative figures as kept at the last month end, plus what
        # came after it; the period's own flows and today's book are small reads anyway.
        month_end = period.as_of.replace(day=1) - dt.timedelta(days=1)
        month = Period(start=month_end.replace(day=1), end=month_end, as_of=month_end)
        base = snapshot_figures(fund_ids=fund_ids, period=month)
        if base:
            ids = [fid for fid in fund_ids if fid in base]
            delta = computed_figures(fund_ids=ids, period=period, today=today, since=month_end)
            parts.append(_plus_cumulative(delta, base.values()))
            missing = [fid for fid in fund_ids if fid not in base]
    if missing:
        parts.append(computed_figures(fund_ids=missing, period=period, today=today, book=book))
    out: dict[str, dict[Key, Figures]] = {}
    for dimension in dimensions:
        figures: dict[Key, Figures] = {}
        for part in parts:
            figures.update(part.get(dimension, {}))
        out[dimension] = figures
    if FUND in out:
        # The balance and capital as at the period's end, and the leverage limit in force then.
        books = fund_figures(funds=funds, on=period.as_of, ledger_until=period.as_of)
        for fid in fund_ids:
            f, book = out[FUND][(fid,)], books[fid]
            f.balance, f.capital, f.leverage_limit = book.balance, book.capital, book.leverage_limit
    return out


# --- the fund dashboard ---------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineStep:
    status: str
    label: str
    count: int
    amount: Decimal  # paid for paid claims, approved once approved, claimable before


def claims_pipeline(*, fund_id: int) -> list[PipelineStep]:
    """Claims by step of their lifecycle, every step listed (zeros too), in one query."""
    paid_steps = (ClaimStatus.PAID, ClaimStatus.IN_RECOVERY, ClaimStatus.CLOSED, ClaimStatus.WRITTEN_OFF)
    rows = {
        row["status"]: row
        for row in Claim.objects.filter(fund_id=fund_id)
        .values("status")
        .annotate(
            n=Count("pk"),
            claimable=Coalesce(Sum("claimable_amount"), ZERO),
            approved=Coalesce(Sum("approved_amount"), ZERO),
            paid=Coalesce(Sum("paid_amount"), ZERO),
        )
        .order_by()
    }
    steps = []
    for status, label in ClaimStatus.choices:
        row = rows.get(status, {"n": 0, "claimable": ZERO, "approved": ZERO, "paid": ZERO})
        if status in paid_steps:
            amount = row["paid"]
        elif status == ClaimStatus.APPROVED:
            amount = row["approved"]
        else:
            amount = row["claimable"]
        steps.append(PipelineStep(status=status, label=str(label), count=row["n"], amount=amount))
    return steps


@dataclass(frozen=True)
class TrendPoint:
    month: str  # YYYY-MM
    accepted_amount: Decimal
    claims_paid_amount: Decimal
    balance: Decimal  # at the month's end (today for the running month)
    covered_outstanding: Decimal
    npl_ratio: Decimal | None


def _month_starts(today: dt.date, months: int) -> list[dt.date]:
    year, month = today.year, today.month
    starts = []
    for _ in range(months):
        starts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def monthly_trend(*, fund: Fund, today: dt.date, months: int = 12) -> list[TrendPoint]:
    """The last `months` months up to today: flows per month, stocks at each month's end.

    Flows and balances: three grouped queries. The loan book is rebuilt once per month end
    (one query each), since a past month's book needs that month's reports.
    """
    starts = _month_starts(today, months)
    first = starts[0]

    def per_month(qs, date_field: str, amount_field: str) -> dict[str, Decimal]:
        rows = (
            qs.filter(**{f"{date_field}__gte": first, f"{date_field}__lte": today})
            .annotate(m=TruncMonth(date_field))
            .values("m")
            .annotate(total=Coalesce(Sum(amount_field), ZERO))
            .order_by()
        )
        return {row["m"].strftime("%Y-%m"): row["total"] for row in rows}

    accepted = per_month(
        LoanFiling.objects.filter(fund=fund, status=FilingStatus.ACCEPTED), "accepted_on", "principal"
    )
    paid = per_month(Claim.objects.filter(fund=fund), "paid_on", "paid_amount")
    movements = per_month(LedgerEntry.objects.filter(fund=fund), "value_date", "amount")
    balance = LedgerEntry.objects.filter(fund=fund, value_date__lt=first).aggregate(
        total=Coalesce(Sum("amount"), ZERO)
    )["total"]
    points = []
    for start in starts:
        key = start.strftime("%Y-%m")
        end = min(_month_end(start), today)
        balance += movements.get(key, ZERO)
        book = loan_book(fund_ids=[fund.pk], on=end, today=today)
        outstanding = sum((p.covered_outstanding for p in book), ZERO)
        npl = sum((p.covered_outstanding for p in book if p.loan_class == LoanStatus.NON_PERFORMING), ZERO)
        points.append(
            TrendPoint(
                month=key,
                accepted_amount=accepted.get(key, ZERO),
                claims_paid_amount=paid.get(key, ZERO),
                balance=balance,
                covered_outstanding=outstanding,
                npl_ratio=ratio_percent(npl, outstanding),
            )
        )
    return points


def _month_end(start: dt.date) -> dt.date:
    nxt = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


# --- outreach: the matching funnel and the events (投融对接、政策宣传) -----------------------------


@dataclass
class NeedFunnel:
    """The financing needs registered in a period, each counted at the furthest step it had
    reached by the period's end (`Period.as_of`): registered ⊇ with a bank's interest ⊇ filed
    ⊇ accepted. A filing that names a need counts as its bank's interest. Money in yuan."""

    needs: int = 0
    needs_amount: Decimal = ZERO
    interested: int = 0
    filed: int = 0
    accepted: int = 0
    accepted_amount: Decimal = ZERO  # principal of the accepted loans that answer these needs


@dataclass
class EventFigures:
    """The events held in a period, of one kind: participants (enterprises and institutions
    recorded on each event, summed over events), attendance and online viewers, the signings
    made there, and those realised by the period's end (the signing bank's accepted loan
    naming the signing's need) with the loans' principal. Money in yuan."""

    events: int = 0
    enterprises: int = 0
    institutions: int = 0
    attendance: int = 0
    online_viewers: int = 0
    signings: int = 0
    signed_amount: Decimal = ZERO
    realised: int = 0
    realised_amount: Decimal = ZERO


# The outreach figures are small grouped reads, each written in SQL: built with the ORM, their
# subqueries took several times longer to put together than the database took to answer.
# Money is summed in whole fen (`_yuan`), exact on SQLite as on PostgreSQL.


def need_funnel(*, fund_ids: Sequence[int], period: Period) -> dict[int, NeedFunnel]:
    """Per fund, in one query (every fund listed, zeros too): each need of the period with the
    steps it had reached by the cutoff, then per fund. A filing that names the need counts as
    its bank's interest."""
    out = {fid: NeedFunnel() for fid in fund_ids}
    if not fund_ids:
        return out
    need, interest = FinancingNeed._meta.db_table, NeedInterest._meta.db_table
    filing = LoanFiling._meta.db_table
    in_funds, funds = rawsql.in_list("n.fund_id", fund_ids)
    sql = f"""
        SELECT fund_id, COUNT(*), SUM(fen),
               SUM(CASE WHEN has_interest = 1 OR filed = 1 THEN 1 ELSE 0 END), SUM(filed),
               SUM(CASE WHEN accepted_fen IS NULL THEN 0 ELSE 1 END), SUM(accepted_fen)
        FROM (
            SELECT n.fund_id, ROUND(n.amount * 100) AS fen,
                   CASE WHEN EXISTS (
                       SELECT 1 FROM {interest} i WHERE i.need_id = n.id AND i.expressed_on <= %s
                   ) THEN 1 ELSE 0 END AS has_interest,
                   CASE WHEN EXISTS (
                       SELECT 1 FROM {filing} f WHERE f.financing_need_id = n.id AND f.submitted_on <= %s
                   ) THEN 1 ELSE 0 END AS filed,
                   (
                       SELECT SUM(ROUND(f.principal * 100)) FROM {filing} f
                       WHERE f.financing_need_id = n.id AND f.status = %s AND f.accepted_on <= %s
                   ) AS accepted_fen
            FROM {need} n
            WHERE {in_funds} AND n.registered_on >= %s AND n.registered_on <= %s
        ) needs
        GROUP BY fund_id
    """
    cutoff = period.as_of
    params = [cutoff, cutoff, FilingStatus.ACCEPTED, cutoff, *funds, period.start, cutoff]
    for fund_id, needs, fen, interested, filed, accepted, accepted_fen in rawsql.rows(sql, params):
        f = out[fund_id]
        f.needs, f.needs_amount = needs, _yuan(fen)
        f.interested, f.filed = int(interested), int(filed)
        f.accepted, f.accepted_amount = int(accepted), _yuan(accepted_fen)
    return out


def event_figures(*, fund_ids: Sequence[int], period: Period) -> dict[tuple[int, str], EventFigures]:
    """Per fund and kind of event, in two queries (every fund × kind listed, zeros too): the
    events with their participants, and the signings made there with the loans realising them."""
    kinds = EventKind.values  # built anew on every read of the property
    out = {(fid, kind): EventFigures() for fid in fund_ids for kind in kinds}
    if not fund_ids:
        return out
    event, signing = OutreachEvent._meta.db_table, EventSigning._meta.db_table
    enterprises = OutreachEvent.enterprises.field.m2m_db_table()
    institutions = OutreachEvent.institutions.field.m2m_db_table()
    filing = LoanFiling._meta.db_table
    in_funds, funds = rawsql.in_list("e.fund_id", fund_ids)
    in_period = f"{in_funds} AND e.held_on >= %s AND e.held_on <= %s"
    cutoff = period.as_of
    events = f"""
        SELECT e.fund_id, e.kind, COUNT(*),
               SUM(COALESCE(e.attendance, 0)), SUM(COALESCE(e.online_viewers, 0)),
               SUM((SELECT COUNT(*) FROM {enterprises} x WHERE x.outreachevent_id = e.id)),
               SUM((SELECT COUNT(*) FROM {institutions} x WHERE x.outreachevent_id = e.id))
        FROM {event} e
        WHERE {in_period}
        GROUP BY e.fund_id, e.kind
    """
    for fund_id, kind, n, attendance, viewers, n_enterprises, n_institutions in rawsql.rows(
        events, [*funds, period.start, cutoff]
    ):
        f = out[(fund_id, kind)]
        f.events, f.attendance, f.online_viewers = n, int(attendance), int(viewers)
        f.enterprises, f.institutions = int(n_enterprises), int(n_institutions)
    # A signing is realised by the signing bank's accepted loans naming the signing's need.
    signings = f"""
        SELECT fund_id, kind, COUNT(*), SUM(fen),
               SUM(CASE WHEN realised_fen <> 0 THEN 1 ELSE 0 END), SUM(realised_fen)
        FROM (
            SELECT e.fund_id, e.kind, ROUND(s.intended_amount * 100) AS fen,
                   (
                       SELECT SUM(ROUND(f.principal * 100)) FROM {filing} f
                       WHERE f.financing_need_id = s.financing_need_id AND f.institution_id = s.institution_id
                         AND f.status = %s AND f.accepted_on <= %s
                   ) AS realised_fen
            FROM {signing} s JOIN {event} e ON e.id = s.event_id
            WHERE {in_period}
        ) signings
        GROUP BY fund_id, kind
    """
    for fund_id, kind, n, fen, realised, realised_fen in rawsql.rows(
        signings, [FilingStatus.ACCEPTED, cutoff, *funds, period.start, cutoff]
    ):
        f = out[(fund_id, kind)]
        f.signings, f.signed_amount = n, _yuan(fen)
        f.realised, f.realised_amount = int(realised), _yuan(realised_fen)
    return out
