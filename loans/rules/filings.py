"""Automatic checks on a loan filing (domain-rules §5, §6; api.md "Loan filings").

Pure functions over plain facts. Each rule has a stable code; `check_filing` returns one
`Check` per rule, so the 201 response can list what passed and a 422 can list every rule
that failed at once (one error per failed rule).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from enterprises.errors import EnterprisesError
from fundmgr.ground.lib.money import ZERO
from loans.errors import LoansError

# What each check looks at, as staff read it (the admin shows these, never the codes).
CHECK_LABELS: dict[str, str] = {
    "fund_not_active": "资金运行状态",
    "enterprise_not_admitted": "企业入库",
    "institution_not_active": "合作机构状态",
    "institution_suspended": "合作机构备案暂停",
    "product_not_filed": "产品备案",
    "filing_deadline_passed": "备案期限",
    "term_exceeds_limit": "贷款期限",
    "rate_exceeds_limit": "贷款利率",
    "covered_principal_invalid": "担保覆盖本金",
    "enterprise_exposure_exceeded": "单户企业贷款上限",
    "fund_capacity_exceeded": "资金备案容量",
    "ip_kind_not_accepted": "质押物类型",
    "ip_not_owned": "质押物权属",
    "ip_expired": "质押物有效性",
    "ip_expires_before_maturity": "质押物有效期",
    "ip_already_pledged": "重复质押",
    "pledge_not_registered": "质押登记",
}


def check_label(code: str) -> str:
    """The Chinese name of a check (资金运行状态 for fund_not_active); an unknown code as is."""
    return CHECK_LABELS.get(code, code)


@dataclass(frozen=True)
class Check:
    code: str
    passed: bool
    message: str
    field: str | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "passed": self.passed, "message": self.message, "field": self.field}


@dataclass(frozen=True)
class PledgeFacts:
    """One pledged right as filed, and what the register says about it."""

    index: int
    kind: str
    number: str
    owned_by_borrower: bool  # registered in the borrower's IP portfolio
    asset_status: str | None  # valid / lapsed / invalidated / transferred; None if unknown
    expires_on: dt.date | None
    pledged_elsewhere: str | None  # reference of another live filing pledging it
    registration_no_valid: bool
    registered_on: dt.date | None


@dataclass(frozen=True)
class FilingFacts:
    today: dt.date
    fund_active: bool
    enterprise_admitted: bool
    institution_violations: list  # Violations from banks.services.institution_can_file
    requires_product_filing: bool
    product_filed: bool
    principal: Decimal
    covered_principal: Decimal | None
    pledge_type: str
    combined_pledge_allowed: bool
    min_ip_share: Decimal | None
    annual_rate: Decimal
    max_annual_rate: Decimal | None
    disbursed_on: dt.date
    matures_on: dt.date
    max_term_months: int
    filing_deadline: dt.date
    deadline_working_days: int
    enterprise_live_exposure: Decimal
    max_enterprise_exposure: Decimal | None
    fund_covered_outstanding: Decimal
    fund_capacity: Decimal | None
    accepted_ip_kinds: list[str]
    pledges: list[PledgeFacts] = field(default_factory=list)
    product_max_term_months: int | None = None
    product_max_annual_rate: Decimal | None = None


def _c(code: str, ok: bool, message: str, field_name: str | None = None) -> Check:
    return Check(code, ok, message, field_name)


def check_filing(f: FilingFacts) -> list[Check]:
    checks: list[Check] = [
        _c(
            EnterprisesError.FUND_NOT_ACTIVE,
            f.fund_active,
            "资金处于运行期" if f.fund_active else "资金不在运行期，不接受新备案",
            "fund",
        ),
        _c(
            LoansError.ENTERPRISE_NOT_ADMITTED,
            f.enterprise_admitted,
            "企业已在本资金入库" if f.enterprise_admitted else "企业未在本资金入库或入库已失效",
            "enterprise_uscc",
        ),
    ]
    inst_codes = {v.code: v for v in f.institution_violations}
    for code, ok_message in (
        ("institution_not_active", "合作机构处于合作状态"),
        ("institution_suspended", "合作机构未被暂停备案"),
    ):
        v = inst_codes.get(code) or (
            inst_codes.get("no_agreement_in_force") if code == "institution_not_active" else None
        )
        checks.append(_c(code, v is None, v.message if v else ok_message, "fund" if v else None))
    if f.requires_product_filing:
        checks.append(
            _c(
                LoansError.PRODUCT_NOT_FILED,
                f.product_filed,
                "产品已备案" if f.product_filed else "该产品未在本资金备案",
                "product",
            )
        )

    deadline_ok = f.today <= f.filing_deadline
    checks.append(
        _c(
            LoansError.FILING_DEADLINE_PASSED,
            deadline_ok,
            f"须在放款后{f.deadline_working_days}个工作日内（{f.filing_deadline.isoformat()}前）备案",
            None if deadline_ok else "disbursed_on",
        )
    )
    max_months = min(x for x in (f.max_term_months, f.product_max_term_months) if x is not None)
    term_ok = f.matures_on <= f.disbursed_on + relativedelta(months=max_months)
    checks.append(
        _c(
            LoansError.TERM_EXCEEDS_LIMIT,
            term_ok,
            f"贷款期限不超过{max_months}个月",
            None if term_ok else "matures_on",
        )
    )
    caps = [x for x in (f.max_annual_rate, f.product_max_annual_rate) if x is not None]
    rate_ok = not caps or f.annual_rate <= min(caps)
    checks.append(
        _c(
            LoansError.RATE_EXCEEDS_LIMIT,
            rate_ok,
            f"年利率不超过{min(caps)}%" if caps else "本资金未设利率上限",
            None if rate_ok else "annual_rate",
        )
    )

    covered = f.covered_principal
    covered_ok, covered_msg = True, "担保覆盖本金填写正确"
    if f.pledge_type == "ip_only":
        if covered is not None and covered != f.principal:
            covered_ok, covered_msg = False, "纯知识产权质押的担保覆盖本金应等于贷款本金"
    elif not f.combined_pledge_allowed:
        covered_ok, covered_msg = False, "本资金不接受组合质押"
    elif covered is None or covered <= ZERO or covered > f.principal:
        covered_ok, covered_msg = False, "组合质押须填写知识产权担保部分，且不超过贷款本金"
    elif f.min_ip_share is not None and covered * 100 < f.principal * f.min_ip_share:
        covered_ok, covered_msg = False, f"组合质押中知识产权担保部分不得低于{f.min_ip_share}%"
    checks.append(
        _c(
            LoansError.COVERED_PRINCIPAL_INVALID,
            covered_ok,
            covered_msg,
            None if covered_ok else "covered_principal",
        )
    )

    effective_covered = f.principal if f.pledge_type == "ip_only" else (covered or ZERO)
    if f.max_enterprise_exposure is not None:
        total = f.enterprise_live_exposure + f.principal
        ok = total <= f.max_enterprise_exposure
        checks.append(
            _c(
                LoansError.ENTERPRISE_EXPOSURE_EXCEEDED,
                ok,
                f"单户企业在保贷款合计{total:,.2f}元，上限{f.max_enterprise_exposure:,.2f}元",
                None if ok else "principal",
            )
        )
    if f.fund_capacity is not None:
        total = f.fund_covered_outstanding + effective_covered
        ok = total <= f.fund_capacity
        checks.append(
            _c(
                LoansError.FUND_CAPACITY_EXCEEDED,
                ok,
                f"资金在保余额将达{total:,.2f}元，容量（出资×放大倍数）{f.fund_capacity:,.2f}元",
                None if ok else "covered_principal",
            )
        )

    checks.extend(check_pledges(f))
    return checks


def check_pledges(f: FilingFacts) -> list[Check]:
    """Per pledged right; only failures are listed per pledge, plus one summary per rule."""
    failures: list[Check] = []
    accepted = set(f.accepted_ip_kinds)
    for p in f.pledges:
        path = f"pledges[{p.index}]"
        if p.kind not in accepted:
            failures.append(
                _c(
                    LoansError.IP_KIND_NOT_ACCEPTED,
                    False,
                    f"本资金不接受该类知识产权质押（{p.number}）",
                    f"{path}.kind",
                )
            )
        if not p.owned_by_borrower:
            failures.append(
                _c(LoansError.IP_NOT_OWNED, False, f"知识产权 {p.number} 不在借款企业名下", f"{path}.number")
            )
            continue
        if p.asset_status != "valid" or (p.expires_on is not None and p.expires_on <= f.today):
            failures.append(
                _c(LoansError.IP_EXPIRED, False, f"知识产权 {p.number} 已失效或到期", f"{path}.number")
            )
        elif p.expires_on is not None and p.expires_on < f.matures_on:
            failures.append(
                _c(
                    LoansError.IP_EXPIRES_BEFORE_MATURITY,
                    False,
                    f"知识产权 {p.number} 于{p.expires_on.isoformat()}到期，早于贷款到期日",
                    f"{path}.number",
                )
            )
        if p.pledged_elsewhere:
            failures.append(
                _c(
                    LoansError.IP_ALREADY_PLEDGED,
                    False,
                    f"知识产权 {p.number} 已质押于备案 {p.pledged_elsewhere}",
                    f"{path}.number",
                )
            )
        if not p.registration_no_valid or p.registered_on is None or p.registered_on > f.today:
            failures.append(
                _c(
                    LoansError.PLEDGE_NOT_REGISTERED,
                    False,
                    f"知识产权 {p.number} 未提供有效的质押登记",
                    f"{path}.registration_no",
                )
            )
    failed_codes = {c.code for c in failures}
    summary = [
        _c(code, True, message)
        for code, message in (
            ("ip_kind_not_accepted", "质押物类型均为本资金接受的类型"),
            ("ip_not_owned", "质押物均在借款企业名下"),
            ("ip_expired", "质押物均有效"),
            ("ip_expires_before_maturity", "质押物有效期覆盖贷款期限"),
            ("ip_already_pledged", "质押物未被其他在保贷款质押"),
            ("pledge_not_registered", "质押均已登记"),
        )
        if code not in failed_codes
    ]
    return summary + failures
