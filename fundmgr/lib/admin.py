from __future__ import annotations

from django.contrib import admin

from fundmgr.lib.models import WorkdayOverride

_WEEKDAYS = "一二三四五六日"


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "weekday", "is_working_day", "note")
    list_filter = ("is_working_day",)
    search_fields = ("note",)
    date_hierarchy = "date"
    ordering = ("date",)
    readonly_fields = ("created_at",)

    @admin.display(description="星期", ordering="date")
    def weekday(self, obj: WorkdayOverride) -> str:
        return f"星期{_WEEKDAYS[obj.date.weekday()]}"
