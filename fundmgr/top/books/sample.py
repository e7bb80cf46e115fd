"""Generated books of a fund that is new to the system, for the benchmark (`make bench`) and
tests: enterprises with their patents, a few banks with agreements, historical loans (most
settled, some performing, a few compensated with a recovery), and a ledger whose balance
never dips below zero. The same arguments give the same workbook; every row passes the
rules, so a dry run is clean and an import writes all of it.

Identifiers stay clear of the demo's and seed_scale's: USCCs use the organisation-code prefix
MB (they use MA), patents serials from 8,600,000.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from dateutil.relativedelta import relativedelta

from .workbook import write_books

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
PATENT_SERIAL_BASE = 8_600_000
FUND_START = dt.date(2020, 1, 1)
FIRST_LOAN = dt.date(2021, 1, 4)
BANKS = 5
PRINCIPALS = (Decimal("800000.00"), Decimal("1000000.00"), Decimal("1500000.00"), Decimal("1200000.00"))
TERMS = (12, 24, 36)
PRODUCT_CODE = "ipl"


def uscc(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return first17 + USCC_CHARS[(31 - total % 31) % 31]


def patent(year: int, serial: int) -> str:
    digits = f"{year}1{serial:07d}"
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return f"{digits}.{'X' if remainder == 10 else remainder}"


def _month_end(day: dt.date) -> dt.date:
    return (day.replace(day=1) + relativedelta(months=1)) - dt.timedelta(days=1)


def sample_fund(
    *, code: str, region_code: str = "441200", prefix: str = "BK", fund_share: Decimal = Decimal("50.00")
):
    """A fund set up as an administrator would (no books yet) with one policy version from
    2020, so that sample books can be imported into it."""
    from fundmgr.ground.accounts.models import Organization
    from fundmgr.ground.funds.models import Fund, PolicyVersion

    manager, _ = Organization.objects.get_or_create(
        code="gdee",
        defaults={"name": "广东股权交易中心", "kind": Organization.Kind.MANAGER, "region_code": "440000"},
    )
    fund = Fund.objects.create(
        code=code,
        name=f"{code} 知识产权质押融资风险补偿资金（样本）",
        reference_prefix=prefix,
        region_code=region_code,
        manager=manager,
        status=Fund.Status.ACTIVE,
        start_date=FUND_START,
    )
    PolicyVersion.objects.create(
        fund=fund,
        effective_from=FUND_START,
        document_ref="样本政策",
        max_fund_share=fund_share,
        leverage=Decimal("10"),
        max_enterprise_exposure=Decimal("5000000.00"),
        max_term_months=36,
        max_annual_rate=Decimal("6.0000"),
        per_loan_comp_cap=Decimal("2500000.00"),
        accepted_ip_kinds=["invention_patent", "utility_model", "design_patent", "trademark"],
    )
    return fund


def sample_books(
    *,
    fund_code: str,
    region_code: str = "441200",
    enterprises: int = 100,
    ip_per_enterprise: int = 3,
    loans: int = 50,
    today: dt.date,
    bank_prefix: str | None = None,
    loan_fund_share: Decimal = Decimal("50.00"),
    agreement_fund_share: Decimal = Decimal("50.00"),
    products: bool = True,
) -> dict[str, Any]:
    """The rows of each sheet (lazy where large). Loans go to enterprises in turn, one patent
    each; `loan_fund_share` is what the loans froze at acceptance, `agreement_fund_share`
    what the banks' agreements say today (they may differ: the loans keep theirs). With
    `products`, each bank has one filed product, which its loans name."""
    banks = [f"{bank_prefix or fund_code}-bank-{i}" for i in range(1, BANKS + 1)]
    district = region_code[:4] + "02"
    serial0 = sum(ord(c) for c in fund_code) * 100_000 % 9_000_000

    def usccs(i: int) -> str:
        return uscc(f"91{district}MB{serial0 + i:07d}")

    def enterprise_rows() -> Iterator[dict[str, Any]]:
        for i in range(enterprises):
            yield {
                "uscc": usccs(i),
                "name": f"样本科技有限公司{fund_code}{i:05d}",
                "region_code": district,
                "industry_code": "C3985",
                "registered_on": dt.date(2012, 1, 1) + dt.timedelta(days=i % 1000),
                "employees": 40 + i % 50,
                "annual_revenue": Decimal("30000000.00"),
                "total_assets": Decimal("20000000.00"),
                "contact_name": "张经理",
                "contact_phone": "0758-2222222",
                "credit_report_date": dt.date(2020, 12, 1),
                "credit_record_clean": True,
                "status": "admitted",
                "admitted_on": dt.date(2021, 1, 1),
                "admitted_until": dt.date(2027, 12, 31),  # renewed in the old books
            }

    def ip_number(i: int, j: int) -> str:
        return patent(
            2015 + (i + j) % 6, (PATENT_SERIAL_BASE + serial0 + i * ip_per_enterprise + j) % 10_000_000
        )

    def ip_rows() -> Iterator[dict[str, Any]]:
        for i in range(enterprises):
            for j in range(ip_per_enterprise):
                number = ip_number(i, j)
                yield {
                    "enterprise_uscc": usccs(i),
                    "kind": "invention_patent",
                    "number": number,
                    "title": f"一种样本技术{i}-{j}",
                    "filed_on": dt.date(int(number[:4]), 3, 1),
                    "status": "valid",
                }

    institution_rows = [
        {"code": code, "name": f"样本银行{n}", "kind": "bank", "region_code": region_code, "status": "active"}
        for n, code in enumerate(banks, start=1)
    ]
    agreement_rows = [
        {
            "institution_code": code,
            "valid_from": dt.date(2020, 6, 1),
            "signed_on": dt.date(2020, 5, 20),
            "fund_share": agreement_fund_share,
            "bank_share": Decimal("100.00") - agreement_fund_share,
            "quota": Decimal("500000000.00"),
        }
        for code in banks
    ]

    product_rows = [
        {
            "institution_code": code,
            "code": PRODUCT_CODE,
            "version": 1,
            "name": f"知识产权质押贷{n}",
            "status": "filed",
            "accepted_ip_kinds": ["invention_patent", "utility_model"],
            "max_principal": Decimal("5000000.00"),
            "max_term_months": 36,
            "max_annual_rate": Decimal("6.0000"),
            "filed_on": dt.date(2020, 6, 1),
        }
        for n, code in enumerate(banks, start=1)
    ]

    claim_every = min(100, max(3, loans // 4))  # every n-th loan went bad and was compensated
    plan = []
    for k in range(loans):
        disbursed = FIRST_LOAN + dt.timedelta(days=(k * 1700) // max(loans, 1))
        principal = PRINCIPALS[k % len(PRINCIPALS)]
        term = TERMS[k % len(TERMS)]
        matures = disbursed + relativedelta(months=term)
        accepted = disbursed + dt.timedelta(days=3)
        bad = k % claim_every == claim_every - 1 and disbursed + relativedelta(
            months=8
        ) < today - relativedelta(months=3)
        plan.append(
            (
                k,
                banks[k % BANKS],
                f"SMP-{k:06d}",
                k % enterprises,
                principal,
                disbursed,
                matures,
                accepted,
                bad,
            )
        )

    last_month_end = today.replace(day=1) - dt.timedelta(days=1)

    def loan_rows() -> Iterator[dict[str, Any]]:
        for _k, bank, contract, e, principal, disbursed, matures, accepted, bad in plan:
            row = {
                "institution_code": bank,
                "contract_no": contract,
                "historical": True,
                "enterprise_uscc": usccs(e),
                "principal": principal,
                "pledge_type": "ip_only",
                "annual_rate": Decimal("4.3500"),
                "disbursed_on": disbursed,
                "matures_on": matures,
                "status": "accepted",
                "accepted_on": accepted,
                "fund_share": loan_fund_share,
                "bank_share": Decimal("100.00") - loan_fund_share,
                "product_code": PRODUCT_CODE if products else None,
            }
            if bad:
                row.update(loan_status="compensated", outstanding_principal=principal * Decimal("0.60"))
            elif matures < today:
                row.update(loan_status="settled", outstanding_principal=Decimal("0.00"), settled_on=matures)
            else:
                row.update(
                    loan_status="performing",
                    outstanding_principal=principal * Decimal("0.70"),
                    report_as_of=last_month_end,
                    overdue_principal=Decimal("0.00"),
                    overdue_interest=Decimal("0.00"),
                    days_overdue=0,
                    risk_class="normal",
                )
            yield row

    def pledge_rows() -> Iterator[dict[str, Any]]:
        for k, bank, contract, e, _p, disbursed, matures, _a, bad in plan:
            yield {
                "institution_code": bank,
                "contract_no": contract,
                "ip_kind": "invention_patent",
                "ip_number": ip_number(e, k // enterprises % ip_per_enterprise),
                "registration_no": f"Y{disbursed.year}44{k:07d}",
                "registered_on": disbursed - dt.timedelta(days=5),
                "released_on": matures if (matures < today and not bad) else None,
            }

    claims, recoveries, ledger = [], [], []
    ledger += [
        {"value_date": dt.date(2020, 1, 10), "entry_type": "contribution", "government_level": "province",
         "amount": Decimal("100000000.00"), "reference": f"{fund_code}-C1", "description": "省级出资"},
        {"value_date": dt.date(2020, 1, 10), "entry_type": "contribution", "government_level": "city",
         "amount": Decimal("100000000.00"), "reference": f"{fund_code}-C2", "description": "市级出资"},
    ]  # fmt: skip
    for year in range(2020, today.year):
        ledger.append(
            {"value_date": dt.date(year, 12, 21), "entry_type": "interest", "amount": Decimal("123456.78"),
             "reference": f"{fund_code}-I{year}", "description": f"{year}年存款利息"}
        )  # fmt: skip
        ledger.append(
            {"value_date": dt.date(year, 12, 28), "entry_type": "fee", "amount": Decimal("-50000.00"),
             "reference": f"{fund_code}-F{year}", "description": f"{year}年审计费"}
        )  # fmt: skip
    for k, bank, contract, _e, principal, disbursed, _m, _a, bad in plan:
        if not bad:
            continue
        trigger = disbursed + relativedelta(months=8)
        outstanding = principal * Decimal("0.60")
        paid = (outstanding * loan_fund_share / 100).quantize(Decimal("0.01"))
        paid_on = trigger + dt.timedelta(days=60)
        ref = f"{fund_code}-CL-{k:06d}"
        claims.append(
            {
                "reference": ref,
                "institution_code": bank,
                "contract_no": contract,
                "status": "in_recovery",
                "trigger_date": trigger,
                "outstanding_principal": outstanding,
                "submitted_on": trigger + dt.timedelta(days=10),
                "approved_amount": paid,
                "approved_on": paid_on - dt.timedelta(days=5),
                "meeting_ref": f"决委会纪要{k}",
                "paid_amount": paid,
                "paid_on": paid_on,
            }
        )
        ledger.append(
            {"value_date": paid_on, "entry_type": "compensation_paid", "amount": -paid, "reference": ref,
             "claim_reference": ref, "description": f"代偿 {ref}"}
        )  # fmt: skip
        received = paid_on + dt.timedelta(days=30)
        if received + dt.timedelta(days=30) < today:
            gross = Decimal("100000.00")
            back = (gross * paid / outstanding).quantize(Decimal("0.01"))
            recoveries.append(
                {"claim_reference": ref, "received_on": received, "gross_amount": gross, "costs": Decimal("0.00"),
                 "source": "ip_disposal", "fund_amount": back, "status": "returned",
                 "returned_on": received + dt.timedelta(days=10)}
            )  # fmt: skip
            ledger.append(
                {"value_date": received + dt.timedelta(days=10), "entry_type": "recovery_returned", "amount": back,
                 "reference": ref, "claim_reference": ref, "description": f"追偿返还 {ref}"}
            )  # fmt: skip
    ledger.sort(key=lambda r: r["value_date"])
    balance = sum((r["amount"] for r in ledger), Decimal("0.00"))
    return {
        "fund": [{"code": fund_code, "balance": balance}],
        "enterprises": enterprise_rows(),
        "ip": ip_rows(),
        "institutions": institution_rows,
        "agreements": agreement_rows,
        "products": product_rows if products else [],
        "loans": loan_rows(),
        "pledges": pledge_rows(),
        "claims": claims,
        "recoveries": recoveries,
        "ledger": ledger,
    }


def write_sample(out: str | IO[bytes], **kwargs) -> dict[str, int]:
    """Write `sample_books(**kwargs)` as a workbook; returns rows per sheet."""
    return write_books(out, sample_books(**kwargs))
