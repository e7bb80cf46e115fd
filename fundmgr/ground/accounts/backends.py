"""Permissions come from the user's role, declared once here, not from hand-made groups.

Staff log into the admin; what each role may add or change is listed in ROLE_PERMISSIONS.
Business transitions (admit, accept, approve, pay …) are not model permissions: the
services check the role and four-eyes rules themselves, for the admin and the API alike.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from .models import STAFF_ROLES, Role

PROJECT_APPS = frozenset(
    {
        "accounts",
        "funds",
        "lib",
        "enterprises",
        "banks",
        "matching",
        "loans",
        "notifications",
        "reports",
        "forecast",
    }
)
# Financing needs and outreach events (投融对接、政策宣传): what officers and approvers record.
_MATCHING = frozenset(
    {
        "matching.add_financingneed",
        "matching.change_financingneed",
        "matching.add_needmeeting",
        "matching.add_enterprisehonour",
        "matching.change_enterprisehonour",
        "matching.add_outreachevent",
        "matching.change_outreachevent",
        "matching.add_eventsigning",
    }
)
# Named stress scenarios of a fund's forecast: the manager's business staff save, change and
# delete them; every staff role reads them (and a city's regulators their city's, read-only).
_SCENARIOS = frozenset(
    {"forecast.add_stressscenario", "forecast.change_stressscenario", "forecast.delete_stressscenario"}
)

# "app_label.codename" prefixes a role may use beyond viewing. `view_*` on project apps is
# granted to every staff role.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OFFICER: frozenset(
        {
            "enterprises.add_enterprise",
            "enterprises.change_enterprise",
            "enterprises.add_ipasset",
            "enterprises.change_ipasset",
            "enterprises.delete_ipasset",
            "banks.add_institution",
            "banks.change_institution",
            "banks.add_product",
            "banks.change_product",
            "loans.change_loanfiling",
            "loans.change_claim",
        }
    )
    | _MATCHING
    | _SCENARIOS,
    Role.APPROVER: frozenset(
        {
            "enterprises.change_enterprise",
            "banks.change_institution",
            "loans.change_loanfiling",
            "loans.change_claim",
            # the priority classes are the fund's policy: the approver's to change
            "matching.add_priorityclass",
            "matching.change_priorityclass",
        }
    )
    | _MATCHING
    | _SCENARIOS,
    # Changing a claim or recovery in the admin means pressing its transition buttons (every
    # field is read-only); which button a role sees still comes from the transition itself.
    Role.COMMITTEE: frozenset({"loans.change_claim"}),
    Role.FINANCE: frozenset({"funds.add_ledgerentry", "loans.change_claim", "loans.change_recovery"}),
}


# Tables only the system administrator may read: stored API responses carry banks' data.
ADMIN_ONLY_PERMISSIONS = frozenset({"lib.view_idempotencyrecord"})


class RoleBackend(ModelBackend):
    def _role_perms(self, user_obj) -> set[str]:
        role = getattr(user_obj, "role", None)
        if not user_obj.is_active or role not in STAFF_ROLES:
            return set()
        if role == Role.ADMIN:
            return {"*"}
        return set(ROLE_PERMISSIONS.get(role, ()))

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        if not user_obj.is_active:
            return False
        granted = self._role_perms(user_obj)
        if "*" in granted:
            return True
        if perm in ADMIN_ONLY_PERMISSIONS:
            return False
        if perm in granted:
            return True
        app_label, _, codename = perm.partition(".")
        if getattr(user_obj, "role", None) in STAFF_ROLES:
            if codename.startswith("view_") and app_label in PROJECT_APPS:
                return True
        return super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        if not user_obj.is_active:
            return False
        if getattr(user_obj, "role", None) in STAFF_ROLES and (
            app_label in PROJECT_APPS or "*" in self._role_perms(user_obj)
        ):
            return True
        return super().has_module_perms(user_obj, app_label)
