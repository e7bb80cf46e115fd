"""Notifications in the admin: each reader's own inbox, read-only.

Everyone who signs in to the admin (staff and regulators) reads only the notices addressed to
them; the system administrator reads all of them (to follow e-mail delivery), with a filter
for their own. Opening a notice marks it read; the action "标记为已读" marks a selection read
(one's own notices only). Failed e-mails can be resent. Nothing else is editable: a notice is
a record of what the system said. The header's unread count is `templatetags`.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from fundmgr.ground.accounts.admin_site import is_regulator
from fundmgr.ground.lib.adminkit import ReadOnlyAdminMixin

from . import delivery, services
from .models import EVENT_LABELS, Notification
from .selectors import notifications_visible_to, reads_everyones


class EventFilter(admin.SimpleListFilter):
    title = _("事件")
    parameter_name = "event"

    def lookups(self, request, model_admin):
        # Only the events of the notices this reader may see.
        events = (
            notifications_visible_to(request.user)
            .order_by("event")
            .values_list("event", flat=True)
            .distinct()
        )
        return [(event, EVENT_LABELS.get(event, event)) for event in events]

    def queryset(self, request, queryset):
        return queryset.filter(event=self.value()) if self.value() else queryset


class ReadFilter(admin.SimpleListFilter):
    title = _("阅读状态")
    parameter_name = "read"

    def lookups(self, request, model_admin):
        return [("no", _("未读")), ("yes", _("已读"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(read_at__isnull=self.value() == "no")
        return queryset


class MineFilter(admin.SimpleListFilter):
    """For the system administrator, who reads everyone's notices: only their own. Everyone
    else reads only their own anyway, so the filter is not shown to them (the header's link
    carries `mine=1` for all, harmlessly)."""

    title = _("收件人")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("1", _("只看我的通知"))] if reads_everyones(request.user) else []

    def queryset(self, request, queryset):
        return queryset.filter(recipient=request.user) if self.value() == "1" else queryset


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "event_label", "subject", "is_read"]
    list_display_links = ["subject"]
    # The administrator's view adds who got it and how the e-mail went.
    admin_list_display = [
        "created_at",
        "recipient",
        "event_label",
        "subject",
        "is_read",
        "email_status",
        "short_error",
    ]
    list_filter = [MineFilter, ReadFilter, EventFilter, "created_at"]
    admin_list_filter = [MineFilter, ReadFilter, EventFilter, "email_status", "created_at"]
    search_fields = ["subject", "body"]
    admin_search_fields = ["subject", "body", "event_key", "recipient__username", "email_to", "object_id"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    actions = ["mark_read", "retry_email"]
    fieldsets = [
        (None, {"fields": ["subject", "body", "event_label", "object_type", "object_id"]}),
        (_("站内"), {"fields": ["recipient", "created_at", "read_at"]}),
        (
            _("邮件"),
            {"fields": ["email_to", "email_status", "attempts", "last_error", "claimed_at", "sent_at"]},
        ),
    ]
    readonly_fields = [
        "recipient",
        "event_label",
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

    # --- who reads what ---------------------------------------------------------------------

    def get_queryset(self, request):
        return notifications_visible_to(request.user).select_related("recipient")

    def _reader(self, request) -> bool:
        """Anyone the admin site lets in (staff, regulators) has an inbox here."""
        user = request.user
        return bool(
            user.is_active
            and (getattr(user, "is_manager_staff", False) or user.is_staff or is_regulator(user))
        )

    def has_module_permission(self, request) -> bool:
        return self._reader(request)

    def has_view_permission(self, request, obj=None) -> bool:
        # The queryset holds only what this reader may see; another's notice is 404.
        return self._reader(request)

    def get_list_display(self, request):
        return self.admin_list_display if reads_everyones(request.user) else self.list_display

    def get_list_filter(self, request):
        return self.admin_list_filter if reads_everyones(request.user) else self.list_filter

    def get_search_fields(self, request):
        return self.admin_search_fields if reads_everyones(request.user) else self.search_fields

    def get_fieldsets(self, request, obj=None):
        if reads_everyones(request.user):
            return self.fieldsets
        return self.fieldsets[:2]  # one's own inbox: the e-mail plumbing is the administrator's

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Opening one of one's own notices marks it read (the first reading time is kept)."""
        try:
            pk = int(object_id)
        except (TypeError, ValueError):
            pk = None
        if pk is not None and request.method == "GET":
            # Only the reader's own (an administrator opening another's leaves it unread).
            services.mark_read_many(notification_ids=[pk], user=request.user)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("事件"), ordering="event")
    def event_label(self, obj: Notification) -> str:
        return obj.event_label

    @admin.display(description=_("已读"), boolean=True, ordering="read_at")
    def is_read(self, obj: Notification) -> bool:
        return obj.is_read

    @admin.display(description=_("最近错误"))
    def short_error(self, obj: Notification) -> str:
        return Truncator(obj.last_error).chars(60)

    # --- actions ------------------------------------------------------------------------------

    def has_resend_permission(self, request) -> bool:
        # The administrator follows delivery; the claim makes a resend harmless (never twice).
        return reads_everyones(request.user)

    def has_read_permission(self, request) -> bool:
        return self._reader(request)

    @admin.action(description=_("重新发送失败的邮件"), permissions=["resend"])
    def retry_email(self, request, queryset: QuerySet[Notification]) -> None:
        count = delivery.email_retry(notification_ids=queryset.values_list("pk", flat=True))
        skipped = queryset.count() - count
        messages.success(
            request,
            ngettext("已重新安排发送 %(n)s 封邮件。", "已重新安排发送 %(n)s 封邮件。", count) % {"n": count},
        )
        if skipped:
            messages.warning(
                request,
                ngettext(
                    "%(n)s 条通知不是“发送失败”状态，未重新发送。",
                    "%(n)s 条通知不是“发送失败”状态，未重新发送。",
                    skipped,
                )
                % {"n": skipped},
            )

    @admin.action(description=_("标记为已读"), permissions=["read"])
    def mark_read(self, request, queryset: QuerySet[Notification]) -> None:
        count = services.mark_read_many(
            notification_ids=queryset.values_list("pk", flat=True), user=request.user
        )
        messages.success(
            request,
            ngettext("已将 %(n)s 条通知标记为已读。", "已将 %(n)s 条通知标记为已读。", count) % {"n": count},
        )
        others = queryset.exclude(recipient_id=request.user.pk).count()
        if others:
            messages.warning(
                request,
                ngettext("%(n)s 条通知不是发给您的，未标记。", "%(n)s 条通知不是发给您的，未标记。", others)
                % {"n": others},
            )
