"""Stored reports in the admin: the archive of what was generated, with downloads."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from fundmgr.ground.accounts.admin import RegulatorReadableMixin
from fundmgr.ground.accounts.principals import principal_for
from fundmgr.ground.funds.admin import FundAdmin, FundView
from fundmgr.ground.funds.selectors import funds_visible_to
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.adminkit import (
    ChangePageMixin,
    ReadOnlyAdminMixin,
    ShortNameFilter,
    WorkListMixin,
    datetime_display,
    short_name_display,
)
from fundmgr.ground.lib.errors import AppError

from . import dashboard, exporters, services
from .models import StoredReport

# The fund dashboard is mounted on the fund admin, which cannot import this app.
FundAdmin.fund_views.append(
    FundView(
        route="dashboard", url_name=dashboard.URL_NAME, label=_("看板"), view=dashboard.fund_dashboard_view
    )
)


class ReportTablesForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("报表"), choices=[("quarterly", _("季度统计表")), ("annual", _("年度统计表"))]
    )
    year = forms.IntegerField(label=_("年份"), min_value=services.MIN_YEAR, max_value=services.MAX_YEAR)
    quarter = forms.TypedChoiceField(
        label=_("季度"), choices=[(q, f"Q{q}") for q in range(1, 5)], coerce=int, required=False
    )
    fund = forms.ChoiceField(label=_("资金"), required=False)

    def __init__(self, *args, funds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fund"].choices = [("", _("全部可查看的资金"))] + [(f.code, f.name) for f in funds]
        if not self.is_bound:
            today = clock.today()
            self.initial.update(kind="quarterly", year=today.year, quarter=(today.month - 1) // 3 + 1)

    def clean(self):
        data = super().clean()
        if data.get("kind") == "quarterly" and not data.get("quarter"):
            self.add_error("quarter", _("季度统计表须选择季度"))
        return data


@admin.register(StoredReport)
class StoredReportAdmin(
    RegulatorReadableMixin, WorkListMixin, ChangePageMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    list_display = ["kind", "fund_name", "institution_name", "period", "generated", "downloads"]
    list_filter = ["kind", ("fund", ShortNameFilter), ("institution", ShortNameFilter)]
    search_fields = ["fund__name", "fund__code", "institution__name", "institution__code"]
    date_hierarchy = "period_start"
    list_select_related = ["fund", "institution"]
    fields = [("kind", "fund", "institution"), ("period_start", "period_end"), "generated_at", "downloads"]
    readonly_fields = [
        "kind",
        "fund",
        "institution",
        "period_start",
        "period_end",
        "generated_at",
        "downloads",
    ]
    actions = ["regenerate"]
    export_fields = ["kind", "fund", "institution", "period_start", "period_end", "generated_at"]

    fund_name = short_name_display("fund", _("资金"), short=lambda fund: fund.short_label)
    institution_name = short_name_display("institution", _("合作机构"), short=lambda inst: inst.short_name)

    @admin.display(description=_("报告期间"), ordering="period_start")
    def period(self, obj) -> str:
        return gettext("%(start)s 至 %(end)s") % {
            "start": obj.period_start.isoformat(),
            "end": obj.period_end.isoformat(),
        }

    generated = datetime_display("generated_at", _("生成时间"))

    change_list_template = "admin/reports/storedreport_change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.download_view)
        return [
            path("<int:pk>/download/<str:fmt>/", view, name="reports_storedreport_download"),
            path("tables/", self.admin_site.admin_view(self.tables_view), name="reports_tables"),
            *super().get_urls(),
        ]

    def tables_view(self, request):
        """The regulator tables (quarterly or annual) for a chosen period, computed now from
        the books: shown on the page, downloadable as Excel or CSV. Scoped like the API."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        principal = principal_for(request.user)
        form = ReportTablesForm(request.GET or None, funds=funds_visible_to(principal).order_by("code"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("统计报表（按期间生成）"),
            "form": form,
        }
        if form.is_bound and form.is_valid():
            q = form.cleaned_data
            try:
                if q["kind"] == "annual":
                    report = services.annual_report(
                        principal=principal, fund_code=q["fund"] or None, year=q["year"]
                    )
                    stem = f"annual-{q['fund'] or 'all'}-{q['year']}"
                else:
                    report = services.quarterly_report(
                        principal=principal, fund_code=q["fund"] or None, year=q["year"], quarter=q["quarter"]
                    )
                    stem = f"quarterly-{q['fund'] or 'all'}-{q['year']}Q{q['quarter']}"
            except AppError as exc:
                form.add_error(None, exc.message)
            else:
                fmt = request.GET.get("download")
                if fmt in ("xlsx", "csv"):
                    content, content_type = exporters.table_file(report, fmt)
                    response = HttpResponse(content, content_type=content_type)
                    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
                    return response
                title, lines = exporters.quarterly_title(report)
                query = request.GET.copy()
                query.pop("download", None)
                context.update(
                    report=report,
                    report_title=title,
                    report_lines=lines,
                    tables=exporters.quarterly_tables(report),
                    query=query.urlencode(),
                )
        return TemplateResponse(request, "admin/reports/tables.html", context)

    @admin.display(description=_("下载"))
    def downloads(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">Excel</a> · <a href="{}">JSON</a>',
            reverse("admin:reports_storedreport_download", args=[obj.pk, "xlsx"]),
            reverse("admin:reports_storedreport_download", args=[obj.pk, "json"]),
        )

    def download_view(self, request, pk: int, fmt: str):
        if not self.has_view_permission(request):
            raise PermissionDenied
        # Scoped: a regulator's other cities' reports are 404.
        report = get_object_or_404(self.get_queryset(request).select_related("fund", "institution"), pk=pk)
        if fmt == "xlsx":
            workbook = services.stored_report_workbook(report=report)
            response = HttpResponse(workbook, content_type=exporters.XLSX_CONTENT_TYPE)
        elif fmt == "json":
            body = json.dumps(report.data, ensure_ascii=False, indent=2)
            response = HttpResponse(body.encode("utf-8"), content_type="application/json; charset=utf-8")
        else:
            raise PermissionDenied
        response["Content-Disposition"] = f'attachment; filename="{report.file_stem}.{fmt}"'
        return response

    @admin.action(description=_("按当前数据重新生成所选报表"), permissions=["regenerate"])
    def regenerate(self, request, queryset) -> None:
        done = 0
        for report in queryset.select_related("fund"):
            try:
                services.stored_report_regenerate(report=report)
                done += 1
            except AppError as exc:
                self.message_user(request, f"{report}：{exc}", messages.ERROR)
        if done:
            self.message_user(
                request,
                ngettext("已重新生成 %(n)s 份报表", "已重新生成 %(n)s 份报表", done) % {"n": done},
                messages.SUCCESS,
            )

    def has_regenerate_permission(self, request) -> bool:
        # Replacing a report that was already sent is the system administrator's call.
        return request.user.has_perm("reports.change_storedreport")
