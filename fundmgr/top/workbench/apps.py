from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkbenchConfig(AppConfig):
    """The admin's start page (工作台): each person's work queues, deadlines and recent steps."""

    name = "fundmgr.top.workbench"
    label = "workbench"
    verbose_name = _("工作台")
