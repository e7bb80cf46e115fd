"""The claim computation of `loans.rules.claims.compute_claim`, vectorised over many claims.

One source of truth: the rule is `compute_claim` (covered loss → principal caps → loss base →
× frozen fund share → payment caps, half-up to the fen at each step). This is the same formula
on NumPy arrays of integer fen, so that a forecast can push hundreds of thousands of loans
through it; tests/forecast/test_claim_formula.py proves it equal to `compute_claim` on every
loan of a test book, to the fen, with every cap biting.

Money here is integer fen (int64; Python ints in an object array when a product could pass
2**62). The caps that depend on earlier claims (per-enterprise rooms, the fund's annual cap
per calendar year of payment) follow claims in the order given, as the real system applies
them claim after claim; `sequential_amounts` does that with cumulative sums instead of a loop
(see its docstring for why that is exact). The fund-balance cap is left out on purpose: the
forecast asks how far below zero the balance would go. Reserve-deposit caps per bank are not
modelled (none of the funds sets one today).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

NO_CAP = -1  # a cap the policy does not set
_SAFE = 2**61  # products stay below this in int64 (with room for the ×2 of half-up rounding)


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


def _ints(a: np.ndarray, b: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """The arrays as int64, or as Python ints (object arrays) when a × b could pass 2**61."""

    def top(x: np.ndarray) -> int:
        return int(np.max(np.abs(x))) if len(x) else 0

    dtype = np.int64 if top(a) * top(b) < _SAFE else object
    return tuple(np.asarray(x).astype(dtype) for x in (a, b, *others))


def _half_up_div(numerator: np.ndarray, denominator) -> np.ndarray:
    """round(numerator / denominator) half-up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def covered_loss(outstanding: np.ndarray, covered_principal: np.ndarray, principal: np.ndarray) -> np.ndarray:
    """quantize(outstanding × covered ÷ principal): the IP-covered part of the loss, in fen.

    compute_claim divides covered ÷ principal first, in Decimal at 28 significant digits; that
    equals the exact quotient rounded half-up except when the exact value sits on a half fen
    and the ratio does not terminate (e.g. 1/3 of 0.015 yuan), where the 28-digit ratio lands
    just below the half. Those rows — found exactly in integers — are computed by the same
    Decimal expression as the rule."""
    out, cov, prin = _ints(np.asarray(outstanding), np.asarray(covered_principal), np.asarray(principal))
    product = out * cov
    result = _half_up_div(product, prin)
    ties = np.flatnonzero((2 * (product % prin)) == prin)
    for i in ties:
        ratio = Decimal(int(cov[i])) / Decimal(int(prin[i]))
        exact = (Decimal(int(out[i])) / 100 * ratio).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        result[i] = int(exact * 100)
    return result.astype(np.int64) if result.dtype == object and _fits(result) else result


def _fits(a: np.ndarray) -> bool:
    return not len(a) or int(np.max(np.abs(a))) < 2**62


def _capped(amount: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """min(amount, cap) where a cap is set (cap ≥ 0), the amount itself where it is not."""
    cap = np.asarray(cap)
    return np.where(cap == NO_CAP, amount, np.minimum(amount, np.maximum(cap, 0)))


@dataclass(frozen=True)
class PerLoan:
    """The part of the computation that depends on the loan alone."""

    covered_loss: np.ndarray
    loss_base: np.ndarray  # after the per-loan principal cap
    computed: np.ndarray  # loss base × fund share, half-up
    amount: np.ndarray  # after the per-loan payment cap


def per_loan(
    *,
    principal: np.ndarray,
    covered_principal: np.ndarray,
    outstanding: np.ndarray,
    share_bp: np.ndarray,
    principal_cap: np.ndarray,
    payment_cap: np.ndarray,
) -> PerLoan:
    """The claim of each loan on its own (no earlier claims): `share_bp` is the frozen fund
    share in hundredths of a percent (50.00 % → 5000); caps in fen, NO_CAP where unset."""
    cl = covered_loss(outstanding, covered_principal, principal)
    lb = _capped(cl, principal_cap)
    lb_i, share = _ints(lb, np.asarray(share_bp))
    computed = _half_up_div(lb_i * share, 10_000)
    if computed.dtype == object and _fits(computed):
        computed = computed.astype(np.int64)
    return PerLoan(covered_loss=cl, loss_base=lb, computed=computed, amount=_capped(computed, payment_cap))


def _group_cumsum(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Running sum of `values` within each group, in the given order (inclusive)."""
    order = np.argsort(groups, kind="stable")
    v, g = values[order], groups[order]
    run = np.cumsum(v)
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    offsets = np.repeat((run - v)[starts], np.diff(np.r_[starts, len(v)]))
    out = np.empty_like(run)
    out[order] = run - offsets
    return out


def _cumulative_cap(values: np.ndarray, groups: np.ndarray, rooms: np.ndarray) -> np.ndarray:
    """Each value cut to what is left of its group's room after the ones before it.

    Claim after claim, x'ᵢ = min(xᵢ, max(R − Σⱼ<ᵢ x'ⱼ, 0)); by induction the running sum of
    the x' is min(running sum of the x, R), so x'ᵢ is the difference of consecutive capped
    running sums — no loop. `rooms`: per value, its group's room (NO_CAP: no cap)."""
    if not len(values):
        return values
    run = _group_cumsum(values, groups)
    before = run - values
    room = np.maximum(rooms, 0)
    free = rooms == NO_CAP
    return np.where(free, run, np.minimum(run, room)) - np.where(free, before, np.minimum(before, room))


@dataclass(frozen=True)
class Sequence:
    """Every step for claims paid one after the other."""

    loss_base: np.ndarray
    computed: np.ndarray
    amount: np.ndarray


def sequential_amounts(
    *,
    loans: PerLoan,
    share_bp: np.ndarray,
    payment_cap: np.ndarray,
    enterprise: np.ndarray,
    enterprise_principal_room: dict[int, int],
    enterprise_payment_room: dict[int, int],
    year: np.ndarray,
    year_room: dict[int, int],
) -> Sequence:
    """Claims in the order given (non-decreasing year of payment), each computed as
    `compute_claim` computes it with the rooms the claims before it left: the enterprise's
    principal room (Σ loss bases of its paid claims), its payment room, the year's room.

    Exact without a loop, year by year. Inside a year the per-enterprise rooms are cumulative
    caps over that enterprise's claims, then the year's room a cumulative cap over all of
    them. A claim that pays nothing is not approved, so neither its loss base nor its amount
    counts against a room. That needs no fixed point: once the year's room is spent every
    later claim of that year pays nothing, and once an enterprise's payment room is spent it
    stays spent, so which claims pay does not depend on the loss bases of the ones that do
    not; those are then recomputed with only the paying claims before them counted. The rooms
    carried to the next year count only the claims paid. Rooms: fen; a key missing (or
    NO_CAP): no such cap. (One case is left out: a claim whose loss base is positive but so
    small that its share rounds to 0.00 is counted as if it paid.)"""
    n = len(share_bp)
    lb_out = np.zeros(n, dtype=np.int64)
    computed_out = np.zeros(n, dtype=np.int64)
    amount_out = np.zeros(n, dtype=np.int64)
    ep_room = dict(enterprise_principal_room)
    pay_room = dict(enterprise_payment_room)
    share_all = np.asarray(share_bp).astype(np.int64)
    cap_all = np.asarray(payment_cap)
    never_pays = (share_all == 0) | (cap_all == 0)
    for y in np.unique(year):
        idx = np.flatnonzero(year == y)
        ent, share = enterprise[idx], share_all[idx]
        lb1 = np.asarray(loans.loss_base[idx]).astype(np.int64)
        rooms = np.array([ep_room.get(int(e), NO_CAP) for e in ent], dtype=np.int64)
        lb = _cumulative_cap(np.where(never_pays[idx], 0, lb1), ent, rooms)
        a1 = _capped(_half_up_div(lb * share, 10_000), cap_all[idx])
        prooms = np.array([pay_room.get(int(e), NO_CAP) for e in ent], dtype=np.int64)
        a2 = _cumulative_cap(a1, ent, prooms)
        yroom = year_room.get(int(y), NO_CAP)
        a3 = _cumulative_cap(a2, np.zeros(len(idx), dtype=np.int64), np.full(len(idx), yroom, dtype=np.int64))
        paid = a3 > 0
        # Those that pay nothing: the principal room left by the paying claims before them.
        counted = np.where(paid, lb, 0)
        left = np.maximum(rooms - (_group_cumsum(counted, ent) - counted), 0)
        lb = np.where(paid, lb, np.where(rooms == NO_CAP, lb1, np.minimum(lb1, left)))
        lb_out[idx] = lb
        computed_out[idx] = _half_up_div(lb * share, 10_000)
        amount_out[idx] = a3
        for e in np.unique(ent[paid]):
            mine = (ent == e) & paid
            if ep_room.get(int(e), NO_CAP) != NO_CAP:
                ep_room[int(e)] -= int(lb[mine].sum())
            if pay_room.get(int(e), NO_CAP) != NO_CAP:
                pay_room[int(e)] -= int(a3[mine].sum())
    return Sequence(loss_base=lb_out, computed=computed_out, amount=amount_out)
