"""Each loan's claim in the forecast (fundmgr.top.forecast.rules.claims) is what the real rule
(loans.rules.claims.compute_claim) pays for it: on every loan of a test book, to the fen, with
every cap that depends on the loan and its enterprise biting somewhere."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from fundmgr.ground.lib.money import ZERO
from fundmgr.top.forecast.rules import claims
from loans.rules.claims import compute_claim

D = Decimal
NO = claims.NO_CAP


def _book(n: int, seed: int) -> dict[str, np.ndarray]:
    """Loans as a bank files them (fen): principals with fen, combined pledges with awkward
    ratios (1/3, 7/9 …), shares with two decimals and a few zero shares; caps and enterprise
    rooms set on some loans (NO_CAP on the others), some rooms used up."""
    rng = np.random.default_rng(seed)
    principal = rng.integers(10_000_00, 12_000_000_00, n)
    num, den = np.array([(1, 1), (1, 3), (7, 9), (3, 5), (2, 7)])[rng.integers(0, 5, n)].T
    covered = np.maximum(1, principal * num // den)
    outstanding = np.maximum(1, principal * rng.integers(1, 1001, n) // 1000)
    share = rng.integers(0, 10_001, n)
    share[::37] = 0

    def some(low: int, high: int, none_every: int) -> np.ndarray:
        values = rng.integers(low, high, n)
        values[rng.integers(0, none_every, n) == 0] = NO
        return values

    rooms = some(0, 6_000_000_00, 3)
    rooms[::41] = 0  # an enterprise whose room is used up
    return {
        "principal": principal,
        "covered_principal": covered,
        "outstanding": outstanding,
        "share_bp": share,
        "principal_cap": some(2_000_000_00, 9_000_000_00, 4),
        "payment_cap": some(500_000_00, 3_000_000_00, 4),
        "enterprise_principal_room": some(0, 8_000_000_00, 3),
        "enterprise_payment_room": rooms,
    }


def _yuan(fen: int) -> Decimal:
    return D(int(fen)) / 100


def _cap(fen: int) -> Decimal | None:
    return None if fen == NO else _yuan(fen)


def _rule(book: dict[str, np.ndarray], i: int):
    outstanding = _yuan(book["outstanding"][i])
    return compute_claim(
        principal=_yuan(book["principal"][i]),
        covered_principal=_yuan(book["covered_principal"][i]),
        outstanding_principal=outstanding,
        recovered_before_claim=ZERO,
        fund_share=_yuan(book["share_bp"][i]),
        per_loan_principal_cap=_cap(book["principal_cap"][i]),
        per_enterprise_principal_room=_cap(book["enterprise_principal_room"][i]),
        per_loan_cap=_cap(book["payment_cap"][i]),
        per_enterprise_room=_cap(book["enterprise_payment_room"][i]),
        per_year_room=None,
        institution_room=None,
        available_balance=outstanding,
    )


def test_each_loan_s_claim_is_compute_claim_to_the_fen():
    book = _book(1500, seed=7)
    expected = [_rule(book, i) for i in range(1500)]
    got = claims.claims_at_default(**book)
    assert [_yuan(v) for v in got] == [c.claimable_amount for c in expected]
    # the test means something: every cap of the loan and its enterprise bit somewhere, and
    # some claims pay nothing (a zero share, a room used up)
    bitten = {cap.code for c in expected for cap in c.caps_applied}
    assert {"per_loan_principal", "per_enterprise_principal", "per_loan", "per_enterprise"} <= bitten
    assert any(c.claimable_amount == ZERO for c in expected)


def test_loans_with_the_same_terms_get_the_same_claim():
    book = _book(40, seed=3)
    twice = {key: np.concatenate([v, v[::-1]]) for key, v in book.items()}
    got = claims.claims_at_default(**twice)
    np.testing.assert_array_equal(got[:40], got[40:][::-1])
    np.testing.assert_array_equal(got[:40], claims.claims_at_default(**book))
    assert len(claims.claims_at_default(**{key: v[:0] for key, v in book.items()})) == 0


def test_half_fen_ties_and_huge_amounts_are_the_rule_s():
    """0.015 yuan outstanding on a loan covered one third (the rule's 28-digit ratio lands
    just under the half fen), and amounts far beyond any loan: the rule's answers."""
    principal = np.array([300, 300, 800, 9_000_000_000_000_00])
    book = {
        "principal": principal,
        "covered_principal": np.array([100, 100, 100, 3_000_000_000_000_00]),
        "outstanding": np.array([3, 15, 4, 9_000_000_000_000_00]),
        "share_bp": np.array([10_000, 10_000, 10_000, 7000]),
        **{k: np.full(4, NO) for k in ("principal_cap", "payment_cap")},
        **{k: np.full(4, NO) for k in ("enterprise_principal_room", "enterprise_payment_room")},
    }
    got = claims.claims_at_default(**book)
    assert [_yuan(v) for v in got] == [_rule(book, i).claimable_amount for i in range(4)]
    assert _yuan(got[3]) == D("2100000000000.00")


def test_money_converts_between_yuan_and_fen_exactly():
    assert claims.fen(D("1234567.89")) == 123456789 and claims.fen(None) == NO
    assert claims.yuan(123456789) == D("1234567.89")
    assert claims.yuan(12.5) == D("0.13") and claims.yuan(-12.5) == D("-0.13")  # half-up, away from zero
