"""Reads about loan filings and the covered book, scoped by the acting principal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from fundmgr.ground.accounts.principals import Principal, by_fund_and_institution
from fundmgr.ground.lib.errors import NotFound
from fundmgr.ground.lib.money import HUNDRED, ZERO, quantize

from ..models import (
    LIVE_FILING_STATUSES,
    LIVE_LOAN_STATUSES,
    FilingStatus,
    FundBook,
    LoanFiling,
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
        raise NotFound("备案不存在或无权访问")
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


def covered_resum(*, fund_ids: list[int]) -> dict[int, tuple[Decimal, Decimal, int]]:
    """Per fund, re-summed from its loans: (covered outstanding, exact exposure, live loans)."""
    return _covered_totals(LoanFiling.objects.filter(fund_id__in=fund_ids), key="fund_id")


def covered_totals_by_fund(*, fund_ids: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Per fund: (covered outstanding, exposure = Σ covered outstanding × frozen fund share),
    read from the figures kept as loans change (`FundBook`), not re-summed."""
    return {
        fid: (covered, quantize(exposure))
        for fid, covered, exposure in FundBook.objects.filter(fund_id__in=fund_ids).values_list(
            "fund_id", "covered_outstanding", "exposure_exact"
        )
    }


def book_drift(*, fund_ids: list[int] | None = None) -> dict[int, tuple]:
    """Funds whose kept figures differ from a re-sum of their loans: {fund: (kept, re-summed)}.
    Empty when all is well; `book_resum` repairs."""
    kept = {
        fid: (covered, exposure, n)
        for fid, covered, exposure, n in (
            FundBook.objects.all() if fund_ids is None else FundBook.objects.filter(fund_id__in=fund_ids)
        ).values_list("fund_id", "covered_outstanding", "exposure_exact", "live_loans")
    }
    ids = list(kept) if fund_ids is None else list(fund_ids)
    summed = covered_resum(fund_ids=ids)
    nothing = (ZERO, ZERO, 0)
    out = {}
    for fid in set(ids) | set(summed):
        a, b = kept.get(fid, nothing), summed.get(fid, nothing)
        if a[0] != b[0] or a[1] != b[1] or a[2] != b[2]:
            out[fid] = (a, b)
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
