"""Automatic checks on a loan filing (domain-rules §5, §6; api.md "Loan filings").

Pure functions over plain facts. Each rule has a stable code; `check_filing` returns one
`Check` per rule, so the 201 response can list what passed and a 422 can list every rule
that failed at once (one error per failed rule).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from dataclasses import field as dc_field
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enterprises.errors import EnterprisesError
from fundmgr.ground.lib.money import ZERO
from loans.errors import LoansError
from loans.models import LIVE_FILING_STATUSES, LIVE_LOAN_STATUSES

# Staff steps on a filing that need a reason (refused without one: comment_required): the bank
# reads why its filing was returned, rejected or voided. The admin's forms mark the box required.
COMMENT_REQUIRED_STEPS = frozenset({"return_for_supplement", "reject", "void"})

# What each check looks at, as staff read it (the admin shows these, never the codes).
CHECK_LABELS: dict[str, str] = {
    "fund_not_active": gettext_lazy("资金运行状态"),
    "enterprise_not_admitted": gettext_lazy("企业入库"),
    "institution_not_active": gettext_lazy("合作机构状态"),
    "institution_suspended": gettext_lazy("合作机构备案暂停"),
    "product_not_filed": gettext_lazy("产品备案"),
    "filing_deadline_passed": gettext_lazy("备案期限"),
    "term_exceeds_limit": gettext_lazy("贷款期限"),
    "rate_exceeds_limit": gettext_lazy("贷款利率"),
    "covered_principal_invalid": gettext_lazy("担保覆盖本金"),
    "enterprise_exposure_exceeded": gettext_lazy("单户企业贷款上限"),
    "fund_capacity_exceeded": gettext_lazy("资金备案容量"),
    "ip_kind_not_accepted": gettext_lazy("质押物类型"),
    "ip_not_owned": gettext_lazy("质押物权属"),
    "ip_expired": gettext_lazy("质押物有效性"),
    "ip_expires_before_maturity": gettext_lazy("质押物有效期"),
    "ip_already_pledged": gettext_lazy("重复质押"),
    "pledge_not_registered": gettext_lazy("质押登记"),
}


def check_label(code: str) -> str:
    """The Chinese name of a check (资金运行状态 for fund_not_active); an unknown code as is."""
    return CHECK_LABELS.get(code, code)


@dataclass(frozen=True)
class Check:
    code: str
    passed: bool
    message: str  # in the language of the request (a refusal answers with it)
    field: str | None = None
    # The message in the default language, when the request's differs (see `check_filing`).
    recorded_message: str | None = dc_field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict:
        """The check as a filing stores it: its message in the default language."""
        message = self.recorded_message or self.message
        return {"code": self.code, "passed": self.passed, "message": message, "field": self.field}


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
    """Every rule on the facts. Messages are in the request's language; when that is not the
    default one, each check also carries its message as recorded (`Check.as_dict`), so a filing
    stores the same Chinese text whoever filed it."""
    checks = _check_filing(f)
    if translation.get_language() in (None, settings.LANGUAGE_CODE):
        return checks
    with translation.override(settings.LANGUAGE_CODE):
        recorded = _check_filing(f)
    return [replace(c, recorded_message=r.message) for c, r in zip(checks, recorded, strict=True)]


def _check_filing(f: FilingFacts) -> list[Check]:
    checks: list[Check] = [
        _c(
            EnterprisesError.FUND_NOT_ACTIVE,
            f.fund_active,
            _("资金处于运行期") if f.fund_active else _("资金不在运行期，不接受新备案"),
            "fund",
        ),
        _c(
            LoansError.ENTERPRISE_NOT_ADMITTED,
            f.enterprise_admitted,
            _("企业已在本资金入库") if f.enterprise_admitted else _("企业未在本资金入库或入库已失效"),
            "enterprise_uscc",
        ),
    ]
    inst_codes = {v.code: v for v in f.institution_violations}
    for code, ok_message in (
        ("institution_not_active", _("合作机构处于合作状态")),
        ("institution_suspended", _("合作机构未被暂停备案")),
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
                _("产品已备案") if f.product_filed else _("该产品未在本资金备案"),
                "product",
            )
        )

    deadline_ok = f.today <= f.filing_deadline
    checks.append(
        _c(
            LoansError.FILING_DEADLINE_PASSED,
            deadline_ok,
            _("须在放款后%(days)s个工作日内（%(date)s前）备案")
            % {"days": f.deadline_working_days, "date": f.filing_deadline.isoformat()},
            None if deadline_ok else "disbursed_on",
        )
    )
    max_months = min(x for x in (f.max_term_months, f.product_max_term_months) if x is not None)
    term_ok = f.matures_on <= f.disbursed_on + relativedelta(months=max_months)
    checks.append(
        _c(
            LoansError.TERM_EXCEEDS_LIMIT,
            term_ok,
            _("贷款期限不超过%(months)s个月") % {"months": max_months},
            None if term_ok else "matures_on",
        )
    )
    caps = [x for x in (f.max_annual_rate, f.product_max_annual_rate) if x is not None]
    rate_ok = not caps or f.annual_rate <= min(caps)
    checks.append(
        _c(
            LoansError.RATE_EXCEEDS_LIMIT,
            rate_ok,
            _("年利率不超过%(rate)s%%") % {"rate": min(caps)} if caps else _("本资金未设利率上限"),
            None if rate_ok else "annual_rate",
        )
    )

    covered = f.covered_principal
    covered_ok, covered_msg = True, _("担保覆盖本金填写正确")
    if f.pledge_type == "ip_only":
        if covered is not None and covered != f.principal:
            covered_ok, covered_msg = False, _("纯知识产权质押的担保覆盖本金应等于贷款本金")
    elif not f.combined_pledge_allowed:
        covered_ok, covered_msg = False, _("本资金不接受组合质押")
    elif covered is None or covered <= ZERO or covered > f.principal:
        covered_ok, covered_msg = False, _("组合质押须填写知识产权担保部分，且不超过贷款本金")
    elif f.min_ip_share is not None and covered * 100 < f.principal * f.min_ip_share:
        covered_ok, covered_msg = (
            False,
            _("组合质押中知识产权担保部分不得低于%(share)s%%") % {"share": f.min_ip_share},
        )
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
        checks.append(
            check_enterprise_exposure(
                total=f.enterprise_live_exposure + f.principal, limit=f.max_enterprise_exposure
            )
        )
    if f.fund_capacity is not None:
        checks.append(
            check_fund_capacity(
                total=f.fund_covered_outstanding + effective_covered, capacity=f.fund_capacity
            )
        )

    checks.extend(check_pledges(f))
    return checks


def check_enterprise_exposure(*, total: Decimal, limit: Decimal) -> Check:
    """One enterprise's live loans (this one included) within the policy's limit; also the
    books import's check of each enterprise's exposure on the book as a whole."""
    ok = total <= limit
    return _c(
        LoansError.ENTERPRISE_EXPOSURE_EXCEEDED,
        ok,
        _("单户企业在保贷款合计%(total)s元，上限%(limit)s元")
        % {"total": f"{total:,.2f}", "limit": f"{limit:,.2f}"},
        None if ok else "principal",
    )


def check_fund_capacity(*, total: Decimal, capacity: Decimal) -> Check:
    """The fund's covered balance (this loan included) within its capital × leverage; also the
    books import's check of the book as a whole."""
    ok = total <= capacity
    return _c(
        LoansError.FUND_CAPACITY_EXCEEDED,
        ok,
        _("资金在保余额将达%(total)s元，容量（出资×放大倍数）%(capacity)s元")
        % {"total": f"{total:,.2f}", "capacity": f"{capacity:,.2f}"},
        None if ok else "covered_principal",
    )


def holds_pledges(*, status: str, loan_status: str | None) -> bool:
    """Does a filing hold its pledged rights (and count against exposure)? Pending filings and
    accepted loans not yet settled or closed do (`selectors.filings.live_filings` in SQL)."""
    return status in LIVE_FILING_STATUSES and (loan_status is None or loan_status in LIVE_LOAN_STATUSES)


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
                    _("本资金不接受该类知识产权质押（%(number)s）") % {"number": p.number},
                    f"{path}.kind",
                )
            )
        if not p.owned_by_borrower:
            failures.append(
                _c(
                    LoansError.IP_NOT_OWNED,
                    False,
                    _("知识产权 %(number)s 不在借款企业名下") % {"number": p.number},
                    f"{path}.number",
                )
            )
            continue
        if p.asset_status != "valid" or (p.expires_on is not None and p.expires_on <= f.today):
            failures.append(
                _c(
                    LoansError.IP_EXPIRED,
                    False,
                    _("知识产权 %(number)s 已失效或到期") % {"number": p.number},
                    f"{path}.number",
                )
            )
        elif p.expires_on is not None and p.expires_on < f.matures_on:
            failures.append(
                _c(
                    LoansError.IP_EXPIRES_BEFORE_MATURITY,
                    False,
                    _("知识产权 %(number)s 于%(date)s到期，早于贷款到期日")
                    % {"number": p.number, "date": p.expires_on.isoformat()},
                    f"{path}.number",
                )
            )
        if p.pledged_elsewhere:
            failures.append(
                _c(
                    LoansError.IP_ALREADY_PLEDGED,
                    False,
                    _("知识产权 %(number)s 已质押于备案 %(reference)s")
                    % {"number": p.number, "reference": p.pledged_elsewhere},
                    f"{path}.number",
                )
            )
        if not p.registration_no_valid or p.registered_on is None or p.registered_on > f.today:
            failures.append(
                _c(
                    LoansError.PLEDGE_NOT_REGISTERED,
                    False,
                    _("知识产权 %(number)s 未提供有效的质押登记") % {"number": p.number},
                    f"{path}.registration_no",
                )
            )
    failed_codes = {c.code for c in failures}
    summary = [
        _c(code, True, message)
        for code, message in (
            ("ip_kind_not_accepted", _("质押物类型均为本资金接受的类型")),
            ("ip_not_owned", _("质押物均在借款企业名下")),
            ("ip_expired", _("质押物均有效")),
            ("ip_expires_before_maturity", _("质押物有效期覆盖贷款期限")),
            ("ip_already_pledged", _("质押物未被其他在保贷款质押")),
            ("pledge_not_registered", _("质押均已登记")),
        )
        if code not in failed_codes
    ]
    return summary + failures
