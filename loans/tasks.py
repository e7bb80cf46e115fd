"""loans tasks: the daily scans (scheduled by setup_periodic_tasks). Each task is named after
the service it runs."""

from __future__ import annotations

from celery import shared_task

from .services import claims, servicing


@shared_task(name="loans.warnings_scan")
def warnings_scan() -> dict[str, int]:
    """Raise and resolve early warnings on covered loans and pending filings for today."""
    return servicing.warnings_scan()


@shared_task(name="loans.recoveries_mark_overdue")
def recoveries_mark_overdue() -> int:
    """Recoveries not returned by their due date become overdue (staff are alerted); idempotent
    (only `return_due` rows move)."""
    return claims.recoveries_mark_overdue()
