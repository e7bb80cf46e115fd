"""lib tasks: housekeeping of cross-cutting tables."""

from __future__ import annotations

from celery import shared_task

from .idempotency import purge_expired


@shared_task
def idempotency_purge() -> int:
    """Delete idempotency records older than IDEMPOTENCY_KEY_TTL_DAYS; run daily from beat."""
    return purge_expired()
