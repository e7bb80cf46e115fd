"""A fund's book written directly (loans as an import would write them, month-end reports as
banks send them), on the demo's funds, policies, banks and enterprises."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from enterprises.models import Enterprise
from fundmgr.ground.funds.models import Fund
from loans.models import LoanFiling, StatusReport

D = Decimal


class Book:
    def __init__(self) -> None:
        self.funds = {f.code: f for f in Fund.objects.all()}

    def enterprises(self, fund: str) -> list[Enterprise]:
        return list(Enterprise.objects.filter(fund__code=fund, status="admitted").order_by("id"))

    def loan(
        self,
        fund: str = "zhaoqing",
        *,
        principal: str = "1000000.00",
        covered: str | None = None,
        outstanding: str | None = None,
        enterprise: Enterprise | None = None,
        institution=None,
        status: str = "performing",
        matures_on: dt.date = dt.date(2028, 6, 30),
        fund_share: str | None = None,
    ) -> LoanFiling:
        from tests.factories import make_filing

        loan = make_filing(
            fund=self.funds[fund],
            institution=institution,
            enterprise=enterprise,
            principal=D(principal),
            covered=None if covered is None else D(covered),
            outstanding=None if outstanding is None else D(outstanding),
            loan_status=status,
        )
        changes = {
            "matures_on": matures_on,
            "disbursed_on": dt.date(2025, 6, 30),
            "accepted_on": dt.date(2025, 7, 5),
        }
        if fund_share is not None:
            changes["fund_share"] = D(fund_share)
        LoanFiling.objects.filter(pk=loan.pk).update(**changes)
        loan.refresh_from_db()
        return loan

    def report(self, loan: LoanFiling, as_of: str, risk_class: str, **extra) -> StatusReport:
        days = {"normal": 0, "special_mention": 45, "substandard": 100, "doubtful": 300, "loss": 400}[
            risk_class
        ]
        after = "performing" if days == 0 else "overdue" if days < 90 else "non_performing"
        return StatusReport.objects.create(
            filing=loan,
            as_of=dt.date.fromisoformat(as_of),
            outstanding_principal=loan.outstanding_principal,
            overdue_principal=D("0.00") if days == 0 else loan.outstanding_principal,
            overdue_interest=D("0.00"),
            days_overdue=days,
            risk_class=risk_class,
            loan_status_after=extra.pop("loan_status_after", after),
            **extra,
        )


@pytest.fixture
def book(demo) -> Book:
    return Book()
