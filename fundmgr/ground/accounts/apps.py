from django.apps import AppConfig
from django.db.models.signals import post_save

from fundmgr.ground.lib import clock


def _date_transition(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """Every transition-log row gets the business date it happened on, in the same transaction."""
    if not created or raw:
        return
    from .models import TransitionDate

    TransitionDate.objects.create(log=instance, on=clock.today())


class AccountsConfig(AppConfig):
    name = "fundmgr.ground.accounts"
    label = "accounts"
    verbose_name = "用户与权限"

    def ready(self) -> None:
        from django_fsm_log.models import StateLog

        from . import schema  # noqa: F401  (registers the OpenAPI security schemes)

        post_save.connect(_date_transition, sender=StateLog, dispatch_uid="accounts.transition_date")
