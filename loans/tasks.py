"""loans tasks: the daily early-warning scan (schedule it in django-celery-beat)."""

from __future__ import annotations

from celery import shared_task

from . import servicing


@shared_task
def loans_warnings_scan() -> dict[str, int]:
    """Raise and resolve early warnings on covered loans and pending filings for today."""
    return servicing.warnings_scan()
