"""Declared lifecycles: who may take each transition, four-eyes, running and history.

A transition is declared once on the model with `step(...)`, which stacks django-fsm's
`@transition` (state change and guard), django-fsm-log's decorators (who and why go into the
transition log) and a permission callable built from the roles and four-eyes rule. The admin's
buttons, the API's `available_transitions` and the service that runs a transition all read
that one declaration.

Four-eyes: a step declared with `differs_from=("start_review",)` may not be taken by the user
who took the most recent `start_review` on the same record.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import OuterRef, Subquery, Value
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import FSMFieldMixin, can_proceed, has_transition_perm, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description
from django_fsm_log.models import StateLog

from fundmgr.ground.accounts.errors import AccountsError
from fundmgr.ground.lib import clock, workdays
from fundmgr.ground.lib.errors import AppError, CommonError, Conflict, Forbidden, NotFound

from .models import Role, TransitionDate, User

# Where `preload_history` keeps a record's transition log (oldest first) on the instance.
_PRELOADED_LOG = "_preloaded_state_log"


def _state_log(instance: models.Model):
    """The record's transition log, oldest first: preloaded, or read now."""
    preloaded = instance.__dict__.get(_PRELOADED_LOG)
    if preloaded is not None:
        return preloaded
    return (
        StateLog.objects.filter(
            content_type=ContentType.objects.get_for_model(type(instance)), object_id=instance.pk
        )
        .select_related("by", "business")
        .order_by("id")
    )


def preload_history(records: Sequence[models.Model]) -> list[models.Model]:
    """Read the transition logs of many records of one model in one query and keep each on
    its record, so that `history`, `last_actor_id` (four-eyes) and so `available_transitions`
    of a page of records cost no query per record. For reads: a record changed afterwards
    keeps the log it was given. Returns the records, as a list."""
    records = list(records)
    if not records:
        return records
    logs: dict[int, list[StateLog]] = defaultdict(list)
    rows = (
        StateLog.objects.filter(
            content_type=ContentType.objects.get_for_model(type(records[0])),
            object_id__in=[r.pk for r in records],
        )
        .select_related("by", "business")
        .order_by("id")
    )
    for row in rows:
        logs[row.object_id].append(row)
    for record in records:
        record.__dict__[_PRELOADED_LOG] = logs.get(record.pk, [])
    return records


def keep_history(instance: models.Model, rows: Sequence[StateLog]) -> None:
    """Keep `rows` as `instance`'s whole transition log, as `preload_history` does: for a record
    its service has just written (its first entry in hand), shown at once."""
    instance.__dict__[_PRELOADED_LOG] = list(rows)


def last_actor_id(instance: models.Model, transition_names: Iterable[str]) -> int | None:
    """The user who most recently took one of `transition_names` on `instance`."""
    names = list(transition_names)
    if not names or instance.pk is None:
        return None
    preloaded = instance.__dict__.get(_PRELOADED_LOG)
    if preloaded is not None:
        return next((row.by_id for row in reversed(preloaded) if row.transition in names), None)
    return (
        StateLog.objects.filter(
            content_type=ContentType.objects.get_for_model(type(instance)),
            object_id=instance.pk,
            transition__in=names,
        )
        .order_by("-id")
        .values_list("by_id", flat=True)
        .first()
    )


@dataclass(frozen=True)
class StepPolicy:
    roles: frozenset[str]
    differs_from: tuple[str, ...] = ()

    def role_allows(self, user) -> bool:
        return bool(
            user and user.is_authenticated and user.is_active and getattr(user, "role", None) in self.roles
        )

    def four_eyes_allows(self, instance, user) -> bool:
        if not self.differs_from:
            return True
        return last_actor_id(instance, self.differs_from) != user.pk

    def __call__(self, instance, user) -> bool:
        return self.role_allows(user) and self.four_eyes_allows(instance, user)


def step(
    *,
    field,
    source,
    target,
    roles: Iterable[str],
    label: str,
    differs_from: Iterable[str] = (),
    conditions: list | None = None,
    form: str | None = "fundmgr.ground.accounts.forms.TransitionCommentForm",
    admin: bool = True,
    public: bool = True,
):
    """Declare a business transition (see module docstring). `public=False` marks a step the
    system takes as part of another command (a loan's cover starting on acceptance, a status
    report moving the loan): never offered to a user, never run by name from outside."""
    policy = StepPolicy(roles=frozenset(roles), differs_from=tuple(differs_from))

    def decorate(func: Callable) -> Callable:
        wrapped = transition(
            field=field,
            source=source,
            target=target,
            conditions=conditions or [],
            permission=policy,
            custom={
                "label": label,
                "policy": policy,
                "form": form,
                "admin": admin and public,
                "public": public,
            },
        )(func)
        return fsm_log_by(fsm_log_description(wrapped))

    return decorate


STAFF_REVIEW = (Role.OFFICER, Role.APPROVER)


def _transition_meta(instance, name: str):
    method = getattr(type(instance), name, None)
    meta = getattr(method, "_django_fsm", None)
    if meta is None:
        raise NotFound(_("没有名为 %(name)s 的操作") % {"name": name}, code=AccountsError.UNKNOWN_TRANSITION)
    return meta


def available_transitions(instance, user) -> list[str]:
    """Names the user may take now (state allows it, role allows it, four-eyes allows it)."""
    names: list[str] = []
    for field in instance._meta.fields:
        getter = getattr(instance, f"get_available_user_{field.name}_transitions", None)
        if callable(getter):
            names.extend(t.name for t in getter(user=user) if t.custom.get("public", True))
    return names


def require_public(model: type[models.Model], name: str) -> None:
    """For services that take a transition name from a user (API path, admin button): only
    declared, public steps; internal ones (`public=False`) are taken by the system."""
    meta = getattr(getattr(model, name, None), "_django_fsm", None)
    if meta is None or not next(iter(meta.transitions.values())).custom.get("public", True):
        raise NotFound(_("没有名为 %(name)s 的操作") % {"name": name}, code=AccountsError.UNKNOWN_TRANSITION)


CREATION_LABELS = {
    "submit": gettext_lazy("提交"),
    "report": gettext_lazy("报告"),
    "imported": gettext_lazy("导入"),
    "register": gettext_lazy("登记"),
}


def transition_label(model: type[models.Model], name: str) -> str:
    meta = getattr(getattr(model, name, None), "_django_fsm", None)
    if meta is None:
        return CREATION_LABELS.get(name, name)
    return next(iter(meta.transitions.values())).custom.get("label", name)


def check_transition(instance, name: str, user) -> None:
    """Raise 409 when the state does not allow `name`, 403 when this user may not take it."""
    _transition_meta(instance, name)
    bound = getattr(instance, name)
    if not can_proceed(bound):
        raise Conflict(CommonError.TRANSITION_NOT_ALLOWED, _("当前状态下不允许此操作"))
    if not has_transition_perm(bound, user):
        transition_obj = next(iter(bound._django_fsm.transitions.values()), None)
        policy: StepPolicy | None = transition_obj.custom.get("policy") if transition_obj else None
        if policy is not None and policy.role_allows(user) and not policy.four_eyes_allows(instance, user):
            raise Forbidden(AccountsError.FOUR_EYES_REQUIRED, _("此操作须由另一位工作人员执行（四眼原则）"))
        raise Forbidden(AccountsError.TRANSITION_FORBIDDEN, _("您的角色无权执行此操作"))


def run_transition(
    *,
    model: type[models.Model],
    pk: Any,
    name: str,
    user,
    comment: str = "",
    prepare: Callable[[Any], None] | None = None,
    after: Callable[[Any], None] | None = None,
    then: Callable[[Any], None] | None = None,
    system: bool = False,
):
    """Lock the record, check state/role/four-eyes, let the caller's `prepare` apply business
    rules (raising AppError refuses and writes nothing), take the transition, log it, save.
    One durable transaction; `after` runs on commit (notifications). `system=True` is for
    scheduled jobs (expiry, automatic suspension): no user, so only the state is checked."""
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise AppError(AccountsError.COMMENT_TOO_LONG, _("意见不能超过 2000 字"), field="comment", status=400)
    with transaction.atomic(durable=True):
        instance = model.objects.select_for_update().filter(pk=pk).first()
        if instance is None:
            raise NotFound()
        if system:
            _transition_meta(instance, name)
            if not can_proceed(getattr(instance, name)):
                raise Conflict(CommonError.TRANSITION_NOT_ALLOWED, _("当前状态下不允许此操作"))
        else:
            check_transition(instance, name, user)
        if prepare is not None:
            prepare(instance)
        getattr(instance, name)(by=user, description=comment or None)
        if then is not None:  # follow-up steps of the same command (e.g. the loan's cover starts)
            then(instance)
        instance.save()
        if after is not None:
            transaction.on_commit(lambda: after(instance))
    return instance


def first_entry(model, *, state: str, user, comment: str = "", transition_name: str = "submit") -> StateLog:
    """The first history entry, not yet saved nor tied to its row, of a `model` record born in
    `state` (see `log_created`; a writer that saves the record and its entry together ties it)."""
    return StateLog(
        content_type=ContentType.objects.get_for_model(model),
        source_state=None,
        state=state,
        transition=transition_name,
        by=user,
        description=comment or None,
    )


def log_created(
    instance, *, state: str, user, comment: str = "", transition_name: str = "submit"
) -> StateLog:
    """Record a record born in a state (e.g. a filing created `submitted`) as its first
    history entry, so the history says who created it and when. Returns the entry."""
    entry = first_entry(
        type(instance), state=state, user=user, comment=comment, transition_name=transition_name
    )
    entry.object_id = instance.pk
    entry.save(force_insert=True)
    return entry


ROLE_LABELS = dict(Role.choices)


def _business_on(row: StateLog) -> dt.date:
    try:
        return row.business.on
    except TransitionDate.DoesNotExist:  # written outside the ORM; its Shanghai calendar day
        return timezone.localtime(row.timestamp, clock.SHANGHAI).date()


def state_entered_on_expression(model: type[models.Model], *, state) -> Subquery:
    """The business date on which a row of `model` last entered `state` (a value, or an
    expression such as `F("status")`), as a subquery for `annotate`."""
    if not hasattr(state, "resolve_expression"):
        state = Value(state)
    # The content type as a subquery, not a lookup now: building a queryset touches no table.
    content_type = ContentType.objects.filter(
        app_label=model._meta.app_label, model=model._meta.model_name
    ).values("pk")[:1]
    return Subquery(
        TransitionDate.objects.filter(
            log__content_type=Subquery(content_type),
            log__object_id=OuterRef("pk"),
            log__state=state,
        )
        .order_by("-log_id")
        .values("on")[:1],
        output_field=models.DateField(),
    )


def with_state_entered_on(queryset: models.QuerySet, *, field: str = "status") -> models.QuerySet:
    """Annotate `state_entered_on`: the business date each record entered its *current* state
    (the latest log entry whose target is the record's present value of `field`). The one
    answer to "in this state since when", for the admin, the API and the deadline scans."""
    return queryset.annotate(
        state_entered_on=state_entered_on_expression(queryset.model, state=OuterRef(field))
    )


def state_entered_on(instance: models.Model, *, field: str = "status") -> dt.date | None:
    """`with_state_entered_on` for one record already in hand."""
    if instance.pk is None:
        return None
    if "state_entered_on" in instance.__dict__:  # annotated by with_state_entered_on
        return instance.__dict__["state_entered_on"]
    return (
        TransitionDate.objects.filter(
            log__content_type=ContentType.objects.get_for_model(type(instance)),
            log__object_id=instance.pk,
            log__state=getattr(instance, field),
        )
        .order_by("-log_id")
        .values_list("on", flat=True)
        .first()
    )


def working_days_in_state(entered_on: dt.date | None, *, today: dt.date | None = None) -> int | None:
    """Whole working days a record has spent in its state: 0 on the day it entered."""
    if entered_on is None:
        return None
    return workdays.working_days_between(entered_on, today or clock.today())


def history(instance) -> list[dict]:
    """Every transition of `instance`, oldest first: at, from, to, transition, by (role), comment."""
    return [
        {
            "at": row.timestamp,
            "on": _business_on(row),
            "from": row.source_state,
            "to": row.state,
            "transition": row.transition,
            "by": getattr(row.by, "role", None) if row.by else "system",
            "by_user": row.by.get_username() if row.by else None,
            "comment": row.description or "",
        }
        for row in _state_log(instance)
    ]


def history_html(instance, *, step_labels: dict | None = None) -> str:
    """The transition history as a small table for admin change pages: the business date the
    step counts from, the time it was recorded, the step, the states (of every lifecycle field
    of the model: a filing has two), who and why. `step_labels` names entries that are not
    transition methods (e.g. a filing born `submitted`)."""
    rows = history(instance) if instance is not None and instance.pk else []
    if not rows:
        return "—"
    labels: dict = {}
    for field in type(instance)._meta.fields:
        if isinstance(field, FSMFieldMixin):
            labels.update(dict(field.choices))
    step_labels = step_labels or {}
    system = _("系统")  # who signed a step nobody took by hand
    body = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                r["on"].isoformat(),
                timezone.localtime(r["at"], clock.SHANGHAI).strftime("%Y-%m-%d %H:%M"),
                step_labels.get(r["transition"]) or transition_label(type(instance), r["transition"]),
                labels.get(r["from"], r["from"] or "—"),
                labels.get(r["to"], r["to"]),
                f"{ROLE_LABELS.get(r['by'], r['by'])}（{r['by_user'] or system}）",
                r["comment"],
            )
            for r in rows
        ),
    )
    return format_html(
        '<table class="transition-history"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
        "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
        _("业务日期"),
        _("记录时间"),
        _("操作"),
        _("状态"),
        _("执行人"),
        _("意见"),
        body,
    )


# --- why a step is refused ---------------------------------------------------------------------

# How many people a refusal names as those who may sign instead.
SIGNERS_NAMED = 5


def _person(user) -> str:
    full = user.get_full_name().strip()
    return f"{full}（{user.get_username()}）" if full else user.get_username()


def step_signers(instance, name: str, *, excluding_user_id: int | None = None) -> list[User]:
    """The active people whose role and four-eyes let them take the step `name` on `instance`
    (as far as the declaration goes; the state aside), `excluding_user_id` aside."""
    meta = getattr(getattr(type(instance), name, None), "_django_fsm", None)
    policy = next(iter(meta.transitions.values())).custom.get("policy") if meta is not None else None
    if policy is None or not policy.roles:
        return []
    excluded = {excluding_user_id} - {None}
    if policy.differs_from and (previous := last_actor_id(instance, policy.differs_from)) is not None:
        excluded.add(previous)
    return list(
        User.objects.filter(role__in=policy.roles, is_active=True)
        .exclude(pk__in=excluded)
        .order_by("username")
    )


def why_not(instance, name: str, user) -> str | None:
    """Why `user` may not take the step `name` on `instance` now, in one sentence that names the
    rule, read from the step's declaration (None: they may). For staff pages: it names the
    people who may sign instead.

    - not a step the user takes: the system takes it (no role declared);
    - the state: the record's current state, and the states the step starts from;
    - the role: the roles declared, the user's own, and who may sign instead;
    - four-eyes: which earlier step the user took, and who else may sign.
    """
    meta = getattr(getattr(type(instance), name, None), "_django_fsm", None)
    if meta is None:
        return _("没有名为 %(name)s 的操作") % {"name": name}
    transitions = list(meta.transitions.values())
    step_label = str(transitions[0].custom.get("label") or name)
    field = instance._meta.get_field(meta.field if isinstance(meta.field, str) else meta.field.name)
    states = {key: str(label) for key, label in field.choices}
    policy: StepPolicy | None = transitions[0].custom.get("policy")
    if policy is not None and not policy.roles:
        return _("“%(step)s”由系统自动办理，无须手工操作。") % {"step": step_label}
    bound = getattr(instance, name)
    if not can_proceed(bound, check_conditions=False):
        current = getattr(instance, field.attname)
        sources = [
            states.get(t.source, str(t.source)) for t in transitions if t.source not in ("*", "+", None)
        ]
        return _("当前状态为“%(state)s”，“%(step)s”只能在“%(sources)s”状态下办理。") % {
            "state": states.get(current, current or "—"),
            "step": step_label,
            "sources": _("”或“").join(sources),
        }
    if not can_proceed(bound):
        return _("当前条件下不能办理“%(step)s”。") % {"step": step_label}
    if policy is None:
        return (
            None if has_transition_perm(bound, user) else _("您无权办理“%(step)s”。") % {"step": step_label}
        )
    roles = _("或").join(str(ROLE_LABELS[role]) for role in Role.values if role in policy.roles)
    if policy.role_allows(user):
        if policy.four_eyes_allows(instance, user):
            return None
        message = _("四眼原则：“%(previous)s”由您本人办理，“%(step)s”须由另一位%(roles)s办理。") % {
            "previous": transition_label(type(instance), policy.differs_from[0]),
            "step": step_label,
            "roles": roles,
        }
    else:
        message = _("“%(step)s”须由%(roles)s办理，您的角色（%(own)s）无权办理。") % {
            "step": step_label,
            "roles": roles,
            "own": str(ROLE_LABELS.get(getattr(user, "role", None), _("未知角色"))),
        }
    signers = step_signers(instance, name, excluding_user_id=getattr(user, "pk", None))
    if not signers:
        return message + _("目前没有其他可办理的%(roles)s，请联系系统管理员。") % {"roles": roles}
    named = "、".join(_person(u) for u in signers[:SIGNERS_NAMED])
    if len(signers) > SIGNERS_NAMED:
        named = _("%(people)s等 %(n)s 人") % {"people": named, "n": len(signers)}
    return message + _("可由%(people)s办理。") % {"people": named}
