from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoansConfig(AppConfig):
    name = "loans"
    label = "loans"
    verbose_name = _("贷款备案与补偿")

    def ready(self) -> None:
        # The funds app reads a fund's loan figures through the port it declares.
        from enterprises.events import DISTRICT_CHANGED
        from fundmgr.ground.funds import ports

        from .selectors import filings as selectors
        from .services.book import on_district_changed

        ports.provide_loan_book(
            ports.LoanBook(
                covered_totals=lambda fund_ids: selectors.covered_totals_by_fund(fund_ids=fund_ids),
                filed_since=selectors.fund_filed_since,
            )
        )
        # An enterprise moved to another district: its live loans' kept figures move with it.
        DISTRICT_CHANGED.subscribe(on_district_changed)
