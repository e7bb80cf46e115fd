from django.apps import AppConfig


class LoansConfig(AppConfig):
    name = "loans"
    label = "loans"
    verbose_name = "贷款备案与补偿"

    def ready(self) -> None:
        # The funds app reads a fund's loan figures through the port it declares.
        from fundmgr.ground.funds import ports

        from .selectors import filings as selectors

        ports.provide_loan_book(
            ports.LoanBook(
                covered_totals=lambda fund_ids: selectors.covered_totals_by_fund(fund_ids=fund_ids),
                filed_since=selectors.fund_filed_since,
            )
        )
