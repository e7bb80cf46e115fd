from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "fundmgr.ground.funds"
    label = "funds"
    verbose_name = "资金与台账"
