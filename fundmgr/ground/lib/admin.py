from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from fundmgr.ground.lib.adminkit import ReadOnlyAdminMixin
from fundmgr.ground.lib.models import IdempotencyRecord, WorkdayOverride

_WEEKDAYS = (_("星期一"), _("星期二"), _("星期三"), _("星期四"), _("星期五"), _("星期六"), _("星期日"))


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "weekday", "is_working_day", "note")
    list_filter = ("is_working_day",)
    search_fields = ("note",)
    date_hierarchy = "date"
    ordering = ("date",)
    readonly_fields = ("created_at",)

    @admin.display(description=_("星期"), ordering="date")
    def weekday(self, obj: WorkdayOverride) -> str:
        return str(_WEEKDAYS[obj.date.weekday()])


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: rows are written by the API and removed by the purge task only."""

    list_display = ("created_at", "scope", "method", "path", "key", "status_code", "completed_at")
    list_filter = ("method", "status_code")
    search_fields = ("key", "scope", "path")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    exclude = ("response_body",)
    readonly_fields = ("response_preview",)

    @admin.display(description=_("响应内容"))
    def response_preview(self, obj: IdempotencyRecord) -> str:
        return bytes(obj.response_body or b"")[:4000].decode("utf-8", errors="replace")
