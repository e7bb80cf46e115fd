"""Test data builders for rows no service creates yet (filings arrive with the filing issue)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from banks.models import CooperationAgreement, Institution
from enterprises.models import Enterprise
from loans.models import FilingStatus, LoanFiling, LoanStatus
from loans.services.book import NOTHING, book_keep

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
    filing = LoanFiling.objects.create(
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
    book_keep(filing, NOTHING)  # as an imported loan would: the fund's kept figures follow
    return filing


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc_with_check(first17: str) -> str:
    """Append the GB 32100-2015 check character (domain-rules §13.1)."""
    total = sum(USCC_CHARS.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return first17 + USCC_CHARS[(31 - total % 31) % 31]


def patent_with_check(digits12: str) -> str:
    """Append the CNIPA check character (domain-rules §13.2)."""
    weights = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    remainder = sum(int(d) * w for d, w in zip(digits12, weights, strict=True)) % 11
    return f"{digits12}.{'X' if remainder == 10 else remainder}"


def application_body(**overrides) -> dict:
    """A valid enterprise application for the Zhaoqing fund (bank A's fund)."""
    n = next(_seq)
    body = {
        "uscc": uscc_with_check(f"91441202MA{n:07d}"[:17]),
        "name": f"肇庆市测试科技有限公司{n}",
        "fund": "zhaoqing",
        "registered_on": "2018-05-10",
        "region_code": "441202",
        "industry_code": "C3985",
        "employees": 56,
        "annual_revenue": "32000000.00",
        "total_assets": "41000000.00",
        "legal_representative": "张三",
        "contact_name": "李四",
        "contact_phone": "0758-2345678",
        "credit_report_date": "2026-10-15",
        "credit_record_clean": True,
        "ip_assets": [
            {
                "kind": "invention_patent",
                "number": patent_with_check(f"2021101{n:05d}"),
                "title": "一种新材料的制备方法",
                "filed_on": "2021-03-01",
                "expires_on": "2041-02-28",
            }
        ],
    }
    body.update(overrides)
    return body


def filing_body(**overrides) -> dict:
    """A valid filing by bank A (zqrcb) for a demo Zhaoqing enterprise, on business date 2026-11-21."""
    n = next(_seq)
    body = {
        "fund": "zhaoqing",
        "enterprise_uscc": "9144120252133505XP",
        "contract_no": f"ZQRCB-2026-{n:05d}",
        "principal": "1000000.00",
        "pledge_type": "ip_only",
        "covered_principal": "1000000.00",
        "annual_rate": "4.3500",
        "disbursed_on": "2026-11-16",
        "matures_on": "2027-11-15",
        "purpose": "研发投入和流动资金",
        "pledges": [
            {
                "kind": "invention_patent",
                "number": "201613031399.8",
                "registration_no": "Y2026440000123",
                "registered_on": "2026-11-10",
                "appraised_value": "3000000.00",
            }
        ],
    }
    body.update(overrides)
    return body
