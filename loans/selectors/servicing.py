"""Reads about the servicing of covered loans: each bank's non-performing ratio in a fund."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from fundmgr.ground.lib.money import HUNDRED, ZERO

from ..models import (
    LIVE_LOAN_STATUSES,
    FilingStatus,
    LoanFiling,
    LoanStatus,
)


def npl_ratio(*, institution_id: int, fund_id: int) -> tuple[Decimal, Decimal, Decimal | None]:
    """(covered outstanding, of which non-performing, NPL ratio in percent) for one bank in one fund."""
    totals = LoanFiling.objects.filter(
        institution_id=institution_id,
        fund_id=fund_id,
        status=FilingStatus.ACCEPTED,
        loan_status__in=LIVE_LOAN_STATUSES,
    ).aggregate(
        total=Coalesce(Sum("covered_outstanding"), ZERO),
        npl=Coalesce(
            Sum(
                "covered_outstanding",
                filter=Q(loan_status__in=[LoanStatus.NON_PERFORMING, LoanStatus.IN_CLAIM]),
            ),
            ZERO,
        ),
    )
    total, npl = totals["total"], totals["npl"]
    ratio = (npl * HUNDRED / total).quantize(Decimal("0.01")) if total > 0 else None
    return total, npl, ratio
