"""Pure checks for partner institutions: cooperation agreement terms and filing readiness.

No database access here: callers pass the facts (the agreement's numbers, the policy's
maximum fund share in force on the agreement's start, the institution's status), so the same
checks serve the service, the admin form and tests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from banks.errors import BanksError
from enterprises.errors import EnterprisesError
from fundmgr.ground.lib.errors import Violation

HUNDRED = Decimal("100.00")
SHARE_FIELDS: tuple[tuple[str, str], ...] = (
    ("fund_share", "资金"),
    ("bank_share", "银行"),
    ("insurer_share", "保险机构"),
    ("valuer_share", "评估机构"),
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
                Violation(BanksError.SHARES_MUST_TOTAL_100, f"{label}分担比例须在 0 至 100 之间", name)
            )
    total = sum(shares.values(), Decimal(0))
    if total != HUNDRED:
        violations.append(
            Violation(BanksError.SHARES_MUST_TOTAL_100, f"各方分担比例合计须为 100%，当前为 {total}%", None)
        )

    if max_fund_share is None:
        violations.append(
            Violation(
                EnterprisesError.NO_POLICY_IN_FORCE, "生效日期当天该资金没有生效的政策版本", "valid_from"
            )
        )
    elif shares["fund_share"] > max_fund_share:
        violations.append(
            Violation(
                BanksError.FUND_SHARE_EXCEEDS_POLICY,
                f"资金分担比例 {shares['fund_share']}% 超过政策上限 {max_fund_share}%",
                "fund_share",
            )
        )

    if terms.valid_until is not None and terms.valid_until <= terms.valid_from:
        violations.append(
            Violation(BanksError.INVALID_AGREEMENT_TERM, "到期日期须晚于生效日期", "valid_until")
        )

    if terms.quota is not None and terms.quota < 0:
        violations.append(Violation(BanksError.INVALID_QUOTA, "合作额度不能为负数", "quota"))
    if terms.reserve_deposit is not None and terms.reserve_deposit < 0:
        violations.append(
            Violation(BanksError.INVALID_RESERVE_DEPOSIT, "风险准备金不能为负数", "reserve_deposit")
        )
    return violations


def check_can_file(*, status: str, has_agreement_in_force: bool) -> list[Violation]:
    """May an institution file loans in a fund now? Empty list: yes."""
    violations: list[Violation] = []
    # Statuses as plain strings keep the rules free of model imports. Anything but active or
    # suspended (applied, under review, terminated) is "not active".
    if status == "suspended":
        violations.append(Violation(BanksError.INSTITUTION_SUSPENDED, "合作机构已被暂停备案", "institution"))
    elif status != "active":
        violations.append(
            Violation(BanksError.INSTITUTION_NOT_ACTIVE, "合作机构不在合作状态，不能备案", "institution")
        )
    if not has_agreement_in_force:
        violations.append(
            Violation(BanksError.NO_AGREEMENT_IN_FORCE, "合作机构与该资金没有生效的合作协议", "fund")
        )
    return violations
