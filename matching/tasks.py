"""matching tasks, scheduled by setup_periodic_tasks: needs past their validity expire, and the
priority classes of every need in play are computed again (honours expire, rights age out of
the window, portfolios change in the enterprises app)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="matching.needs_expire_due")
def needs_expire_due() -> int:
    """Open needs past their validity become `expired` (idempotent)."""
    return services.needs_expire_due()


@shared_task(name="matching.priorities_refresh")
def priorities_refresh() -> int:
    """Every need in play classified again on the business date."""
    return services.need_priorities_refresh()
