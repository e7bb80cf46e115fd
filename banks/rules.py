"""Pure checks for partner institutions: cooperation agreement terms and filing readiness.

No database access here: callers pass the facts (the agreement's numbers, the policy's
maximum fund share in force on the agreement's start, the institution's status), so the same
checks serve the service, the admin form and tests.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from banks.errors import BanksError
from enterprises.errors import EnterprisesError
from fundmgr.ground.funds.errors import FundsError
from fundmgr.ground.lib.errors import FieldError, Violation
from fundmgr.ground.lib.identifiers import IP_KINDS, IdentifierError, validate_uscc

CODE_RE = re.compile(r"^[-a-zA-Z0-9_]{2,64}$")
REGION_RE = re.compile(r"^\d{6}$")
INSTITUTION_KINDS = ("bank", "guarantor", "insurer", "valuer", "other")

# Steps whose reason is part of the record (refused without one: comment_required): a bank told
# it is suspended or terminated must be able to read why; lifting a suspension says on what
# grounds, at each of its four-eyes steps. The admin's forms mark their comment box required.
INSTITUTION_COMMENT_REQUIRED = frozenset({"suspend", "reinstate", "terminate"})
AGREEMENT_COMMENT_REQUIRED = frozenset(
    {"request_reinstatement", "approve_reinstatement", "refuse_reinstatement"}
)

HUNDRED = Decimal("100.00")
SHARE_FIELDS: tuple[tuple[str, str], ...] = (
    ("fund_share", gettext_lazy("资金")),
    ("bank_share", gettext_lazy("银行")),
    ("insurer_share", gettext_lazy("保险机构")),
    ("valuer_share", gettext_lazy("评估机构")),
)


@dataclass(frozen=True)
class AgreementTerms:
    fund_share: Decimal
    bank_share: Decimal
    insurer_share: Decimal
    valuer_share: Decimal
    valid_from: dt.date
    valid_until: dt.date | None = None
    quota: Decimal | None = None
    reserve_deposit: Decimal | None = None


def _share(value) -> Decimal:
    return Decimal(value if value is not None else 0)


def check_agreement(terms: AgreementTerms, *, max_fund_share: Decimal | None) -> list[Violation]:
    """Every rule an agreement must meet; an empty list means it may be signed.

    `max_fund_share` is the policy's maximum in force on `terms.valid_from`; None means the
    fund has no policy then, which is a refusal of its own (the cap cannot be checked).
    """
    violations: list[Violation] = []

    shares = {name: _share(getattr(terms, name)) for name, _label in SHARE_FIELDS}
    for name, label in SHARE_FIELDS:
        if not (Decimal(0) <= shares[name] <= HUNDRED):
            violations.append(
                Violation(
                    BanksError.SHARES_MUST_TOTAL_100,
                    _("%(party)s分担比例须在 0 至 100 之间") % {"party": label},
                    name,
                )
            )
    total = sum(shares.values(), Decimal(0))
    if total != HUNDRED:
        violations.append(
            Violation(
                BanksError.SHARES_MUST_TOTAL_100,
                _("各方分担比例合计须为 100%%，当前为 %(total)s%%") % {"total": total},
                None,
            )
        )

    if max_fund_share is None:
        violations.append(
            Violation(
                EnterprisesError.NO_POLICY_IN_FORCE, _("生效日期当天该资金没有生效的政策版本"), "valid_from"
            )
        )
    elif shares["fund_share"] > max_fund_share:
        violations.append(
            Violation(
                BanksError.FUND_SHARE_EXCEEDS_POLICY,
                _("资金分担比例 %(share)s%% 超过政策上限 %(limit)s%%")
                % {"share": shares["fund_share"], "limit": max_fund_share},
                "fund_share",
            )
        )

    if terms.valid_until is not None and terms.valid_until <= terms.valid_from:
        violations.append(
            Violation(BanksError.INVALID_AGREEMENT_TERM, _("到期日期须晚于生效日期"), "valid_until")
        )

    if terms.quota is not None and terms.quota < 0:
        violations.append(Violation(BanksError.INVALID_QUOTA, _("合作额度不能为负数"), "quota"))
    if terms.reserve_deposit is not None and terms.reserve_deposit < 0:
        violations.append(
            Violation(BanksError.INVALID_RESERVE_DEPOSIT, _("风险准备金不能为负数"), "reserve_deposit")
        )
    return violations


def check_can_file(*, status: str, has_agreement_in_force: bool) -> list[Violation]:
    """May an institution file loans in a fund now? Empty list: yes."""
    violations: list[Violation] = []
    # Statuses as plain strings keep the rules free of model imports. Anything but active or
    # suspended (applied, under review, terminated) is "not active".
    if status == "suspended":
        violations.append(
            Violation(BanksError.INSTITUTION_SUSPENDED, _("合作机构已被暂停备案"), "institution")
        )
    elif status != "active":
        violations.append(
            Violation(BanksError.INSTITUTION_NOT_ACTIVE, _("合作机构不在合作状态，不能备案"), "institution")
        )
    if not has_agreement_in_force:
        violations.append(
            Violation(BanksError.NO_AGREEMENT_IN_FORCE, _("合作机构与该资金没有生效的合作协议"), "fund")
        )
    return violations


def check_institution(*, code: str, name: str, kind: str, region_code: str, uscc: str) -> list[Violation]:
    """An institution's identity as it is registered (stripped text): a code of letters,
    digits, hyphens and underscores, a name, a known kind, a 6-digit region, a valid USCC."""
    violations: list[Violation] = []
    if not CODE_RE.match(code):
        violations.append(
            Violation(
                BanksError.INVALID_CODE, _("机构代码只能包含字母、数字、连字符和下划线（2–64位）"), "code"
            )
        )
    if not name:
        violations.append(Violation(FieldError.REQUIRED, _("请填写机构名称"), "name"))
    if kind not in INSTITUTION_KINDS:
        violations.append(Violation(BanksError.INVALID_KIND, _("未知的机构类型"), "kind"))
    if region_code and not REGION_RE.match(region_code):
        violations.append(
            Violation(BanksError.INVALID_REGION_CODE, _("行政区划代码应为6位数字"), "region_code")
        )
    if uscc:
        try:
            validate_uscc(uscc)
        except IdentifierError as exc:
            violations.append(Violation(exc.code, exc.message, "uscc"))
    return violations


def check_product(*, code: str, name: str, accepted_ip_kinds: Iterable[str]) -> list[Violation]:
    """A product as it is submitted for filing: a code like an institution's, a name, and
    only known kinds of IP right."""
    violations: list[Violation] = []
    if not CODE_RE.match(code):
        violations.append(
            Violation(
                BanksError.INVALID_CODE, _("产品代码只能包含字母、数字、连字符和下划线（2–64位）"), "code"
            )
        )
    if not name:
        violations.append(Violation(FieldError.REQUIRED, _("请填写产品名称"), "name"))
    unknown = [k for k in accepted_ip_kinds if k not in IP_KINDS]
    if unknown:
        violations.append(
            Violation(
                FundsError.INVALID_IP_KIND,
                _("未知的知识产权类型：%(kinds)s") % {"kinds": ", ".join(unknown)},
                "accepted_ip_kinds",
            )
        )
    return violations
