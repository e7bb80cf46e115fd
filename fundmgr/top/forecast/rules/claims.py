"""What each loan's claim would pay if it met the trigger: `loans.rules.claims.compute_claim`
itself, the one function that computes a claim (covered loss → principal caps → loss base →
× frozen fund share → payment caps, half-up to the fen at each step).

The forecast calls it once per distinct loan before the simulation, with what is known of
that loan alone: its principal, covered principal and outstanding principal today (bullet
repayment: what is outstanding today is what is lost), nothing recovered before the claim,
its frozen share, its policy's per-loan principal and payment caps, and its enterprise's
principal and payment rooms as the claims already paid left them. The result is kept as
integer fen, which the Monte Carlo sums.

What depends on claims not yet made is left to the simulation (rules/simulation.py), which
applies it to each path's monthly totals: an enterprise's rooms shared by several of its
loans, and the fund's annual cap per calendar year of payment. Two caps are not applied at
all: the fund balance (the forecast asks how far below zero it would go) and banks'
reserve-deposit limits (none of the funds sets one).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from fundmgr.ground.lib.money import ZERO
from loans.rules.claims import Computation, compute_claim

NO_CAP = -1  # a cap the policy does not set


def fen(value: Decimal | None) -> int:
    """Decimal yuan (two places) → integer fen; None → NO_CAP."""
    return NO_CAP if value is None else int((value * 100).to_integral_value())


def yuan(amount_fen) -> Decimal:
    """Fen (an int, or a float holding a simulated figure) → Decimal yuan, half-up to the fen."""
    if isinstance(amount_fen, float | np.floating):
        whole = Decimal(repr(float(amount_fen))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    else:
        whole = Decimal(int(amount_fen))
    return (whole / 100).quantize(Decimal("0.01"))


def _money(amount_fen: int) -> Decimal:
    return Decimal(amount_fen).scaleb(-2)  # exact: 12345 fen → 123.45


def _room(amount_fen: int) -> Decimal | None:
    return None if amount_fen == NO_CAP else _money(amount_fen)


def claim_if_defaulted(
    *,
    principal: Decimal,
    covered_principal: Decimal,
    outstanding: Decimal,
    fund_share: Decimal,
    per_loan_principal_cap: Decimal | None,
    per_loan_cap: Decimal | None,
    enterprise_principal_room: Decimal | None,
    enterprise_room: Decimal | None,
    year_room: Decimal | None = None,
) -> Computation:
    """`compute_claim` for a loan claimed at its outstanding principal with nothing recovered
    before the claim; the fund balance never bites (a claim is at most the outstanding) and no
    reserve-deposit limit applies. Rooms: what earlier claims left (None: no such cap)."""
    return compute_claim(
        principal=principal,
        covered_principal=covered_principal,
        outstanding_principal=outstanding,
        recovered_before_claim=ZERO,
        fund_share=fund_share,
        per_loan_principal_cap=per_loan_principal_cap,
        per_enterprise_principal_room=enterprise_principal_room,
        per_loan_cap=per_loan_cap,
        per_enterprise_room=enterprise_room,
        per_year_room=year_room,
        institution_room=None,
        available_balance=outstanding,
    )


def claims_at_default(
    *,
    principal: np.ndarray,
    covered_principal: np.ndarray,
    outstanding: np.ndarray,
    share_bp: np.ndarray,
    principal_cap: np.ndarray,
    payment_cap: np.ndarray,
    enterprise_principal_room: np.ndarray,
    enterprise_payment_room: np.ndarray,
) -> np.ndarray:
    """Per loan, the fen `claim_if_defaulted` pays. Amounts, caps and rooms in fen (NO_CAP: no
    such cap), `share_bp` the frozen share in hundredths of a percent (50.00 % → 5000).
    Loans with the same inputs are computed once."""
    columns = (
        principal,
        covered_principal,
        outstanding,
        share_bp,
        principal_cap,
        payment_cap,
        enterprise_principal_room,
        enterprise_payment_room,
    )
    rows = np.stack([np.asarray(c, dtype=np.int64) for c in columns], axis=1)
    known: dict[tuple[int, ...], int] = {}

    def amount(row: tuple[int, ...]) -> int:
        if row not in known:
            p, c, o, s, pc, lc, er, ep = row
            known[row] = fen(
                claim_if_defaulted(
                    principal=_money(p),
                    covered_principal=_money(c),
                    outstanding=_money(o),
                    fund_share=_money(s),
                    per_loan_principal_cap=_room(pc),
                    per_loan_cap=_room(lc),
                    enterprise_principal_room=_room(er),
                    enterprise_room=_room(ep),
                ).claimable_amount
            )
        return known[row]

    return np.fromiter(map(amount, map(tuple, rows.tolist())), dtype=np.int64, count=len(rows))
