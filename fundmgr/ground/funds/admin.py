"""Funds in the admin: policy versions, the ledger, and live figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.forms.models import construct_instance
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fundmgr.ground.accounts.admin import RegulatorReadableMixin
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.adminkit import (
    ChangePageMixin,
    ServiceErrorsMixin,
    ShortNameFilter,
    WorkListMixin,
    date_display,
    money_display,
    region_display,
    short_name_display,
    wan_display,
)
from fundmgr.ground.lib.identifiers import IP_KIND_LABELS
from fundmgr.ground.lib.money import format_wan, format_yuan

from . import selectors, services
from .models import Fund, LedgerEntry, PolicyVersion


class PolicyVersionInline(admin.StackedInline):
    model = PolicyVersion
    extra = 0
    can_delete = False
    show_change_link = True
    fields = [
        "effective_from",
        "document_ref",
        "max_fund_share",
        "leverage",
        "max_enterprise_exposure",
        "max_term_months",
    ]
    readonly_fields = fields
    ordering = ["-effective_from"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("fund")  # each row's title names it

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.display(description=_("补偿申请"), ordering="claim__reference")
def claim_link(entry: LedgerEntry) -> str:
    """The claim a compensation or recovery entry belongs to, linked to its admin page."""
    if entry.claim_id is None:
        return "—"
    return format_html(
        '<a href="{}">{}</a>',
        reverse("admin:loans_claim_change", args=[entry.claim_id]),
        entry.claim.reference,
    )


def entry_kind_text(entry: LedgerEntry) -> str:
    """出资（省级）: the entry's type, with the government level a contribution came from."""
    kind = str(entry.get_entry_type_display())
    if entry.government_level:
        kind = gettext("%(kind)s（%(level)s）") % {
            "kind": kind,
            "level": entry.get_government_level_display(),
        }
    return kind


class LedgerInline(admin.TabularInline):
    model = LedgerEntry
    extra = 0
    can_delete = False
    fields = ["value_date", "entry_kind", "amount_yuan", "description", "claim_ref"]
    readonly_fields = fields
    ordering = ["-value_date", "-id"]
    verbose_name_plural = _("资金台账（最近记录）")

    amount_yuan = money_display("amount", _("金额(元)"))

    @admin.display(description=_("类型"))
    def entry_kind(self, entry) -> str:
        return entry_kind_text(entry)

    def get_queryset(self, request):
        # the fund too: each row's title names it (the formset sets only fund_id)
        return super().get_queryset(request).select_related("fund", "claim")

    @admin.display(description=_("补偿申请"))
    def claim_ref(self, entry) -> str:
        return claim_link(entry)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _figures_of(fund: Fund):
    """The fund's live figures: read for the whole list page at once (kept on the row), or now."""
    return getattr(fund, "_figures", None) or selectors.fund_figures_one(fund=fund, on=clock.today())


@dataclass(frozen=True)
class FundView:
    """A page about one fund, mounted at <fund admin>/<route>/<code>/ and linked from the list."""

    route: str
    url_name: str
    label: str
    view: Callable  # view(request, code, *, model_admin)


@admin.register(Fund)
class FundAdmin(RegulatorReadableMixin, WorkListMixin, ChangePageMixin, admin.ModelAdmin):
    regulator_fund_path = "pk"  # a regulator reads its own city's funds
    list_display = [
        "name",
        "short_label",
        "city",
        "status",
        "balance_yuan",
        "exposure_yuan",
        "leverage_display",
        "dashboard_link",
    ]
    list_wrap = ("name",)
    list_filter = ["status"]
    search_fields = ["code", "name", "short_name", "region_code"]
    readonly_fields = ["status", "figures_panel"]
    inlines = [PolicyVersionInline, LedgerInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("code", "reference_prefix"),
                    ("name", "short_name"),
                    ("region_code", "manager"),
                    "status",
                ]
            },
        ),
        (_("期限"), {"fields": [("start_date", "end_date"), "note"]}),
        (_("实时指标"), {"fields": ["figures_panel"]}),
    ]

    city = region_display("region_code", _("所在城市"))

    @admin.display(description=_("简称"), ordering="short_name")
    def short_label(self, obj) -> str:
        return obj.short_label

    # Pages that apps above this one mount on a fund (the reports app's dashboard): they
    # register here at start-up, since funds may not import them.
    fund_views: ClassVar[list[FundView]] = []

    def get_urls(self):
        mounted = [
            path(
                f"{view.route}/<slug:code>/",
                self.admin_site.admin_view(partial(view.view, model_admin=self)),
                name=view.url_name,
            )
            for view in self.fund_views
        ]
        return mounted + super().get_urls()

    @admin.display(description=_("看板"))
    def dashboard_link(self, obj) -> str:
        links = [
            format_html('<a href="{}">{}</a>', reverse(f"admin:{view.url_name}", args=[obj.code]), view.label)
            for view in self.fund_views
        ]
        return format_html_join(" · ", "{}", ((link,) for link in links)) if links else "—"

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # Figures for the page in a fixed number of queries, not one set per row; kept on the
        # rows themselves, since this admin object is shared by concurrent requests.
        funds = list(changelist.result_list)
        figures = selectors.fund_figures(funds=funds, on=clock.today())
        for fund in funds:
            fund._figures = figures[fund.pk]
        return changelist

    def _fig(self, obj):
        return _figures_of(obj)

    # The list is an overview (staff's and the city regulators'): amounts in 万元, the exact
    # yuan on hover and in the exports.
    balance_yuan = wan_display(_("余额(万元)"), _("余额(元)"), lambda obj: _figures_of(obj).balance)
    exposure_yuan = wan_display(_("风险敞口(万元)"), _("风险敞口(元)"), lambda obj: _figures_of(obj).exposure)

    @admin.display(description=_("放大倍数(实际/上限)"))
    def leverage_display(self, obj) -> str:
        f = self._fig(obj)
        actual = "—" if f.leverage is None else f"{f.leverage}"
        limit = "—" if f.leverage_limit is None else f"{f.leverage_limit}"
        return f"{actual} / {limit}"

    @admin.display(description=_("实时指标"))
    def figures_panel(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "—"
        f = selectors.fund_figures_one(fund=obj, on=clock.today())

        def wan(amount):  # 万元, the exact yuan on hover
            if amount is None:
                return "—"
            exact = _("%(amount)s 元") % {"amount": format_yuan(amount)}
            return format_html('<span title="{}">{} {}</span>', exact, format_wan(amount), _("万元"))

        rows = [
            (_("台账余额"), wan(f.balance)),
            (_("可用余额"), wan(f.available_balance)),
            (_("出资总额"), wan(f.capital)),
            (_("累计代偿"), wan(f.compensation_paid)),
            (_("累计追偿返还"), wan(f.recoveries_returned)),
            (_("在保覆盖余额"), wan(f.covered_outstanding)),
            (_("风险敞口"), wan(f.exposure)),
            (_("实际放大倍数"), "—" if f.leverage is None else str(f.leverage)),
            (_("放大倍数上限"), "—" if f.leverage_limit is None else str(f.leverage_limit)),
            (_("剩余备案容量"), wan(f.headroom)),
        ]
        return format_html_join("", "<div><strong>{}</strong>：{}</div>", ((str(k), v) for k, v in rows))


@admin.register(PolicyVersion)
class PolicyVersionAdmin(WorkListMixin, ChangePageMixin, ServiceErrorsMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "fund_name",
        "effective",
        "max_fund_share",
        "leverage",
        "filing_deadline_working_days",
    ]
    list_filter = [("fund", ShortNameFilter)]
    search_fields = ["fund__name", "fund__short_name", "document_ref"]
    list_select_related = ["fund"]
    list_wrap = ("__str__",)

    fund_name = short_name_display("fund", _("资金"), short=lambda fund: fund.short_label)
    effective = date_display("effective_from", _("生效日期"))
    date_hierarchy = "effective_from"
    readonly_fields = ["created_at", "created_by"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and services.policy_version_is_locked(obj):
            # In force: history is never rewritten. Add a new version instead.
            model_fields = [f.name for f in self.model._meta.fields if f.name != "id"]
            fields = model_fields + [n for n in fields if n not in model_fields] + ["accepted_ip_kinds_text"]
        return fields

    def get_fields(self, request, obj=None):
        # The kinds' display stands in for the field (get_fieldsets), never beside it.
        return [f for f in super().get_fields(request, obj) if f != "accepted_ip_kinds_text"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if "accepted_ip_kinds_text" not in self.get_readonly_fields(request, obj):
            return fieldsets
        return [
            (title, {**options, "fields": [_ip_kinds_shown(name) for name in options["fields"]]})
            for title, options in fieldsets
        ]

    @admin.display(description=_("可质押知识产权类型"))
    def accepted_ip_kinds_text(self, obj) -> str:
        return "、".join(str(IP_KIND_LABELS.get(kind, kind)) for kind in obj.accepted_ip_kinds or []) or "—"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        if change:
            if services.policy_version_is_locked(PolicyVersion.objects.get(pk=obj.pk)):
                raise PermissionDenied
            super().save_model(request, obj, form, change)
            return
        values = {k: v for k, v in form.cleaned_data.items() if k not in ("fund", "effective_from")}
        created = services.policy_version_create(
            fund=form.cleaned_data["fund"],
            effective_from=form.cleaned_data["effective_from"],
            by=request.user,
            **values,
        )
        obj.pk = created.pk
        obj._state.adding = False


def _ip_kinds_shown(name):
    return "accepted_ip_kinds_text" if name == "accepted_ip_kinds" else name


class LedgerEntryForm(forms.ModelForm):
    amount = forms.DecimalField(
        label=_("金额(元)"),
        max_digits=18,
        decimal_places=2,
        min_value=None,
        help_text=_("填写正数；调整可为负数"),
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "fund",
            "entry_type",
            "government_level",
            "amount",
            "value_date",
            "description",
            "reference",
        ]

    def _post_clean(self):
        # Only fill the instance: the service validates, signs the amount (fees are stored
        # negative) and posts it. The model's sign constraint applies to the signed value.
        self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)

    def clean_entry_type(self):
        value = self.cleaned_data["entry_type"]
        if value not in services.MANUAL_ENTRY_TYPES:
            raise forms.ValidationError(_("代偿支出和追偿返还只能由补偿、追偿流程记账"))
        return value


@admin.register(LedgerEntry)
class LedgerEntryAdmin(
    RegulatorReadableMixin, WorkListMixin, ChangePageMixin, ServiceErrorsMixin, admin.ModelAdmin
):
    form = LedgerEntryForm
    # Each row says what it is (出资（省级）, 代偿支出 and its claim); the business reference
    # is on the entry's page and in the exports.
    list_display = [
        "value_on",
        "fund_name",
        "entry_kind",
        "amount_yuan",
        "description",
        claim_link,
        "created_by",
    ]
    list_display_links = ["value_on", "entry_kind"]
    list_wrap = ("description",)
    list_filter = [("fund", ShortNameFilter), "entry_type", "government_level"]
    search_fields = ["description", "reference", "claim__reference"]
    date_hierarchy = "value_date"
    list_select_related = ["fund", "created_by", "claim"]
    export_fields = [
        "value_date",
        "fund",
        "entry_type",
        "government_level",
        "amount",
        "description",
        "reference",
        claim_link,
        "created_by",
        "created_at",
    ]

    value_on = date_display("value_date", _("记账日期"))
    fund_name = short_name_display("fund", _("资金"), short=lambda fund: fund.short_label)
    amount_yuan = money_display("amount", _("金额(元)"))  # 2,500,000.00; outflows negative

    @admin.display(description=_("类型"), ordering="entry_type")
    def entry_kind(self, obj) -> str:
        return entry_kind_text(obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # append-only: corrections are new adjustment entries

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        entry = services.ledger_entry_record(
            fund=data["fund"],
            entry_type=data["entry_type"],
            amount=data["amount"],
            value_date=data["value_date"],
            government_level=data.get("government_level", ""),
            description=data.get("description", ""),
            reference=data.get("reference", ""),
            by=request.user,
        )
        obj.pk, obj.amount, obj.created_by = entry.pk, entry.amount, entry.created_by
        obj._state.adding = False
