"""Financing needs, honours, priority classes and outreach events in the admin.

Staff register needs (for enterprises without a bank), see which banks are interested, record
meetings and outcomes, close or withdraw needs; record events with their participants and the
signings made there, each traced to the filing that realises it. Every write goes through
`matching.services`.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_fsm.admin import FSMAdminMixin
from simple_history.admin import SimpleHistoryAdmin

from fundmgr.ground.accounts.admin import StateAgeMixin, WorkflowTransitionsMixin
from fundmgr.ground.accounts.principals import principal_for
from fundmgr.ground.accounts.workflow import history_html
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.adminkit import (
    ChangePageMixin,
    CountedQueueFilter,
    Figure,
    ReadOnlyAdminMixin,
    ServiceErrorsMixin,
    ShortNameFilter,
    WorkListMixin,
    date_display,
    money_display,
    region_display,
    short_name_display,
)
from fundmgr.ground.lib.errors import AppError
from fundmgr.ground.lib.money import format_yuan

from . import rules, selectors, services
from .models import (
    SEEKING_STATUSES,
    EnterpriseHonour,
    EventSigning,
    FinancingNeed,
    HonourKind,
    MatchingPolicy,
    NeedInterest,
    NeedMeeting,
    NeedPriority,
    NeedStatus,
    OutreachEvent,
    PriorityClass,
)

STEP_LABELS = {"register": _("登记需求")}
# The queues the 工作台 links to (fundmgr.top.workbench): the same selectors count them.
UNTOUCHED_QUEUE, INTEREST_QUEUE = "untouched", "interest"


# --- financing needs -------------------------------------------------------------------------


def _filing_url(filing) -> str:
    """A loan filing's page (the loans app's admin; reached by URL name, never imported)."""
    return reverse("admin:loans_loanfiling_change", args=[filing.pk])


class NeedQueueFilter(CountedQueueFilter):
    def queues(self):
        today = clock.today()
        return {
            "open": (_("待对接"), Q(status=NeedStatus.OPEN)),
            "in_talks": (_("对接中"), Q(status=NeedStatus.IN_TALKS)),
            "filed": (_("已报送备案"), Q(status=NeedStatus.FILED)),
            "expiring": (_("即将过期"), selectors.expiring_q(today=today)),
            UNTOUCHED_QUEUE: (_("长期无进展"), selectors.untouched_q(today=today)),
            INTEREST_QUEUE: (_("银行有意向待跟进"), selectors.interest_follow_up_q()),
        }


class PriorityFilter(admin.SimpleListFilter):
    title = _("优先对接分类")
    parameter_name = "priority"

    def lookups(self, request, model_admin):
        seen = {}
        for c in PriorityClass.objects.filter(active=True).order_by("order", "fund_id"):
            seen.setdefault(c.code, f"{c.order}. {c.label}")
        return list(seen.items())

    def queryset(self, request, queryset):
        return selectors.with_priority(queryset, self.value()) if self.value() else queryset


class NeedAddForm(forms.ModelForm):
    class Meta:
        model = FinancingNeed
        fields = [
            "enterprise",
            "amount",
            "term_months",
            "purpose",
            "offered_ip",
            "consent_on",
            "consent_scope",
        ]


class NeedChangeForm(forms.ModelForm):
    class Meta:
        model = FinancingNeed
        fields = ["purpose", "consent_on", "consent_scope"]

    def clean_consent_on(self):
        value = self.cleaned_data.get("consent_on")
        if value is not None and value > clock.today():
            raise forms.ValidationError(_("同意共享日期不能晚于今天"))
        return value


class PriorityInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = NeedPriority
    fields = ["priority_class", "reason"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = _("优先对接分类（依企业荣誉与知识产权计算）")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("priority_class")


class InterestInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = NeedInterest
    fields = ["institution", "expressed_on", "comment"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = _("表达意向的银行")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("institution")


class MeetingInline(admin.TabularInline):
    """Meetings are added (by the service), never edited: the record of what was said."""

    model = NeedMeeting
    fields = ["held_on", "institution", "kind", "outcome", "notes"]
    extra = 0
    can_delete = False
    autocomplete_fields = ["institution"]
    verbose_name_plural = _("对接记录（会谈、走访与结果）")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request, obj=None) -> bool:
        if obj is None or obj.status not in (*SEEKING_STATUSES, NeedStatus.FILED):
            return False
        return super().has_add_permission(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("institution")


class NeedSigningInline(admin.TabularInline):
    model = EventSigning
    fk_name = "financing_need"
    fields = ["event", "institution", "intended_amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("活动现场签约")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("event", "institution")


@admin.register(FinancingNeed)
class FinancingNeedAdmin(
    WorkListMixin,
    ChangePageMixin,
    StateAgeMixin,
    WorkflowTransitionsMixin,
    ServiceErrorsMixin,
    FSMAdminMixin,
    SimpleHistoryAdmin,
):
    fsm_fields = ["status"]
    comment_required_steps = rules.NEED_COMMENT_REQUIRED
    list_display = [
        "enterprise_name",
        "fund_name",
        "district",
        "amount_yuan",
        "term_months",
        "best_priority",
        "status",
        "banks_interested",
        "registered",
        "expires",
    ]
    list_display_links = ["enterprise_name"]
    list_wrap = ("enterprise_name", "best_priority")
    list_filter = [
        NeedQueueFilter,
        "status",
        ("fund", ShortNameFilter),
        PriorityFilter,
        "source",
        "consent_scope",
    ]
    search_fields = ["enterprise__name", "enterprise__uscc"]
    list_select_related = ["fund", "enterprise"]
    autocomplete_fields = ["enterprise", "offered_ip"]
    inlines = [PriorityInline, InterestInline, MeetingInline, NeedSigningInline]

    fund_name = short_name_display("fund", _("资金"), short=lambda fund: fund.short_label)
    district = region_display("enterprise__region_code", _("所在区县"))  # as on the enterprises list
    amount_yuan = money_display("amount", _("融资金额(元)"))
    registered = date_display("registered_on", _("登记日期"))
    expires = date_display("expires_on", _("有效期至"))

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(banks=Count("interests", distinct=True))
            .prefetch_related("priorities__priority_class")
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = NeedChangeForm if obj is not None else NeedAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    add_fieldsets = [
        (None, {"fields": ["enterprise", ("amount", "term_months"), "purpose", "offered_ip"]}),
        (_("信息共享"), {"fields": [("consent_on", "consent_scope")]}),
    ]
    fieldsets = [
        (
            None,
            {"fields": [("enterprise", "fund"), ("status", "in_state_since"), ("source", "submitted_by")]},
        ),
        (_("融资需求"), {"fields": [("amount", "term_months"), "purpose", "offered_ip_list"]}),
        (_("信息共享"), {"fields": [("consent_on", "consent_scope")]}),
        (_("期限与进展"), {"fields": [("registered_on", "expires_on", "last_activity_on"), "filings_panel"]}),
        (_("状态记录"), {"fields": ["transition_history"], "classes": ["collapse"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "enterprise",
            "fund",
            "status",
            "in_state_since",
            "source",
            "submitted_by",
            "amount",
            "term_months",
            "offered_ip_list",
            "registered_on",
            "expires_on",
            "last_activity_on",
            "filings_panel",
            "transition_history",
            *super().get_readonly_fields(request, obj),
        ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a need ends by a step (closed, withdrawn, expired), which keeps its history

    def save_model(self, request, obj, form, change):
        if change:  # the purpose and the consent; logged in the need's history
            services.need_update(
                need_id=obj.pk,
                user=request.user,
                data={key: form.cleaned_data.get(key) for key in ("purpose", "consent_on", "consent_scope")},
            )
            return
        data = form.cleaned_data
        need = services.need_register(
            principal=principal_for(request.user),
            data={
                "fund": data["enterprise"].fund.code,
                "enterprise_uscc": data["enterprise"].uscc,
                "amount": data["amount"],
                "term_months": data["term_months"],
                "purpose": data.get("purpose") or "",
                "offered_ip": [a.number for a in data.get("offered_ip") or []],
                "consent_on": data.get("consent_on"),
                "consent_scope": data.get("consent_scope"),
            },
        )
        obj.pk = need.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # The rights offered were stored by need_register with the need: no form.save_m2m().
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        if formset.model is not NeedMeeting:  # read-only lists: nothing to save
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        new = [f for f in formset.extra_forms if f.has_changed() and f.cleaned_data]
        formset.new_objects = [
            services.need_meeting_record(need_id=form.instance.pk, user=request.user, data=f.cleaned_data)
            for f in new
        ]
        formset.changed_objects, formset.deleted_objects = [], []

    def run_transition(self, request, obj, name, comment, data):
        services.need_transition(need_id=obj.pk, name=name, user=request.user, comment=comment)

    def transition_figures(self, request, obj, name: str) -> list[Figure]:
        """Whose need it is, how much and for how long, who showed interest, when it lapses."""
        banks = [i.institution.name for i in obj.interests.select_related("institution").order_by("id")]
        return [
            Figure(_("企业"), obj.enterprise.name, obj.enterprise.uscc),
            Figure(_("资金"), obj.fund.name),
            Figure(_("融资金额(元)"), format_yuan(obj.amount)),
            Figure(_("期限(月)"), obj.term_months),
            Figure(_("表达意向的银行"), "、".join(banks) if banks else "—"),
            Figure(_("有效期至"), obj.expires_on.isoformat() if obj.expires_on else "—"),
        ]

    @admin.display(description=_("企业"), ordering="enterprise__name")
    def enterprise_name(self, obj) -> str:
        return format_html('<span title="{}">{}</span>', obj.enterprise.uscc, obj.enterprise.name)

    @admin.display(description=_("优先分类"), ordering="priority_rank")
    def best_priority(self, obj) -> str:
        rows = list(obj.priorities.all())
        if not rows:
            return "—"
        first = min(rows, key=lambda r: r.priority_class.order)
        more = f" +{len(rows) - 1}" if len(rows) > 1 else ""
        return format_html(
            '<span title="{}">{}{}</span>', first.reason, first.priority_class.label[:12], more
        )

    @admin.display(description=_("意向银行"), ordering="banks")
    def banks_interested(self, obj) -> int:
        return getattr(obj, "banks", 0)

    @admin.display(description=_("拟质押知识产权"))
    def offered_ip_list(self, obj) -> str:
        assets = list(obj.offered_ip.all())
        if not assets:
            return "—"
        return format_html_join("、", "{} {}", ((a.get_kind_display(), a.number) for a in assets))

    @admin.display(description=_("对应贷款备案"))
    def filings_panel(self, obj) -> str:
        filings = list(obj.filings.select_related("institution").order_by("id")) if obj.pk else []
        if not filings:
            return "—"
        return format_html_join(
            "<br>",
            '<a href="{}">{}</a>{}',
            (
                (
                    _filing_url(f),
                    f.reference,
                    _("（%(bank)s，%(amount)s 元，%(status)s）")
                    % {
                        "bank": f.institution.short_name,
                        "amount": format_yuan(f.principal),
                        "status": f.get_status_display(),
                    },
                )
                for f in filings
            ),
        )

    @admin.display(description=_("状态变更记录"))
    def transition_history(self, obj) -> str:
        return history_html(obj, step_labels=STEP_LABELS)


# --- honours and priority classes --------------------------------------------------------------


class HonourForm(forms.ModelForm):
    class Meta:
        model = EnterpriseHonour
        fields = [
            "enterprise",
            "kind",
            "level",
            "title",
            "certificate_no",
            "granted_on",
            "valid_until",
            "source",
        ]


@admin.register(EnterpriseHonour)
class EnterpriseHonourAdmin(WorkListMixin, ChangePageMixin, ServiceErrorsMixin, SimpleHistoryAdmin):
    form = HonourForm
    list_display = ["enterprise_name", "kind", "level", "title", "granted", "valid_until_on", "valid_now"]
    list_wrap = ("enterprise_name", "title")
    list_filter = ["kind", "level", ("enterprise__fund", ShortNameFilter)]
    search_fields = ["enterprise__name", "enterprise__uscc", "title", "certificate_no"]
    list_select_related = ["enterprise"]
    autocomplete_fields = ["enterprise"]

    enterprise_name = short_name_display(
        "enterprise", _("企业"), short=lambda e: e.name, ordering="enterprise__name"
    )
    granted = date_display("granted_on", _("认定日期"))
    valid_until_on = date_display("valid_until", _("有效期至"))

    @admin.display(description=_("今日有效"), boolean=True)
    def valid_now(self, obj) -> bool:
        return obj.valid_on(clock.today())

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # an honour ends by its validity; a wrong one is corrected (the needs follow)

    def save_model(self, request, obj, form, change):
        services.honour_save(honour=obj, by=request.user)


class PriorityClassForm(forms.ModelForm):
    class Meta:
        model = PriorityClass
        fields = ["fund", "order", "code", "label", "rule", "parameters", "active", "document_ref"]

    def clean(self):
        data = super().clean()
        if data.get("rule"):
            for error in rules.parameter_errors(
                data["rule"], data.get("parameters"), honour_kinds=HonourKind.values
            ):
                self.add_error("parameters", error)
        return data


@admin.register(PriorityClass)
class PriorityClassAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    form = PriorityClassForm
    list_display = ["order", "label", "fund_or_default", "rule", "active"]
    list_display_links = ["label"]
    list_filter = ["rule", "active", "fund"]
    list_select_related = ["fund"]

    @admin.display(description=_("适用资金"), ordering="fund")
    def fund_or_default(self, obj) -> str:
        return str(obj.fund) if obj.fund_id else str(_("默认（未单独设置的资金）"))

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # retire a class by unticking 启用: needs keep the reasons they were given

    def save_model(self, request, obj, form, change):
        services.priority_class_save(priority_class=obj, by=request.user)


@admin.register(MatchingPolicy)
class MatchingPolicyAdmin(WorkListMixin, ServiceErrorsMixin, admin.ModelAdmin):
    """A row in force is read-only (history is never rewritten): change the numbers by adding a
    row that starts today or later (`services.matching_policy_save`)."""

    list_display = [
        "fund_or_default",
        "effective_from",
        "need_valid_working_days",
        "untouched_alert_working_days",
        "expiry_warning_working_days",
        "signing_need_term_months",
    ]
    list_filter = ["fund"]
    list_select_related = ["fund"]
    fields = [
        "fund",
        "effective_from",
        "need_valid_working_days",
        "untouched_alert_working_days",
        "expiry_warning_working_days",
        "signing_need_term_months",
        "document_ref",
        "created_by",
        "created_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.effective_from <= clock.today():
            return self.fields
        return ["created_by", "created_at"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("适用资金"), ordering="fund")
    def fund_or_default(self, obj) -> str:
        return str(obj.fund) if obj.fund_id else str(_("默认（未单独设置的资金）"))

    def save_model(self, request, obj, form, change):
        services.matching_policy_save(policy=obj, by=request.user)


# --- outreach events -----------------------------------------------------------------------------


class SigningForm(forms.ModelForm):
    class Meta:
        model = EventSigning
        fields = ["institution", "enterprise", "intended_amount", "financing_need", "notes"]


class SigningInline(admin.TabularInline):
    """Signings are added (each by `services.signing_record`, which ties it to a financing
    need), never edited; each shows the filing that realises it, once there is one."""

    model = EventSigning
    form = SigningForm
    fields = ["institution", "enterprise", "intended_amount", "financing_need", "notes", "realised_by"]
    readonly_fields = ["realised_by"]
    autocomplete_fields = ["institution", "enterprise", "financing_need"]
    extra = 0
    can_delete = False
    verbose_name_plural = _("现场签约（意向金额；所对应融资需求可不选，系统自动关联或新建）")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.base_fields["financing_need"].required = False
        return formset

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("institution", "enterprise", "financing_need")

    @admin.display(description=_("实现贷款（备案）"))
    def realised_by(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "—"
        filings = list(selectors.signing_filings(obj))
        if not filings:
            return "—"
        return format_html_join(
            "<br>",
            '<a href="{}">{}</a>{}',
            (
                (
                    _filing_url(f),
                    f.reference,
                    _("（%(status)s，%(amount)s 元）")
                    % {"status": f.get_status_display(), "amount": format_yuan(f.principal)},
                )
                for f in filings
            ),
        )


class EventForm(forms.ModelForm):
    class Meta:
        model = OutreachEvent
        fields = [
            "fund",
            "kind",
            "title",
            "held_on",
            "place",
            "online",
            "online_platform",
            "organisers",
            "co_organisers",
            "enterprises",
            "institutions",
            "attendance",
            "online_viewers",
            "notes",
        ]

    def clean(self):
        data = super().clean()
        if not (data.get("place") or "").strip() and not data.get("online"):
            self.add_error("place", _("请填写活动地点，或勾选线上举办"))
        return data


@admin.register(OutreachEvent)
class OutreachEventAdmin(WorkListMixin, ChangePageMixin, ServiceErrorsMixin, SimpleHistoryAdmin):
    form = EventForm
    list_display = [
        "held",
        "title",
        "kind",
        "fund_name",
        "where",
        "attendance",
        "online_viewers",
        "signing_count",
        "signed_yuan",
    ]
    list_wrap = ("title",)
    list_filter = ["kind", ("fund", ShortNameFilter), "online"]
    search_fields = ["title", "organisers", "co_organisers", "place"]
    list_select_related = ["fund"]
    autocomplete_fields = ["enterprises", "institutions"]
    date_hierarchy = "held_on"
    inlines = [SigningInline]
    fieldsets = [
        (None, {"fields": [("fund", "kind"), "title", "held_on"]}),
        (_("地点"), {"fields": [("place", "online", "online_platform")]}),
        (_("主办与协办"), {"fields": ["organisers", "co_organisers"]}),
        (_("参加者"), {"fields": ["enterprises", "institutions", ("attendance", "online_viewers")]}),
        (None, {"fields": ["notes"]}),
    ]

    fund_name = short_name_display("fund", _("城市"), short=lambda fund: fund.short_label)
    held = date_display("held_on", _("日期"))

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(signings_n=Count("signings"), signed=Sum("signings__intended_amount"))
        )

    @admin.display(description=_("地点"))
    def where(self, obj) -> str:
        if obj.online and obj.place:
            return _("%(place)s（线上同步）") % {"place": obj.place}
        return obj.place or _("线上（%(platform)s）") % {"platform": obj.online_platform or _("网络直播")}

    @admin.display(description=_("签约(笔)"), ordering="signings_n")
    def signing_count(self, obj) -> int:
        return getattr(obj, "signings_n", 0)

    @admin.display(description=_("签约意向金额(元)"), ordering="signed")
    def signed_yuan(self, obj) -> str:
        value = getattr(obj, "signed", None)
        return "—" if value is None else format_yuan(value)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the outreach record: its signings trace the loans they brought

    def save_model(self, request, obj, form, change):
        services.event_save(
            event=obj,
            by=request.user,
            enterprises=form.cleaned_data.get("enterprises"),
            institutions=form.cleaned_data.get("institutions"),
        )

    def save_related(self, request, form, formsets, change):
        # The participants were saved by event_save with the event: no form.save_m2m().
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        if formset.model is not EventSigning:  # pragma: no cover - the only inline
            super().save_formset(request, form, formset, change)
            return
        new = [f for f in formset.extra_forms if f.has_changed() and f.cleaned_data]
        created = []
        for f in new:
            data = f.cleaned_data
            try:
                created.append(
                    services.signing_record(
                        event=form.instance,
                        institution=data["institution"],
                        enterprise=data["enterprise"],
                        intended_amount=data["intended_amount"],
                        financing_need=data.get("financing_need"),
                        notes=data.get("notes") or "",
                        by=request.user,
                    )
                )
            except AppError as exc:
                self.message_user(
                    request, _("签约未保存：%(reason)s") % {"reason": exc.message}, level="error"
                )
        formset.new_objects, formset.changed_objects, formset.deleted_objects = created, [], []
