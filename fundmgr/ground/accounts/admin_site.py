"""The admin site: the fund manager's staff work here all day, and a city's regulators read
their own city's funds here too (dashboard, ledger, reports) — nothing else, never a write.

Django's admin admits only `is_staff` users; this site also admits active regulator users,
and each page a regulator may read says so with `RegulatorReadableMixin` (accounts/admin.py).

The index is the start page (工作台): each person's work queues come first (the template
admin/index.html renders them with the top layer's `workbench` tags: the queues live in the
business apps, above this one), then the apps, business apps first. The technical apps (users
and credentials, the job scheduler, login lockouts, stored API responses, the working-day
overrides) are listed for the system administrator only, in the index and the side menu.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import Role


def is_regulator(user) -> bool:
    return bool(user.is_active and getattr(user, "role", None) == Role.REGULATOR and not user.is_staff)


def is_system_admin(user) -> bool:
    return bool(user.is_active and (user.is_superuser or getattr(user, "role", None) == Role.ADMIN))


# Apps for running the system rather than the funds: listed for the system administrator only.
TECHNICAL_APPS = frozenset(
    {
        "accounts",  # users, organisations, API tokens and institution API keys
        "auth",  # groups (permissions come from roles: accounts/backends.py)
        "axes",  # login lockouts
        "django_celery_beat",  # periodic tasks
        "lib",  # idempotency records, working-day calendar overrides
        "rest_framework_api_key",  # API key permissions
    }
)
# The business apps in the order of the work: loans first.
APP_ORDER = ("loans", "enterprises", "banks", "matching", "funds", "reports", "forecast", "notifications")


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
    # No public site behind the admin: no "查看站点" link (it led to a 404 page).
    site_url = None

    def has_permission(self, request) -> bool:
        return super().has_permission(request) or is_regulator(request.user)

    def get_app_list(self, request, app_label=None):
        """The apps this person may use (index, side menu, app pages): business apps in the
        order of the work; technical apps for the system administrator only, after them. An
        app page of a technical app is 404 for everyone else."""
        apps = super().get_app_list(request, app_label)
        admin = is_system_admin(request.user)
        if not admin:
            apps = [app for app in apps if app["app_label"] not in TECHNICAL_APPS]
        rank = {label: i for i, label in enumerate(APP_ORDER)}
        apps.sort(
            key=lambda app: (
                app["app_label"] in TECHNICAL_APPS,
                rank.get(app["app_label"], len(rank)),
                str(app["name"]),
            )
        )
        return apps
