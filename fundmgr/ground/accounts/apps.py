from django.apps import AppConfig
from django.db.models.signals import post_save, pre_delete
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def _date_transition(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """Every transition-log row gets the business date it happened on, in the same transaction."""
    if not created or raw:
        return
    from .models import TransitionDate

    TransitionDate.of_new(instance).save(force_insert=True)


def _keep_signers(sender, instance, **kwargs) -> None:
    """People who signed a step (any transition-log entry names them) are deactivated, never
    deleted: the history keeps who signed, for ever. Refused on every path (admin, shell,
    cascade), before anything is removed."""
    from django.db.models import ProtectedError
    from django_fsm_log.models import StateLog

    signed = StateLog.objects.filter(by=instance)
    if signed.exists():
        raise ProtectedError(
            gettext("用户 %(username)s 签署过业务操作，只能停用、不能删除")
            % {"username": instance.get_username()},
            set(signed[:10]),
        )


class AccountsConfig(AppConfig):
    name = "fundmgr.ground.accounts"
    label = "accounts"
    verbose_name = _("用户与权限")

    def ready(self) -> None:
        from django_fsm_log.models import StateLog

        from . import schema  # noqa: F401  (registers the OpenAPI security schemes)

        post_save.connect(_date_transition, sender=StateLog, dispatch_uid="accounts.transition_date")
        pre_delete.connect(_keep_signers, sender=self.get_model("User"), dispatch_uid="accounts.keep_signers")
