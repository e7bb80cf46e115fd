from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "fundmgr.top.reports"
    label = "reports"
    verbose_name = _("报表")

    def ready(self) -> None:
        # A dated record corrected in a closed period: the figures kept for it go.
        from enterprises.events import DISTRICT_CHANGED
        from loans.events import BOOK_CHANGED

        from .services import snapshots_invalidate

        BOOK_CHANGED.subscribe(snapshots_invalidate)
        DISTRICT_CHANGED.subscribe(snapshots_invalidate)
