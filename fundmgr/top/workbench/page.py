"""What the start page (工作台) shows a person: their queues with counts, deadlines and the
items due soonest; a regulator's city pages; their recent steps. Built for the admin index
(`templatetags/workbench.py`); the queues' contents come from the owning apps' selectors.

Queries: two per queue (its counts, its items) and a few for the recent steps (one, plus one
per kind of record), whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from banks.models import CooperationAgreement, Institution
from enterprises.models import Enterprise
from fundmgr.ground.accounts.admin_site import is_regulator, is_system_admin
from fundmgr.ground.accounts.models import Role
from fundmgr.ground.accounts.workqueues import QueueItem, QueueSummary, recent_transitions
from fundmgr.ground.funds.models import LedgerEntry
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.money import format_yuan
from loans.models import Claim, LoanFiling, Recovery

from .queues import QUEUES, QueueSpec

ITEMS = 5
RECENT = 10


def _url(name: str, *args, query: dict | None = None) -> str | None:
    try:
        url = reverse(f"admin:{name}", args=args)
    except NoReverseMatch:  # a model without admin pages
        return None
    return f"{url}?{urlencode(query)}" if query else url


def admin_url(model, page: str, *args, query: dict | None = None) -> str | None:
    return _url(f"{model._meta.app_label}_{model._meta.model_name}_{page}", *args, query=query)


@dataclass(frozen=True)
class ItemView:
    url: str | None
    reference: str
    party: str
    amount: str  # with thousands separators, or "—"
    date: str  # the due date, or the date it entered its state
    countdown: str  # 剩余 N 个工作日 / 逾期 N 个工作日 / 已等待 N 个工作日
    tone: str  # late / soon / ok (the colour)


@dataclass(frozen=True)
class QueueView:
    spec: QueueSpec
    summary: QueueSummary
    url: str | None
    items: list[ItemView]

    @property
    def key(self) -> str:
        return self.spec.key


def _item(spec: QueueSpec, item: QueueItem) -> ItemView:
    row = spec.row(item.obj)
    if item.due is not None:
        date, text, tone = item.due.due_on.isoformat(), item.due.text, item.due.tone
    elif item.since is not None:
        date, tone = item.since.isoformat(), "ok"
        text = _("已等待 %(n)s 个工作日") % {"n": item.waiting_days}
    else:
        date, text, tone = "—", "—", "ok"
    return ItemView(
        url=admin_url(spec.model, "change", item.obj.pk),
        reference=row.reference,
        party=row.party,
        amount="—" if row.amount is None else format_yuan(row.amount),
        date=date,
        countdown=text,
        tone=tone,
    )


def queues_for(user) -> list[QueueSpec]:
    """The queues on this person's start page: their role's; every queue for the system
    administrator; none for anyone else (a regulator acts on nothing)."""
    if is_system_admin(user):
        return list(QUEUES)
    role = getattr(user, "role", None)
    return [spec for spec in QUEUES if role in spec.roles]


def queue_views(user, *, today: dt.date, limit: int = ITEMS) -> list[QueueView]:
    # The system administrator takes no business step: the overview counts everything waiting.
    acting = None if is_system_admin(user) else user
    views = []
    for spec in queues_for(user):
        summary = spec.select(user=acting, today=today, limit=limit)
        views.append(
            QueueView(
                spec=spec,
                summary=summary,
                url=admin_url(spec.model, "changelist", query=spec.filters),
                items=[_item(spec, item) for item in summary.items],
            )
        )
    return views


@dataclass(frozen=True)
class FundLinks:
    name: str
    dashboard: str | None
    reports: str | None
    ledger: str | None


def regulator_links(user) -> list[FundLinks]:
    """A regulator's own funds, each with its dashboard, stored reports and ledger."""
    links = []
    for fund in user.funds.order_by("code"):
        by_fund = {"fund__id__exact": fund.pk}
        links.append(
            FundLinks(
                name=fund.name,
                dashboard=_url("funds_fund_dashboard", fund.code),  # mounted by the reports app
                reports=_url("reports_storedreport_changelist", query=by_fund),
                ledger=admin_url(LedgerEntry, "changelist", query=by_fund),
            )
        )
    return links


def workbench(user) -> dict:
    """The start page's context for `user`."""
    today = clock.today()
    context: dict = {"today": today, "queues": [], "funds": [], "regulator": False}
    if is_regulator(user):
        context.update(regulator=True, funds=regulator_links(user))
        return context
    views = queue_views(user, today=today)
    context.update(
        queues=views,
        overview=is_system_admin(user),
        role_label=dict(Role.choices).get(getattr(user, "role", ""), ""),
        total=sum(v.summary.count for v in views),
        late=sum(v.summary.late for v in views),
        soon=sum(v.summary.soon for v in views),
    )
    return context


# How each kind of record in the log is read for its name (one query per kind).
RECORDS = (
    LoanFiling.objects.all(),
    Claim.objects.all(),
    Recovery.objects.select_related("claim"),
    Enterprise.objects.all(),
    Institution.objects.all(),
    CooperationAgreement.objects.select_related("institution", "fund"),
)


@dataclass(frozen=True)
class RecentView:
    on: str
    label: str
    record: str
    kind: str
    url: str | None
    states: str
    comment: str


def takes_steps(user) -> bool:
    """Staff take steps; a regulator reads and acts on nothing (no recent steps to show)."""
    return not is_regulator(user)


def recent(user, *, limit: int = RECENT) -> list[RecentView]:
    """The steps `user` took most recently, newest first, each linked to its record."""
    views = []
    for step in recent_transitions(user, limit=limit, querysets=[qs.all() for qs in RECORDS]):
        obj = step.obj
        record = (getattr(obj, "reference", None) or str(obj)) if obj is not None else f"#{step.object_id}"
        views.append(
            RecentView(
                on=step.on.isoformat(),
                label=step.label,
                record=record,
                kind=str(step.model._meta.verbose_name) if step.model else "",
                url=admin_url(step.model, "change", step.object_id)
                if step.model and obj is not None
                else None,
                states=f"{step.from_label} → {step.to_label}",
                comment=step.comment,
            )
        )
    return views
