from django.apps import AppConfig


class BanksConfig(AppConfig):
    name = "banks"
    label = "banks"
    verbose_name = "合作机构"
