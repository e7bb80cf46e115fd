"""How notices leave the system: the e-mail of each notification, exactly once.

A row's e-mail goes pending → sending → sent (or failed, for staff to resend). The Celery
task `email_send` may run any number of times for a row (a retry, a message delivered twice,
a second worker, the sweep, a staff resend); only the run that wins the claim
(`email_claim`, one conditional UPDATE) sends, and a row once `sent` is never claimed again.
The services ask for delivery (`enqueue_email`) only after their transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from celery import shared_task
from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from fundmgr.ground.lib.i18n import recorded

from .models import EmailStatus, Notification

log = logging.getLogger(__name__)

# A row stays `sending` at most this long in a healthy worker (the SMTP connection has a
# timeout well below it). Older `sending` rows belong to a worker that died mid-send.
SEND_LEASE = timedelta(minutes=10)
# `pending` rows this old never reached a worker (broker down at commit, message lost).
STUCK_AFTER_MINUTES = 10

_MAX_ERROR = 2000

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
    row = email_claim(notification_id=notification_id)
    if row is None:
        return "not_claimed"
    try:
        timeout = getattr(settings, "EMAIL_TIMEOUT", None) or DEFAULT_SEND_TIMEOUT_SECONDS
        send_mail(
            subject=row.subject,
            message=email_text(row),
            from_email=None,  # DEFAULT_FROM_EMAIL
            recipient_list=[row.email_to],
            connection=get_connection(timeout=timeout),
        )
    except Exception as exc:
        email_mark_failed(
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
    email_mark_sent(notification_id=row.pk)
    return "sent"


def enqueue_email(notification_id: int) -> None:
    """Hand a row to the sender. A broker outage must not fail the command that already
    committed: the row stays `pending` and `email_resend_stuck` enqueues it again."""
    try:
        email_send.delay(notification_id)
    except Exception:
        log.exception("could not enqueue e-mail of notification %s; the sweep will retry", notification_id)


# --- e-mail delivery state (used by the task, the sweep and the admin) ---------------------


def email_claim(*, notification_id: int) -> Notification | None:
    """Take a row for sending, or None when it is not ours to send.

    One conditional UPDATE decides: only a `pending` or `failed` row with an address moves to
    `sending`, so of two deliveries of the same message, two workers or a retry racing the
    admin's resend, exactly one gets the row. `sent` and `skipped` rows are never taken again;
    neither is a `sending` row, even an old one: its worker may have handed the mail to the
    server just before dying, so the sweep marks it `failed` for staff to judge instead.
    """
    now = timezone.now()
    taken = (
        Notification.objects.filter(
            pk=notification_id, email_status__in=[EmailStatus.PENDING, EmailStatus.FAILED]
        )
        .exclude(email_to="")
        .update(email_status=EmailStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if taken != 1:
        return None
    return Notification.objects.get(pk=notification_id)


def email_mark_sent(*, notification_id: int) -> None:
    Notification.objects.filter(pk=notification_id).update(
        email_status=EmailStatus.SENT, sent_at=timezone.now(), claimed_at=None, last_error=""
    )


def email_mark_failed(*, notification_id: int, claimed_at, error: str) -> bool:
    """Record a failed attempt and release the row; False if our claim was taken from us."""
    return bool(
        Notification.objects.filter(
            pk=notification_id, email_status=EmailStatus.SENDING, claimed_at=claimed_at
        ).update(email_status=EmailStatus.FAILED, last_error=error[:_MAX_ERROR], claimed_at=None)
    )


def email_text(row: Notification) -> str:
    """The notice's stored text and a footer in the same (default) language."""
    footer = recorded(
        gettext_noop(
            "本邮件由知识产权质押融资风险补偿资金管理系统自动发送，请勿直接回复。"
            "通知编号 %(id)s，可在系统（%(site)s）或接口 /api/v1/notifications/ 查看。"
        ),
        id=row.pk,
        site=settings.SITE_URL,
    )
    return f"{row.body}\n\n——\n{footer}"


def email_retry(*, notification_ids: Iterable[int]) -> int:
    """Staff resend failed e-mails (admin action): back to `pending`, enqueued on commit.
    Rows that were sent meanwhile are left alone. Returns how many were requeued."""
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update()
            .filter(pk__in=list(notification_ids), email_status=EmailStatus.FAILED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=ids).update(email_status=EmailStatus.PENDING, claimed_at=None)
        for pk in ids:
            transaction.on_commit(partial(enqueue_email, pk))
    return len(ids)


def email_resend_stuck(*, older_than_minutes: int = STUCK_AFTER_MINUTES, limit: int = 500) -> dict[str, int]:
    """The sweep: enqueue `pending` rows that never reached a worker (a restart or a broker
    outage lost the message; a duplicate is harmless, the claim decides), and turn `sending`
    rows whose worker died mid-send into `failed` with an explanation, for staff to resend
    after checking: sending them again automatically could deliver twice."""
    now = timezone.now()
    pending = list(
        Notification.objects.filter(
            email_status=EmailStatus.PENDING,
            created_at__lt=now - timedelta(minutes=older_than_minutes),
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in pending:
        enqueue_email(pk)
    abandoned = Notification.objects.filter(
        email_status=EmailStatus.SENDING, claimed_at__lt=now - SEND_LEASE
    ).update(
        email_status=EmailStatus.FAILED,
        claimed_at=None,
        last_error=recorded(
            gettext_noop("发送过程中断（处理进程退出），无法确认邮件是否已送达；请核实后在后台重新发送。")
        ),
    )
    if pending or abandoned:
        log.warning("notification sweep: requeued %d pending, %d interrupted sends", len(pending), abandoned)
    return {"requeued": len(pending), "interrupted": abandoned}
