"""Servicing in the admin: the banks' monthly status reports and early warnings, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..models import (
    EarlyWarning,
    StatusReport,
)
from .display import ReadOnlyAdmin, money_display

# --- servicing and documents (read-only) ---------------------------------------------------


@admin.register(StatusReport)
class StatusReportAdmin(ReadOnlyAdmin):
    list_display = [
        "filing",
        "as_of",
        "outstanding_yuan",
        "overdue_yuan",
        "days_overdue",
        "risk_class",
        "loan_status_after",
        "is_current",
        "reported_on",
    ]
    list_filter = ["filing__fund", "risk_class", "loan_status_after", "is_current", "filing__institution"]
    search_fields = ["filing__reference", "filing__contract_no", "filing__enterprise__name"]
    list_select_related = ["filing"]
    date_hierarchy = "as_of"

    outstanding_yuan = money_display("outstanding_principal", _("贷款余额(元)"))
    overdue_yuan = money_display("overdue_principal", _("逾期本金(元)"))


class ResolvedFilter(admin.SimpleListFilter):
    title = _("是否解除")
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("no", _("未解除")), ("yes", _("已解除"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(resolved_on__isnull=True)
        if self.value() == "yes":
            return queryset.filter(resolved_on__isnull=False)
        return queryset


@admin.register(EarlyWarning)
class EarlyWarningAdmin(ReadOnlyAdmin):
    list_display = ["raised_on", "kind", "filing", "subject", "message", "resolved_on"]
    list_filter = [ResolvedFilter, "kind", "filing__fund", "filing__institution"]
    search_fields = ["filing__reference", "subject", "message", "filing__enterprise__name"]
    list_select_related = ["filing"]
    date_hierarchy = "raised_on"
