"""Domain events: how a lower layer tells the layers above it that something happened,
without importing them.

The app where a thing happens declares the event (`loans/events.py`: `CLAIM_DECIDED =
Event("claim.decided")`) and publishes it from its service; an app above (notifications)
subscribes at start-up, in its `AppConfig.ready`. Handlers run at once, inside the
publishing service's transaction, so what they write (an outbox row) commits or rolls back
with the business change; whatever leaves the system (an e-mail) they send only after the
commit themselves (`transaction.on_commit`). A handler that raises rolls the whole command
back, as any other failure inside it would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_declared: dict[str, Event] = {}


class Event:
    """A named event with its subscribers. Declared once, at import, by the app it happens in."""

    def __init__(self, name: str, doc: str = "") -> None:
        with _lock:
            if name in _declared:
                raise ValueError(f"event {name!r} is declared twice")
            _declared[name] = self
        self.name = name
        self.doc = doc
        self._handlers: list[Callable[..., Any]] = []

    def __repr__(self) -> str:
        return f"Event({self.name!r})"

    def subscribe(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Register `handler(**payload)`; idempotent (an app's ready() may run twice in tests)."""
        with _lock:
            if handler not in self._handlers:
                self._handlers.append(handler)
        return handler

    def publish(self, **payload: Any) -> list[Any]:
        """Call every subscriber with the payload, in subscription order; their results, in order."""
        return [handler(**payload) for handler in list(self._handlers)]

    @property
    def handlers(self) -> tuple[Callable[..., Any], ...]:
        return tuple(self._handlers)


def declared() -> dict[str, Event]:
    """Every event declared so far, by name (the catalogue, for docs and tests)."""
    return dict(_declared)
