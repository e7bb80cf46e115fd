from django.apps import AppConfig


class LoansConfig(AppConfig):
    name = "loans"
    label = "loans"
    verbose_name = "贷款备案与补偿"
