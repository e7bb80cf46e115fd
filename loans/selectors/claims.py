"""Reads about compensation claims and recoveries, scoped by the acting principal."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from fundmgr.ground.accounts.principals import Principal, by_fund_and_institution

from ..models import (
    Claim,
    RecoveryStatus,
)


def claims_visible_to(principal: Principal) -> QuerySet[Claim]:
    """Staff: all. Regulator: its funds. Institution: its own claims only."""
    qs = Claim.objects.select_related("filing", "fund", "institution")
    return by_fund_and_institution(qs, principal)


def recoveries_overdue_q(today: dt.date) -> Q:
    """Recoveries whose return is late on `today`: marked overdue, or past their due date
    whether or not the nightly job has marked them yet."""
    return Q(status=RecoveryStatus.OVERDUE) | Q(status=RecoveryStatus.RETURN_DUE, due_on__lt=today)


def recoveries_return_due_q(today: dt.date) -> Q:
    """Recoveries whose return is due and not yet late on `today`."""
    return Q(status=RecoveryStatus.RETURN_DUE, due_on__gte=today)
