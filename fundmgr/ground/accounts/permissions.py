"""API permissions. Scope (which rows) is the selectors' job; these say who may call at all."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .principals import principal_from_request


class IsPrincipal(BasePermission):
    """Any authenticated, active principal. Regulators may only read."""

    message = gettext_lazy("需要认证")

    def has_permission(self, request, view) -> bool:
        principal = principal_from_request(request)
        if principal.is_anonymous:
            return False
        if principal.is_regulator and request.method not in SAFE_METHODS:
            self.message = _("监管用户只能查看，不能修改")
            return False
        return principal.is_staff_member or principal.is_regulator or principal.is_institution


class IsAnyPrincipal(BasePermission):
    """Any authenticated, active principal, regulators included, for what is the caller's own
    (marking one's notifications read changes no business data)."""

    message = gettext_lazy("需要认证")

    def has_permission(self, request, view) -> bool:
        p = principal_from_request(request)
        return p.is_staff_member or p.is_regulator or p.is_institution


class IsInstitution(BasePermission):
    message = gettext_lazy("仅合作机构可以调用此接口")

    def has_permission(self, request, view) -> bool:
        return principal_from_request(request).is_institution


class IsStaffOrRegulator(BasePermission):
    message = gettext_lazy("仅资金管理人工作人员和监管用户可以调用此接口")

    def has_permission(self, request, view) -> bool:
        p = principal_from_request(request)
        return p.is_staff_member or (p.is_regulator and request.method in SAFE_METHODS)
