from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "fundmgr.notifications"
    label = "notifications"
    verbose_name = "通知"
