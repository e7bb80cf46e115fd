"""Test data builders for rows no service creates yet (filings arrive with the filing issue)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from banks.models import CooperationAgreement, Institution
from enterprises.models import Enterprise
from loans.models import FilingStatus, LoanFiling, LoanStatus

_seq = itertools.count(1)


def make_filing(
    *,
    fund,
    institution: Institution | None = None,
    enterprise: Enterprise | None = None,
    principal: Decimal = Decimal("1000000.00"),
    covered: Decimal | None = None,
    outstanding: Decimal | None = None,
    accepted: bool = True,
    loan_status: str = LoanStatus.PERFORMING,
) -> LoanFiling:
    agreement = CooperationAgreement.objects.filter(fund=fund).select_related("institution").first()
    institution = institution or agreement.institution
    enterprise = enterprise or Enterprise.objects.filter(fund=fund, status="admitted").first()
    covered = principal if covered is None else covered
    outstanding = principal if outstanding is None else outstanding
    n = next(_seq)
    return LoanFiling.objects.create(
        fund=fund,
        institution=institution,
        enterprise=enterprise,
        reference=f"{fund.reference_prefix}-TEST-{n:06d}",
        contract_no=f"C-{n}",
        principal=principal,
        pledge_type=LoanFiling.PledgeType.IP_ONLY if covered == principal else LoanFiling.PledgeType.COMBINED,
        covered_principal=covered,
        annual_rate=Decimal("4.5000"),
        disbursed_on=dt.date(2026, 6, 1),
        matures_on=dt.date(2027, 6, 1),
        status=FilingStatus.ACCEPTED if accepted else FilingStatus.SUBMITTED,
        loan_status=loan_status if accepted else None,
        fund_share=agreement.fund_share,
        bank_share=agreement.bank_share,
        outstanding_principal=outstanding,
        covered_outstanding=(covered * outstanding / principal).quantize(Decimal("0.01")),
    )
