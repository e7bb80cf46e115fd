"""Partner institutions in the admin: registration, lifecycle buttons, agreements, products.

Every write that matters goes through `banks.services`: registering an institution, each
lifecycle button, signing an agreement, submitting, filing and withdrawing a product. The
admin only collects input and shows the services' refusals.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm.admin import FSMAdminMixin
from simple_history.admin import SimpleHistoryAdmin

from enterprises.models import IPAsset
from fundmgr.ground.accounts.admin import StateAgeMixin, WorkflowTransitionsMixin, work_queue_filter
from fundmgr.ground.accounts.workflow import history_html, state_entered_on, step_signers, transition_label
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib.adminkit import (
    Figure,
    ReadOnlyAdminMixin,
    ServiceErrorsMixin,
    WorkListMixin,
    date_display,
    money_display,
    short_name_display,
)
from fundmgr.ground.lib.errors import AppError
from fundmgr.ground.lib.money import format_yuan
from fundmgr.ground.lib.regions import region_name

from . import rules, selectors, services
from .models import CooperationAgreement, FilingsStatus, Institution, Product

# Institution and agreement pages show any filing suspension in force in a box at the top.
SUSPENSION_CHANGE_FORM = "admin/banks/change_form_with_suspensions.html"
# The agreement page saves nothing: only its transition buttons act.
NO_SAVE_BUTTONS = {"show_save": False, "show_save_and_continue": False}


def filings_state_html(agreement: CooperationAgreement) -> str:
    """正常, or 暂停（自 2026-12-03） / 恢复待审批（自 2026-12-03）, in the warning colour."""
    if agreement.pk is None:
        return "—"
    if not agreement.filings_suspended:
        return str(FilingsStatus.OPEN.label)
    since = agreement.filings_suspended_on.isoformat() if agreement.filings_suspended_on else "—"
    return format_html(
        '<strong class="filings-suspended" style="color: var(--error-fg, #ba2121);">{}</strong>'
        '<br><span class="quiet">{}</span>',
        FilingsStatus(agreement.filings_status).label,
        _("自 %(date)s") % {"date": since},
    )


AGREEMENT_FIELDS = [
    "fund",
    "fund_share",
    "bank_share",
    "insurer_share",
    "valuer_share",
    "quota",
    "reserve_deposit",
    "signed_on",
    "valid_from",
    "valid_until",
    "document_ref",
]


class AgreementForm(forms.ModelForm):
    """A new agreement, checked against the same rules the service applies, so a bad share
    split or term is shown on the field instead of failing at save."""

    class Meta:
        model = CooperationAgreement
        fields = AGREEMENT_FIELDS

    def clean(self):
        cleaned = super().clean()
        self._rule_failed = False
        if self.instance.pk is not None or self.errors or not cleaned.get("fund"):
            return cleaned
        try:
            violations = services.agreement_check(
                fund=cleaned["fund"], terms=services.agreement_terms(cleaned)
            )
        except AppError as exc:
            violations = exc.errors or []
            if not violations:
                self.add_error(None, exc.message)
        for violation in violations:
            self._rule_failed = True
            self.add_error(violation.field if violation.field in self.fields else None, violation.message)
        return cleaned

    def _post_clean(self):
        # The model's CHECK constraints say the same as the rules, only less clearly; once the
        # rules have spoken, validating the constraints again would repeat the error.
        if getattr(self, "_rule_failed", False):
            return
        super()._post_clean()


class AgreementInline(admin.TabularInline):
    """Signed agreements are never edited (loans copy their shares); a change is a new
    agreement from a later `valid_from`. Each row shows whether its filings are suspended and
    links to the agreement's page, where a suspension is lifted."""

    model = CooperationAgreement
    form = AgreementForm
    fields = [*AGREEMENT_FIELDS, "filings_state"]
    readonly_fields = ["filings_state"]
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = _("合作协议")
    verbose_name_plural = _("合作协议（已签订的不可修改；变更请新增一份协议）")

    def get_queryset(self, request):
        # Each row shows its fund and a title naming the institution and the fund.
        return super().get_queryset(request).select_related("institution", "fund")

    def has_add_permission(self, request, obj=None) -> bool:
        # Signing is part of managing the partnership (the service checks the role too).
        if obj is not None and obj.status == Institution.Status.TERMINATED:
            return False
        return request.user.has_perm("banks.change_institution")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("备案状态"))
    def filings_state(self, obj) -> str:
        return filings_state_html(obj)


class ProductForm(forms.ModelForm):
    accepted_ip_kinds = forms.MultipleChoiceField(
        label=_("可质押知识产权类型"),
        choices=IPAsset.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Product
        fields = [
            "fund",
            "code",
            "name",
            "accepted_ip_kinds",
            "max_principal",
            "max_term_months",
            "max_annual_rate",
            "max_pledge_rate",
        ]


class ProductInline(admin.TabularInline):
    model = Product
    form = ProductForm
    fields = [
        "fund",
        "code",
        "name",
        "version",
        "status",
        "filed_on",
        "accepted_ip_kinds",
        "max_principal",
        "max_term_months",
        "max_annual_rate",
        "max_pledge_rate",
    ]
    readonly_fields = ["version", "status", "filed_on"]
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("备案产品（在“备案产品”列表中办理备案或撤回）")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("fund")  # shown on each row

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """simple_history's edit history, for reading only: reverting to an old version would
    write around the services."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None) -> bool:
        return True


class SuspendedFilingsFilter(admin.SimpleListFilter):
    """Institutions with a filing suspension in force in any fund."""

    title = _("备案暂停")
    parameter_name = "filings"

    def lookups(self, request, model_admin):
        return [("suspended", _("有暂停备案的资金")), ("open", _("无暂停"))]

    def queryset(self, request, queryset):
        condition = selectors.institutions_with_suspended_filings_q()
        if self.value() == "suspended":
            return queryset.filter(condition)
        if self.value() == "open":
            return queryset.exclude(condition)
        return queryset


def suspension_context(agreements) -> dict:
    """What the suspension box at the top of a change page shows (see SUSPENSION_CHANGE_FORM)."""
    suspensions = [s for s in (selectors.filing_suspension(a) for a in agreements) if s is not None]
    notes = []
    for suspension in suspensions:
        step = "approve_reinstatement" if suspension.awaiting_approval else "request_reinstatement"
        signers = step_signers(suspension.agreement, step)
        notes.append(
            {
                "suspension": suspension,
                "agreement_url": reverse(
                    "admin:banks_cooperationagreement_change", args=[suspension.agreement.pk]
                ),
                "next_step": transition_label(CooperationAgreement, step),
                "signers": "、".join(u.get_username() for u in signers),
            }
        )
    return {"filing_suspensions": notes}


@admin.register(Institution)
class InstitutionAdmin(
    StateAgeMixin, WorkflowTransitionsMixin, ServiceErrorsMixin, FSMAdminMixin, ReadOnlyHistoryAdmin
):
    fsm_fields = ["status"]
    comment_required_steps = rules.INSTITUTION_COMMENT_REQUIRED
    change_form_template = SUSPENSION_CHANGE_FORM
    # Narrow enough for 1280 px beside the navigation and the filters: short names (the full
    # name is on the page and in the tooltip), the code searchable.
    list_display = ["display_name", "code", "kind", "status", "suspended_funds"]
    list_display_links = ["display_name"]
    list_filter = [
        work_queue_filter(selectors.INSTITUTION_QUEUES),  # the start page's cards link here
        "status",
        SuspendedFilingsFilter,
        "kind",
    ]
    search_fields = ["code", "name"]
    readonly_fields = ["suspension_reason", "in_state_since", "created_at", "transition_history"]
    inlines = [AgreementInline, ProductInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "region_code", "uscc"]}),
        (_("联系人"), {"fields": ["contact_name", "contact_phone", "contact_email"]}),
        (
            _("合作状态"),
            {"fields": ["status", "in_state_since", "suspension_reason", "created_at", "transition_history"]},
        ),
    ]

    def get_queryset(self, request):
        return selectors.with_suspended_agreements(super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # The code names the institution's API user and its organisation: fixed once registered.
            fields.append("code")
        return fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # partners end by termination, which keeps their history

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = dict(extra_context or {})
        institution = self.get_object(request, object_id)
        if institution is not None:
            context.update(suspension_context(selectors.suspended_agreements_of(institution)))
            context["on_institution_page"] = True
            if institution.status == Institution.Status.SUSPENDED:
                context["institution_suspension"] = {
                    "since": state_entered_on(institution),
                    "reason": institution.suspension_reason,
                }
        return super().change_view(request, object_id, form_url, context)

    @admin.display(description=_("名称"), ordering="name")
    def display_name(self, obj) -> str:
        return format_html('<span title="{}">{}</span>', obj.name, obj.short_name)

    @admin.display(description=_("暂停备案"))
    def suspended_funds(self, obj) -> str:
        suspended = selectors.suspended_agreements_of(obj)
        if not suspended:
            return "—"
        return format_html_join(
            "、",
            '<span class="filings-suspended" style="color: var(--error-fg, #ba2121);" title="{}">{}</span>',
            ((a.fund.name, selectors.fund_label(a.fund)) for a in suspended),
        )

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)  # contact details; edit history kept
            return
        created = services.institution_create(data=form.cleaned_data, by=request.user)
        obj.pk = created.pk
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        service = {CooperationAgreement: services.agreement_sign, Product: services.product_submit}.get(
            formset.model
        )
        if service is None:
            super().save_formset(request, form, formset, change)
            return
        # Inline rows are only ever added (signed rows are read-only), each by its service.
        formset.new_objects = [
            service(
                institution=form.instance,
                fund=item.cleaned_data["fund"],
                data=item.cleaned_data,
                by=request.user,
            )
            for item in self._new_rows(formset)
        ]
        formset.changed_objects, formset.deleted_objects = [], []

    @staticmethod
    def _new_rows(formset):
        return [
            f
            for f in formset.extra_forms
            if f.has_changed() and not formset._should_delete_form(f) and f.cleaned_data
        ]

    def run_transition(self, request, obj, name: str, comment: str, data: dict):
        return services.institution_transition(
            institution_id=obj.pk, name=name, user=request.user, comment=comment
        )

    def transition_figures(self, request, obj, name: str) -> list[Figure]:
        """Who the institution is, where its partnership stands, and its agreements."""
        figures = [
            Figure(_("机构代码"), obj.code),
            Figure(_("机构类型"), obj.get_kind_display()),
            Figure(_("所在地区"), region_name(obj.region_code) if obj.region_code else "—"),
            Figure(_("合作状态"), obj.get_status_display(), obj.suspension_reason),
        ]
        agreements = obj.agreements.select_related("fund").order_by("fund__code", "valid_from")
        if agreements:
            figures.append(
                Figure(
                    _("合作协议"),
                    "；".join(
                        f"{selectors.fund_label(a.fund)} {selectors.percent_text(a.fund_share)}"
                        for a in agreements
                    ),
                    _("资金分担比例"),
                )
            )
        return figures

    @admin.display(description=_("状态变更记录"))
    def transition_history(self, obj) -> str:
        return history_html(obj)


class FilingsStatusFilter(admin.SimpleListFilter):
    title = _("备案状态")
    parameter_name = "filings"

    def lookups(self, request, model_admin):
        return [
            ("suspended", _("暂停中（含恢复待审批）")),
            (FilingsStatus.REINSTATEMENT_REQUESTED, _("恢复待审批")),
            (FilingsStatus.OPEN, _("正常")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "suspended":
            return queryset.filter(selectors.suspended_agreements_q())
        if self.value() in FilingsStatus.values:
            return queryset.filter(filings_status=self.value())
        return queryset


class FundFilter(admin.SimpleListFilter):
    """Funds by their city's name (the funds' full names are long and alike)."""

    title = _("资金")
    parameter_name = "fund"

    def lookups(self, request, model_admin):
        return [(str(f.pk), selectors.fund_label(f)) for f in Fund.objects.order_by("code")]

    def queryset(self, request, queryset):
        return queryset.filter(fund_id=self.value()) if self.value() else queryset


@admin.register(CooperationAgreement)
class CooperationAgreementAdmin(
    WorkListMixin, WorkflowTransitionsMixin, ServiceErrorsMixin, FSMAdminMixin, ReadOnlyHistoryAdmin
):
    """A cooperation agreement's page: its terms (signed on the institution's page, never
    edited), and its filing suspension, lifted four-eyes with the buttons: request
    (officer or approver), then approve or refuse (another person, an approver)."""

    fsm_fields = ["filings_status"]
    comment_required_steps = rules.AGREEMENT_COMMENT_REQUIRED
    change_form_template = SUSPENSION_CHANGE_FORM
    # A work list (the filters in a menu, exports): short names (the full ones in the tooltips
    # and the exports), short headers, nothing that wraps mid-word.
    list_display = [
        "institution_name",
        "fund_name",
        "fund_share_text",
        "quota_yuan",
        "effective",
        "filings_state",
    ]
    list_display_links = ["institution_name"]
    list_filter = [
        work_queue_filter(selectors.AGREEMENT_QUEUES),  # the start page's cards link here
        FilingsStatusFilter,
        FundFilter,
    ]
    list_select_related = ["institution", "fund"]
    search_fields = ["institution__code", "institution__name", "document_ref"]
    fieldsets = [
        (None, {"fields": ["institution", "fund", "document_ref", "signed_on", "valid_from", "valid_until"]}),
        (
            _("风险分担与额度"),
            {
                "fields": [
                    "fund_share",
                    "bank_share",
                    "insurer_share",
                    "valuer_share",
                    "quota",
                    "reserve_deposit",
                ]
            },
        ),
        (
            _("新增备案"),
            {
                "fields": [
                    "filings_status",
                    "filings_suspended_on",
                    "filings_suspension_npl_ratio",
                    "filings_suspension_threshold",
                    "filings_suspension_reason",
                    "transition_history",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [name for _title, options in self.fieldsets for name in options["fields"]]

    def has_add_permission(self, request) -> bool:
        return False  # signed on the institution's page, by its service

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # "Changing" an agreement is pressing its buttons; which ones a person sees comes from
        # the steps' own declarations (role, four-eyes).
        return request.user.has_perm("banks.change_institution")

    def save_model(self, request, obj, form, change):
        pass  # nothing is edited on the page; the buttons run the services

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {**NO_SAVE_BUTTONS, **(extra_context or {})}
        agreement = self.get_object(request, object_id)
        if agreement is not None:
            context.update(suspension_context([agreement]))
        return super().change_view(request, object_id, form_url, context)

    def run_transition(self, request, obj, name: str, comment: str, data: dict):
        return services.agreement_filings_transition(
            agreement_id=obj.pk, name=name, user=request.user, comment=comment
        )

    def transition_figures(self, request, obj, name: str) -> list[Figure]:
        """The partnership and its terms, and the suspension being lifted: since when, the
        bank's covered NPL ratio against the policy threshold, why, and any request."""
        figures = [
            Figure(_("合作机构"), obj.institution.name),
            Figure(_("资金"), obj.fund.name),
            Figure(_("资金分担比例"), selectors.percent_text(obj.fund_share)),
            Figure(_("额度(元)"), "—" if obj.quota is None else format_yuan(obj.quota)),
            Figure(_("备案状态"), obj.get_filings_status_display()),
        ]
        suspension = selectors.filing_suspension(obj)
        if suspension is not None:
            figures += [
                Figure(_("暂停日期"), suspension.since.isoformat() if suspension.since else "—"),
                Figure(
                    _("暂停时在保贷款不良率"),
                    suspension.npl_ratio_text,
                    _("暂停阈值 %(threshold)s") % {"threshold": suspension.threshold_text},
                ),
                Figure(_("暂停原因"), suspension.reason or "—"),
            ]
            if suspension.request is not None:
                figures.append(
                    Figure(
                        _("恢复备案申请"),
                        suspension.request.comment or "—",
                        _("%(who)s于 %(on)s 提出")
                        % {"who": suspension.request.who, "on": suspension.request.on.isoformat()},
                    )
                )
        return figures

    institution_name = short_name_display(
        "institution", _("合作机构"), short=lambda inst: inst.short_name, ordering="institution__name"
    )
    fund_name = short_name_display("fund", _("资金"), short=selectors.fund_label, ordering="fund__code")
    quota_yuan = money_display("quota", _("额度(元)"))
    effective = date_display("valid_from", _("生效日期"))

    @admin.display(description=_("资金分担"), ordering="fund_share")
    def fund_share_text(self, obj) -> str:
        return selectors.percent_text(obj.fund_share)

    @admin.display(description=_("备案状态"), ordering="filings_status")
    def filings_state(self, obj) -> str:
        return filings_state_html(obj)

    @admin.display(description=_("状态变更记录"))
    def transition_history(self, obj) -> str:
        return history_html(obj)


@admin.register(Product)
class ProductAdmin(ReadOnlyAdminMixin, ReadOnlyHistoryAdmin):
    """Products are submitted on their institution's page; filing and withdrawal are the
    actions here."""

    list_display = ["code", "name", "version", "institution", "fund", "status", "filed_on", "withdrawn_on"]
    list_filter = ["status", "fund"]
    search_fields = ["code", "name", "institution__code", "institution__name"]
    list_select_related = ["institution", "fund"]
    actions = ["file_products", "withdraw_products"]

    def has_file_permission(self, request) -> bool:
        return request.user.has_perm("banks.change_product")

    def _each(self, request, queryset, service, done: str) -> None:
        count = 0
        for product in queryset:
            try:
                service(product_id=product.pk, by=request.user)
                count += 1
            except AppError as exc:
                messages.error(request, f"{product}：{exc.message}")
        if count:
            messages.success(request, done % {"count": count})

    @admin.action(description=_("备案所选产品"), permissions=["file"])
    def file_products(self, request, queryset):
        self._each(request, queryset, services.product_file, gettext("已备案 %(count)s 个产品。"))

    @admin.action(description=_("撤回所选产品"), permissions=["file"])
    def withdraw_products(self, request, queryset):
        self._each(request, queryset, services.product_withdraw, gettext("已撤回 %(count)s 个产品。"))
