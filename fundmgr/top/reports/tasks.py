"""Report jobs run by Celery beat (schedule: `manage.py setup_periodic_tasks`).

Each job is idempotent per period: a report already stored for the period is kept as it
was generated, so a retried or doubled beat tick stores nothing twice.
"""

from __future__ import annotations

from celery import shared_task

from fundmgr.ground.lib import clock

from . import services


@shared_task(name="reports.monthly_reports_generate_all")
def monthly_reports_generate_all(year: int | None = None, month: int | None = None) -> int:
    """On the 1st: every fund's report and every bank's statement for the month before."""
    if year is None or month is None:
        year, month = services.previous_month(clock.today())
    return services.monthly_reports_generate_all(year=year, month=month)


@shared_task(name="reports.snapshots_refresh")
def snapshots_refresh() -> int:
    """Nightly: keep the figures of the closed periods not kept yet (or no longer, after a
    correction) so the next report on them reads a few rows."""
    return services.snapshots_refresh()


@shared_task(name="reports.quarterly_reports_store_all")
def quarterly_reports_store_all(year: int | None = None, quarter: int | None = None) -> int:
    """After a quarter ends: archive each fund's quarterly regulator table."""
    if year is None or quarter is None:
        year, quarter = services.previous_quarter(clock.today())
    return services.quarterly_reports_store_all(year=year, quarter=quarter)
