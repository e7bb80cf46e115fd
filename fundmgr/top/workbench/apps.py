from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    """The admin's start page (工作台): each person's work queues, deadlines and recent steps."""

    name = "fundmgr.top.workbench"
    label = "workbench"
    verbose_name = "工作台"
