from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LibConfig(AppConfig):
    name = "fundmgr.ground.lib"
    label = "lib"
    verbose_name = _("基础数据")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from fundmgr.ground.lib.models import WorkdayOverride
        from fundmgr.ground.lib.workdays import on_override_changed

        # The default working-day calendar caches the override rows; any change drops it.
        post_save.connect(
            on_override_changed, sender=WorkdayOverride, dispatch_uid="lib.workday_override.saved"
        )
        post_delete.connect(
            on_override_changed, sender=WorkdayOverride, dispatch_uid="lib.workday_override.deleted"
        )
