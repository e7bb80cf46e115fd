"""Reads about loan filings and the covered book, scoped by the acting principal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from banks.selectors import agreement_in_force
from fundmgr.ground.accounts.principals import Principal, by_fund_and_institution
from fundmgr.ground.lib import rawsql
from fundmgr.ground.lib.errors import NotFound
from fundmgr.ground.lib.money import HUNDRED, ZERO, percent_of, quantize
from fundmgr.ground.lib.rawsql import columns

from ..models import (
    LIVE_FILING_STATUSES,
    LIVE_LOAN_STATUSES,
    BookCell,
    DueDiligence,
    FilingStatus,
    FundBook,
    LoanFiling,
    LoanStatus,
    Pledge,
)


def filings_visible_to(principal: Principal) -> QuerySet[LoanFiling]:
    """Staff: all. Regulator: its funds. Institution: its own filings only."""
    qs = LoanFiling.objects.select_related("fund", "institution", "enterprise", "product")
    return by_fund_and_institution(qs, principal)


def filing_get(*, principal: Principal, pk) -> LoanFiling:
    try:
        filing = filings_visible_to(principal).filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        filing = None
    if filing is None:
        raise NotFound(_("备案不存在或无权访问"))
    return filing


def live_filings() -> QuerySet[LoanFiling]:
    """Filings that hold their pledges and count against exposure: pending ones, and accepted
    loans not yet settled or closed."""
    return LoanFiling.objects.filter(status__in=LIVE_FILING_STATUSES).filter(
        Q(loan_status__isnull=True) | Q(loan_status__in=LIVE_LOAN_STATUSES)
    )


def enterprise_live_exposure(*, enterprise_id: int, exclude_filing: int | None = None) -> Decimal:
    """Pending filings count at their principal, accepted loans at their outstanding balance."""
    qs = live_filings().filter(enterprise_id=enterprise_id)
    if exclude_filing:
        qs = qs.exclude(pk=exclude_filing)
    totals = qs.aggregate(
        pending=Coalesce(Sum("principal", filter=~Q(status=FilingStatus.ACCEPTED)), ZERO),
        accepted=Coalesce(Sum("outstanding_principal", filter=Q(status=FilingStatus.ACCEPTED)), ZERO),
    )
    return totals["pending"] + totals["accepted"]


def pledged_elsewhere(*, asset_ids: list[int], exclude_filing: int | None = None) -> dict[int, str]:
    """Asset id → reference of the live filing that holds it (pledge not released)."""
    qs = Pledge.objects.filter(
        ip_asset_id__in=asset_ids, released_on__isnull=True, filing__in=live_filings()
    ).select_related("filing")
    if exclude_filing:
        qs = qs.exclude(filing_id=exclude_filing)
    return {p.ip_asset_id: p.filing.reference for p in qs}


@dataclass(frozen=True)
class BookFacts:
    """What the loan book says about a filing being judged (`filing_book_facts`)."""

    enterprise_exposure: Decimal  # as `enterprise_live_exposure`
    pledged_elsewhere: dict[int, str]  # as `pledged_elsewhere`
    contract_filed: bool  # the institution already filed this contract number


def filing_book_facts(
    *,
    enterprise_id: int | None,
    asset_ids: list[int],
    contract: tuple[int, str] | None = None,
    exclude_filing: int | None = None,
) -> BookFacts:
    """`enterprise_live_exposure`, `pledged_elsewhere` and whether `contract` (institution id,
    contract number) is already filed, in one statement: a filing is judged on all three, and
    three round trips cost a bank's filing more than the database spends answering them.
    Plain SQL that both backends speak; tests compare it with the selectors it stands for."""
    q = connection.ops.quote_name
    filing_t, pledge_t = q(LoanFiling._meta.db_table), q(Pledge._meta.db_table)

    def marks(values) -> str:
        return ", ".join(["%s"] * len(values))

    live = (
        f"f.{q('status')} IN ({marks(LIVE_FILING_STATUSES)}) AND (f.{q('loan_status')} IS NULL"
        f" OR f.{q('loan_status')} IN ({marks(LIVE_LOAN_STATUSES)})) AND f.{q('id')} <> %s"
    )
    live_params = [*LIVE_FILING_STATUSES, *LIVE_LOAN_STATUSES, exclude_filing or 0]
    parts, params = [], []
    if enterprise_id is not None:
        parts.append(
            f"SELECT 'e', NULL, NULL, SUM(CASE WHEN f.{q('status')} = %s THEN f.{q('outstanding_principal')}"
            f" ELSE f.{q('principal')} END) FROM {filing_t} f WHERE f.{q('enterprise_id')} = %s AND {live}"
        )
        params += [FilingStatus.ACCEPTED, enterprise_id, *live_params]
    if asset_ids:
        pledged, ids = rawsql.in_list(f"p.{q('ip_asset_id')}", asset_ids)
        parts.append(
            f"SELECT 'h', p.{q('ip_asset_id')}, f.{q('reference')}, NULL FROM {pledge_t} p"
            f" INNER JOIN {filing_t} f ON f.{q('id')} = p.{q('filing_id')}"
            f" WHERE {pledged} AND p.{q('released_on')} IS NULL AND {live}"
        )
        params += [*ids, *live_params]
    if contract is not None:
        parts.append(
            f"SELECT 'd', NULL, NULL, NULL WHERE EXISTS (SELECT 1 FROM {filing_t} c"
            f" WHERE c.{q('institution_id')} = %s AND c.{q('contract_no')} = %s)"
        )
        params += list(contract)
    exposure, held, filed = ZERO, {}, False
    money = columns(LoanFiling, "f", ["principal"])  # a sum read as the ORM reads money (SQLite too)
    if parts:
        for kind, asset_id, reference, amount in rawsql.rows(" UNION ALL ".join(parts), params):
            if kind == "e" and amount is not None:
                exposure = money.values([amount])[0]
            elif kind == "h":
                held[asset_id] = reference
            elif kind == "d":
                filed = True
    return BookFacts(enterprise_exposure=exposure, pledged_elsewhere=held, contract_filed=filed)


def _covered_totals(rows, *, key: str) -> dict:
    """Per group: (covered outstanding, exact exposure, live loans), summed over the live loans."""
    money = DecimalField(max_digits=24, decimal_places=6)
    rows = (
        rows.filter(status=FilingStatus.ACCEPTED, loan_status__in=LIVE_LOAN_STATUSES)
        .values(key)
        .annotate(
            outstanding=Coalesce(Sum("covered_outstanding"), ZERO),
            exposure=Coalesce(
                Sum(
                    ExpressionWrapper(
                        F("covered_outstanding") * F("fund_share") / HUNDRED, output_field=money
                    )
                ),
                Decimal("0"),
                output_field=money,
            ),
            n=Count("pk"),
        )
        .order_by()
    )
    return {row[key]: (row["outstanding"], row["exposure"], row["n"]) for row in rows}


CLASS_OF_STATUS = {
    LoanStatus.PERFORMING: LoanStatus.PERFORMING,
    LoanStatus.OVERDUE: LoanStatus.OVERDUE,
    LoanStatus.NON_PERFORMING: LoanStatus.NON_PERFORMING,
    LoanStatus.IN_CLAIM: LoanStatus.NON_PERFORMING,  # a loan in a claim is non-performing
}


def book_resummed(*, fund_ids: list[int]) -> tuple[dict[int, tuple[Decimal, Decimal, int]], list[BookCell]]:
    """The kept figures re-summed from the loans: per fund, and per district and bank (unsaved
    `BookCell` rows, zero cells left out)."""
    cells: dict[tuple, BookCell] = {}
    rows = (
        LoanFiling.objects.filter(
            fund_id__in=fund_ids, status=FilingStatus.ACCEPTED, loan_status__in=LIVE_LOAN_STATUSES
        )
        .values_list(
            "fund_id",
            "enterprise__region_code",
            "institution_id",
            "loan_status",
            "covered_outstanding",
            "fund_share",
        )
        .order_by()
    )
    for fund_id, region, institution_id, status, covered, share in rows.iterator(chunk_size=5000):
        cell = cells.get((fund_id, region, institution_id))
        if cell is None:
            cell = cells[(fund_id, region, institution_id)] = BookCell(
                fund_id=fund_id, region_code=region, institution_id=institution_id
            )
        cell.loans += 1
        cell.covered_outstanding += covered
        cell.exposure_exact += covered * share / HUNDRED
        loan_class = CLASS_OF_STATUS[status]
        if loan_class == LoanStatus.OVERDUE:
            cell.overdue_loans += 1
            cell.overdue_amount += covered
        elif loan_class == LoanStatus.NON_PERFORMING:
            cell.npl_loans += 1
            cell.npl_amount += covered
    totals: dict[int, tuple[Decimal, Decimal, int]] = {}
    for cell in cells.values():
        covered, exposure, n = totals.get(cell.fund_id, (ZERO, ZERO, 0))
        totals[cell.fund_id] = (
            covered + cell.covered_outstanding,
            exposure + cell.exposure_exact,
            n + cell.loans,
        )
    return totals, list(cells.values())


_CELL_FIELDS = (
    "loans",
    "covered_outstanding",
    "exposure_exact",
    "overdue_loans",
    "overdue_amount",
    "npl_loans",
    "npl_amount",
)


def covered_totals_by_fund(*, fund_ids: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Per fund: (covered outstanding, exposure = Σ covered outstanding × frozen fund share),
    read from the figures kept as loans change (`FundBook`), not re-summed."""
    return {
        fid: (covered, quantize(exposure))
        for fid, covered, exposure in FundBook.objects.filter(fund_id__in=fund_ids).values_list(
            "fund_id", "covered_outstanding", "exposure_exact"
        )
    }


def book_drift(*, fund_ids: list[int] | None = None) -> dict:
    """What differs between the kept figures and a re-sum of the loans: {fund id: (kept,
    re-summed)} and {(fund, district, bank): (kept, re-summed)}. Empty when all is well;
    `book_resum` repairs."""
    funds = FundBook.objects.all() if fund_ids is None else FundBook.objects.filter(fund_id__in=fund_ids)
    kept = {
        fid: (c, e, n)
        for fid, c, e, n in funds.values_list(
            "fund_id", "covered_outstanding", "exposure_exact", "live_loans"
        )
    }
    ids = list(kept) if fund_ids is None else list(fund_ids)
    totals, cells = book_resummed(fund_ids=ids)
    nothing = (ZERO, ZERO, 0)
    out: dict = {}
    for fid in set(ids) | set(totals):
        if kept.get(fid, nothing) != totals.get(fid, nothing):
            out[fid] = (kept.get(fid, nothing), totals.get(fid, nothing))
    zero = (0,) * len(_CELL_FIELDS)
    kept_cells = {
        (r[0], r[1], r[2]): tuple(r[3:])
        for r in BookCell.objects.filter(fund_id__in=ids).values_list(
            "fund_id", "region_code", "institution_id", *_CELL_FIELDS
        )
    }
    summed_cells = {
        (c.fund_id, c.region_code, c.institution_id): tuple(getattr(c, f) for f in _CELL_FIELDS)
        for c in cells
    }
    for key in set(kept_cells) | set(summed_cells):
        if kept_cells.get(key, zero) != summed_cells.get(key, zero):
            out[key] = (kept_cells.get(key, zero), summed_cells.get(key, zero))
    return out


def covered_totals_by_institution(*, fund_id: int, institution_id: int) -> tuple[Decimal, Decimal]:
    """One bank in one fund: (covered outstanding, exposure), zeros when it has no live loan."""
    totals = _covered_totals(
        LoanFiling.objects.filter(fund_id=fund_id, institution_id=institution_id), key="institution_id"
    )
    covered, exposure, _n = totals.get(institution_id, (ZERO, ZERO, 0))
    return covered, quantize(exposure)


def fund_filed_since(fund_id: int, on: dt.date) -> bool:
    """Has any loan been filed in the fund on or after business date `on`?"""
    return LoanFiling.objects.filter(fund_id=fund_id, submitted_on__gte=on).exists()


# --- what a staff step on one filing is about (the admin's transition forms) ---------------------


@dataclass(frozen=True)
class FundShare:
    """The fund's part of a loan's covered principal: `percent` frozen on the loan at acceptance
    (`frozen`), or before it the share of the bank's agreement in force, which acceptance would
    freeze; `amount` is the most the fund bears on the loan (covered principal × share)."""

    percent: Decimal | None
    amount: Decimal | None
    frozen: bool


def filing_fund_share(filing: LoanFiling, *, on: dt.date) -> FundShare:
    if filing.fund_share is not None:
        percent, frozen = filing.fund_share, True
    else:
        agreement = agreement_in_force(institution=filing.institution, fund=filing.fund, on=on)
        percent, frozen = (agreement.fund_share if agreement is not None else None), False
    amount = None if percent is None else percent_of(filing.covered_principal, percent)
    return FundShare(percent=percent, amount=amount, frozen=frozen)


@dataclass(frozen=True)
class ChecklistProgress:
    """The due-diligence checklist of a filing: how many required items are confirmed (是), of
    how many, and the labels of those still missing, in checklist order (what acceptance checks)."""

    started: bool
    confirmed: int
    total: int
    missing: list[str]


def due_diligence_progress(filing: LoanFiling) -> ChecklistProgress:
    record = DueDiligence.objects.filter(filing=filing).first()
    missing = (record or DueDiligence(filing=filing)).missing_items
    total = len(DueDiligence.REQUIRED_ITEMS)
    return ChecklistProgress(
        started=record is not None, confirmed=total - len(missing), total=total, missing=missing
    )
