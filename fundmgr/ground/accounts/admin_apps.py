"""Django's admin app on our own site (`admin_site.FundmgrAdminSite`). A module of its own:
INSTALLED_APPS imports it before any model exists."""

from django.contrib.admin.apps import AdminConfig


class FundmgrAdminConfig(AdminConfig):
    default_site = "fundmgr.ground.accounts.admin_site.FundmgrAdminSite"
