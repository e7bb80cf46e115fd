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

        from .models import FundBook
        from .selectors import filings as selectors
        from .services.book import on_district_changed

        ports.provide_loan_book(
            ports.LoanBook(
                kept_figures=ports.KeptFigures(
                    table=FundBook._meta.db_table,
                    fund_column=FundBook._meta.get_field("fund").column,
                    covered_column=FundBook._meta.get_field("covered_outstanding").column,
                    exposure_column=FundBook._meta.get_field("exposure_exact").column,
                ),
                filed_since=selectors.fund_filed_since,
            )
        )
        # An enterprise moved to another district: its live loans' kept figures move with it.
        DISTRICT_CHANGED.subscribe(on_district_changed)
