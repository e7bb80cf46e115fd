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

E-mail delivery (claim → send → sent/failed, the sweep, the staff's resend) is in
`delivery.py`; this module only asks for it once the caller's transaction has committed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_fsm_log.models import StateLog

from fundmgr.ground.accounts.models import Role, User
from fundmgr.ground.accounts.services import SYSTEM_USER_PREFIX, institution_system_user
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.errors import NotFound
from fundmgr.ground.lib.i18n import recorded
from loans.models import EarlyWarning

from . import delivery
from .models import EmailStatus, Notification

log = logging.getLogger(__name__)

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
    if name == "financingneed":
        return "financing_need", str(obj.pk)
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
                transaction.on_commit(partial(delivery.enqueue_email, row.pk))
            created.append(row)
    return created


def mark_read(*, notification_id: int, user: User) -> Notification:
    """Mark one of the user's own notifications read (the first reading time is kept)."""
    mine = Notification.objects.filter(pk=notification_id, recipient_id=user.pk)
    mine.filter(read_at__isnull=True).update(read_at=timezone.now())
    row = mine.first()
    if row is None:
        raise NotFound(_("通知不存在或无权访问"))
    return row


def mark_read_many(*, notification_ids: Iterable[int], user: User) -> int:
    """Mark the user's own unread notices among `notification_ids` read, in one UPDATE;
    anyone else's are left alone. Returns how many this call marked."""
    return Notification.objects.filter(
        pk__in=list(notification_ids), recipient_id=user.pk, read_at__isnull=True
    ).update(read_at=timezone.now())


# --- what happened: the events lifecycle services report ---------------------------------

# A notice is a stored row: its subject and body are written in the default language (Chinese)
# whatever the language of the request that raised the event (fundmgr.ground.lib.i18n). The
# outcomes below are recorded in those texts: catalogued, never translated on writing.


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
    "accept": ("filing.accepted", gettext_noop("已受理入池")),
    "return_for_supplement": ("filing.returned", gettext_noop("已退回补正")),
    "reject": ("filing.rejected", gettext_noop("未通过（不予受理）")),
    "void": ("filing.voided", gettext_noop("已作废")),
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
        recorded(
            gettext_noop(
                "贵机构报送的贷款备案 %(filing)s（借款企业：%(enterprise)s，"
                "借款合同号：%(contract)s，贷款本金 %(principal)s 元）%(outcome)s。"
            ),
            filing=filing.reference,
            enterprise=filing.enterprise.name,
            contract=filing.contract_no,
            principal=_yuan(filing.principal),
            outcome=outcome,
        )
    ]
    if transition == "accept":
        lines.append(
            recorded(
                gettext_noop(
                    "受理日期：%(accepted)s；资金分担比例 %(share)s%%，"
                    "该笔贷款已纳入风险补偿范围，请按月报送贷后情况。"
                ),
                accepted=(filing.accepted_on or clock.today()).isoformat(),
                share=filing.fund_share,
            )
        )
    elif transition == "return_for_supplement":
        lines.append(
            recorded(
                gettext_noop("退回原因：%(reason)s。请补正后重新提交。"),
                reason=reason or recorded(gettext_noop("见备案记录")),
            )
        )
    elif reason:
        lines.append(recorded(gettext_noop("原因：%(reason)s。"), reason=reason))
    return notify(
        event=event,
        event_key=f"{event}:{filing.pk}" if transition == "accept" else _occurrence_key(event, filing, entry),
        recipients=institution_recipients(filing.institution),
        subject=recorded(
            gettext_noop("贷款备案 %(filing)s %(outcome)s"), filing=filing.reference, outcome=outcome
        ),
        body="\n".join(lines),
        obj=filing,
    )


_CLAIM_EVENTS: dict[str, tuple[str, str]] = {
    "approve": ("claim.approved", gettext_noop("已批准")),
    "pay": ("claim.paid", gettext_noop("已支付代偿款")),
    "return_for_supplement": ("claim.returned", gettext_noop("已退回补正")),
    "reject": ("claim.rejected", gettext_noop("未获批准")),
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
    lines = [
        recorded(
            gettext_noop("补偿申请 %(claim)s（贷款备案 %(filing)s）%(outcome)s。"),
            claim=claim.reference,
            filing=claim.filing.reference,
            outcome=outcome,
        )
    ]
    recipients = institution_recipients(claim.institution)
    if transition == "approve":
        lines.append(
            recorded(
                gettext_noop("批准补偿金额 %(amount)s 元（决策委员会会议纪要 %(meeting)s），待财务付款。"),
                amount=_yuan(claim.approved_amount),
                meeting=claim.meeting_ref,
            )
        )
        recipients += staff_recipients(Role.FINANCE)
    elif transition == "pay":
        paid_on = claim.paid_on.isoformat() if claim.paid_on else clock.today().isoformat()
        lines.append(
            recorded(
                gettext_noop("代偿金额 %(amount)s 元已于 %(paid_on)s 支付，后续追偿回收请及时报告并返还。"),
                amount=_yuan(claim.paid_amount or claim.approved_amount),
                paid_on=paid_on,
            )
        )
    elif transition == "return_for_supplement":
        lines.append(
            recorded(
                gettext_noop("退回原因：%(reason)s。请补正后重新提交。"),
                reason=reason or recorded(gettext_noop("见申请记录")),
            )
        )
    elif reason:
        lines.append(recorded(gettext_noop("原因：%(reason)s。"), reason=reason))
    once = transition in ("approve", "pay")
    return notify(
        event=event,
        event_key=f"{event}:{claim.pk}" if once else _occurrence_key(event, claim, entry),
        recipients=recipients,
        subject=recorded(
            gettext_noop("补偿申请 %(claim)s %(outcome)s"), claim=claim.reference, outcome=outcome
        ),
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
        subject=recorded(
            gettext_noop("%(institution)s在%(fund)s的新增备案已暂停"),
            institution=institution.name,
            fund=fund.name,
        ),
        body=recorded(
            gettext_noop(
                "自 %(since)s 起暂停 %(institution)s 在%(fund)s的新增贷款备案；已入池贷款继续享受风险补偿。"
                "\n原因：%(reason)s"
            ),
            since=since,
            institution=institution.name,
            fund=fund.name,
            reason=agreement.filings_suspension_reason or recorded(gettext_noop("未填写")),
        ),
        obj=agreement,
    )


def _agreement_title(agreement) -> str:
    return recorded(
        gettext_noop("%(institution)s在%(fund)s"),
        institution=agreement.institution.name,
        fund=agreement.fund.name,
    )


def on_agreement_filings_changed(agreement, transition: str) -> list[Notification]:
    """A step on lifting a filing suspension (four-eyes):

    - `request_reinstatement` → the approvers who may decide it (never the requester);
    - `approve_reinstatement` → the bank (it may file again) and the requester;
    - `refuse_reinstatement` → the requester (the bank is still suspended: nothing new to it).
    """
    entry = _last_log(agreement, transition)
    if entry is None:
        return []
    reason = _reason(entry)
    actor = entry.by.get_username() if entry.by else recorded(gettext_noop("系统"))
    title = _agreement_title(agreement)
    requester = _last_log(agreement, "request_reinstatement")
    requester_user = requester.by if requester is not None else None
    if transition == "request_reinstatement":
        event = "agreement.reinstatement_requested"
        recipients = [u for u in staff_recipients(Role.APPROVER) if u.pk != entry.by_id]
        subject = recorded(gettext_noop("恢复备案申请待审批：%(title)s"), title=title)
        body = recorded(
            gettext_noop(
                "%(actor)s 申请恢复 %(title)s的新增贷款备案（自 %(since)s 起暂停）。\n"
                "申请理由：%(reason)s\n请由申请人以外的复核负责人在合作协议页面批准或驳回。"
            ),
            actor=actor,
            title=title,
            since=agreement.filings_suspended_on.isoformat() if agreement.filings_suspended_on else "—",
            reason=reason or recorded(gettext_noop("未填写")),
        )
    elif transition == "approve_reinstatement":
        event = "agreement.filings_reinstated"
        recipients = [*institution_recipients(agreement.institution), requester_user]
        subject = recorded(gettext_noop("%(title)s的新增备案已恢复"), title=title)
        body = recorded(
            gettext_noop("%(title)s的新增贷款备案自 %(day)s 起恢复。\n审批意见：%(reason)s"),
            title=title,
            day=clock.today().isoformat(),
            reason=reason or recorded(gettext_noop("无")),
        )
    elif transition == "refuse_reinstatement":
        event = "agreement.reinstatement_refused"
        recipients = [requester_user]
        subject = recorded(gettext_noop("恢复备案申请未获批准：%(title)s"), title=title)
        body = recorded(
            gettext_noop(
                "%(actor)s 驳回了恢复 %(title)s新增备案的申请，暂停继续有效。\n驳回理由：%(reason)s"
            ),
            actor=actor,
            title=title,
            reason=reason or recorded(gettext_noop("未填写")),
        )
    else:
        return []
    return notify(
        event=event,
        event_key=f"{event}:{agreement.pk}:{entry.pk}",
        recipients=recipients,
        subject=subject,
        body=body,
        obj=agreement,
    )


_INSTITUTION_EVENTS: dict[str, tuple[str, str]] = {
    "suspend": ("institution.suspended", gettext_noop("已暂停")),
    "reinstate": ("institution.reinstated", gettext_noop("已恢复")),
    "terminate": ("institution.terminated", gettext_noop("已终止")),
}


def on_institution_changed(institution, transition: str) -> list[Notification]:
    """The partnership itself was suspended, reinstated or terminated → the institution."""
    spec = _INSTITUTION_EVENTS.get(transition)
    if spec is None:
        return []
    event, outcome = spec
    entry = _last_log(institution, transition)
    reason = _reason(entry) or institution.suspension_reason
    body = recorded(
        gettext_noop("%(institution)s与资金管理人的合作%(outcome)s。"),
        institution=institution.name,
        outcome=outcome,
    )
    if reason:
        body += "\n" + recorded(gettext_noop("原因：%(reason)s"), reason=reason)
    return notify(
        event=event,
        event_key=_occurrence_key(event, institution, entry),
        recipients=institution_recipients(institution),
        subject=recorded(
            gettext_noop("合作%(outcome)s：%(institution)s"), outcome=outcome, institution=institution.name
        ),
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
        subject=recorded(gettext_noop("追偿款逾期未返还：%(claim)s"), claim=claim.reference),
        body=recorded(
            gettext_noop(
                "补偿申请 %(claim)s（贷款备案 %(filing)s）于 %(received)s "
                "回收款项中应返还资金 %(amount)s 元，返还截止日 %(due)s，"
                "至今未确认返还。请尽快返还，逾期未返还将影响后续合作。"
            ),
            claim=claim.reference,
            filing=claim.filing.reference,
            received=recovery.received_on.isoformat(),
            amount=_yuan(recovery.fund_amount),
            due=recovery.due_on.isoformat(),
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
        subject=recorded(
            gettext_noop("贷后预警：%(filing)s %(kind)s"),
            filing=filing.reference,
            kind=EarlyWarning.Kind(warning.kind).label,
        ),
        body=recorded(
            gettext_noop("贷款备案 %(filing)s（%(enterprise)s）：%(message)s"),
            filing=filing.reference,
            enterprise=filing.enterprise.name,
            message=warning.message,
        ),
        obj=filing,
    )
