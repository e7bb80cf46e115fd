"""The forecast's arithmetic against closed forms: roll rates, matrix powers, the Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest

from fundmgr.top.forecast.rules import rollrates
from fundmgr.top.forecast.rules import simulation as sim

H = 24


def _book(
    n: int, *, seed: int = 3, cohorts: int = 1, maturity: int | None = None, shock: int = 0, window: int = 1
):
    rng = np.random.default_rng(seed)
    return sim.Loans(
        amount=np.rint(rng.uniform(50_000_00, 2_500_000_00, n)),  # fen
        covered=np.rint(rng.uniform(100_000_00, 5_000_000_00, n)),
        exposure=np.rint(rng.uniform(50_000_00, 2_500_000_00, n)),
        cohort=rng.integers(0, cohorts, n),
        maturity=np.full(n, maturity) if maturity else rng.integers(1, H + 1, n),
        group=np.zeros(n, dtype=np.int64),
        shock=np.full(n, shock),
        window=np.full(n, window),
    )


def _none(months: int = H, groups: int = 0) -> sim.Fixed:
    z = np.zeros(months)
    return sim.Fixed(
        claims=z, group_claims=np.zeros((groups, months)), recoveries=z, covered=z, exposure=z,
        new_npl_count=z, new_npl_covered=z,
    )  # fmt: skip


def _caps(months: int = H) -> sim.Caps:
    return sim.Caps(group_rooms=np.zeros(0), year_of_month=np.full(months, 2027))


def _cohorts(matrix: np.ndarray, *, lag: int = 0, cut: int = H, trigger: int = 2) -> list[sim.Cohort]:
    fp = rollrates.first_passage(matrix, trigger, H)
    return [
        sim.Cohort(cumulative=fp.cumulative[s], alive=fp.alive[s], lag=lag, cut=cut) for s in range(trigger)
    ]


def _absorbing(p: float) -> np.ndarray:
    """Normal loans reach substandard with probability p a month, and stay there."""
    m = np.eye(6)
    m[0] = [1 - p, 0, p, 0, 0, 0]
    return m


def test_zero_roll_rates_give_no_claims():
    loans = _book(500)
    cohorts = _cohorts(np.eye(6))
    paid = sim.monte_carlo(loans, cohorts, _none(), _caps(), months=H, paths=1000, seed=1)
    assert paid.sum() == 0
    assert sim.analytical(loans, cohorts, _none(), months=H).claims.sum() == 0


def test_an_absorbing_matrix_gives_the_closed_form_expectation():
    """Normal → substandard at p a month: a loan maturing after month m defaults in month j
    (j < m) with probability (1 − p)^j · p; its claim is paid `lag` months later."""
    p, lag = 0.04, 2
    loans = _book(300, maturity=None)
    loans = sim.Loans(**{**vars(loans), "cohort": np.zeros(300, dtype=np.int64)})
    expected = sim.analytical(loans, _cohorts(_absorbing(p), lag=lag), _none(), months=H)
    closed = np.zeros(H)
    for amount, m in zip(loans.amount, loans.maturity, strict=True):
        for j in range(min(m, H)):
            if j + lag < H:
                closed[j + lag] += amount * (1 - p) ** j * p
    np.testing.assert_allclose(expected.claims, closed, rtol=1e-12)
    survival = [(1 - p) ** j for j in range(H)]
    assert expected.default_probability[0] == pytest.approx(
        1 - survival[min(loans.maturity[0], H) - 1] * (1 - p)
    )


def test_the_monte_carlo_mean_is_within_one_percent_of_the_analytical_expectation():
    matrix = rollrates.PRIOR_ROWS.copy()
    matrix[0] = [0.94, 0.05, 0.01, 0, 0, 0]  # a book that defaults enough to measure
    loans = _book(3000, cohorts=2)
    cohorts = _cohorts(matrix, lag=1)
    expected = sim.analytical(loans, cohorts, _none(), months=H).claims
    paid = sim.monte_carlo(loans, cohorts, _none(), _caps(), months=H, paths=4000, seed=20261121)
    mean = paid.mean(axis=0)
    assert mean.sum() == pytest.approx(expected.sum(), rel=0.01)
    for t in np.flatnonzero(expected > 0.01 * expected.max()):
        assert mean[t] == pytest.approx(expected[t], rel=0.01), t


def test_the_same_seed_gives_the_same_figures_and_another_seed_others():
    matrix = rollrates.PRIOR_ROWS
    loans = _book(800, cohorts=2, shock=int(0.1 * sim.U16), window=6)
    cohorts = _cohorts(matrix, lag=2)
    one = sim.monte_carlo(loans, cohorts, _none(), _caps(), months=H, paths=500, seed=42)
    two = sim.monte_carlo(loans, cohorts, _none(), _caps(), months=H, paths=500, seed=42)
    other = sim.monte_carlo(loans, cohorts, _none(), _caps(), months=H, paths=500, seed=43)
    assert np.array_equal(one, two)
    assert not np.array_equal(one, other)


def test_every_loan_stressed_within_one_month_defaults_in_month_one():
    loans = _book(400, shock=sim.U16, window=1)
    paid = sim.monte_carlo(loans, _cohorts(np.eye(6), lag=2), _none(), _caps(), months=H, paths=50, seed=5)
    assert (paid[:, 2] == loans.amount.sum()).all()  # exact: integer fen in float64
    assert paid[:, [0, 1, *range(3, H)]].sum() == 0


def test_a_stress_mixture_matches_its_expectation():
    """20 % of the loans default uniformly within 6 months (or before they mature), the rest
    by the roll rates: the Monte Carlo mean is the analytical mixture."""
    loans = _book(2000, cohorts=2, shock=int(0.2 * sim.U16), window=6)
    loans = sim.Loans(**{**vars(loans), "window": np.minimum(6, loans.maturity)})
    cohorts = _cohorts(rollrates.PRIOR_ROWS, lag=1)
    expected = sim.analytical(loans, cohorts, _none(), months=H).claims
    paid = sim.monte_carlo(loans, cohorts, _none(), _caps(), months=H, paths=3000, seed=11)
    assert paid.mean(axis=0).sum() == pytest.approx(expected.sum(), rel=0.01)
    assert paid.mean(axis=0)[1:7].sum() == pytest.approx(expected[1:7].sum(), rel=0.01)


def test_small_books_draw_several_paths_at_once_with_the_same_expectation():
    loans = _book(7, cohorts=2)
    cohorts = _cohorts(rollrates.PRIOR_ROWS)
    paid = sim.monte_carlo(loans, cohorts, _none(), _caps(), months=H, paths=20000, seed=3)
    expected = sim.analytical(loans, cohorts, _none(), months=H).claims
    assert paid.mean(axis=0).sum() == pytest.approx(expected.sum(), rel=0.03)


def test_the_annual_cap_holds_each_calendar_year_of_payment():
    loans = _book(200, shock=sim.U16, window=1)
    months = 14  # December 2026 … January 2028
    year_of_month = np.array([2026] + [2027] * 12 + [2028])
    caps = sim.Caps(group_rooms=np.zeros(0), year_of_month=year_of_month, year_rooms={2027: 1_000_000_00.0})
    cohorts = [
        sim.Cohort(cumulative=np.zeros(months), alive=np.ones(months), lag=1, cut=months),
    ]
    loans = sim.Loans(
        **{**vars(loans), "cohort": np.zeros(200, dtype=np.int64), "maturity": np.full(200, months)}
    )
    paid = sim.monte_carlo(loans, cohorts, _none(months), caps, months=months, paths=10, seed=1)
    assert (paid[:, 1] == 1_000_000_00).all()  # all paid in January 2027, held to the year's cap
    assert paid[:, 2:].sum() == 0


def test_an_enterprise_cap_holds_its_claims_over_the_months():
    n = 10
    loans = sim.Loans(
        amount=np.full(n, 300_000_00.0), covered=np.ones(n), exposure=np.ones(n),
        cohort=np.zeros(n, dtype=np.int64), maturity=np.arange(1, n + 1),
        group=np.array([1] * 5 + [0] * 5), shock=np.full(n, sim.U16), window=np.arange(1, n + 1),
    )  # fmt: skip
    caps = sim.Caps(group_rooms=np.array([1_000_000_00.0]), year_of_month=np.full(H, 2027))
    cohorts = [sim.Cohort(cumulative=np.zeros(H), alive=np.ones(H), lag=0, cut=H)]
    paid = sim.monte_carlo(loans, cohorts, _none(groups=1), caps, months=H, paths=200, seed=9)
    assert (paid.sum(axis=1) == 1_000_000_00 + 5 * 300_000_00).all()


def test_roll_rates_borrow_the_province_row_when_the_fund_has_too_few():
    fund = np.zeros((6, 6), dtype=np.int64)
    fund[0, :2] = [40, 5]  # 45 observations: enough
    fund[1, :3] = [3, 10, 2]  # 15: too few
    province = fund.copy()
    province[1, :3] = [30, 50, 20]
    roll = rollrates.estimate(fund, province, min_observations=30)
    assert roll.sources[:3] == ("fund", "province", "prior")
    np.testing.assert_allclose(roll.matrix[0], [40 / 45, 5 / 45, 0, 0, 0, 0])
    np.testing.assert_allclose(roll.matrix[1], [0.3, 0.5, 0.2, 0, 0, 0])
    assert list(roll.observations[:2]) == [45, 100]
    np.testing.assert_allclose(roll.matrix.sum(axis=1), 1)


def test_roll_rates_times_k_move_only_toward_worse_classes():
    stressed = rollrates.stressed(rollrates.PRIOR_ROWS, 2)
    np.testing.assert_allclose(stressed[0], [0.955, 0.03, 0.01, 0, 0, 0.005])
    np.testing.assert_allclose(stressed.sum(axis=1), 1)
    capped = rollrates.stressed(rollrates.PRIOR_ROWS, 20)  # more than there is to move
    assert capped[1, 1] == 0 and capped[1, 0] == rollrates.PRIOR_ROWS[1, 0]
    np.testing.assert_allclose(capped.sum(axis=1), 1)


def test_summary_answers():
    """Three kinds of path, ten of each, from a balance of 35: paying 10 a month (ends at 5),
    50 in the last month (ends at −15), nothing. The median path stays above zero; the P95
    one goes below in the third month; keeping 95 % of paths non-negative needs 15 more."""
    paid = np.array([[10.0, 10, 10], [0, 0, 50], [0, 0, 0]] * 10)
    s = sim.summarise(paid, np.zeros_like(paid), balance=35.0)
    assert s.first_below_zero[50] is None
    assert s.first_below_zero[95] == 2 and s.first_below_zero[99] == 2
    assert s.top_up[95] == pytest.approx(15.0) and s.top_up[99] == pytest.approx(15.0)
    np.testing.assert_allclose(s.balance[50], [35, 35, 5])
    np.testing.assert_allclose(s.mean_claims, [10 / 3, 10 / 3, 20])
