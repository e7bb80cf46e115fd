"""The vectorised claim formula (fundmgr.top.forecast.rules.claims) is the real rule
(loans.rules.claims.compute_claim) on arrays: equal on every loan of a test book, to the fen,
with every cap biting — per loan, per enterprise (principal and payment), per calendar year."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import numpy as np
import pytest

from fundmgr.ground.lib.money import ZERO
from fundmgr.top.forecast.rules import claims as vec
from loans.rules.claims import compute_claim

D = Decimal


def _book(n: int, seed: int) -> dict[str, list]:
    """Loans as a bank files them: principals in whole yuan or with fen, combined pledges with
    awkward ratios (1/3, 7/9 …), shares with two decimals, a few zero shares."""
    rng = np.random.default_rng(seed)
    principal = [D(int(p)) / 100 for p in rng.integers(10_000_00, 12_000_000_00, n)]
    covered = []
    for p in principal:
        kind = rng.integers(0, 4)
        if kind == 0:
            covered.append(p)
        else:
            num, den = [(1, 3), (7, 9), (3, 5), (2, 7)][rng.integers(0, 4)]
            covered.append(max(D("0.01"), (p * num / den).quantize(D("0.01"))))
    outstanding = [
        (p * D(int(f)) / 1000).quantize(D("0.01"))
        for p, f in zip(principal, rng.integers(1, 1001, n), strict=True)
    ]
    share = [D(int(s)) / 100 for s in rng.integers(0, 10_001, n)]
    share[::37] = [ZERO] * len(share[::37])
    return {
        "principal": principal,
        "covered": covered,
        "outstanding": outstanding,
        "share": share,
        "enterprise": [int(e) for e in rng.integers(1, n // 4 + 2, n)],
        "year": sorted(int(y) for y in rng.integers(2026, 2029, n)),
    }


def _fen(values) -> np.ndarray:
    return np.array([int(v * 100) for v in values], dtype=np.int64)


CAPS = {
    "per_loan_principal_cap": D("9000000.00"),
    "per_enterprise_principal_cap": D("8000000.00"),
    "per_loan_comp_cap": D("2500000.00"),
    "per_enterprise_comp_cap": D("3000000.00"),
    "annual_comp_cap": D("150000000.00"),
}


def _sequential(book: dict, caps: dict) -> list:
    """compute_claim claim after claim, each with the rooms the paid ones before it left: the
    real system's order of events (a claim that pays nothing is not approved, so it uses no room)."""
    used_lb: dict[int, Decimal] = defaultdict(lambda: ZERO)
    used_pay: dict[int, Decimal] = defaultdict(lambda: ZERO)
    paid_in_year: dict[int, Decimal] = defaultdict(lambda: ZERO)
    out = []
    for i in range(len(book["principal"])):
        e, y = book["enterprise"][i], book["year"][i]

        def room(cap, used):
            return None if cap is None else cap - used

        c = compute_claim(
            principal=book["principal"][i],
            covered_principal=book["covered"][i],
            outstanding_principal=book["outstanding"][i],
            recovered_before_claim=ZERO,
            fund_share=book["share"][i],
            per_loan_principal_cap=caps.get("per_loan_principal_cap"),
            per_enterprise_principal_room=room(caps.get("per_enterprise_principal_cap"), used_lb[e]),
            per_loan_cap=caps.get("per_loan_comp_cap"),
            per_enterprise_room=room(caps.get("per_enterprise_comp_cap"), used_pay[e]),
            per_year_room=room(caps.get("annual_comp_cap"), paid_in_year[y]),
            institution_room=None,
            available_balance=book["outstanding"][i],  # as the forecast: the balance never bites
        )
        if c.claimable_amount > ZERO:
            used_lb[e] += c.loss_base
            used_pay[e] += c.claimable_amount
            paid_in_year[y] += c.claimable_amount
        out.append(c)
    return out


def _vectorised(book: dict, caps: dict) -> vec.Sequence:
    n = len(book["principal"])
    share = _fen(book["share"])
    payment_cap = np.full(n, vec.fen(caps.get("per_loan_comp_cap")))
    loans = vec.per_loan(
        principal=_fen(book["principal"]),
        covered_principal=_fen(book["covered"]),
        outstanding=_fen(book["outstanding"]),
        share_bp=share,
        principal_cap=np.full(n, vec.fen(caps.get("per_loan_principal_cap"))),
        payment_cap=payment_cap,
    )
    enterprises = set(book["enterprise"])
    return vec.sequential_amounts(
        loans=loans,
        share_bp=share,
        payment_cap=payment_cap,
        enterprise=np.array(book["enterprise"]),
        enterprise_principal_room={
            e: vec.fen(caps["per_enterprise_principal_cap"])
            for e in enterprises
            if caps.get("per_enterprise_principal_cap")
        },
        enterprise_payment_room={
            e: vec.fen(caps["per_enterprise_comp_cap"])
            for e in enterprises
            if caps.get("per_enterprise_comp_cap")
        },
        year=np.array(book["year"]),
        year_room={
            y: vec.fen(caps["annual_comp_cap"]) for y in set(book["year"]) if caps.get("annual_comp_cap")
        },
    )


@pytest.mark.parametrize(
    "caps",
    [
        {},
        {"per_loan_comp_cap": CAPS["per_loan_comp_cap"]},
        {
            "per_loan_principal_cap": CAPS["per_loan_principal_cap"],
            "per_loan_comp_cap": CAPS["per_loan_comp_cap"],
        },
        CAPS,
    ],
    ids=["no caps", "per-loan cap", "per-loan principal and payment caps", "every cap"],
)
def test_the_vectorised_formula_is_compute_claim_on_every_loan_to_the_fen(caps):
    book = _book(1500, seed=7)
    expected = _sequential(book, caps)
    got = _vectorised(book, caps)
    as_yuan = lambda a: [D(int(v)) / 100 for v in a]  # noqa: E731
    assert as_yuan(got.loss_base) == [c.loss_base for c in expected]
    assert as_yuan(got.computed) == [c.computed_amount for c in expected]
    assert as_yuan(got.amount) == [c.claimable_amount for c in expected]
    if caps is CAPS:
        # the test means something: each cap bit somewhere in the book
        bitten = {cap.code for c in expected for cap in c.caps_applied}
        assert {
            "per_loan_principal",
            "per_enterprise_principal",
            "per_loan",
            "per_enterprise",
            "per_year",
        } <= bitten


def test_half_fen_ties_round_as_the_rule_rounds():
    """0.015 yuan outstanding on a loan covered one third: compute_claim's 28-digit ratio lands
    just under the half fen; the integer formula finds the tie and takes the rule's answer."""
    cases = [
        (D("3.00"), D("1.00"), D("0.03")),
        (D("3.00"), D("1.00"), D("0.15")),
        (D("8.00"), D("1.00"), D("0.04")),
    ]
    got = vec.covered_loss(
        np.array([int(o * 100) for _, _, o in cases]),
        np.array([int(c * 100) for _, c, _ in cases]),
        np.array([int(p * 100) for p, _, _ in cases]),
    )
    for (p, c, o), fen in zip(cases, got, strict=True):
        rule = compute_claim(
            principal=p,
            covered_principal=c,
            outstanding_principal=o,
            recovered_before_claim=ZERO,
            fund_share=D("100"),
            per_loan_cap=None,
            per_enterprise_room=None,
            per_year_room=None,
            institution_room=None,
            available_balance=D("1000"),
        )
        assert D(int(fen)) / 100 == rule.covered_loss


def test_huge_amounts_stay_exact():
    """Amounts whose products pass 2**63 are computed with Python integers, not wrapped."""
    principal = np.array([9_000_000_000_000_00])
    got = vec.per_loan(
        principal=principal,
        covered_principal=principal // 3,
        outstanding=principal,
        share_bp=np.array([7000]),
        principal_cap=np.array([vec.NO_CAP]),
        payment_cap=np.array([vec.NO_CAP]),
    )
    rule = compute_claim(
        principal=D("9000000000000.00"),
        covered_principal=D("3000000000000.00"),
        outstanding_principal=D("9000000000000.00"),
        recovered_before_claim=ZERO,
        fund_share=D("70"),
        per_loan_cap=None,
        per_enterprise_room=None,
        per_year_room=None,
        institution_room=None,
        available_balance=D("9000000000000.00"),
    )
    assert D(int(got.amount[0])) / 100 == rule.claimable_amount == D("2100000000000.00")
