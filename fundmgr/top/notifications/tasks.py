"""Notification tasks: send one e-mail, scan deadlines, sweep stuck rows.

Schedule in django-celery-beat (periodic tasks live in the database, see settings):
`notifications.deadline_scan` daily (e.g. 07:30 Asia/Shanghai) and
`notifications.email_resend_stuck` every 10 minutes.

Exactly once: `email_send` may run any number of times for a row (a retry, a
message delivered twice, a second worker, the sweep, a staff resend); only the run that wins
the claim (`services.email_claim`) sends, and a row once `sent` is never claimed again.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import get_connection, send_mail

from . import deadlines, services

log = logging.getLogger(__name__)

MAX_RETRIES = 5
# Back-off after a failed send: base × 2^retry, capped (60 s, 2, 4, 8, 16 min by default).
DEFAULT_RETRY_BASE_SECONDS = 60
MAX_RETRY_COUNTDOWN_SECONDS = 3600
# An SMTP server that never answers must not hold a worker (and the row's claim) forever.
DEFAULT_SEND_TIMEOUT_SECONDS = 30


def retry_countdown(retries: int) -> float:
    base = float(getattr(settings, "NOTIFICATION_EMAIL_RETRY_BASE_SECONDS", DEFAULT_RETRY_BASE_SECONDS))
    return min(base * (2**retries), MAX_RETRY_COUNTDOWN_SECONDS)


@shared_task(name="notifications.email_send", bind=True, acks_late=True, max_retries=MAX_RETRIES)
def email_send(self, notification_id: int) -> str:
    """Send the e-mail of one notification if this run wins the claim.

    Returns "sent", "failed" (eager mode, see below) or "not_claimed" (already sent, being
    sent elsewhere, nothing to send, or gone).
    """
    row = services.email_claim(notification_id=notification_id)
    if row is None:
        return "not_claimed"
    try:
        timeout = getattr(settings, "EMAIL_TIMEOUT", None) or DEFAULT_SEND_TIMEOUT_SECONDS
        send_mail(
            subject=row.subject,
            message=services.email_text(row),
            from_email=None,  # DEFAULT_FROM_EMAIL
            recipient_list=[row.email_to],
            connection=get_connection(timeout=timeout),
        )
    except Exception as exc:
        services.email_mark_failed(
            notification_id=row.pk, claimed_at=row.claimed_at, error=f"{type(exc).__name__}: {exc}"
        )
        if self.request.is_eager:
            # Without a broker nothing can hold a delayed retry, and retrying at once would
            # only meet the same outage: the row stays `failed` for the staff's resend.
            log.warning("e-mail of notification %s failed (eager, not retried): %s", row.pk, exc)
            return "failed"
        log.warning("e-mail of notification %s failed (attempt %s): %s", row.pk, row.attempts, exc)
        raise self.retry(
            exc=exc, countdown=retry_countdown(self.request.retries), max_retries=MAX_RETRIES
        ) from exc
    services.email_mark_sent(notification_id=row.pk)
    return "sent"


@shared_task(name="notifications.deadline_scan")
def deadline_scan(today: str | None = None) -> dict[str, int]:
    """Notify deadlines approaching or breached on `today` (YYYY-MM-DD; default the business date)."""
    return deadlines.deadline_scan(today=dt.date.fromisoformat(today) if today else None)


@shared_task(name="notifications.email_resend_stuck")
def email_resend_stuck(older_than_minutes: int = services.STUCK_AFTER_MINUTES) -> dict[str, int]:
    """Re-enqueue e-mails whose message was lost; flag sends interrupted by a dying worker."""
    return services.email_resend_stuck(older_than_minutes=older_than_minutes)
