"""Reads about partner institutions and their agreements, scoped by the acting principal."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet

from fundmgr.ground.accounts.principals import Principal, by_fund_and_institution, scoped
from fundmgr.ground.lib.errors import NotFound

from .models import CooperationAgreement, Institution


def institutions_visible_to(principal: Principal) -> QuerySet[Institution]:
    """Staff: all. Institution: only itself. Regulator: institutions that have an agreement
    with one of its funds."""
    # A subquery rather than a join: one row per institution whatever its agreement count.
    in_regulators_funds = CooperationAgreement.objects.filter(fund_id__in=principal.fund_ids)
    return scoped(
        Institution.objects.all(),
        principal,
        regulator=Q(pk__in=in_regulators_funds.values("institution_id")),
        institution=Q(pk=principal.institution_id),
    )


def institution_get(*, principal: Principal, code: str) -> Institution:
    """One institution the principal may see; anything else is 404 (never 403: it must not
    reveal that another tenant exists)."""
    qs = with_visible_agreements(institutions_visible_to(principal), principal)
    institution = qs.filter(code=(code or "").strip()).first()
    if institution is None:
        raise NotFound("合作机构不存在或无权访问")
    return institution


def agreements_visible_to(principal: Principal) -> QuerySet[CooperationAgreement]:
    """Agreements as the principal may see them: staff all, an institution its own, a
    regulator only those in its own funds (a bank may cooperate with several cities)."""
    qs = CooperationAgreement.objects.select_related("fund").order_by("fund__code", "-valid_from")
    return by_fund_and_institution(qs, principal)


def with_visible_agreements(qs: QuerySet[Institution], principal: Principal) -> QuerySet[Institution]:
    """Attach each institution's agreements the principal may see as `visible_agreements`
    (one extra query for the whole page)."""
    return qs.prefetch_related(
        Prefetch("agreements", queryset=agreements_visible_to(principal), to_attr="visible_agreements")
    )


def agreement_in_force(*, institution: Institution, fund, on: dt.date) -> CooperationAgreement | None:
    """The agreement governing `institution` in `fund` on `on`.

    A later agreement supersedes an earlier one from its `valid_from`; `valid_until` is the
    last day it is in force (open-ended when empty). So: the latest agreement started on or
    before `on`, unless it has already ended.
    """
    latest = (
        CooperationAgreement.objects.filter(institution=institution, fund=fund, valid_from__lte=on)
        .order_by("-valid_from")
        .first()
    )
    if latest is None or (latest.valid_until is not None and latest.valid_until < on):
        return None
    return latest
