"""Servicing in the admin: the banks' monthly status reports and early warnings, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from fundmgr.ground.lib.adminkit import ShortNameFilter, WorkListMixin, date_display, short_name_display

from ..models import (
    EarlyWarning,
    StatusReport,
)
from .display import ReadOnlyAdmin, fund_short, institution_short, money_display

FILING_ENTERPRISE = short_name_display(
    "filing__enterprise", _("借款企业"), short=lambda e: e.name, ordering="filing__enterprise__name"
)

# --- servicing and documents (read-only) ---------------------------------------------------


@admin.register(StatusReport)
class StatusReportAdmin(WorkListMixin, ReadOnlyAdmin):
    list_display = [
        "filing",
        "enterprise",
        "institution_name",
        "month",
        "outstanding_yuan",
        "overdue_yuan",
        "days_overdue",
        "risk_class",
        "is_current",
        "reported",
    ]
    list_wrap = ("enterprise", "institution_name")
    export_fields = [
        "filing",
        "enterprise",
        "institution_name",
        "as_of",
        "outstanding_yuan",
        "overdue_yuan",
        "overdue_interest",
        "days_overdue",
        "risk_class",
        "loan_status_after",
        "is_current",
        "reported_on",
    ]
    list_filter = [
        ("filing__fund", ShortNameFilter),
        "risk_class",
        "loan_status_after",
        "is_current",
        ("filing__institution", ShortNameFilter),
    ]
    search_fields = ["filing__reference", "filing__contract_no", "filing__enterprise__name"]
    list_select_related = ["filing__enterprise", "filing__institution"]
    date_hierarchy = "as_of"

    enterprise = FILING_ENTERPRISE
    institution_name = institution_short("filing__institution")
    reported = date_display("reported_on", _("报送日期"))

    @admin.display(description=_("月份"), ordering="as_of")
    def month(self, obj) -> str:
        return obj.as_of.strftime("%Y-%m")

    month.export_value = lambda obj: obj.as_of
    month.export_kind = "date"

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
class EarlyWarningAdmin(WorkListMixin, ReadOnlyAdmin):
    list_display = ["raised", "kind", "filing", "enterprise", "fund_name", "message", "resolved"]
    list_wrap = ("enterprise", "message")
    list_filter = [
        ResolvedFilter,
        "kind",
        ("filing__fund", ShortNameFilter),
        ("filing__institution", ShortNameFilter),
    ]
    search_fields = ["filing__reference", "subject", "message", "filing__enterprise__name"]
    list_select_related = ["filing__enterprise", "filing__fund"]
    date_hierarchy = "raised_on"

    raised = date_display("raised_on", _("预警日期"))
    resolved = date_display("resolved_on", _("解除日期"))
    enterprise = FILING_ENTERPRISE
    fund_name = fund_short("filing__fund")
