"""enterprises tasks: the daily admission-expiry run (scheduled by setup_periodic_tasks)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="enterprises.enterprise_expire_due")
def enterprise_expire_due() -> int:
    """Admitted enterprises whose admission period ended become `expired` (idempotent)."""
    return services.enterprise_expire_due()
