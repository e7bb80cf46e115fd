from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_fsm_log.models import StateLog
from rest_framework_api_key.admin import APIKeyModelAdmin

from fundmgr.ground.lib.adminkit import TransitionButtonsMixin

from . import services
from .admin_site import is_regulator, is_system_admin
from .models import ApiToken, InstitutionAPIKey, Organization, User
from .principals import principal_for
from .workflow import state_entered_on, why_not, with_state_entered_on, working_days_in_state
from .workqueues import WorkQueue


class RegulatorReadableMixin:
    """A page a city's regulator may read in the admin: only the rows of its own funds
    (`regulator_fund_path` leads from a row to its fund), no action, no write; another city's
    row is 404. Staff are unaffected (their model permissions decide as before)."""

    regulator_fund_path = "fund"

    def regulator_funds(self, request) -> frozenset[int] | None:
        """The funds the user reads as a regulator; None for everyone else."""
        if not is_regulator(request.user):
            return None
        if not hasattr(request, "_regulator_funds"):
            request._regulator_funds = principal_for(request.user).fund_ids
        return request._regulator_funds

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        funds = self.regulator_funds(request)
        return qs if funds is None else qs.filter(**{f"{self.regulator_fund_path}__in": funds})

    def has_module_permission(self, request) -> bool:
        return self.regulator_funds(request) is not None or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if self.regulator_funds(request) is not None:
            return True  # the queryset holds only its own funds' rows
        return super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args) -> bool:
        return self.regulator_funds(request) is None and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.regulator_funds(request) is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.regulator_funds(request) is None and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        return {} if self.regulator_funds(request) is not None else super().get_actions(request)

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if self.regulator_funds(request) is None:
            return filters
        # Offer only the funds in its own rows, not every city's name.
        return [
            (f, admin.RelatedOnlyFieldListFilter) if f == self.regulator_fund_path else f for f in filters
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if self.regulator_funds(request) is not None:
            try:
                visible = self.get_queryset(request).filter(pk=object_id).exists()
            except (ValueError, ValidationError):
                visible = False
            if not visible:
                raise Http404
        return super().change_view(request, object_id, form_url, extra_context)


class StateAgeMixin:
    """Columns for a lifecycle's queue: the business date a record entered its current state
    and the working days since, from `workflow.with_state_entered_on` (one subquery per page)."""

    def get_queryset(self, request):
        return with_state_entered_on(super().get_queryset(request))

    @admin.display(description=_("进入当前状态日期"))
    def in_state_since(self, obj):
        entered = state_entered_on(obj)
        return "—" if entered is None else entered.isoformat()

    @admin.display(description=_("当前状态停留(工作日)"))
    def days_in_state(self, obj):
        days = working_days_in_state(state_entered_on(obj))
        return "—" if days is None else days


class WorkflowTransitionsMixin(TransitionButtonsMixin):
    """Transition buttons of a lifecycle declared with `workflow.step`: a step the user may not
    take is refused naming the rule (the record's state, the roles declared, four-eyes and who
    may sign instead), from the declaration itself (`workflow.why_not`)."""

    def transition_refusal(self, request, obj, name: str) -> str | None:
        return why_not(obj, name, request.user)


class WorkQueueFilter(admin.SimpleListFilter):
    """The start page's (工作台) queues of a list's records: each shows exactly the records its
    card counts for the person (the owning app's selector: state, role and four-eyes), so a
    card's link opens a list of as many rows as its count. The system administrator gets the
    overview, as on the start page. Subclasses give `queues` (the app's `WorkQueue`s)."""

    title = _("工作台待办")
    parameter_name = "workqueue"
    queues: tuple[WorkQueue, ...] = ()

    @staticmethod
    def acting(request):
        return None if is_system_admin(request.user) else request.user

    def lookups(self, request, model_admin):
        user = self.acting(request)
        return [(queue.key, queue.label) for queue in self.queues if queue.offered(user)]

    def queryset(self, request, queryset):
        queue = next((q for q in self.queues if q.key == self.value()), None)
        if queue is None:
            return queryset
        return queryset.filter(pk__in=queue.records(self.acting(request)).values("pk"))


def work_queue_filter(queues: tuple[WorkQueue, ...]) -> type[WorkQueueFilter]:
    """A `WorkQueueFilter` for `queues` (e.g. loans.selectors.queues.CLAIM_QUEUES)."""
    return type("WorkQueueFilter", (WorkQueueFilter,), {"queues": tuple(queues)})


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "region_code"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "role", "organization", "is_active", "last_login"]
    list_select_related = ["organization"]
    list_filter = ["role", "is_active", "organization__kind"]
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("角色与范围"), {"fields": ["role", "organization", "funds", "phone"]}),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        (_("角色与范围"), {"fields": ["role", "organization", "funds"]}),
    )
    filter_horizontal = ["funds", "groups", "user_permissions"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Someone who signed a step is deactivated instead (the history keeps who signed).
        if obj is not None and StateLog.objects.filter(by=obj).exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = services.token_issue(username=obj.user.username, name=obj.name)
        obj.pk = token.pk
        obj._state.adding = False
        messages.warning(request, _("新令牌（只显示这一次，请立即保存）：%s") % raw)

    @admin.action(description=_("吊销所选令牌"))
    def revoke(self, request, queryset):
        for token in queryset:
            services.token_revoke(token=token)


@admin.register(InstitutionAPIKey)
class InstitutionAPIKeyAdmin(APIKeyModelAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "institution"]
    list_filter = [*APIKeyModelAdmin.list_filter, "institution"]
    search_fields = [*APIKeyModelAdmin.search_fields, "institution__code", "institution__name"]
