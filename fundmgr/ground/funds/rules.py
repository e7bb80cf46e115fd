"""Rules of the funds app: checks of a fund's policy numbers, as pure functions."""

from __future__ import annotations

from decimal import Decimal

from fundmgr.ground.funds.errors import FundsError
from fundmgr.ground.lib.errors import Violation
from fundmgr.ground.lib.identifiers import IP_KINDS


def policy_violations(values: dict) -> list[Violation]:
    """What is wrong with the numbers of a new policy version (each a Violation)."""
    violations = []
    unknown = [k for k in values.get("accepted_ip_kinds", []) if k not in IP_KINDS]
    if unknown:
        violations.append(
            Violation(
                FundsError.INVALID_IP_KIND, f"未知的知识产权类型：{', '.join(unknown)}", "accepted_ip_kinds"
            )
        )
    share = values.get("max_fund_share")
    if share is not None and not (Decimal(0) <= Decimal(share) <= Decimal(100)):
        violations.append(Violation(FundsError.INVALID_SHARE, "分担比例应在 0 到 100 之间", "max_fund_share"))
    return violations
