"""Rules of the funds app: checks of a fund's policy numbers, as pure functions."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from fundmgr.ground.funds.errors import FundsError
from fundmgr.ground.funds.models import EntryType, GovernmentLevel
from fundmgr.ground.lib.errors import Violation
from fundmgr.ground.lib.identifiers import IP_KINDS


def policy_violations(values: dict) -> list[Violation]:
    """What is wrong with the numbers of a new policy version (each a Violation)."""
    violations = []
    unknown = [k for k in values.get("accepted_ip_kinds", []) if k not in IP_KINDS]
    if unknown:
        violations.append(
            Violation(
                FundsError.INVALID_IP_KIND,
                _("未知的知识产权类型：%s") % ", ".join(unknown),
                "accepted_ip_kinds",
            )
        )
    share = values.get("max_fund_share")
    if share is not None and not (Decimal(0) <= Decimal(share) <= Decimal(100)):
        violations.append(
            Violation(FundsError.INVALID_SHARE, _("分担比例应在 0 到 100 之间"), "max_fund_share")
        )
    return violations


def entry_violations(*, entry_type: str, amount: Decimal, government_level: str) -> list[Violation]:
    """What is wrong with a ledger entry before it is posted: a known type, an amount that
    moves money (the magnitude, > 0; an adjustment's sign says its direction, not zero), and
    a contribution's government level."""
    violations = []
    if entry_type not in EntryType.values:
        violations.append(
            Violation(
                FundsError.INVALID_ENTRY_TYPE,
                _("未知的台账类型：%(type)s") % {"type": entry_type},
                "entry_type",
            )
        )
    elif entry_type == EntryType.ADJUSTMENT:
        if amount == 0:
            violations.append(Violation(FundsError.INVALID_AMOUNT, _("调整金额不能为零"), "amount"))
    elif amount <= 0:
        violations.append(Violation(FundsError.INVALID_AMOUNT, _("金额必须大于零"), "amount"))
    if entry_type == EntryType.CONTRIBUTION and government_level not in GovernmentLevel.values:
        violations.append(
            Violation(FundsError.GOVERNMENT_LEVEL_REQUIRED, _("出资须注明出资层级"), "government_level")
        )
    return violations
