"""The compensation computation (风险补偿, domain-rules §8) and the fund's part of a recovery
(§9): pure functions over amounts, every step kept so the admin and the API can show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fundmgr.ground.lib.money import ZERO

# A cap limits the principal entering the loss base (before the fund share) or the payment.
CAP_STAGES = ("loss_base", "payment")


@dataclass(frozen=True)
class Cap:
    """One limit, in the order they are applied: first the caps on the principal that enters
    the loss base (stage `loss_base`), then the caps on the fund's payment (stage `payment`)."""

    code: str  # per_loan_principal, per_enterprise_principal, per_loan, per_enterprise, per_year, ...
    label: str
    limit: Decimal | None  # what is still available under this cap; None: no such cap
    applied: bool = False
    stage: str = "payment"

    def as_dict(self) -> dict:
        return {
            "cap": self.code,
            "stage": self.stage,
            "label": self.label,
            "limit": None if self.limit is None else f"{self.limit:.2f}",
            "applied": self.applied,
        }


@dataclass(frozen=True)
class Computation:
    """Every step of a claim's computation, so the admin and the API can show it."""

    outstanding_principal: Decimal
    recovered_before_claim: Decimal
    covered_ratio: Decimal  # covered principal ÷ principal (1 for a pure IP pledge)
    covered_loss: Decimal  # (outstanding − recovered before the claim) × covered ratio
    loss_base: Decimal  # the covered loss after the principal caps
    fund_share: Decimal  # percent, frozen on the loan at acceptance
    computed_amount: Decimal
    caps: list[Cap]
    claimable_amount: Decimal

    @property
    def caps_applied(self) -> list[Cap]:
        return [c for c in self.caps if c.applied]

    def as_dict(self) -> dict:
        return {
            "outstanding_principal": f"{self.outstanding_principal:.2f}",
            "recovered_before_claim": f"{self.recovered_before_claim:.2f}",
            "covered_ratio": f"{self.covered_ratio:.6f}",
            "covered_loss": f"{self.covered_loss:.2f}",
            "loss_base": f"{self.loss_base:.2f}",
            "fund_share": f"{self.fund_share:.2f}",
            "computed_amount": f"{self.computed_amount:.2f}",
            "caps": [c.as_dict() for c in self.caps],
            "caps_applied": [c.as_dict() for c in self.caps_applied],
            "claimable_amount": f"{self.claimable_amount:.2f}",
        }


CAP_LABELS = {
    "per_loan_principal": "单笔不良贷款计入本金上限",
    "per_enterprise_principal": "单户企业累计计入本金上限",
    "per_loan": "单笔补偿上限",
    "per_enterprise": "单户企业累计补偿上限",
    "per_year": "年度补偿总额上限",
    "institution": "合作机构补偿限额（风险准备金）",
    "fund_balance": "资金可用余额",
}


def _apply_caps(amount: Decimal, caps: list[Cap], stage: str, rooms) -> Decimal:
    """Bring `amount` down to each cap's remaining room in turn, recording each cap."""
    for code, room in rooms:
        if room is None:
            caps.append(Cap(code, CAP_LABELS[code], None, False, stage))
            continue
        room = max(room, ZERO)
        bites = room < amount
        caps.append(Cap(code, CAP_LABELS[code], room, bites, stage))
        if bites:
            amount = room
    return amount


def compute_claim(
    *,
    principal: Decimal,
    covered_principal: Decimal,
    outstanding_principal: Decimal,
    recovered_before_claim: Decimal,
    fund_share: Decimal,
    per_loan_principal_cap: Decimal | None = None,
    per_enterprise_principal_room: Decimal | None = None,
    per_loan_cap: Decimal | None,
    per_enterprise_room: Decimal | None,
    per_year_room: Decimal | None,
    institution_room: Decimal | None,
    available_balance: Decimal,
) -> Computation:
    """covered loss → principal caps → loss base → × frozen fund share → payment caps.

    The covered loss is the principal outstanding at the trigger, net of recoveries received
    before the claim; for a combined pledge only its IP-covered part, in the proportion
    covered principal : principal (domain-rules §5.2, §8.2). The principal caps (Guangzhou
    2023: "a single bad loan counts only up to 10,000,000", 20,000,000 per enterprise) limit
    the principal that enters the loss base, *before* the share is applied (§5.4, §8.4); the
    payment caps then limit what the fund pays. Each `*_room` is what is still available
    under that cap after earlier claims (None: the cap does not exist). Rounding: half-up to
    the fen, once per step.
    """
    from fundmgr.ground.lib.money import HUNDRED, quantize

    covered_ratio = covered_principal / principal
    net = max(outstanding_principal - recovered_before_claim, ZERO)
    covered_loss = quantize(net * covered_ratio)
    caps: list[Cap] = []
    loss_base = _apply_caps(
        covered_loss,
        caps,
        "loss_base",
        (
            ("per_loan_principal", per_loan_principal_cap),
            ("per_enterprise_principal", per_enterprise_principal_room),
        ),
    )
    computed = quantize(loss_base * fund_share / HUNDRED)
    amount = _apply_caps(
        computed,
        caps,
        "payment",
        (
            ("per_loan", per_loan_cap),
            ("per_enterprise", per_enterprise_room),
            ("per_year", per_year_room),
            ("institution", institution_room),
            ("fund_balance", available_balance),
        ),
    )
    return Computation(
        outstanding_principal=outstanding_principal,
        recovered_before_claim=recovered_before_claim,
        covered_ratio=covered_ratio,
        covered_loss=covered_loss,
        loss_base=loss_base,
        fund_share=fund_share,
        computed_amount=computed,
        caps=caps,
        claimable_amount=amount,
    )


def recovery_fund_amount(
    *, gross: Decimal, costs: Decimal, paid_amount: Decimal, bank_loss: Decimal, already_returned: Decimal
) -> Decimal:
    """The fund's part of a recovery after payment: it recovers in the proportion in which it
    bore the loss (domain-rules §9, "shared in the same proportions as the loss"), i.e.
    (gross − costs) × paid ÷ the bank's whole loss at claim time (principal outstanding at the
    trigger − recoveries before the claim), covered or not. For a pure IP pledge without caps
    this equals the fund share; for a combined pledge or a capped claim it is less. Total
    returns never exceed what the fund paid."""
    from fundmgr.ground.lib.money import quantize

    if bank_loss <= ZERO or paid_amount <= ZERO:
        return ZERO
    net = max(gross - costs, ZERO)
    share = quantize(net * paid_amount / bank_loss)
    return min(share, max(paid_amount - already_returned, ZERO))
