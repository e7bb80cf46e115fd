from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "fundmgr.accounts"
    label = "accounts"
    verbose_name = "用户与权限"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the OpenAPI security schemes)
