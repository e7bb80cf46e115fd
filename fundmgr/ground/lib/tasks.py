"""lib tasks: housekeeping of cross-cutting tables."""

from __future__ import annotations

from celery import shared_task

from . import idempotency


@shared_task(name="lib.idempotency_purge_expired")
def idempotency_purge_expired() -> int:
    """Delete idempotency records older than IDEMPOTENCY_KEY_TTL_DAYS; run daily from beat."""
    return idempotency.idempotency_purge_expired()
