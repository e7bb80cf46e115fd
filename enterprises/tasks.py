"""enterprises tasks: the daily admission-expiry run (scheduled by setup_periodic_tasks)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def expire_admissions() -> int:
    """Admitted enterprises whose admission period ended become `expired` (idempotent)."""
    return services.enterprise_expire_due()
