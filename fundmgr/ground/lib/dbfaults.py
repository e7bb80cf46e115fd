"""Telling a lost database connection from other database errors, and getting rid of it.

A connection is *lost* when the server ended it under a running request: the backend was
terminated (`pg_terminate_backend`, a failover, a restart), or the network dropped it. psycopg
then marks the connection broken, and every later query on it fails the same way until it is
closed, which Django does only at the end of a request. That is different from a database that
refuses new connections (nothing was lost; trying again at once fails again) and from errors
the server reports on a healthy connection (a statement timeout, a deadlock), which are not
ours to repeat.

`LostConnectionWatch` notes, for one request, whether a query failed because its connection was
lost; `close_lost_connections()` closes such connections so that the next query connects
afresh. The API middleware (`fundmgr.ground.lib.api.ApiResponseMiddleware`) uses both to run a
read once more, and `fundmgr.ground.lib.idempotency` to free a key after a lost write.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from django.db import connections


def is_lost(db) -> bool:
    """Whether the Django connection `db` holds a driver connection the server has ended."""
    raw = db.connection
    # psycopg 3 sets `broken` when the server or the network ended the connection (not when
    # we closed it ourselves); other drivers (SQLite) have no such state and never lose one.
    return raw is not None and bool(getattr(raw, "broken", False))


def close_lost_connections() -> bool:
    """Close every lost connection of this thread; return whether there was one.

    Never inside a transaction: closing there would hide the loss from the code that must
    roll back (Django refuses to reconnect inside an atomic block anyway)."""
    closed = False
    for db in connections.all(initialized_only=True):
        if is_lost(db) and not db.in_atomic_block:
            db.close()
            closed = True
    return closed


def in_transaction() -> bool:
    return any(db.in_atomic_block for db in connections.all(initialized_only=True))


class LostConnectionWatch:
    """`with LostConnectionWatch() as watch: ...` then `watch.lost`: whether a query in the
    block failed because its connection was lost. Per thread, like Django's connections.

    Queries are watched as they fail, because a loss inside a transaction is covered up when
    Django, failing to roll back, closes the connection; a connection already known to be
    lost, on which the next query fails before it is even sent, is found when the block
    ends."""

    def __init__(self) -> None:
        self.lost = False
        self._stack = ExitStack()

    def __enter__(self) -> LostConnectionWatch:
        for db in connections.all():
            self._stack.enter_context(db.execute_wrapper(self._execute))
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stack.close()
        if any(is_lost(db) for db in connections.all(initialized_only=True)):
            self.lost = True

    def _execute(self, execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        except Exception:
            if is_lost(context["connection"]):
                self.lost = True
            raise
