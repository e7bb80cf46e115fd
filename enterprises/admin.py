"""Enterprise registration in the admin: queues, eligibility panel, IP portfolio, buttons."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_fsm.admin import FSMAdminMixin
from simple_history.admin import SimpleHistoryAdmin

from fundmgr.ground.accounts.admin import StateAgeMixin
from fundmgr.ground.accounts.workflow import history_html
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.adminkit import CountedQueueFilter, TransitionButtonsMixin
from fundmgr.ground.lib.errors import AppError
from fundmgr.ground.lib.identifiers import IdentifierError, validate_ip_number, validate_uscc

from . import services
from .models import Enterprise, IPAsset, SMEThreshold
from .selectors import enterprise_eligibility

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


class EnterpriseForm(forms.ModelForm):
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


@admin.register(Enterprise)
class EnterpriseAdmin(StateAgeMixin, TransitionButtonsMixin, FSMAdminMixin, SimpleHistoryAdmin):
    form = EnterpriseForm
    fsm_fields = ["status"]
    list_display = [
        "name",
        "uscc",
        "fund",
        "region_code",
        "size_class",
        "status",
        "in_state_since",
        "days_in_state",
        "admitted_until",
        "submitted_by",
    ]
    list_filter = [QueueFilter, "status", "fund", "size_class", "region_code", "submitted_by"]
    search_fields = ["name", "uscc", "legal_representative"]
    list_select_related = ["fund", "submitted_by"]
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
    fieldsets = [
        (None, {"fields": ["uscc", "name", "fund", "status", "submitted_by"]}),
        (
            _("登记信息"),
            {
                "fields": [
                    "region_code",
                    "industry_code",
                    "registered_on",
                    "legal_representative",
                    "contact_name",
                    "contact_phone",
                ]
            },
        ),
        (
            _("规模（工信部联企业〔2011〕300号）"),
            {"fields": ["employees", "annual_revenue", "total_assets", "size_class", "size_basis"]},
        ),
        (_("征信"), {"fields": ["credit_report_date", "credit_record_clean"]}),
        (_("入库条件审查"), {"fields": ["eligibility_panel"]}),
        (_("入库期限"), {"fields": ["admitted_on", "admitted_until"]}),
        (_("状态记录"), {"fields": ["transition_history", "created_at", "updated_at"]}),
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

    @admin.display(description=_("条件审查结果"))
    def eligibility_panel(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        try:
            findings = enterprise_eligibility(obj).findings
        except AppError as exc:
            return exc.message
        icons = {"passed": "✔ 通过", "failed": "✘ 不符合", "open": "？ 待核实"}
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                ((icons[f.status], f.message, f.code) for f in findings),
            ),
        )

    @admin.display(description=_("状态变更记录"))
    def transition_history(self, obj):
        return history_html(obj)


@admin.register(IPAsset)
class IPAssetAdmin(SimpleHistoryAdmin):
    form = IPAssetForm
    list_display = ["number", "kind", "title", "enterprise", "expires_on", "status"]
    list_filter = ["kind", "status", "enterprise__fund"]
    search_fields = ["number", "title", "enterprise__name", "enterprise__uscc"]
    list_select_related = ["enterprise"]
    date_hierarchy = "expires_on"


@admin.register(SMEThreshold)
class SMEThresholdAdmin(admin.ModelAdmin):
    list_display = ["standard", "industry", "name", "effective_from"]
    list_filter = ["standard"]
