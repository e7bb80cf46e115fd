"""The compensation computation (风险补偿, domain-rules §8) and the fund's part of a recovery
(§9): pure functions over amounts, every step kept so the admin and the API can show it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fundmgr.ground.lib.errors import CommonError, Violation
from fundmgr.ground.lib.i18n import recorded
from fundmgr.ground.lib.money import HUNDRED, ZERO, quantize
from loans.errors import LoansError

# Staff steps on a claim that need a reason (refused without one: comment_required): the bank
# reads why its claim was returned or refused, and a write-off says on what grounds.
COMMENT_REQUIRED_STEPS = frozenset({"return_for_supplement", "reject", "write_off"})
# Steps that compute the claim again before it moves on: the caps depend on other claims and
# the fund's balance on the day, not at submission.
RECOMPUTED_AT_STEPS = frozenset({"recommend", "approve"})

# A cap limits the principal entering the loss base (before the fund share) or the payment.
CAP_STAGES = ("loss_base", "payment")


class Cap(NamedTuple):
    """One limit, in the order they are applied: first the caps on the principal that enters
    the loss base (stage `loss_base`), then the caps on the fund's payment (stage `payment`).
    A named tuple, not a frozen dataclass: the forecast computes seven per live loan (some
    100,000 at province scale), and a tuple is built several times faster."""

    code: str  # per_loan_principal, per_enterprise_principal, per_loan, per_enterprise, per_year, ...
    label: str
    limit: Decimal | None  # what is still available under this cap; None: no such cap
    applied: bool = False
    stage: str = "payment"

    def as_dict(self) -> dict:
        return {
            "cap": self.code,
            "stage": self.stage,
            "label": recorded(self.label),  # stored with the claim: in the default language
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
    "per_loan_principal": gettext_lazy("单笔不良贷款计入本金上限"),
    "per_enterprise_principal": gettext_lazy("单户企业累计计入本金上限"),
    "per_loan": gettext_lazy("单笔补偿上限"),
    "per_enterprise": gettext_lazy("单户企业累计补偿上限"),
    "per_year": gettext_lazy("年度补偿总额上限"),
    "institution": gettext_lazy("合作机构补偿限额（风险准备金）"),
    "fund_balance": gettext_lazy("资金可用余额"),
}


def _apply_caps(amount: Decimal, caps: list[Cap], stage: str, rooms) -> Decimal:
    """Bring `amount` down to each cap's remaining room in turn, recording each cap."""
    for code, room in rooms:
        if room is None:
            caps.append(Cap(code, CAP_LABELS[code], None, False, stage))
            continue
        if room < ZERO:
            room = ZERO
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
    if bank_loss <= ZERO or paid_amount <= ZERO:
        return ZERO
    net = max(gross - costs, ZERO)
    share = quantize(net * paid_amount / bank_loss)
    return min(share, max(paid_amount - already_returned, ZERO))


# --- what a claim, its approval and its recoveries must meet (the services and the books import) ---


def check_claim_figures(
    *,
    principal: Decimal,
    outstanding: Decimal,
    recovered_before: Decimal,
    trigger_date: dt.date,
    today: dt.date,
) -> list[Violation]:
    """The figures a claim is filed with: a trigger that has happened, a balance within the
    loan's principal, recoveries before the claim within that balance."""
    found = []
    if trigger_date > today:
        found.append(Violation(LoansError.INVALID_TRIGGER_DATE, _("触发日不能晚于今天"), "trigger_date"))
    if outstanding > principal:
        found.append(
            Violation(
                LoansError.OUTSTANDING_EXCEEDS_PRINCIPAL,
                _("本金余额不能超过贷款本金"),
                "outstanding_principal",
            )
        )
    if recovered_before > outstanding:
        found.append(
            Violation(LoansError.INVALID_RECOVERED, _("申请前回收不能超过本金余额"), "recovered_before_claim")
        )
    return found


def check_claim_window(*, trigger_date: dt.date, filed_on: dt.date, window_days: int) -> Violation | None:
    """A claim is filed within the policy's window after its trigger (None: it is)."""
    if filed_on <= trigger_date + dt.timedelta(days=window_days):
        return None
    return Violation(
        LoansError.CLAIM_WINDOW_CLOSED,
        _("已超过触发后%(days)s天的申请期限") % {"days": window_days},
        "trigger_date",
    )


def check_approved_amount(*, amount: Decimal, claimable: Decimal) -> Violation | None:
    """The committee approves more than nothing and no more than the computation allows."""
    if amount <= ZERO:
        message = _("可补偿金额为零，不能批准") if claimable <= ZERO else _("批准金额须大于零")
        return Violation(LoansError.NOTHING_TO_APPROVE, message, "approved_amount")
    if amount > claimable:
        return Violation(
            LoansError.APPROVED_AMOUNT_EXCEEDS_CLAIMABLE,
            _("批准金额不能高于可补偿金额 %(amount)s 元") % {"amount": f"{claimable:,.2f}"},
            "approved_amount",
        )
    return None


@dataclass(frozen=True)
class CapsUsed:
    """What earlier claims already took under each cap, when a claim is computed: the loss
    bases and amounts (approved and not yet paid, or paid) of the enterprise's other claims,
    the fund's payouts of the year with its approved unpaid claims, the institution's claims
    in the fund, and the fund's balance less its approved unpaid claims. A figure the caller
    did not gather (its cap does not exist) is None."""

    enterprise_loss_base: Decimal | None = None
    enterprise_amount: Decimal | None = None
    year_amount: Decimal | None = None
    institution_amount: Decimal | None = None
    available_balance: Decimal | None = None


def cap_rooms(*, policy, used: CapsUsed, reserve_deposit: Decimal | None) -> dict:
    """What is still available under each cap of `policy` (the claim's loan's version) and
    of the institution's agreement (its reserve deposit), as `compute_claim` takes them."""

    def room(cap, taken):
        return None if cap is None else cap - (taken or ZERO)

    return {
        "per_loan_principal_cap": policy.per_loan_principal_cap,
        "per_enterprise_principal_room": room(policy.per_enterprise_principal_cap, used.enterprise_loss_base),
        "per_loan_cap": policy.per_loan_comp_cap,
        "per_enterprise_room": room(policy.per_enterprise_comp_cap, used.enterprise_amount),
        "per_year_room": room(policy.annual_comp_cap, used.year_amount),
        "institution_room": room(reserve_deposit, used.institution_amount),
        "available_balance": used.available_balance,
    }


def check_recovery(
    *, gross: Decimal, costs: Decimal, received_on: dt.date, paid_on: dt.date | None, today: dt.date
) -> list[Violation]:
    """A recovery reported after compensation: money received, costs within it, on or after
    the payout (what came in before it is deducted in the claim), not in the future."""
    found = []
    if received_on > today:
        found.append(Violation(LoansError.INVALID_RECEIVED_ON, _("回收日期不能晚于今天"), "received_on"))
    if gross <= ZERO:
        found.append(Violation(CommonError.INVALID_MONEY, _("回收总额须大于零"), "gross_amount"))
    elif costs > gross:
        found.append(Violation(LoansError.COSTS_EXCEED_GROSS, _("追偿费用不能超过回收总额"), "costs"))
    if paid_on is not None and received_on < paid_on:
        found.append(
            Violation(LoansError.RECEIVED_BEFORE_PAYMENT, _("代偿前的回收应在申请时扣除"), "received_on")
        )
    return found


def check_returns(*, returned: Decimal, paid: Decimal) -> Violation | None:
    """What the fund gets back of a claim never exceeds what it paid (None: it does not)."""
    if returned <= paid:
        return None
    return Violation(
        LoansError.RETURNS_EXCEED_PAID,
        _("返还总额 %(returned)s 元不能超过已代偿金额 %(paid)s 元")
        % {"returned": f"{returned:,.2f}", "paid": f"{paid:,.2f}"},
        "fund_amount",
    )
