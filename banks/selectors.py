"""Reads about partner institutions and their agreements, scoped by the acting principal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fundmgr.ground.accounts.principals import Principal, by_fund_and_institution, scoped
from fundmgr.ground.accounts.workflow import ROLE_LABELS, history
from fundmgr.ground.accounts.workqueues import QueueSummary, Waiting, WorkQueue, summary_by_age, waiting_for
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib import clock, rawsql
from fundmgr.ground.lib.errors import NotFound
from fundmgr.ground.lib.rawsql import columns
from fundmgr.ground.lib.regions import region_name

from .models import SUSPENDED_FILINGS_STATUSES, CooperationAgreement, FilingsStatus, Institution


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
        raise NotFound(_("合作机构不存在或无权访问"))
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
    return agreement_in_force_among(
        CooperationAgreement.objects.filter(institution=institution, fund=fund), on=on
    )


def agreements_in_fund(*, institution_id: int, fund_code: str) -> list[CooperationAgreement]:
    """All of an institution's agreements in the fund with `fund_code`, each with its fund
    loaded; empty when the fund does not exist or the institution has no agreement in it. One
    plain statement: a bank's filing starts here (`lib.rawsql`)."""
    q = connection.ops.quote_name
    agreement, fund = columns(CooperationAgreement, "a"), columns(Fund, "f")
    rows = rawsql.rows(
        f"SELECT {agreement.sql}, {fund.sql} FROM {agreement.table()}"
        f" INNER JOIN {fund.table()} ON f.{q('id')} = a.{q('fund_id')}"
        f" WHERE a.{q('institution_id')} = %s AND f.{q('code')} = %s ORDER BY a.{q('id')}",
        [institution_id, fund_code],
    )
    out = []
    for row in rows:
        found = agreement.instance(row)
        found.fund = fund.instance(row[len(agreement) :])
        out.append(found)
    return out


def cooperating_institutions(*, fund_ids: Sequence[int]) -> list[tuple[int, int, str, str]]:
    """(fund id, institution id, code, name) of each institution that has an agreement in one
    of the funds, once per fund and institution, unordered. One plain statement: the
    regulators' tables list every bank cooperating with a fund, with zeros when it did nothing."""
    if not fund_ids:
        return []
    q = connection.ops.quote_name
    institution = columns(Institution, "i", ["code", "name"])
    in_funds, params = rawsql.in_list(f"a.{q('fund_id')}", fund_ids)
    rows = rawsql.rows(
        f"SELECT DISTINCT a.{q('fund_id')}, a.{q('institution_id')}, {institution.sql}"
        f" FROM {q(CooperationAgreement._meta.db_table)} a"
        f" INNER JOIN {institution.table()} ON i.{q('id')} = a.{q('institution_id')}"
        f" WHERE {in_funds}",
        params,
    )
    return [(fund_id, inst_id, *institution.values(rest)) for fund_id, inst_id, *rest in rows]


def agreement_in_force_among(agreements, *, on: dt.date) -> CooperationAgreement | None:
    """`agreement_in_force` chosen from one institution's agreements in one fund already in
    hand (any of them; those not yet started on `on` are passed over)."""
    started = [a for a in agreements if a.valid_from <= on]
    latest = max(started, key=lambda a: a.valid_from, default=None)
    if latest is None or (latest.valid_until is not None and latest.valid_until < on):
        return None
    return latest


def agreements_in_force(*, institution: Institution, on: dt.date) -> dict[int, CooperationAgreement]:
    """`agreement_in_force` in every fund the institution has an agreement in, in one query:
    fund id → the agreement governing it on `on` (funds where none is in force are left out)."""
    latest: dict[int, CooperationAgreement] = {}
    for agreement in CooperationAgreement.objects.filter(
        institution=institution, valid_from__lte=on
    ).order_by("fund_id", "-valid_from"):
        latest.setdefault(agreement.fund_id, agreement)
    return {
        fund_id: agreement
        for fund_id, agreement in latest.items()
        if agreement.valid_until is None or agreement.valid_until >= on
    }


# --- filing suspensions -------------------------------------------------------------------


def fund_label(fund) -> str:
    """A fund named by its city (肇庆市), for narrow lists; the fund's name otherwise."""
    city = region_name(fund.region_code)
    return city if city and city != fund.region_code else fund.name


def percent_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.2f}%"


@dataclass(frozen=True)
class StepRecord:
    """One logged step of a suspension's lifecycle: who, on which business date, why."""

    transition: str
    on: dt.date
    username: str | None
    role: str | None
    comment: str

    @property
    def who(self) -> str:
        if not self.username:
            return _("系统")
        return f"{self.username}（{ROLE_LABELS.get(self.role, self.role or '')}）"


@dataclass(frozen=True)
class FilingSuspension:
    """A filing suspension in force on an agreement, as staff read it on the agreement and
    institution pages: since when, what was measured against which threshold, why, and where
    its reinstatement stands."""

    agreement: CooperationAgreement
    since: dt.date
    npl_ratio: Decimal | None
    threshold: Decimal | None
    reason: str
    status: str
    request: StepRecord | None  # the pending reinstatement request, if any
    last_refusal: StepRecord | None  # the latest refused request of this suspension, if any

    @property
    def fund_label(self) -> str:
        return fund_label(self.agreement.fund)

    @property
    def npl_ratio_text(self) -> str:
        return percent_text(self.npl_ratio)

    @property
    def threshold_text(self) -> str:
        return percent_text(self.threshold)

    @property
    def status_label(self) -> str:
        return FilingsStatus(self.status).label

    @property
    def awaiting_approval(self) -> bool:
        return self.status == FilingsStatus.REINSTATEMENT_REQUESTED


def _record(row: dict) -> StepRecord:
    return StepRecord(
        transition=row["transition"],
        on=row["on"],
        username=row["by_user"],
        role=row["by"] if row["by"] != "system" else None,
        comment=row["comment"],
    )


def filing_suspension(agreement: CooperationAgreement) -> FilingSuspension | None:
    """The suspension in force on `agreement`, or None when it may file. Reads its
    transition log once (the request and refusals of the current suspension)."""
    if not agreement.filings_suspended:
        return None
    rows = history(agreement)
    # Only the steps since the suspension now in force began.
    start = max((i for i, r in enumerate(rows) if r["transition"] == "suspend_filings"), default=-1)
    current = rows[start + 1 :]
    request = next((r for r in reversed(current) if r["transition"] == "request_reinstatement"), None)
    refusal = next((r for r in reversed(current) if r["transition"] == "refuse_reinstatement"), None)
    return FilingSuspension(
        agreement=agreement,
        since=agreement.filings_suspended_on,
        npl_ratio=agreement.filings_suspension_npl_ratio,
        threshold=agreement.filings_suspension_threshold,
        reason=agreement.filings_suspension_reason,
        status=agreement.filings_status,
        request=_record(request)
        if request is not None and agreement.filings_status == FilingsStatus.REINSTATEMENT_REQUESTED
        else None,
        last_refusal=_record(refusal) if refusal is not None else None,
    )


def suspended_agreements_q() -> Q:
    """Agreements whose new filings are suspended (a requested reinstatement included)."""
    return Q(filings_status__in=SUSPENDED_FILINGS_STATUSES)


def institutions_with_suspended_filings_q() -> Q:
    """Institutions with at least one agreement under a filing suspension."""
    return Q(
        Exists(CooperationAgreement.objects.filter(suspended_agreements_q(), institution_id=OuterRef("pk")))
    )


def with_suspended_agreements(qs: QuerySet[Institution]) -> QuerySet[Institution]:
    """Attach each institution's suspended agreements (with their funds) as
    `suspended_agreements`: one extra query for a whole page."""
    return qs.prefetch_related(
        Prefetch(
            "agreements",
            queryset=CooperationAgreement.objects.filter(suspended_agreements_q())
            .select_related("fund", "institution")
            .order_by("fund__code"),
            to_attr="suspended_agreements",
        )
    )


def suspended_agreements_of(institution: Institution) -> list[CooperationAgreement]:
    prefetched = getattr(institution, "suspended_agreements", None)
    if prefetched is not None:
        return list(prefetched)
    return list(
        CooperationAgreement.objects.filter(suspended_agreements_q(), institution=institution)
        .select_related("fund", "institution")
        .order_by("fund__code")
    )


# --- who may sign a step ------------------------------------------------------------------


# --- work queues (the start page, 工作台) -----------------------------------------------------
# Who may act comes from the step declarations on the models (accounts.workqueues.waiting_for);
# `user=None` is the overview. These steps have no deadline: the oldest first, with their
# working days in the state.

QUEUE_ITEMS = 5


def institutions_review_waiting(user) -> Waiting:
    """机构入库待审核: institutions that applied, to start the review."""
    return waiting_for(Institution.objects.all(), ["start_review"], user=user)


def institutions_awaiting_review(
    *, user, today: dt.date | None = None, limit: int = QUEUE_ITEMS
) -> QueueSummary:
    """机构入库待审核 (`institutions_review_waiting`), the oldest first."""
    return summary_by_age(institutions_review_waiting(user), today=today or clock.today(), limit=limit)


def institutions_activation_waiting(user) -> Waiting:
    """机构入库待复核: institutions under review, to admit to cooperation (by someone other than
    who started the review)."""
    return waiting_for(Institution.objects.all(), ["activate"], user=user)


def institutions_awaiting_activation(
    *, user, today: dt.date | None = None, limit: int = QUEUE_ITEMS
) -> QueueSummary:
    """机构入库待复核 (`institutions_activation_waiting`), the oldest first."""
    return summary_by_age(institutions_activation_waiting(user), today=today or clock.today(), limit=limit)


def agreements_reinstatement_waiting(user) -> Waiting:
    """恢复备案待审批: suspended agreements whose reinstatement was requested, to approve or
    refuse (by someone other than who requested it)."""
    queryset = CooperationAgreement.objects.select_related("institution", "fund")
    return waiting_for(queryset, ["approve_reinstatement", "refuse_reinstatement"], user=user)


def agreements_awaiting_reinstatement(
    *, user, today: dt.date | None = None, limit: int = QUEUE_ITEMS
) -> QueueSummary:
    """恢复备案待审批 (`agreements_reinstatement_waiting`), the oldest first."""
    waiting = agreements_reinstatement_waiting(user)
    return summary_by_age(waiting, today=today or clock.today(), limit=limit, field="filings_status")


# The queues by name: the start page's cards, the admin lists' 工作台 filter.
INSTITUTION_QUEUES = (
    WorkQueue("institutions_review", gettext_lazy("机构入库待审核"), institutions_review_waiting),
    WorkQueue("institutions_activation", gettext_lazy("机构入库待复核"), institutions_activation_waiting),
)
AGREEMENT_QUEUES = (
    WorkQueue(
        "agreements_reinstatement", gettext_lazy("恢复备案申请待审批"), agreements_reinstatement_waiting
    ),
)
