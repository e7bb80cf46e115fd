"""Writes about notifications: the outbox row, e-mail delivery state, reading.

`notify()` is the one way to tell people something. It writes one row per recipient, keyed by
the occurrence (`event_key`), inside the caller's transaction, and asks for the e-mail only
once that transaction has committed, so a rolled-back command tells nobody anything and a
repeated one tells nobody twice.

Who hears about what (the `on_*` helpers the lifecycle services call):

- an institution is its human users (users whose organisation is the institution's) plus its
  system user `inst:<code>`, whose inbox is what the bank's API key reads. The institution's
  `contact_email` travels on the system user's row, so the bank's mailbox gets one e-mail per
  event; human users get e-mail at their own address. An address already used for an event
  is not used again for it (a bank employee whose address is the contact address gets the
  in-app notice only).
- staff are the active users of the roles responsible for the step.

E-mail delivery (claim → send → sent/failed) is driven by `tasks.email_send`;
the state changes it makes live here so that the admin and the sweep use the same rules.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django_fsm_log.models import StateLog

from fundmgr.ground.accounts.models import Role, User
from fundmgr.ground.accounts.services import SYSTEM_USER_PREFIX, institution_system_user
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.errors import NotFound

from .models import EmailStatus, Notification

log = logging.getLogger(__name__)

# A row stays `sending` at most this long in a healthy worker (the SMTP connection has a
# timeout well below it). Older `sending` rows belong to a worker that died mid-send.
SEND_LEASE = timedelta(minutes=10)
# `pending` rows this old never reached a worker (broker down at commit, message lost).
STUCK_AFTER_MINUTES = 10

_MAX_ERROR = 2000


# --- reads (the caller's own inbox) -------------------------------------------------------


def notification_list(*, user: User, unread: bool | None = None) -> QuerySet[Notification]:
    """The user's own notifications, newest first; nobody reads anyone else's."""
    rows = Notification.objects.filter(recipient_id=user.pk)
    if unread is not None:
        rows = rows.filter(read_at__isnull=unread)
    return rows.order_by("-created_at", "-id")


# --- recipients -------------------------------------------------------------------------------


def institution_recipients(institution) -> list[User]:
    """The institution's system user first (it carries the contact e-mail), then its people."""
    system = institution_system_user(institution=institution)
    people = (
        User.objects.filter(organization__institution=institution, is_active=True)
        .exclude(pk=system.pk)
        .select_related("organization__institution")
        .order_by("pk")
    )
    return [system, *people]


def staff_recipients(*roles: str) -> list[User]:
    """Active staff of the given roles (the roles responsible for a step)."""
    return list(User.objects.filter(role__in=roles, is_active=True).order_by("pk"))


def email_address_for(user: User) -> str:
    """Where a user's notices are e-mailed: the institution's contact address for its system
    user, the user's own address otherwise ('' = in-app only)."""
    if user.username.startswith(SYSTEM_USER_PREFIX):
        institution = user.institution
        return (institution.contact_email or "") if institution is not None else ""
    return user.email or ""


def object_ref(obj) -> tuple[str, str]:
    """(object_type, object_id) as the API names the object: ids, and codes for institutions."""
    if obj is None:
        return "", ""
    name = obj._meta.model_name
    if name == "loanfiling":
        return "filing", str(obj.pk)
    if name == "institution":
        return "institution", obj.code
    if name == "cooperationagreement":
        return "institution", obj.institution.code
    return name, str(obj.pk)


# --- the outbox -------------------------------------------------------------------------------


def _unique_active(recipients: Iterable[User]) -> list[User]:
    seen: set[int] = set()
    users: list[User] = []
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        users.append(user)
    return users


def notify(
    *,
    event: str,
    event_key: str,
    recipients: Iterable[User],
    subject: str,
    body: str,
    obj=None,
) -> list[Notification]:
    """Record `event` for each recipient once; e-mail the new rows after commit.

    Returns the rows this call created: empty when every recipient already had this
    `event_key` (a repeated command or scan). Safe inside another service's transaction:
    the rows commit or roll back with it, and the e-mail is only enqueued on commit.
    """
    users = _unique_active(recipients)
    if not users:
        return []
    object_type, object_id = object_ref(obj)
    created: list[Notification] = []
    with transaction.atomic():
        existing = Notification.objects.filter(event_key=event_key)
        notified = set(existing.filter(recipient__in=users).values_list("recipient_id", flat=True))
        mailed = {a.lower() for a in existing.exclude(email_to="").values_list("email_to", flat=True)}
        for user in users:
            if user.pk in notified:
                continue
            address = email_address_for(user)
            if address.lower() in mailed:
                address = ""  # this mailbox already gets this event
            row = Notification(
                recipient=user,
                event=event,
                event_key=event_key,
                subject=subject[:200],
                body=body,
                object_type=object_type,
                object_id=object_id,
                email_to=address,
                email_status=EmailStatus.PENDING if address else EmailStatus.SKIPPED,
            )
            try:
                with transaction.atomic():  # a savepoint: a lost race must not spoil the caller
                    row.save(force_insert=True)
            except IntegrityError:
                if Notification.objects.filter(event_key=event_key, recipient=user).exists():
                    continue  # a concurrent call notified this recipient first
                raise
            if address:
                mailed.add(address.lower())
                transaction.on_commit(partial(enqueue_email, row.pk))
            created.append(row)
    return created


def enqueue_email(notification_id: int) -> None:
    """Hand a row to the sender. A broker outage must not fail the command that already
    committed: the row stays `pending` and `email_resend_stuck` enqueues it again."""
    from .tasks import email_send  # tasks import this module

    try:
        email_send.delay(notification_id)
    except Exception:
        log.exception("could not enqueue e-mail of notification %s; the sweep will retry", notification_id)


def mark_read(*, notification_id: int, user: User) -> Notification:
    """Mark one of the user's own notifications read (the first reading time is kept)."""
    mine = Notification.objects.filter(pk=notification_id, recipient_id=user.pk)
    mine.filter(read_at__isnull=True).update(read_at=timezone.now())
    row = mine.first()
    if row is None:
        raise NotFound("通知不存在或无权访问")
    return row


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
    return (
        f"{row.body}\n\n——\n"
        f"本邮件由知识产权质押融资风险补偿资金管理系统自动发送，请勿直接回复。"
        f"通知编号 {row.pk}，可在系统（{settings.SITE_URL}）或接口 /api/v1/notifications/ 查看。"
    )


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
        last_error="发送过程中断（处理进程退出），无法确认邮件是否已送达；请核实后在后台重新发送。",
    )
    if pending or abandoned:
        log.warning("notification sweep: requeued %d pending, %d interrupted sends", len(pending), abandoned)
    return {"requeued": len(pending), "interrupted": abandoned}


# --- what happened: the events lifecycle services report ---------------------------------


def _last_log(obj, transition: str) -> StateLog | None:
    return (
        StateLog.objects.filter(
            content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk, transition=transition
        )
        .order_by("-id")
        .first()
    )


def _yuan(amount) -> str:
    return f"{amount:.2f}" if amount is not None else "—"


def _reason(entry: StateLog | None) -> str:
    return (entry.description or "").strip() if entry is not None else ""


def _occurrence_key(event: str, obj, entry: StateLog | None) -> str:
    # Steps that can happen again on the same record (returned, resubmitted, returned again)
    # are told apart by their log entry; a retry of the same report finds the same entry.
    return f"{event}:{obj.pk}:{entry.pk}" if entry is not None else f"{event}:{obj.pk}"


_FILING_EVENTS: dict[str, tuple[str, str]] = {
    "accept": ("filing.accepted", "已受理入池"),
    "return_for_supplement": ("filing.returned", "已退回补正"),
    "reject": ("filing.rejected", "未通过（不予受理）"),
    "void": ("filing.voided", "已作废"),
}


def on_filing_decided(filing, transition: str) -> list[Notification]:
    """The manager decided on a bank's filing (`transition`: accept, return_for_supplement,
    reject, void) → the bank. Other transition names are ignored."""
    spec = _FILING_EVENTS.get(transition)
    if spec is None:
        return []
    event, outcome = spec
    entry = _last_log(filing, transition)
    reason = _reason(entry)
    lines = [
        f"贵机构报送的贷款备案 {filing.reference}（借款企业：{filing.enterprise.name}，"
        f"借款合同号：{filing.contract_no}，贷款本金 {_yuan(filing.principal)} 元）{outcome}。"
    ]
    if transition == "accept":
        lines.append(
            f"受理日期：{(filing.accepted_on or clock.today()).isoformat()}；"
            f"资金分担比例 {filing.fund_share}%，该笔贷款已纳入风险补偿范围，请按月报送贷后情况。"
        )
    elif transition == "return_for_supplement":
        lines.append(f"退回原因：{reason or '见备案记录'}。请补正后重新提交。")
    elif reason:
        lines.append(f"原因：{reason}。")
    return notify(
        event=event,
        event_key=f"{event}:{filing.pk}" if transition == "accept" else _occurrence_key(event, filing, entry),
        recipients=institution_recipients(filing.institution),
        subject=f"贷款备案 {filing.reference} {outcome}",
        body="\n".join(lines),
        obj=filing,
    )


_CLAIM_EVENTS: dict[str, tuple[str, str]] = {
    "approve": ("claim.approved", "已批准"),
    "pay": ("claim.paid", "已支付代偿款"),
    "return_for_supplement": ("claim.returned", "已退回补正"),
    "reject": ("claim.rejected", "未获批准"),
}


def on_claim_decided(claim, transition: str) -> list[Notification]:
    """A decision on a bank's compensation claim (`transition`: approve, pay,
    return_for_supplement, reject) → the bank; an approval also → finance, who pays it."""
    spec = _CLAIM_EVENTS.get(transition)
    if spec is None:
        return []
    event, outcome = spec
    entry = _last_log(claim, transition)
    reason = _reason(entry)
    lines = [f"补偿申请 {claim.reference}（贷款备案 {claim.filing.reference}）{outcome}。"]
    recipients = institution_recipients(claim.institution)
    if transition == "approve":
        lines.append(
            f"批准补偿金额 {_yuan(claim.approved_amount)} 元（决策委员会会议纪要 {claim.meeting_ref}），待财务付款。"
        )
        recipients += staff_recipients(Role.FINANCE)
    elif transition == "pay":
        paid_on = claim.paid_on.isoformat() if claim.paid_on else clock.today().isoformat()
        lines.append(
            f"代偿金额 {_yuan(claim.paid_amount or claim.approved_amount)} 元已于 {paid_on} 支付，后续追偿回收请及时报告并返还。"
        )
    elif transition == "return_for_supplement":
        lines.append(f"退回原因：{reason or '见申请记录'}。请补正后重新提交。")
    elif reason:
        lines.append(f"原因：{reason}。")
    once = transition in ("approve", "pay")
    return notify(
        event=event,
        event_key=f"{event}:{claim.pk}" if once else _occurrence_key(event, claim, entry),
        recipients=recipients,
        subject=f"补偿申请 {claim.reference} {outcome}",
        body="\n".join(lines),
        obj=claim,
    )


def on_filings_suspended(agreement) -> list[Notification]:
    """New filings of an institution in one fund were suspended (automatically at the NPL
    threshold or by staff) → the bank, and officers and approvers."""
    if agreement.filings_suspended_on is None:
        return []
    institution, fund = agreement.institution, agreement.fund
    since = agreement.filings_suspended_on.isoformat()
    event = "agreement.filings_suspended"
    return notify(
        event=event,
        event_key=f"{event}:{agreement.pk}:{since}",
        recipients=[*institution_recipients(institution), *staff_recipients(Role.OFFICER, Role.APPROVER)],
        subject=f"{institution.name}在{fund.name}的新增备案已暂停",
        body=(
            f"自 {since} 起暂停 {institution.name} 在{fund.name}的新增贷款备案；"
            f"已入池贷款继续享受风险补偿。\n原因：{agreement.filings_suspension_reason or '未填写'}"
        ),
        obj=agreement,
    )


_INSTITUTION_EVENTS: dict[str, tuple[str, str]] = {
    "suspend": ("institution.suspended", "已暂停"),
    "reinstate": ("institution.reinstated", "已恢复"),
    "terminate": ("institution.terminated", "已终止"),
}


def on_institution_changed(institution, transition: str) -> list[Notification]:
    """The partnership itself was suspended, reinstated or terminated → the institution."""
    spec = _INSTITUTION_EVENTS.get(transition)
    if spec is None:
        return []
    event, outcome = spec
    entry = _last_log(institution, transition)
    reason = _reason(entry) or institution.suspension_reason
    body = f"{institution.name}与资金管理人的合作{outcome}。"
    if reason:
        body += f"\n原因：{reason}"
    return notify(
        event=event,
        event_key=_occurrence_key(event, institution, entry),
        recipients=institution_recipients(institution),
        subject=f"合作{outcome}：{institution.name}",
        body=body,
        obj=institution,
    )


def on_recovery_overdue(recovery) -> list[Notification]:
    """The fund's part of a recovery was not returned by its due date → the bank and finance.
    The deadline scan reports the same occurrence under the same key, so whichever runs
    first tells people and the other adds nothing."""
    if recovery.status == "returned":
        return []
    claim = recovery.claim
    event = "recovery.overdue"
    return notify(
        event=event,
        event_key=f"{event}:{recovery.pk}:{recovery.due_on.isoformat()}",
        recipients=[*institution_recipients(claim.institution), *staff_recipients(Role.FINANCE)],
        subject=f"追偿款逾期未返还：{claim.reference}",
        body=(
            f"补偿申请 {claim.reference}（贷款备案 {claim.filing.reference}）于 {recovery.received_on.isoformat()} "
            f"回收款项中应返还资金 {_yuan(recovery.fund_amount)} 元，返还截止日 {recovery.due_on.isoformat()}，"
            f"至今未确认返还。请尽快返还，逾期未返还将影响后续合作。"
        ),
        obj=recovery,
    )


def on_warning_raised(warning) -> list[Notification]:
    """An early warning on a covered loan (pledged right expiring or lapsed, missing report,
    due-diligence deadline) → the bank, and the officers who follow the loan. Raised again
    after it was resolved, it is a new occurrence (the key carries the date raised)."""
    filing = warning.filing
    event = f"warning.{warning.kind}"
    return notify(
        event=event,
        event_key=f"{event}:{filing.pk}:{warning.subject}:{warning.raised_on.isoformat()}",
        recipients=[*institution_recipients(filing.institution), *staff_recipients(Role.OFFICER)],
        subject=f"贷后预警：{filing.reference} {warning.get_kind_display()}",
        body=f"贷款备案 {filing.reference}（{filing.enterprise.name}）：{warning.message}",
        obj=filing,
    )
