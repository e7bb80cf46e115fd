"""Bank A (zqrcb) suspended from new filings in Zhaoqing by the real NPL check: 1,000,000.00
non-performing of 16,000,000.00 covered is 6.25%, above the 5.00% threshold of the demo
policy, on business date 2026-12-03. Shared by the service, admin and browser tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from banks.models import CooperationAgreement, Institution
from banks.services import agreement_filings_transition
from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import Fund
from loans.models import LoanStatus
from loans.services.servicing import npl_suspension_check
from tests.factories import make_filing

SUSPENDED_ON = dt.date(2026, 12, 3)


def zqrcb_agreement() -> CooperationAgreement:
    return CooperationAgreement.objects.select_related("institution", "fund").get(
        institution__code="zqrcb", fund__code="zhaoqing"
    )


def suspend_zqrcb(business_date) -> CooperationAgreement:
    business_date(SUSPENDED_ON.isoformat())
    fund = Fund.objects.get(code="zhaoqing")
    zqrcb = Institution.objects.get(code="zqrcb")
    make_filing(fund=fund, institution=zqrcb, principal=Decimal("15000000.00"))
    make_filing(
        fund=fund, institution=zqrcb, principal=Decimal("1000000.00"), loan_status=LoanStatus.NON_PERFORMING
    )
    assert npl_suspension_check(institution_id=zqrcb.pk, fund_id=fund.pk) is True
    return zqrcb_agreement()


def step(agreement: CooperationAgreement, name: str, who: str, comment: str = "理由") -> CooperationAgreement:
    return agreement_filings_transition(
        agreement_id=agreement.pk, name=name, user=User.objects.get(username=who), comment=comment
    )
