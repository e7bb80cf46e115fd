"""The workbook's dry run and import as Celery tasks: load the run by id, call the service.
With a broker the upload page shows their progress; without one they run eagerly. And the
daily purge of uploads past their retention period."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="books.import_run_validate")
def import_run_validate(run_id: int) -> str:
    run = services.import_run_validate(run_id=run_id)
    return run.status if run else "missing"


@shared_task(name="books.import_run_execute")
def import_run_execute(run_id: int) -> str:
    run = services.import_run_execute(run_id=run_id)
    return run.status if run else "missing"


@shared_task(name="books.import_runs_purge")
def import_runs_purge() -> int:
    """Scheduled daily: uploaded workbooks past the retention period are deleted."""
    return services.import_runs_purge()
