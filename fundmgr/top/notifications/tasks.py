"""Notification tasks: scan deadlines, sweep stuck rows (the e-mail task itself,
`notifications.email_send`, is in delivery.py and registered with it).

Schedule in django-celery-beat (periodic tasks live in the database, see settings):
`notifications.deadline_scan` daily (e.g. 07:30 Asia/Shanghai) and
`notifications.email_resend_stuck` every 10 minutes.

Exactly once: `email_send` may run any number of times for a row (a retry, a
message delivered twice, a second worker, the sweep, a staff resend); only the run that wins
the claim (`delivery.email_claim`) sends, and a row once `sent` is never claimed again.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task

from . import deadlines, delivery, needs
from .delivery import email_send  # noqa: F401  (the task lives with the delivery rules)

log = logging.getLogger(__name__)


@shared_task(name="notifications.deadline_scan")
def deadline_scan(today: str | None = None) -> dict[str, int]:
    """Notify deadlines approaching or breached on `today` (YYYY-MM-DD; default the business date)."""
    return deadlines.deadline_scan(today=dt.date.fromisoformat(today) if today else None)


@shared_task(name="notifications.email_resend_stuck")
def email_resend_stuck(older_than_minutes: int = delivery.STUCK_AFTER_MINUTES) -> dict[str, int]:
    """Re-enqueue e-mails whose message was lost; flag sends interrupted by a dying worker."""
    return delivery.email_resend_stuck(older_than_minutes=older_than_minutes)


@shared_task(name="notifications.needs_digest")
def needs_digest(today: str | None = None) -> dict[str, int]:
    """Each bank's digest of the new financing needs it may match (once per day covered)."""
    return needs.needs_digest(today=dt.date.fromisoformat(today) if today else None)


@shared_task(name="notifications.needs_untouched_scan")
def needs_untouched_scan(today: str | None = None) -> int:
    """Officers told of financing needs nobody has touched for the policy's working days."""
    return needs.needs_untouched_scan(today=dt.date.fromisoformat(today) if today else None)
