"""Enterprise registration in the admin: queues, eligibility panel, IP portfolio, buttons."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Q
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_fsm.admin import FSMAdminMixin
from simple_history.admin import SimpleHistoryAdmin

from fundmgr.ground.accounts.admin import StateAgeMixin, WorkflowTransitionsMixin, work_queue_filter
from fundmgr.ground.accounts.workflow import history_html
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.adminkit import (
    ChangePageMixin,
    CountedQueueFilter,
    Figure,
    ShortNameFilter,
    WorkListMixin,
    date_display,
    in_final_state,
    region_display,
    region_filter,
    short_name_display,
)
from fundmgr.ground.lib.errors import AppError
from fundmgr.ground.lib.identifiers import IdentifierError, validate_ip_number, validate_uscc
from fundmgr.ground.lib.regions import CITIES, DISTRICTS, region_name

from . import services
from .models import Enterprise, IPAsset, SMEThreshold
from .rules import (
    COMMENT_REQUIRED_STEPS,
    ELIGIBILITY_CHECKED_AT_STEPS,
    FAILED,
    OPEN,
    PASSED,
    STATUS_LABELS,
    finding_label,
)
from .selectors import ENTERPRISE_QUEUES, enterprise_eligibility

# The admin queue of admissions expiring soon looks this many days ahead (a display choice).
EXPIRING_WITHIN_DAYS = 60


class QueueFilter(CountedQueueFilter):
    """Work queues with their counts: what is waiting for whom."""

    def queues(self):
        today = clock.today()
        return {
            "to_review": (_("待审核"), Q(status=Enterprise.Status.SUBMITTED)),
            "to_decide": (_("待复核（审核中）"), Q(status=Enterprise.Status.UNDER_REVIEW)),
            "returned": (_("退回补正中"), Q(status=Enterprise.Status.RETURNED)),
            "expiring": (
                _("入库即将到期"),
                Q(
                    status=Enterprise.Status.ADMITTED,
                    admitted_until__lte=today + dt.timedelta(days=EXPIRING_WITHIN_DAYS),
                ),
            ),
        }


def district_choices(current: str = "") -> list:
    """Districts by name, grouped by city (肇庆市: 端州区 …); a code not listed stays offered."""
    groups = []
    for city_code, city in CITIES.items():
        options = [(code, name) for code, name in DISTRICTS.items() if code[:4] == city_code[:4]]
        groups.append((city, options))
    if current and current not in DISTRICTS:
        groups.insert(0, (_("其他"), [(current, region_name(current))]))
    return [("", "---------"), *groups]


class EnterpriseForm(forms.ModelForm):
    region_code = forms.ChoiceField(label=_("所在区县"), choices=district_choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("region_code")
        if field is not None:
            field.choices = district_choices(self.initial.get("region_code") or "")

    class Meta:
        model = Enterprise
        fields = [
            "uscc",
            "name",
            "fund",
            "region_code",
            "industry_code",
            "registered_on",
            "legal_representative",
            "contact_name",
            "contact_phone",
            "employees",
            "annual_revenue",
            "total_assets",
            "credit_report_date",
            "credit_record_clean",
        ]

    def clean_uscc(self):
        try:
            return validate_uscc(self.cleaned_data["uscc"])
        except IdentifierError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc


class IPAssetForm(forms.ModelForm):
    class Meta:
        model = IPAsset
        fields = [
            "enterprise",
            "kind",
            "number",
            "title",
            "owner_name",
            "nice_class",
            "filed_on",
            "expires_on",
            "status",
        ]

    def clean(self):
        data = super().clean()
        if data.get("kind") and data.get("number"):
            try:
                data["number"] = validate_ip_number(data["kind"], data["number"], today=clock.today())
            except IdentifierError as exc:
                self.add_error("number", forms.ValidationError(exc.message, code=exc.code))
        return data


class IPAssetInline(admin.TabularInline):
    model = IPAsset
    form = IPAssetForm
    extra = 0
    fields = ["kind", "number", "title", "owner_name", "nice_class", "filed_on", "expires_on", "status"]
    # Narrow inputs, so the portfolio fits the page at 1280 px.
    formfield_overrides = {
        models.CharField: {"widget": forms.TextInput(attrs={"size": 14})},
        models.PositiveSmallIntegerField: {"widget": forms.NumberInput(attrs={"style": "width: 4em"})},
    }

    def _final(self, obj) -> bool:
        return in_final_state(obj, ["status"])

    def has_add_permission(self, request, obj=None) -> bool:
        return not self._final(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return not self._final(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not self._final(obj) and super().has_delete_permission(request, obj)


@admin.register(Enterprise)
class EnterpriseAdmin(
    WorkListMixin, ChangePageMixin, StateAgeMixin, WorkflowTransitionsMixin, FSMAdminMixin, SimpleHistoryAdmin
):
    form = EnterpriseForm
    fsm_fields = ["status"]
    comment_required_steps = COMMENT_REQUIRED_STEPS
    # The USCC is on hover over the name (and in exports): the list fits 1280 px.
    list_display = [
        "enterprise_name",
        "fund_name",
        "district",
        "size_class",
        "status",
        "in_state_since",
        "days_in_state",
        "admitted_until_on",
        "applied_by",
    ]
    list_display_links = ["enterprise_name"]
    list_wrap = ("enterprise_name",)
    export_fields = [
        "name",
        "uscc",
        "fund",
        "district",
        "size_class",
        "status",
        "in_state_since",
        "days_in_state",
        "admitted_on",
        "admitted_until",
        "submitted_by",
    ]
    list_filter = [
        QueueFilter,
        work_queue_filter(ENTERPRISE_QUEUES),  # the start page's cards link here
        "status",
        ("fund", ShortNameFilter),
        "size_class",
        region_filter("region_code", _("所在区县")),
        ("submitted_by", ShortNameFilter),
    ]
    search_fields = ["name", "uscc", "legal_representative"]
    list_select_related = ["fund", "submitted_by"]

    fund_name = short_name_display("fund", _("资金"), short=lambda fund: fund.short_label)

    @admin.display(description=_("企业名称"), ordering="name")
    def enterprise_name(self, obj) -> str:
        return format_html('<span title="{}">{}</span>', obj.uscc, obj.name)

    district = region_display("region_code", _("所在区县"))
    admitted_until_on = date_display("admitted_until", _("入库有效期至"))
    applied_by = short_name_display("submitted_by", _("代为申请机构"), short=lambda inst: inst.short_name)
    inlines = [IPAssetInline]
    readonly_fields = [
        "status",
        "size_class",
        "size_basis",
        "admitted_on",
        "admitted_until",
        "submitted_by",
        "eligibility_panel",
        "transition_history",
        "created_at",
        "updated_at",
    ]
    # Fields read together sit side by side; the record's history starts folded.
    fieldsets = [
        (None, {"fields": [("uscc", "name"), ("fund", "status"), "submitted_by"]}),
        (
            _("登记信息"),
            {
                "fields": [
                    ("region_code", "industry_code"),
                    ("registered_on", "legal_representative"),
                    ("contact_name", "contact_phone"),
                ]
            },
        ),
        (
            _("规模（工信部联企业〔2011〕300号）"),
            {"fields": [("employees", "annual_revenue", "total_assets"), ("size_class", "size_basis")]},
        ),
        (_("征信"), {"fields": [("credit_report_date", "credit_record_clean")]}),
        (_("入库条件审查"), {"fields": ["eligibility_panel"]}),
        (_("入库期限"), {"fields": [("admitted_on", "admitted_until")]}),
        (
            _("状态记录"),
            {"fields": ["transition_history", ("created_at", "updated_at")], "classes": ["collapse"]},
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["uscc", "fund"]  # identity of the record never changes
        return fields

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.enterprise_refresh_size(enterprise_id=obj.pk)
        if change and "region_code" in form.changed_data:
            services.enterprise_district_corrected(enterprise=obj)

    def run_transition(self, request, obj, name, comment, data):
        services.enterprise_transition(enterprise_id=obj.pk, name=name, user=request.user, comment=comment)

    def transition_figures(self, request, obj, name: str) -> list[Figure]:
        """Who the enterprise is, its size, what the eligibility review found, its admission."""
        figures = [
            Figure(_("统一社会信用代码"), obj.uscc),
            Figure(_("资金"), obj.fund.name),
            Figure(_("所在区县"), region_name(obj.region_code) if obj.region_code else "—"),
            Figure(_("企业规模"), obj.get_size_class_display() or "—"),
        ]
        try:
            eligibility = enterprise_eligibility(obj)
        except AppError as exc:
            figures.append(Figure(_("入库条件审查"), exc.message, warning=True))
        else:
            failed, open_ = eligibility.failed, eligibility.open
            if failed or open_:
                text = "；".join(
                    f"{finding_label(f.code)}：{STATUS_LABELS[f.status]}" for f in [*failed, *open_]
                )
            else:
                text = _("全部通过")
            blocks = bool(failed) and name in ELIGIBILITY_CHECKED_AT_STEPS
            figures.append(
                Figure(_("入库条件审查"), text, _("未通过的条件须先解决") if blocks else "", warning=blocks)
            )
        if obj.admitted_until:
            figures.append(Figure(_("入库有效期至"), obj.admitted_until.isoformat()))
        return figures

    @admin.display(description=_("条件审查结果"))
    def eligibility_panel(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        try:
            findings = enterprise_eligibility(obj).findings
        except AppError as exc:
            return exc.message
        icons = {PASSED: "✔", FAILED: "✘", OPEN: "？"}
        css = {PASSED: "fm-passed", FAILED: "fm-failed", OPEN: "fm-open"}
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("审查项目"),
            _("结果"),
            _("说明"),
            format_html_join(
                "",
                '<tr><td>{}</td><td class="{}">{} {}</td><td>{}</td></tr>',
                (
                    (
                        finding_label(f.code),
                        css[f.status],
                        icons[f.status],
                        STATUS_LABELS[f.status],
                        f.message,
                    )
                    for f in findings
                ),
            ),
        )

    @admin.display(description=_("状态变更记录"))
    def transition_history(self, obj):
        return history_html(obj)


@admin.register(IPAsset)
class IPAssetAdmin(WorkListMixin, ChangePageMixin, SimpleHistoryAdmin):
    form = IPAssetForm
    list_display = ["number", "kind", "title", "enterprise_name", "expires", "status"]
    list_wrap = ("title", "enterprise_name")
    list_filter = ["kind", "status", ("enterprise__fund", ShortNameFilter)]
    search_fields = ["number", "title", "enterprise__name", "enterprise__uscc"]
    list_select_related = ["enterprise"]
    date_hierarchy = "expires_on"

    enterprise_name = short_name_display(
        "enterprise", _("企业"), short=lambda e: e.name, ordering="enterprise__name"
    )
    expires = date_display("expires_on", _("到期日"))


@admin.register(SMEThreshold)
class SMEThresholdAdmin(WorkListMixin, admin.ModelAdmin):
    list_display = ["standard", "industry", "name", "effective"]
    list_filter = ["standard"]

    effective = date_display("effective_from", _("施行日期"))  # ISO, as in the other lists
