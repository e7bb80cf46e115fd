from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "fundmgr.top.reports"
    label = "reports"
    verbose_name = "报表"
