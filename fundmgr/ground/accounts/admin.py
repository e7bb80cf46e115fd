from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from django_fsm_log.models import StateLog
from rest_framework_api_key.admin import APIKeyModelAdmin

from . import services
from .models import ApiToken, InstitutionAPIKey, Organization, User
from .workflow import state_entered_on, with_state_entered_on, working_days_in_state


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


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "region_code"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "role", "organization", "is_active", "last_login"]
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
