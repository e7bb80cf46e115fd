"""Reading rows of a hand-written statement the way the ORM would.

A few hot reads (the fund list, a bank's key, the facts a filing is judged by) are one plain
SQL statement instead of several ORM queries: building those queries cost more than the
database spent answering them. `Columns` names a model's columns under a table alias for such
a statement and turns the values read back into what the ORM gives (through the backend's own
converters: SQLite's decimals and JSON come back as on PostgreSQL), or into model instances.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


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
