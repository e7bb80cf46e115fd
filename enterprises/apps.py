from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    name = "enterprises"
    label = "enterprises"
    verbose_name = "企业入库"
