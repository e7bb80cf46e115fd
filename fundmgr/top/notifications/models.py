"""The notification outbox: one row per event and recipient, shown in-app and sent by e-mail.

A notification is written first, in the same transaction as the change it reports, with a
unique key per occurrence and recipient (`event_key`, `recipient`), so repeating an event
(a retried command, a second scan on the same day) creates nothing new. E-mail delivery is
tracked on the row itself: a Celery task claims the row with a conditional UPDATE before it
sends, which is what makes a retried task, a duplicate delivery or a second worker harmless
(see `fundmgr.top.notifications.tasks`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    SKIPPED = "skipped", _("无需发送")


# Human names of the events, for the admin (the API returns the stable `event` code).
EVENT_LABELS: dict[str, str] = {
    "filing.accepted": _("备案已受理入池"),
    "filing.returned": _("备案退回补正"),
    "filing.rejected": _("备案未通过"),
    "filing.voided": _("备案已作废"),
    "claim.approved": _("补偿申请已批准"),
    "claim.paid": _("补偿款已支付"),
    "claim.returned": _("补偿申请退回补正"),
    "claim.rejected": _("补偿申请未获批准"),
    "institution.suspended": _("合作已暂停"),
    "institution.reinstated": _("合作已恢复"),
    "institution.terminated": _("合作已终止"),
    "agreement.filings_suspended": _("暂停新增备案"),
    "agreement.reinstatement_requested": _("恢复备案待审批"),
    "agreement.filings_reinstated": _("新增备案已恢复"),
    "agreement.reinstatement_refused": _("恢复备案申请被驳回"),
    "recovery.overdue": _("追偿款逾期未返还"),
    "deadline.due_diligence.approaching": _("尽调即将到期"),
    "deadline.due_diligence.breached": _("尽调已超期"),
    "deadline.claim_review.approaching": _("补偿初审即将到期"),
    "deadline.claim_review.breached": _("补偿初审已超期"),
    "deadline.committee_review.approaching": _("决委会审议即将到期"),
    "deadline.committee_review.breached": _("决委会审议已超期"),
    "deadline.payment.approaching": _("代偿付款即将到期"),
    "deadline.payment.breached": _("代偿付款已超期"),
    "deadline.recovery_return.approaching": _("追偿款返还即将到期"),
    "deadline.monthly_report.approaching": _("月度报告即将到期"),
    "deadline.monthly_report.breached": _("月度报告逾期未报"),
    "needs.digest": _("新增融资需求"),
    "needs.untouched": _("融资需求无进展"),
}


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("收件人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    event = models.CharField(_("事件"), max_length=64, help_text=_("例如 filing.accepted、claim.paid"))
    event_key = models.CharField(
        _("事件键"),
        max_length=200,
        help_text=_("同一事件的稳定标识，例如 filing.accepted:123；同一事件对同一收件人只通知一次"),
    )
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    object_type = models.CharField(
        _("对象类型"), max_length=32, blank=True, help_text=_("filing、claim、recovery 或 institution")
    )
    # The key the API uses for that object: the id for filings, claims and recoveries, the
    # code for institutions. A string, so one column serves both.
    object_id = models.CharField(
        _("对象标识"), max_length=64, blank=True, help_text=_("备案、补偿申请、追偿回收为 id，合作机构为代码")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    # E-mail delivery (the outbox part).
    email_to = models.EmailField(_("邮件地址"), blank=True, help_text=_("为空表示不发送邮件"))
    email_status = models.CharField(
        _("邮件状态"), max_length=16, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "recipient"], name="notification_once_per_recipient"
            ),
            # No address, nothing to send: such rows never enter the sender's queue.
            models.CheckConstraint(
                name="notification_no_address_skipped",
                condition=~Q(email_to="") | Q(email_status=EmailStatus.SKIPPED),
            ),
            models.CheckConstraint(
                name="notification_sent_has_time",
                condition=~Q(email_status=EmailStatus.SENT) | Q(sent_at__isnull=False),
            ),
        ]
        indexes = [
            # GET /notifications/: the caller's rows, newest first (and the unread ones).
            models.Index(fields=["recipient", "-created_at", "-id"], name="notif_recipient_idx"),
            models.Index(
                fields=["recipient", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notif_recipient_unread_idx",
            ),
            # The sender's sweep (email_resend_stuck) and the admin's failure list: undelivered rows.
            models.Index(
                fields=["email_status", "created_at"],
                condition=Q(email_status__in=["pending", "sending", "failed"]),
                name="notif_email_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def event_label(self) -> str:
        return str(EVENT_LABELS.get(self.event, self.event))
