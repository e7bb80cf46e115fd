"""Work queues: what waits for whom, and by when. The building blocks the apps' queue
selectors share (enterprises, banks and loans each say what is in their queues) and the
start page (工作台, fundmgr.top.workbench) reads.

A queue waits for one or more declared steps (`workflow.step`). A record is in the queue while
it is in one of a step's source states, for the steps the user's role may take; it is the
user's to act on when four-eyes lets them too (they did not take the step it must differ from).
Both come from the declarations on the models, never restated here.

Deadlines are business dates counted in working days (`fundmgr.ground.lib.workdays`), with the
one rule for "due soon" and "late" that the deadline notices use (`workdays.deadline_phase`).

Each summary reads a bounded number of queries whatever the number of rows: one for the
counts, one for the items shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.db import models
from django.db.models import BooleanField, Case, Count, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django_fsm import FSMFieldMixin
from django_fsm_log.models import StateLog

from fundmgr.ground.lib import clock, workdays

from .models import TransitionDate
from .workflow import StepPolicy, state_entered_on_expression, transition_label

# --- deadlines -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Countdown:
    """A deadline seen on a business date: working days left, or working days late."""

    due_on: dt.date
    days: int  # left when not late, late when late
    phase: str | None  # workdays.APPROACHING, workdays.BREACHED, or None (not due soon)

    @property
    def late(self) -> bool:
        return self.phase == workdays.BREACHED

    @property
    def soon(self) -> bool:
        return self.phase == workdays.APPROACHING

    @property
    def tone(self) -> str:
        return "late" if self.late else "soon" if self.soon else "ok"

    @property
    def text(self) -> str:
        if self.late:
            # Late since a day off (a weekend after a Friday deadline): no working day missed yet.
            return _("逾期 %(n)s 个工作日") % {"n": self.days} if self.days else _("已逾期")
        return _("剩余 %(n)s 个工作日") % {"n": self.days} if self.days else _("今日到期")


def countdown(due_on: dt.date, *, today: dt.date) -> Countdown:
    phase = workdays.deadline_phase(today, due_on)
    if phase == workdays.BREACHED:
        return Countdown(due_on, workdays.working_days_between(due_on, today), phase)
    return Countdown(due_on, workdays.working_days_between(today, due_on), phase)


# --- who may act: read from the declarations ---------------------------------------------------


@dataclass(frozen=True)
class StepDeclaration:
    field: str
    sources: tuple[str, ...]
    policy: StepPolicy


def step_declaration(model: type[models.Model], name: str) -> StepDeclaration:
    """The declared step `name` of `model`: its state field, source states and who may take it."""
    meta = getattr(getattr(model, name, None), "_django_fsm", None)
    if meta is None:
        raise LookupError(f"{model.__name__} declares no step {name!r}")
    transitions = list(meta.transitions.values())
    field = meta.field if isinstance(meta.field, str) else meta.field.name
    sources = tuple(str(t.source) for t in transitions)
    if any(s in ("*", "+") for s in sources) or any(t.source is None for t in transitions):
        raise LookupError(f"{model.__name__}.{name}: a queue needs explicit source states")
    return StepDeclaration(field=field, sources=sources, policy=transitions[0].custom["policy"])


def may_take(model: type[models.Model], name: str, user) -> bool:
    """Whether the user's role may take the declared step (always, for the overview: None)."""
    return user is None or step_declaration(model, name).policy.role_allows(user)


def last_actor_expression(model: type[models.Model], names: Iterable[str]) -> Subquery:
    """The user who most recently took one of the steps `names` on each row (four-eyes), as a
    subquery for `alias`/`annotate`; NULL when nobody has."""
    content_type = ContentType.objects.filter(
        app_label=model._meta.app_label, model=model._meta.model_name
    ).values("pk")[:1]
    return Subquery(
        StateLog.objects.filter(
            content_type=Subquery(content_type), object_id=OuterRef("pk"), transition__in=list(names)
        )
        .order_by("-id")
        .values("by_id")[:1],
        output_field=models.IntegerField(),
    )


def _actor_alias(names: Iterable[str]) -> str:
    return "_last_actor_" + "_".join(sorted(names))


def alias_last_actor(queryset: QuerySet, names: Iterable[str]) -> QuerySet:
    """`queryset` with the last actor of `names` on each row, for `acted_by` conditions."""
    names = list(names)
    alias = _actor_alias(names)
    if alias in queryset.query.annotations:
        return queryset
    # 0 for nobody: no user has pk 0, and a plain comparison then never meets NULL.
    return queryset.alias(**{alias: Coalesce(last_actor_expression(queryset.model, names), Value(0))})


def acted_by(names: Iterable[str], user) -> Q:
    """Rows on which `user` took the latest of the steps `names` (after `alias_last_actor`)."""
    return Q(**{_actor_alias(names): user.pk})


@dataclass(frozen=True)
class Waiting:
    """The records a queue holds for a user: `queryset` (in a source state of a step the user's
    role may take) and `mine`, the condition that the user may take it now (four-eyes)."""

    queryset: QuerySet
    mine: Q

    def narrowed(self, condition: Q) -> Waiting:
        return Waiting(self.queryset.filter(condition), self.mine)


def waiting_for(queryset: QuerySet, steps: Sequence[str], *, user) -> Waiting:
    """Records of `queryset` waiting for one of the declared `steps`.

    `user=None` is the overview (the system administrator, who takes no business step): every
    record in a source state, all counted as the user's. Otherwise only the steps the user's
    role may take, and `mine` excludes the records four-eyes keeps from them."""
    in_states, mine = Q(pk__in=[]), Q(pk__in=[])
    takes_a_step = False
    for name in steps:
        if not may_take(queryset.model, name, user):
            continue
        takes_a_step = True
        step = step_declaration(queryset.model, name)
        state = Q(**{f"{step.field}__in": step.sources})
        in_states |= state
        if user is not None and step.policy.differs_from:
            queryset = alias_last_actor(queryset, step.policy.differs_from)
            mine |= state & ~acted_by(step.policy.differs_from, user)
        else:
            mine |= state
    if not takes_a_step:  # not this person's queue: nothing to read (see WorkQueue.offered)
        return Waiting(queryset.none(), mine)
    return Waiting(queryset.filter(in_states), mine)


@dataclass(frozen=True)
class WorkQueue:
    """A work queue by name (the start page's key): what the start page counts for a person
    and what the admin list its card links to shows, both from the one `waiting` function of
    the app that owns the records, so a card's count and its list's rows are the same records.
    """

    key: str
    label: str
    waiting: Callable[[Any], Waiting]  # user (None: the overview) -> Waiting

    def offered(self, user) -> bool:
        """Whether the person's role takes a step of this queue (the overview: always)."""
        return not self.waiting(user).queryset.query.is_empty()

    def records(self, user) -> QuerySet:
        """Exactly the records the queue counts for the person: theirs to act on now."""
        waiting = self.waiting(user)
        return waiting.queryset.filter(waiting.mine)


# --- summaries: counts and the items due soonest ----------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    obj: Any
    due: Countdown | None = None
    since: dt.date | None = None  # in its state since (business date), for queues without a deadline
    waiting_days: int | None = None  # working days since then


@dataclass(frozen=True)
class QueueSummary:
    count: int  # records the user may act on now
    late: int
    soon: int
    blocked: int  # records in the queue's states that four-eyes leaves to someone else
    items: tuple[QueueItem, ...]
    has_deadline: bool


def _counts(waiting: Waiting, **extra: Q) -> dict[str, int]:
    return waiting.queryset.aggregate(
        total=Count("pk"),
        count=Count("pk", filter=waiting.mine),
        **{key: Count("pk", filter=waiting.mine & condition) for key, condition in extra.items()},
    )


def summary_by_due_date(waiting: Waiting, *, due: str, today: dt.date, limit: int) -> QueueSummary:
    """A queue whose deadline is a date column (or annotation) `due`: counted and ordered in SQL."""
    horizon = workdays.due_soon_horizon(today)
    counts = _counts(
        waiting,
        late=Q(**{f"{due}__lt": today}),
        soon=Q(**{f"{due}__gte": today, f"{due}__lte": horizon}),
    )
    items: tuple[QueueItem, ...] = ()
    if counts["count"] and limit:
        rows = (
            waiting.queryset.filter(waiting.mine)
            .annotate(_due_on=F(due))
            .order_by(F("_due_on").asc(nulls_last=True), "pk")[:limit]
        )
        items = tuple(
            QueueItem(obj, due=countdown(obj._due_on, today=today) if obj._due_on else None) for obj in rows
        )
    return QueueSummary(
        count=counts["count"],
        late=counts["late"],
        soon=counts["soon"],
        blocked=counts["total"] - counts["count"],
        items=items,
        has_deadline=True,
    )


def summary_by_computed_due(
    waiting: Waiting,
    *,
    values: dict[str, Any],
    due_of: Callable[[dict[str, Any]], dt.date | None],
    today: dt.date,
    limit: int,
) -> QueueSummary:
    """A queue whose deadline is computed in Python from a few values of each row (a start
    date plus a policy's working days): one query reads those values for every row of the
    queue (narrow rows, no model instances), one reads the items shown."""
    mine = Case(
        When(waiting.mine, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    rows = list(waiting.queryset.annotate(_mine=mine, **values).values("pk", "_mine", *values).order_by())
    dues = {row["pk"]: due_of(row) for row in rows if row["_mine"]}
    horizon = workdays.due_soon_horizon(today)
    late = sum(1 for d in dues.values() if d is not None and d < today)
    soon = sum(1 for d in dues.values() if d is not None and today <= d <= horizon)
    first = sorted(dues, key=lambda pk: (dues[pk] is None, dues[pk] or dt.date.max, pk))[:limit]
    items: tuple[QueueItem, ...] = ()
    if first:
        found = waiting.queryset.in_bulk(first)
        items = tuple(
            QueueItem(found[pk], due=countdown(dues[pk], today=today) if dues[pk] else None)
            for pk in first
            if pk in found
        )
    return QueueSummary(
        count=len(dues),
        late=late,
        soon=soon,
        blocked=len(rows) - len(dues),
        items=items,
        has_deadline=True,
    )


def summary_by_age(waiting: Waiting, *, today: dt.date, limit: int, field: str = "status") -> QueueSummary:
    """A queue without a deadline: the records longest in their state first, with their
    working days there (from the transition log's business dates)."""
    counts = _counts(waiting)
    items: tuple[QueueItem, ...] = ()
    if counts["count"] and limit:
        model = waiting.queryset.model
        rows = (
            waiting.queryset.filter(waiting.mine)
            .annotate(_since=state_entered_on_expression(model, state=OuterRef(field)))
            .order_by(F("_since").asc(nulls_last=True), "pk")[:limit]
        )
        items = tuple(
            QueueItem(
                obj,
                since=obj._since,
                waiting_days=None if obj._since is None else workdays.working_days_between(obj._since, today),
            )
            for obj in rows
        )
    return QueueSummary(
        count=counts["count"],
        late=0,
        soon=0,
        blocked=counts["total"] - counts["count"],
        items=items,
        has_deadline=False,
    )


# --- my recent actions --------------------------------------------------------------------------


@dataclass(frozen=True)
class RecentTransition:
    on: dt.date  # business date
    at: dt.datetime  # wall clock, when it was recorded
    model: type[models.Model] | None
    object_id: int
    obj: Any  # None when the record is gone
    label: str  # the step, as the buttons name it
    from_label: str
    to_label: str
    comment: str


def _state_labels(model: type[models.Model] | None, transition: str) -> dict:
    if model is None:
        return {}
    meta = getattr(getattr(model, transition, None), "_django_fsm", None)
    field = meta.field if meta is not None else None
    if isinstance(field, str):
        field = model._meta.get_field(field)
    if field is None:  # a record born in a state (log_created): its first lifecycle field
        field = next((f for f in model._meta.fields if isinstance(f, FSMFieldMixin)), None)
    return dict(field.choices) if field is not None else {}


@cache
def _internal_steps() -> frozenset[str]:
    """Names of the steps the system takes as part of another command (`public=False`: a loan's
    cover starting on acceptance, a claim moving to recovery on payment), in every model that
    declares steps — and public in none."""
    internal, public = set(), set()
    for model in apps.get_models():
        if not any(isinstance(field, FSMFieldMixin) for field in model._meta.fields):
            continue
        for name in dir(model):
            meta = getattr(getattr(model, name, None), "_django_fsm", None)
            for transition in meta.transitions.values() if meta is not None else ():
                (public if (transition.custom or {}).get("public", True) else internal).add(name)
    return frozenset(internal - public)


def recent_transitions(
    user, *, limit: int = 10, querysets: Sequence[QuerySet] = ()
) -> list[RecentTransition]:
    """The steps `user` took most recently (the transition log), newest first: the steps they
    chose, not those the system took as part of them. `querysets` say how to read the records
    of each model (e.g. with what their names need), one query per model whatever the number
    of steps."""
    rows = list(
        StateLog.objects.filter(by_id=user.pk)
        .exclude(transition__in=_internal_steps())
        .select_related("content_type", "business")
        .prefetch_related(GenericPrefetch("content_object", list(querysets)))
        .order_by("-id")[:limit]
    )
    recent = []
    for row in rows:
        model = row.content_type.model_class()
        labels = _state_labels(model, row.transition)
        try:
            on = row.business.on
        except TransitionDate.DoesNotExist:
            on = row.timestamp.astimezone(clock.SHANGHAI).date()
        recent.append(
            RecentTransition(
                on=on,
                at=row.timestamp,
                model=model,
                object_id=row.object_id,
                obj=row.content_object,
                label=str(transition_label(model, row.transition)) if model else row.transition,
                from_label=str(labels.get(row.source_state, row.source_state or "—")),
                to_label=str(labels.get(row.state, row.state)),
                comment=row.description or "",
            )
        )
    return recent
