"""Reads about enterprises, scoped by the acting principal."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enterprises.errors import EnterprisesError
from fundmgr.ground.accounts.principals import Principal, scoped
from fundmgr.ground.accounts.workqueues import QueueSummary, Waiting, WorkQueue, summary_by_age, waiting_for
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib import clock, rawsql
from fundmgr.ground.lib.errors import AppError, NotFound
from fundmgr.ground.lib.rawsql import columns

from . import rules
from .models import Enterprise
from .sme import INDICATOR_LABELS, SMEResult, classify_sme_from_db


def enterprises_visible_to(principal: Principal) -> QuerySet[Enterprise]:
    """Staff: all. Regulator: its funds. Institution: enterprises admitted in a fund it
    cooperates with, and the applications it submitted itself."""
    # The funds it has an agreement with, by the agreements' relation on Fund (banks sits
    # above enterprises, so it is reached through the ORM, not imported).
    funds = Fund.objects.filter(agreements__institution_id=principal.institution_id).values("pk")
    return scoped(
        Enterprise.objects.select_related("fund", "submitted_by"),
        principal,
        regulator=Q(fund_id__in=principal.fund_ids),
        institution=Q(status=Enterprise.Status.ADMITTED, fund_id__in=funds)
        | Q(submitted_by_id=principal.institution_id),
    )


def enterprise_get(*, principal: Principal, uscc: str) -> Enterprise:
    enterprise = enterprises_visible_to(principal).filter(uscc=(uscc or "").strip().upper()).first()
    if enterprise is None:
        raise NotFound(_("企业不存在或无权访问"))
    return enterprise


def enterprise_by_uscc(uscc: str) -> Enterprise | None:
    """The enterprise registered under `uscc` (as given: callers normalise it), read by one
    plain statement: a bank's filing starts here, and the ORM's query cost more to build than
    to answer (`lib.rawsql`)."""
    q = connection.ops.quote_name
    row = columns(Enterprise, "e")
    found = rawsql.rows(
        f"SELECT {row.sql} FROM {row.table()} WHERE e.{q('uscc')} = %s ORDER BY e.{q('id')}", [uscc]
    )
    return row.instance(found[0]) if found else None


def enterprise_size(enterprise: Enterprise, *, on: dt.date | None = None) -> SMEResult:
    return classify_sme_from_db(
        industry_code=enterprise.industry_code,
        employees=enterprise.employees,
        annual_revenue_yuan=enterprise.annual_revenue,
        total_assets_yuan=enterprise.total_assets,
        as_of=on,
    )


def enterprise_eligibility(enterprise: Enterprise, *, on: dt.date | None = None) -> rules.Eligibility:
    """Every eligibility check against the policy in force on `on` (default: business today)."""
    today = on or clock.today()
    policy = enterprise.fund.policy_in_force(today)
    if policy is None:
        raise AppError(
            EnterprisesError.NO_POLICY_IN_FORCE,
            _("%(fund)s在%(date)s没有生效的政策版本") % {"fund": enterprise.fund.name, "date": today},
            status=409,
        )
    try:
        size = enterprise_size(enterprise, on=today)
        size_class, missing = size.size_class, [INDICATOR_LABELS.get(i, i) for i in size.missing]
    except AppError as exc:
        size_class, missing = "", [exc.message]
    assets = [
        rules.IPFacts(kind=a.kind, status=a.status, expires_on=a.expires_on)
        for a in enterprise.ip_assets.all()
    ]
    return rules.evaluate(
        uscc=enterprise.uscc,
        region_code=enterprise.region_code,
        registered_on=enterprise.registered_on,
        size_class=size_class,
        size_missing=missing,
        credit_report_date=enterprise.credit_report_date,
        credit_record_clean=enterprise.credit_record_clean,
        assets=assets,
        fund_region_code=enterprise.fund.region_code,
        policy=policy,
        today=today,
    )


# --- work queues (the start page, 工作台) -----------------------------------------------------
# Who may act comes from the step declarations on Enterprise (accounts.workqueues.waiting_for);
# `user=None` is the overview. Admissions have no deadline: the oldest application comes first,
# with its working days in the state.

QUEUE_ITEMS = 5


def _applications() -> QuerySet[Enterprise]:
    return Enterprise.objects.select_related("fund", "submitted_by")


def enterprises_review_waiting(user) -> Waiting:
    """企业入库待审核: submitted applications, to start the review."""
    return waiting_for(_applications(), ["start_review"], user=user)


def enterprises_awaiting_review(
    *, user, today: dt.date | None = None, limit: int = QUEUE_ITEMS
) -> QueueSummary:
    """企业入库待审核 (`enterprises_review_waiting`), the oldest first."""
    return summary_by_age(enterprises_review_waiting(user), today=today or clock.today(), limit=limit)


def enterprises_admission_waiting(user) -> Waiting:
    """企业入库待复核: applications under review, to admit (by someone other than who started
    the review)."""
    return waiting_for(_applications(), ["admit"], user=user)


def enterprises_awaiting_admission(
    *, user, today: dt.date | None = None, limit: int = QUEUE_ITEMS
) -> QueueSummary:
    """企业入库待复核 (`enterprises_admission_waiting`), the oldest first."""
    return summary_by_age(enterprises_admission_waiting(user), today=today or clock.today(), limit=limit)


# The queues by name: the start page's cards, the admin list's 工作台 filter.
ENTERPRISE_QUEUES = (
    WorkQueue("enterprises_review", gettext_lazy("企业入库待审核"), enterprises_review_waiting),
    WorkQueue("enterprises_admission", gettext_lazy("企业入库待复核"), enterprises_admission_waiting),
)
