from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "fundmgr.top.notifications"
    label = "notifications"
    verbose_name = _("通知")

    def ready(self) -> None:
        # The business apps publish what happened (fundmgr.ground.lib.events); notices are written
        # here, in the publishing transaction, and e-mailed after its commit.
        from banks.events import AGREEMENT_FILINGS_CHANGED, INSTITUTION_CHANGED
        from loans.events import (
            CLAIM_DECIDED,
            FILING_DECIDED,
            FILINGS_SUSPENDED,
            RECOVERY_OVERDUE,
            WARNING_RAISED,
        )

        from . import services

        FILING_DECIDED.subscribe(services.on_filing_decided)
        CLAIM_DECIDED.subscribe(services.on_claim_decided)
        FILINGS_SUSPENDED.subscribe(services.on_filings_suspended)
        RECOVERY_OVERDUE.subscribe(services.on_recovery_overdue)
        WARNING_RAISED.subscribe(services.on_warning_raised)
        INSTITUTION_CHANGED.subscribe(services.on_institution_changed)
        AGREEMENT_FILINGS_CHANGED.subscribe(services.on_agreement_filings_changed)
