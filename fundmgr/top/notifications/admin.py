"""Notifications in the admin: every notice with its e-mail delivery, read-only.

Staff see all notices (the delivery problems included) and can narrow the list to their own
inbox. Two actions, both through the services: resend failed e-mails, and mark one's own
notices read. Nothing else is editable: a notice is a record of what the system said.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.text import Truncator

from fundmgr.ground.lib.adminkit import ReadOnlyAdminMixin

from . import delivery, services
from .models import EVENT_LABELS, Notification


class EventFilter(admin.SimpleListFilter):
    title = "事件"
    parameter_name = "event"

    def lookups(self, request, model_admin):
        events = Notification.objects.order_by("event").values_list("event", flat=True).distinct()
        return [(event, EVENT_LABELS.get(event, event)) for event in events]

    def queryset(self, request, queryset):
        return queryset.filter(event=self.value()) if self.value() else queryset


class ReadFilter(admin.SimpleListFilter):
    title = "阅读状态"
    parameter_name = "read"

    def lookups(self, request, model_admin):
        return [("no", "未读"), ("yes", "已读")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(read_at__isnull=self.value() == "no")
        return queryset


class MineFilter(admin.SimpleListFilter):
    title = "收件人"
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("1", "只看我的通知")]

    def queryset(self, request, queryset):
        return queryset.filter(recipient=request.user) if self.value() == "1" else queryset


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "recipient",
        "event_label",
        "subject",
        "is_read",
        "email_to",
        "email_status",
        "attempts",
        "short_error",
        "sent_at",
    ]
    list_filter = [MineFilter, EventFilter, "email_status", ReadFilter, "created_at"]
    search_fields = ["subject", "body", "event_key", "recipient__username", "email_to", "object_id"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    actions = ["retry_email", "mark_read"]
    fieldsets = [
        (
            None,
            {"fields": ["recipient", "event", "event_key", "subject", "body", "object_type", "object_id"]},
        ),
        ("站内", {"fields": ["created_at", "read_at"]}),
        (
            "邮件",
            {"fields": ["email_to", "email_status", "attempts", "last_error", "claimed_at", "sent_at"]},
        ),
    ]
    readonly_fields = [
        "recipient",
        "event",
        "event_key",
        "subject",
        "body",
        "object_type",
        "object_id",
        "created_at",
        "read_at",
        "email_to",
        "email_status",
        "attempts",
        "last_error",
        "claimed_at",
        "sent_at",
    ]

    @admin.display(description="事件", ordering="event")
    def event_label(self, obj: Notification) -> str:
        return obj.event_label

    @admin.display(description="已读", boolean=True, ordering="read_at")
    def is_read(self, obj: Notification) -> bool:
        return obj.is_read

    @admin.display(description="最近错误")
    def short_error(self, obj: Notification) -> str:
        return Truncator(obj.last_error).chars(60)

    # Read-only: notices are written by the services only.

    def has_resend_permission(self, request) -> bool:
        # Any staff member may resend: the claim makes a resend harmless (never twice).
        return bool(getattr(request.user, "is_manager_staff", False))

    def has_read_permission(self, request) -> bool:
        return request.user.is_authenticated

    @admin.action(description="重新发送失败的邮件", permissions=["resend"])
    def retry_email(self, request, queryset: QuerySet[Notification]) -> None:
        count = delivery.email_retry(notification_ids=queryset.values_list("pk", flat=True))
        skipped = queryset.count() - count
        messages.success(request, f"已重新安排发送 {count} 封邮件。")
        if skipped:
            messages.warning(request, f"{skipped} 条通知不是“发送失败”状态，未重新发送。")

    @admin.action(description="标记为已读（仅本人的通知）", permissions=["read"])
    def mark_read(self, request, queryset: QuerySet[Notification]) -> None:
        mine = list(
            queryset.filter(recipient=request.user, read_at__isnull=True).values_list("pk", flat=True)
        )
        for pk in mine:
            services.mark_read(notification_id=pk, user=request.user)
        messages.success(request, f"已将 {len(mine)} 条通知标记为已读。")
