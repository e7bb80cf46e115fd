"""Partner institutions in the admin: registration, lifecycle buttons, agreements, products.

Every write that matters goes through `banks.services`: registering an institution, each
lifecycle button, signing an agreement, submitting, filing and withdrawing a product. The
admin only collects input and shows the services' refusals.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django_fsm.admin import FSMAdminMixin
from simple_history.admin import SimpleHistoryAdmin

from enterprises.models import IPAsset
from fundmgr.ground.accounts.admin import StateAgeMixin
from fundmgr.ground.accounts.workflow import history_html
from fundmgr.ground.lib.adminkit import ReadOnlyAdminMixin, ServiceErrorsMixin, TransitionButtonsMixin
from fundmgr.ground.lib.errors import AppError

from . import services
from .models import CooperationAgreement, Institution, Product

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
    agreement from a later `valid_from`."""

    model = CooperationAgreement
    form = AgreementForm
    fields = AGREEMENT_FIELDS
    extra = 0
    can_delete = False
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


@admin.register(Institution)
class InstitutionAdmin(
    StateAgeMixin, TransitionButtonsMixin, ServiceErrorsMixin, FSMAdminMixin, ReadOnlyHistoryAdmin
):
    fsm_fields = ["status"]
    list_display = ["code", "name", "kind", "status", "in_state_since", "region_code", "suspension_reason"]
    list_filter = ["kind", "status"]
    search_fields = ["code", "name"]
    readonly_fields = ["suspension_reason", "created_at", "transition_history"]
    inlines = [AgreementInline, ProductInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "region_code", "uscc"]}),
        (_("联系人"), {"fields": ["contact_name", "contact_phone", "contact_email"]}),
        (_("合作状态"), {"fields": ["status", "suspension_reason", "created_at", "transition_history"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # The code names the institution's API user and its organisation: fixed once registered.
            fields.append("code")
        return fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # partners end by termination, which keeps their history

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
            messages.success(request, done.format(count=count))

    @admin.action(description=_("备案所选产品"), permissions=["file"])
    def file_products(self, request, queryset):
        self._each(request, queryset, services.product_file, "已备案 {count} 个产品。")

    @admin.action(description=_("撤回所选产品"), permissions=["file"])
    def withdraw_products(self, request, queryset):
        self._each(request, queryset, services.product_withdraw, "已撤回 {count} 个产品。")
