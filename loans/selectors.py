"""Reads about loans."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.db.models.functions import Coalesce

from fundmgr.lib.money import HUNDRED, ZERO, quantize

from .models import LIVE_LOAN_STATUSES, FilingStatus, LoanFiling


def covered_totals_by_fund(*, fund_ids: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Per fund: (covered outstanding, exposure = Σ covered outstanding × frozen fund share)."""
    money = DecimalField(max_digits=24, decimal_places=6)
    rows = (
        LoanFiling.objects.filter(
            fund_id__in=fund_ids, status=FilingStatus.ACCEPTED, loan_status__in=LIVE_LOAN_STATUSES
        )
        .values("fund_id")
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
        )
    )
    return {row["fund_id"]: (row["outstanding"], quantize(row["exposure"])) for row in rows}
