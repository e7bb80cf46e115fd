"""What a forecast reads, for any number of funds in a fixed number of queries, as arrays.

- the live covered loans with their frozen shares, policy, maturity and latest risk class;
- the month-to-month transitions of every loan's current reports (all funds: the province);
- when each non-performing loan met its trigger (the first report of its latest bad run);
- claims: open ones (money about to leave), and paid ones with their recoveries (lags, rates);
- the ledger: balance, capital, compensation paid this year; the policies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, FloatField, Max, OuterRef, Q, Subquery, Sum, Value, Window
from django.db.models.functions import Cast, Coalesce, ExtractMonth, ExtractYear, Lead

from banks.models import CooperationAgreement
from fundmgr.ground.funds.models import EntryType, Fund, LedgerEntry, PolicyVersion
from fundmgr.ground.lib.money import ZERO
from loans.models import (
    CLOSED_CLAIM_STATUSES,
    COMMITTED_CLAIM_STATUSES,
    LIVE_LOAN_STATUSES,
    PAID_CLAIM_STATUSES,
    Claim,
    FilingStatus,
    LoanFiling,
    LoanStatus,
    Recovery,
    StatusReport,
)

from .rules import rollrates

# Transitions older than this many months are not counted: the book changes.
HISTORY_MONTHS = 36


def _fen(values) -> np.ndarray:
    """Yuan with two decimals, read as float8 (exact to the fen: every amount below 2⁵² fen
    — far beyond any loan — comes back from × 100 and rounding as the exact integer) → int64
    fen. Reading money as floats here saves building 300,000 Decimals for a province."""
    return np.rint(np.array(values, dtype=float) * 100).astype(np.int64)


_AS_FLOAT = {"output_field": FloatField()}


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


@dataclass(frozen=True)
class LoanBook:
    """Live covered loans (accepted, performing / overdue / non-performing / in a claim), one
    row each, ordered by id."""

    id: np.ndarray
    fund_id: np.ndarray
    enterprise_id: np.ndarray
    institution_id: np.ndarray
    region_code: np.ndarray  # str (object)
    principal: np.ndarray  # fen
    covered_principal: np.ndarray
    outstanding: np.ndarray
    covered_outstanding: np.ndarray
    share_bp: np.ndarray  # frozen fund share, hundredths of a percent
    policy_id: np.ndarray  # 0: none frozen (fall back to the fund's policy)
    maturity_month: np.ndarray  # month index of matures_on
    loan_status: np.ndarray  # str (object)
    last_class: np.ndarray  # str or None (object): the latest current report's risk class

    def __len__(self) -> int:
        return len(self.id)

    def take(self, keep: np.ndarray) -> LoanBook:
        return LoanBook(**{name: getattr(self, name)[keep] for name in self.__dataclass_fields__})


def live_loans(*, fund_ids: list[int], today: dt.date) -> LoanBook:
    latest = StatusReport.objects.filter(filing=OuterRef("pk"), is_current=True, as_of__lte=today).order_by(
        "-as_of"
    )
    rows = list(
        LoanFiling.objects.filter(
            fund_id__in=fund_ids, status=FilingStatus.ACCEPTED, loan_status__in=LIVE_LOAN_STATUSES
        )
        .annotate(
            last_class=Subquery(latest.values("risk_class")[:1]),
            fc_principal=Cast("principal", **_AS_FLOAT),
            fc_covered=Cast("covered_principal", **_AS_FLOAT),
            fc_outstanding=Cast("outstanding_principal", **_AS_FLOAT),
            fc_covered_outstanding=Cast("covered_outstanding", **_AS_FLOAT),
            fc_share=Cast(Coalesce("fund_share", Value(Decimal(0))), **_AS_FLOAT),
        )
        .order_by("id")
        .values_list(
            "id",
            "fund_id",
            "enterprise_id",
            "institution_id",
            "enterprise__region_code",
            "fc_principal",
            "fc_covered",
            "fc_outstanding",
            "fc_covered_outstanding",
            "fc_share",
            "policy_version_id",
            "matures_on",
            "loan_status",
            "last_class",
        )
    )
    cols = list(zip(*rows, strict=True)) if rows else [()] * 14
    ints = lambda k: np.array(cols[k], dtype=np.int64)  # noqa: E731
    return LoanBook(
        id=ints(0),
        fund_id=ints(1),
        enterprise_id=ints(2),
        institution_id=ints(3),
        region_code=np.array(cols[4], dtype=object),
        principal=_fen(cols[5]),
        covered_principal=_fen(cols[6]),
        outstanding=_fen(cols[7]),
        covered_outstanding=_fen(cols[8]),
        share_bp=_fen(cols[9]),
        policy_id=np.array([p or 0 for p in cols[10]], dtype=np.int64),
        maturity_month=np.array([month_index(d) for d in cols[11]], dtype=np.int64),
        loan_status=np.array(cols[12], dtype=object),
        last_class=np.array(cols[13], dtype=object),
    )


# The province's transitions are the same for every forecast until a report is added or
# corrected or a loan is repaid: counted once and kept (at 100,000 loans × 36 months of
# reports, counting takes seconds); the key changes with any of those.
COUNTS_CACHE_SECONDS = 6 * 3600


def transition_counts_kept(*, today: dt.date) -> dict[int, np.ndarray]:
    reports = StatusReport.objects.aggregate(n=Count("id"), top=Max("id"), at=Max("reported_at"))
    settled = LoanFiling.objects.filter(settled_on__isnull=False).aggregate(
        n=Count("id"), last=Max("settled_on")
    )
    state = (today, reports["n"], reports["top"], reports["at"], settled["n"], settled["last"])
    key = "forecast:transitions:" + hashlib.sha256(repr(state).encode()).hexdigest()
    counts = cache.get(key)
    if counts is None:
        counts = transition_counts(today=today)
        cache.set(key, counts, COUNTS_CACHE_SECONDS)
    return counts


def transition_counts(*, today: dt.date) -> dict[int, np.ndarray]:
    """Per fund, (6, 6) counts of month-to-month transitions between consecutive current
    reports of the same loan (and to settled when the loan was repaid the month after its
    last report), over the last HISTORY_MONTHS months. One query for every fund: the report
    pairs are formed by a window function and counted by the database."""
    start = dt.date(today.year - HISTORY_MONTHS // 12, today.month, 1)
    order = F("as_of").asc()
    month = ExtractYear("as_of") * 12 + ExtractMonth("as_of")
    inner = (
        StatusReport.objects.filter(is_current=True, as_of__gte=start, as_of__lte=today)
        .annotate(
            fc_fund=F("filing__fund_id"),
            fc_from=F("risk_class"),
            fc_m=month,
            fc_next_m=Window(Lead(month), partition_by=[F("filing_id")], order_by=order),
            fc_next=Window(Lead("risk_class"), partition_by=[F("filing_id")], order_by=order),
            fc_settled_m=ExtractYear("filing__settled_on") * 12 + ExtractMonth("filing__settled_on"),
            fc_settled_on=F("filing__settled_on"),
        )
        .values("fc_fund", "fc_from", "fc_m", "fc_next_m", "fc_next", "fc_settled_m", "fc_settled_on")
    )
    sql, params = inner.query.sql_with_params()
    q = connection.ops.quote_name
    outer = (
        f"SELECT t.{q('fc_fund')}, t.{q('fc_from')}, "
        f"CASE WHEN t.{q('fc_next_m')} = t.{q('fc_m')} + 1 THEN t.{q('fc_next')} "
        f"WHEN t.{q('fc_next_m')} IS NULL AND t.{q('fc_settled_m')} = t.{q('fc_m')} + 1 "
        f"AND t.{q('fc_settled_on')} <= %s THEN 'settled' END AS fc_to, COUNT(*) "
        f"FROM ({sql}) t GROUP BY 1, 2, 3"
    )
    counts: dict[int, np.ndarray] = defaultdict(lambda: np.zeros((6, 6), dtype=np.int64))
    with connection.cursor() as cursor:
        cursor.execute(outer, (today, *params))
        for fund_id, origin, target, n in cursor.fetchall():
            if target is None or origin not in rollrates.STATE_INDEX:
                continue
            counts[fund_id][rollrates.STATE_INDEX[origin], rollrates.STATE_INDEX[target]] += n
    return dict(counts)


def trigger_dates(*, filing_ids: list[int], today: dt.date) -> dict[int, dt.date]:
    """When each loan met the claim trigger: the first report of its latest unbroken run of
    non-performing reports (loans with no such report are not in the answer)."""
    runs: dict[int, dt.date] = {}
    previous: dict[int, bool] = {}
    for filing_id, as_of, status in (
        StatusReport.objects.filter(filing_id__in=filing_ids, is_current=True, as_of__lte=today)
        .order_by("filing_id", "as_of")
        .values_list("filing_id", "as_of", "loan_status_after")
    ):
        bad = status == LoanStatus.NON_PERFORMING
        if bad and not previous.get(filing_id, False):
            runs[filing_id] = as_of
        elif not bad:
            runs.pop(filing_id, None)
        previous[filing_id] = bad
    return runs


@dataclass(frozen=True)
class ClaimRow:
    id: int
    fund_id: int
    filing_id: int
    enterprise_id: int
    status: str
    trigger_date: dt.date
    paid_on: dt.date | None
    loss_base: Decimal
    claimable: Decimal
    approved: Decimal | None
    paid: Decimal | None
    recovered: Decimal  # the fund's part of the recoveries reported on it
    first_recovery: dt.date | None


def claims(*, fund_ids: list[int] | None) -> list[ClaimRow]:
    """The claims of these funds and of their enterprises (None: every fund's), each with its
    recoveries summed."""
    qs = Claim.objects.all()
    if fund_ids is not None:
        qs = qs.filter(Q(fund_id__in=fund_ids) | Q(filing__enterprise__fund_id__in=fund_ids))
    recovered = (
        Recovery.objects.filter(claim=OuterRef("pk")).values("claim").annotate(total=Sum("fund_amount"))
    )
    first = Recovery.objects.filter(claim=OuterRef("pk")).order_by("received_on").values("received_on")[:1]
    rows = qs.annotate(
        recovered=Coalesce(Subquery(recovered.values("total")), ZERO), first_recovery=Subquery(first)
    ).values_list(
        "id",
        "fund_id",
        "filing_id",
        "filing__enterprise_id",
        "status",
        "trigger_date",
        "paid_on",
        "loss_base",
        "claimable_amount",
        "approved_amount",
        "paid_amount",
        "recovered",
        "first_recovery",
    )
    return [ClaimRow(*row) for row in rows.order_by("id")]


def is_open(row: ClaimRow) -> bool:
    return row.status not in CLOSED_CLAIM_STATUSES and row.status not in PAID_CLAIM_STATUSES


def counts_against_rooms(row: ClaimRow) -> bool:
    """Approved or paid: what `compute_for` counts against the per-enterprise rooms."""
    return row.status in COMMITTED_CLAIM_STATUSES or row.status in PAID_CLAIM_STATUSES


def was_paid(row: ClaimRow) -> bool:
    return row.status in PAID_CLAIM_STATUSES and row.paid is not None


@dataclass(frozen=True)
class Ledger:
    balance: Decimal
    capital: Decimal
    paid_this_year: Decimal  # compensation paid in the calendar year of `today` (positive)


def ledgers(*, fund_ids: list[int], today: dt.date) -> dict[int, Ledger]:
    rows = (
        LedgerEntry.objects.filter(fund_id__in=fund_ids, value_date__lte=today)
        .values("fund_id")
        .annotate(
            balance=Coalesce(Sum("amount"), ZERO),
            capital=Coalesce(
                Sum("amount", filter=Q(entry_type__in=(EntryType.CONTRIBUTION, EntryType.REFUND))), ZERO
            ),
            paid=Coalesce(
                Sum(
                    "amount",
                    filter=Q(entry_type=EntryType.COMPENSATION_PAID, value_date__year=today.year),
                ),
                ZERO,
            ),
        )
        .order_by()
    )
    out = {fid: Ledger(ZERO, ZERO, ZERO) for fid in fund_ids}
    for row in rows:
        out[row["fund_id"]] = Ledger(row["balance"], row["capital"], -row["paid"])
    return out


def policies(*, fund_ids: list[int]) -> dict[int, PolicyVersion]:
    """Every policy version of these funds, by id."""
    return {p.pk: p for p in PolicyVersion.objects.filter(fund_id__in=fund_ids)}


def in_force(versions: dict[int, PolicyVersion], fund_id: int, on: dt.date) -> PolicyVersion | None:
    mine = [p for p in versions.values() if p.fund_id == fund_id and p.effective_from <= on]
    return max(mine, key=lambda p: p.effective_from, default=None)


def cooperating(*, fund: Fund, institution_id: int) -> bool:
    return CooperationAgreement.objects.filter(fund=fund, institution_id=institution_id).exists()


def names(model, ids) -> dict[int, str]:
    return dict(model.objects.filter(pk__in=list(ids)).values_list("pk", "name"))
