"""The transition log of records brought in from a fund's old books (台账导入).

A record imported in a state (an enterprise already admitted, a loan already accepted and
performing, a claim already paid) did not go through its lifecycle here, so its history
starts with one entry per lifecycle field: transition `imported`, from nothing to the state
it arrived in, signed by the person who ran the import (the wall-clock timestamp says when),
with the business date the state was entered on in the old books (`TransitionDate`), so that
"in this state since" and every deadline read from the log count from that date.

Many records at once: the log rows and their business dates are written with two bulk
inserts, inside the caller's transaction (the import is one transaction, all or nothing).

`bulk_insert` is how the import services of every app write their new rows: on PostgreSQL
the primary keys are reserved from the table's sequence and the rows go in with one COPY
(Django's bulk_create spends most of its time preparing each value in Python; COPY adapts
them in C), elsewhere it is bulk_create. Nothing is switched off: constraints, foreign keys
and triggers check every row. Like bulk_create it calls no save(); `with_history` writes the
simple-history rows (who imported, and why) the same way.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone
from django_fsm_log.models import StateLog

from .models import Organization, TransitionDate

IMPORTED = "imported"


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    table, pk = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, count]
        )
        return [row[0] for row in cursor.fetchall()]


def bulk_insert(objs: Sequence[models.Model]) -> list[models.Model]:
    """Insert new rows of one model (their primary keys set on them afterwards), inside the
    caller's transaction. PostgreSQL: one COPY; other databases: bulk_create."""
    objs = list(objs)
    if not objs:
        return objs
    model = type(objs[0])
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objs, batch_size=1000)
    meta = model._meta
    if isinstance(meta.pk, models.fields.AutoFieldMixin) and objs[0].pk is None:
        for obj, pk in zip(objs, _reserve_ids(model, len(objs)), strict=True):
            obj.pk = pk
    fields = list(meta.concrete_fields)
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(meta.db_table), sql.SQL(", ").join(sql.Identifier(f.column) for f in fields)
    )
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for obj in objs:
            row = []
            for f in fields:
                value = f.pre_save(obj, True)
                if f.attname in json_fields and value is not None:
                    value = json.dumps(value, cls=f.encoder)
                row.append(value)
            copy.write_row(row)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def bulk_insert_with_history(objs: Sequence[models.Model], *, by, reason: str) -> list[models.Model]:
    """`bulk_insert`, then one simple-history row per record: created (+), by `by`, `reason`."""
    objs = bulk_insert(objs)
    if not objs:
        return objs
    history = type(objs[0]).history.model
    now = timezone.now()
    rows = []
    for obj in objs:
        row = history(
            history_date=now,
            history_user=by,
            history_change_reason=reason[:100],
            history_type="+",
            **{f.attname: getattr(obj, f.attname) for f in history.tracked_fields},
        )
        rows.append(row)
    bulk_insert(rows)
    return objs


@dataclass(frozen=True)
class ImportedState:
    """One lifecycle field of one imported record: the state it arrived in and since when."""

    instance: models.Model
    state: str
    on: dt.date


def log_imported(entries: Sequence[ImportedState], *, by, comment: str) -> int:
    """Write an `imported` history entry for each (record, state, date). Returns the count.

    Runs inside the caller's transaction. `by` is the user who ran the import (None: the
    system); `comment` says from where (e.g. "导入台账：肇庆台账.xlsx")."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("log_imported must run inside the import's transaction")
    if not entries:
        return 0
    types = {model: ContentType.objects.get_for_model(model) for model in {type(e.instance) for e in entries}}
    comment = comment[:2000] or None
    logs = bulk_insert(
        [
            StateLog(
                content_type=types[type(e.instance)],
                object_id=e.instance.pk,
                source_state=None,
                state=e.state,
                transition=IMPORTED,
                by=by,
                description=comment,
            )
            for e in entries
        ]
    )
    if any(log.pk is None for log in logs):  # a backend that does not return ids from bulk inserts
        raise RuntimeError("log_imported needs the ids of the inserted log rows")
    bulk_insert([TransitionDate(log=log, on=e.on) for log, e in zip(logs, entries, strict=True)])
    return len(logs)


def bulk_update_with_history(
    changes: Sequence[tuple[models.Model, dict]], *, allowed: Sequence[str], by, reason: str
) -> list[models.Model]:
    """Apply each (record, {field: value}) of one model, write them with one UPDATE per batch
    and one simple-history row per record: changed (~), by `by`, `reason`. A field outside
    `allowed` is a programming error (the import's checks decide what may change)."""
    if not changes:
        return []
    fields: set[str] = set()
    objs = []
    for obj, values in changes:
        unknown = set(values) - set(allowed)
        if unknown:
            raise ValueError(f"not updatable by import: {sorted(unknown)}")
        for key, value in values.items():
            setattr(obj, key, value)
        fields |= set(values)
        objs.append(obj)
    model = type(objs[0])
    model.objects.bulk_update(objs, sorted(fields), batch_size=1000)
    history = model.history.model
    now = timezone.now()
    bulk_insert(
        [
            history(
                history_date=now,
                history_user=by,
                history_change_reason=reason[:100],
                history_type="~",
                **{f.attname: getattr(obj, f.attname) for f in history.tracked_fields},
            )
            for obj in objs
        ]
    )
    return objs


def institution_organizations_create(institutions: Sequence[models.Model]) -> None:
    """The organisation record of each newly imported institution (as
    `services.institution_organization` creates it for one), in one insert."""
    bulk_insert(
        [
            Organization(
                code=f"inst-{i.code}",
                name=i.name,
                kind=Organization.Kind.INSTITUTION,
                region_code=i.region_code,
                institution=i,
            )
            for i in institutions
        ]
    )
