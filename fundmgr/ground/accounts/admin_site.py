"""The admin site: the fund manager's staff work here all day, and a city's regulators read
their own city's funds here too (dashboard, ledger, reports) — nothing else, never a write.

Django's admin admits only `is_staff` users; this site also admits active regulator users,
and each page a regulator may read says so with `RegulatorReadableMixin` (accounts/admin.py).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import Role


def is_regulator(user) -> bool:
    return bool(user.is_active and getattr(user, "role", None) == Role.REGULATOR and not user.is_staff)


class LoginForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user) -> None:
        if is_regulator(user):
            AuthenticationForm.confirm_login_allowed(self, user)  # active is enough
            return
        super().confirm_login_allowed(user)


class FundmgrAdminSite(admin.AdminSite):
    site_header = _("知识产权质押融资风险补偿资金管理系统")
    site_title = _("风险补偿资金管理")
    index_title = _("工作台")
    login_form = LoginForm

    def has_permission(self, request) -> bool:
        return super().has_permission(request) or is_regulator(request.user)
