"""Reading rows of a hand-written statement the way the ORM would.

A few hot reads (the fund list, a bank's key, the facts a filing is judged by) are one plain
SQL statement instead of several ORM queries: building those queries cost more than the
database spent answering them. `Columns` names a model's columns under a table alias for such
a statement and turns the values read back into what the ORM gives (through the backend's own
converters: SQLite's decimals and JSON come back as on PostgreSQL), or into model instances.

The other way round, `insert_new` writes new rows as `save()` would write them, rows that refer
to one another included, in one statement on PostgreSQL (a loan filing, its history entry and
its pledges): there too, sending the ORM's statements one by one cost more than storing the rows.

`cursor()` (and `rows()`) runs such statements prepared on PostgreSQL: each is parsed and
planned once per connection instead of on every request (planning took longer than running
these short reads). `in_list` writes a membership test whose text does not change with the
number of values, so that one prepared statement serves every list. The opposite need,
`plan_afresh()`, is for a transaction that grows tables a lot (a books import): plans kept from
when a table was small would otherwise serve it after it has grown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import NamedTuple

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.backends.utils import CursorWrapper

# --- running hot statements ------------------------------------------------------------------------


@cache
def _preparing_classes():
    """PostgreSQL (psycopg 3): Django's cursor with the parameters bound by the server (the
    ORM's own cursors bind them in the client, and psycopg cannot prepare such statements),
    preparing every statement it runs; and Django's query-logging wrapper for it."""
    import psycopg
    from django.db.backends.postgresql.base import CursorDebugWrapper, ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=prepare is not False, binary=binary)

    class LoggedCursor(CursorDebugWrapper):
        """Logs each statement as Django logs the ORM's, its parameters in place (psycopg
        keeps no text of a statement it ran prepared, where Django looks for it)."""

        def execute(self, sql, params=None):
            shown = sql
            if params is not None:
                try:
                    shown = self.db.ops.compose_sql(sql, params)
                except psycopg.Error:
                    pass  # shown as written; the statement itself will say what is wrong
            with self.debug_sql(shown, params):
                return CursorWrapper.execute(self, sql, params)

    return PreparingCursor, LoggedCursor


def cursor() -> CursorWrapper:
    """A cursor for a hand-written statement that runs often (`with rawsql.cursor() as c:`).

    On PostgreSQL the statement is prepared: parsed and planned at its first run on the
    connection, then only bound and executed. psycopg keeps the last 100 statements prepared per
    connection. `DATABASE_PREPARED_STATEMENTS=false` (for a pooler that shares server sessions
    between clients, such as PgBouncer in transaction mode) runs them unprepared. Other databases:
    Django's cursor. Either way the cursor is Django's wrapper (errors translated, queries logged
    where Django logs them). Parameters bound by the server are typed: write `= ANY(%s)` with a
    list (`in_list`), never a tuple for `IN %s`."""
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: `connection` looks it up at each use
    if db.vendor != "postgresql":
        return db.cursor()
    # What connection.cursor() does, with the preparing cursor in place of the ORM's.
    db.close_if_health_check_failed()
    db.ensure_connection()
    preparing, logged = _preparing_classes()
    with db.wrap_database_errors:
        db.validate_thread_sharing()
        raw = preparing(db.connection)
        return logged(raw, db) if db.queries_logged else db.make_cursor(raw)


def plan_afresh() -> None:
    """For the rest of the current transaction, PostgreSQL plans every statement whose plan it
    would keep (prepared statements, and the foreign-key checks it runs at commit) afresh at
    each run, sized on the tables as they are at that moment. For a transaction that grows
    tables by tens of thousands of rows: a kept plan made while a table was nearly empty (a
    sequential scan, cheapest then) would scan the grown table once for every row checked.
    Other databases: nothing to do."""
    if connection.get_autocommit():
        raise RuntimeError("plan_afresh() lasts for a transaction: call it inside one")
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as c:
        c.execute("SET LOCAL plan_cache_mode = force_custom_plan")


def rows(sql: str, params: Sequence = ()) -> list[tuple]:
    """Every row of a hand-written statement that runs often, run through `cursor()`."""
    with cursor() as c:
        c.execute(sql, params)
        return c.fetchall()


def in_list(column: str, values: Iterable) -> tuple[str, list]:
    """`column` is one of `values` (at least one): SQL and its parameters. PostgreSQL: `= ANY`
    of one array parameter, the same statement for any number of values; others: `IN (…)`."""
    values = list(values)
    if not values:
        raise ValueError("in_list needs at least one value")
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


class Columns:
    """`fields` of `model` (all its concrete fields by default) read under table `alias`."""

    def __init__(self, model: type[models.Model], alias: str, fields: Sequence[str] | None = None) -> None:
        chosen = (
            list(model._meta.concrete_fields)
            if fields is None
            else [model._meta.get_field(f) for f in fields]
        )
        self.model, self.alias = model, alias
        self.names = [f.attname for f in chosen]
        self.sql = ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in chosen)
        self.steps = []  # (position, converters, column) of the values that need converting
        for i, field in enumerate(chosen):
            col = field.get_col(alias)
            functions = [*connection.ops.get_db_converters(col), *field.get_db_converters(connection)]
            if functions:
                self.steps.append((i, functions, col))

    def __len__(self) -> int:
        return len(self.names)

    def values(self, row: Sequence) -> list:
        """The values of these columns at the start of `row`, as the ORM would give them."""
        out = list(row[: len(self.names)])
        for i, functions, col in self.steps:
            value = out[i]
            for function in functions:
                value = function(value, col, connection)
            out[i] = value
        return out

    def instance(self, row: Sequence) -> models.Model:
        """The model instance these columns at the start of `row` describe (as loaded)."""
        return self.model.from_db(connection.alias, self.names, self.values(row))

    def table(self) -> str:
        return f"{connection.ops.quote_name(self.model._meta.db_table)} {self.alias}"


_KNOWN: dict[tuple, Columns] = {}


def columns(model: type[models.Model], alias: str, fields: Sequence[str] | None = None) -> Columns:
    """`Columns`, built once per process and database backend."""
    key = (connection.vendor, model, alias, None if fields is None else tuple(fields))
    found = _KNOWN.get(key)
    if found is None:
        found = _KNOWN[key] = Columns(model, alias, fields)
    return found


# --- writing new rows ------------------------------------------------------------------------------


class Insert:
    """How `save()` inserts a new row of `model`: the columns it writes (every concrete field but
    an automatic primary key) and each value as it sends it (the field's `pre_save(obj,
    add=True)`, which stamps `auto_now_add` fields on the instance as `save()` does, then
    `get_db_prep_save`). Models for which `save()` does more (parents, database defaults,
    generated fields, ordering with respect to another model, custom placeholders) are refused."""

    def __init__(self, model: type[models.Model]) -> None:
        meta = model._meta
        if (
            meta.parents
            or meta.proxy
            or meta.order_with_respect_to
            or any(f.generated or f.has_db_default() or hasattr(f, "get_placeholder") for f in meta.fields)
        ):
            raise ValueError(f"{model.__name__}: save() does more than one plain INSERT")
        q = connection.ops.quote_name
        self.model, self.pk, self.auto = model, meta.pk, meta.auto_field  # auto: None for a given key
        self.fields = [f for f in meta.local_concrete_fields if f is not self.auto]
        self.table, self.key_column = q(meta.db_table), q(meta.pk.column)
        self.columns = ", ".join(q(f.column) for f in self.fields)
        self.marks = f"({', '.join(['%s'] * len(self.fields))})"
        self._key = Columns(model, "k", [meta.pk.name])

    def values(self, obj: models.Model, links: dict[str, models.Model] | None = None) -> list:
        """The values `save()` would send for `obj` (its `auto_now_add` fields stamped now), in
        column order; a column named in `links` is left out (its value comes from elsewhere)."""
        out = []
        for field in self.fields:
            if links and field.attname in links:
                continue
            value = field.pre_save(obj, True)
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"{self.model.__name__}.{field.name}: an expression, not a value")
            out.append(field.get_db_prep_save(value, connection))
        return out

    def key(self, value):
        """A primary key read back, as the ORM gives it."""
        return self._key.values([value])[0]


def inserting(model: type[models.Model]) -> Insert:
    """`Insert`, built once per process and database backend."""
    key = (connection.vendor, model, "insert")
    found = _KNOWN.get(key)
    if found is None:
        found = _KNOWN[key] = Insert(model)
    return found


Step = models.Model | list[models.Model]


class _Planned(NamedTuple):
    rows: list[models.Model]
    links: dict[str, models.Model]
    insert: Insert


def insert_new(*steps: Step | tuple[Step, dict[str, models.Model]]) -> None:
    """Write new rows as `save()` writes each of them (`Insert`), in the order given, and leave
    the instances as `save()` leaves them (primary key set, no longer adding). A step is one new
    instance, or a list of new instances of one model written in their order (as `bulk_create`
    writes them). A step may come with links, `(step, {attname: instance of an earlier step})`:
    columns that take the primary key of a row written before (a foreign key, or a generic
    relation's object id); a foreign key so linked is then set to that instance, as assigning
    it does.

    PostgreSQL: one statement, each step an INSERT … RETURNING in a WITH that later steps read
    their links from; other databases: one INSERT per row. Like `bulk_create`, no `pre_save` or
    `post_save` signal is sent: a caller that writes a model some receiver listens to does that
    receiver's work itself (and has a test that says which receivers it stands for)."""
    plan: list[_Planned] = []
    position: dict[int, int] = {}  # id() of a one-row step's instance -> its step
    for step in steps:
        rows, links = step if isinstance(step, tuple) else (step, {})
        rows = list(rows) if isinstance(rows, list) else [rows]
        if not rows:
            continue
        insert = inserting(type(rows[0]))
        for row in rows:
            new = insert.auto is None or getattr(row, insert.auto.attname) is None
            if type(row) is not insert.model or not new:
                raise ValueError(f"{type(row).__name__}: not a new {insert.model.__name__}")
        if len(rows) > 1 and insert.auto is None:
            raise ValueError(f"{insert.model.__name__}: several rows in one step need an automatic key")
        if any(id(target) not in position for target in links.values()):
            raise ValueError("a link to a row not written in an earlier step of its own")
        if len(rows) == 1:
            position[id(rows[0])] = len(plan)
        plan.append(_Planned(rows, links, insert))
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            keys = _insert_with(plan, position)
        else:
            keys = _insert_each(plan)
    for step, step_keys in zip(plan, keys, strict=True):
        for row, key in zip(step.rows, step_keys, strict=True):
            setattr(row, step.insert.pk.attname, key)
            row._state.adding, row._state.db = False, connection.alias
            _link(row, step.links)


def _link(row: models.Model, links: dict[str, models.Model]) -> None:
    for attname, target in links.items():
        field = row._meta.get_field(attname)
        if field.is_relation and isinstance(target, field.related_model):
            setattr(row, field.name, target)  # the key, and the instance kept as assigned
        else:
            setattr(row, field.attname, target.pk)


def _insert_with(plan: list[_Planned], position: dict[int, int]) -> list[list]:
    """PostgreSQL: one WITH, step i as `s{i}`. A step's keys are read back in the order its rows
    were inserted (they take their keys from the table's sequence in that order)."""
    parts, params, keys = [], [], []
    for i, (new_rows, links, insert) in enumerate(plan):
        linked = {}
        for attname, target in links.items():
            j = position[id(target)]
            linked[attname] = f"(SELECT {plan[j].insert.key_column} FROM s{j})"
        row_sql = f"({', '.join(linked.get(f.attname, '%s') for f in insert.fields)})"
        for row in new_rows:
            params += insert.values(row, links)
        parts.append(
            f"s{i} AS (INSERT INTO {insert.table} ({insert.columns})"
            f" VALUES {', '.join([row_sql] * len(new_rows))} RETURNING {insert.key_column})"
        )
        keys.append(f"ARRAY(SELECT {insert.key_column} FROM s{i} ORDER BY 1)")
    (found,) = rows(f"WITH {', '.join(parts)} SELECT {', '.join(keys)}", params)
    return [[step.insert.key(k) for k in step_keys] for step, step_keys in zip(plan, found, strict=True)]


def _insert_each(plan: list[_Planned]) -> list[list]:
    """Other databases: one INSERT per row, in order; a row's links are set before it is written."""
    returning = connection.features.can_return_columns_from_insert
    keys = []
    with connection.cursor() as cursor:
        for rows, links, insert in plan:
            sql = f"INSERT INTO {insert.table} ({insert.columns}) VALUES {insert.marks}"
            if returning:
                sql += f" RETURNING {insert.key_column}"
            keys.append([])
            for row in rows:
                _link(row, links)
                cursor.execute(sql, insert.values(row))
                if returning:
                    key = insert.key(cursor.fetchone()[0])
                elif insert.auto is not None:
                    table = insert.model._meta.db_table
                    key = insert.key(connection.ops.last_insert_id(cursor, table, insert.pk.column))
                else:
                    key = getattr(row, insert.pk.attname)
                setattr(row, insert.pk.attname, key)  # a later row's link reads it
                keys[-1].append(key)
    return keys
