"""The forecast's arithmetic: a Monte Carlo over loans and the analytical expectation.

Each loan below its fund's claim trigger first meets the trigger in some month, or never
within the horizon, with the probabilities the roll rates give (`rollrates.first_passage`:
powers of the matrix); it cannot default after it matures (it is repaid then). So a path
needs one draw per loan — its month of default — not a state per loan per month: 10,000
paths × 100,000 loans is 10⁹ draws, not 2.4 × 10¹⁰ state updates, and no paths × loans
array is ever held (one path's draws at a time, summed into claims per month on the fly).

How one draw becomes a month, exactly: a 16-bit uniform u is compared with the loan's
cumulative default curve at maturity; only below it is the loan looked at further. A table
per cohort (loans sharing a curve) maps each of 4,096 bins of u to its month of payment (month
of default + the claim lag) when the whole bin falls in one month — 4 KiB a cohort, so the
look-ups stay in the processor's cache; the few bins that straddle a month boundary (well
under 1 % of draws) are resolved exactly from u and a second, 53-bit uniform inside it.

A loan that defaults is paid its claim — what `compute_claim` pays for it alone (claims.py) —
`lag` months later, if that is inside the horizon and the fund's run-off. The caps that
depend on earlier claims are applied to each path's monthly totals: per-enterprise payment
rooms (only enterprises whose loans could exceed them are tracked) and the fund's annual cap
per calendar year of payment. Recoveries come back at the fund's rate after its delay.

Stress "X % of performing loans default within N months" is a mixture: each loan below the
trigger is hit with probability X % and then defaults in a month drawn uniformly within the
first N months (or before it matures, if sooner); otherwise it follows the roll rates.
Amounts are fen held in float64: sums of integer fen stay exact below 2⁵³ fen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

U16 = 65_536
TABLE_BITS = 12  # table bins per cohort: 2**12, addressed by the top bits of the 16-bit draw
BINS, SHIFT = 1 << TABLE_BITS, 16 - TABLE_BITS
AMBIGUOUS, DROPPED = 255, 254
CELLS_PER_STEP = 1 << 16  # loans × paths drawn at once for a small book (a big one: one path)
NO_CAP = -1.0


@dataclass(frozen=True)
class Cohort:
    """Loans that share a default curve: same roll rates, trigger and starting class."""

    cumulative: np.ndarray  # (H,) P(first meets the trigger by the end of month t)
    alive: np.ndarray  # (H,) P(below the trigger and not settled at the end of month t)
    lag: int  # months from the trigger to the payment of the claim
    cut: int  # payments only in month indexes < cut (the horizon, or the end of the run-off)


@dataclass(frozen=True)
class Loans:
    """The loans the simulation draws for (below the trigger at the start), one row each."""

    amount: np.ndarray  # float64 fen: the loan's claim on its own (claims.claims_at_default)
    covered: np.ndarray  # float64 fen: covered outstanding
    exposure: np.ndarray  # float64 fen: covered outstanding × fund share
    cohort: np.ndarray  # int
    maturity: np.ndarray  # int, months until it matures (1..H): defaults only up to then
    group: np.ndarray  # int, 0 or the enterprise group whose cumulative cap can bite (1..G)
    shock: np.ndarray  # int, X × 65,536: the probability of a stress default (0: none)
    window: np.ndarray  # int ≥ 1, months within which a stress default falls

    def __len__(self) -> int:
        return len(self.amount)

    def take(self, keep: np.ndarray) -> Loans:
        return Loans(**{name: getattr(self, name)[keep] for name in self.__dataclass_fields__})


@dataclass(frozen=True)
class Fixed:
    """What every path shares: claims already due or certain (open claims, loans past the
    trigger, forced defaults), recoveries expected on past payouts, and the book of those loans."""

    claims: np.ndarray  # (H,) fen
    group_claims: np.ndarray  # (G, H) fen: the part of `claims` of each capped enterprise group
    recoveries: np.ndarray  # (H,) fen
    covered: np.ndarray  # (H,) fen in cover at the end of each month
    exposure: np.ndarray  # (H,) fen
    new_npl_count: np.ndarray  # (H,)
    new_npl_covered: np.ndarray  # (H,) fen


@dataclass(frozen=True)
class Caps:
    group_rooms: np.ndarray  # (G,) fen: each capped enterprise group's payment room
    year_of_month: np.ndarray  # (H,) calendar year of each payment month
    year_rooms: dict[int, float] = field(default_factory=dict)  # fen; a year not there: no cap


def tables(cohorts: list[Cohort], months: int) -> np.ndarray:
    """(C × BINS) uint8: for each cohort and bin of the draw, the month index of payment,
    DROPPED (no payment in the horizon) or AMBIGUOUS (the bin straddles a month boundary)."""
    lo = np.arange(BINS) / BINS
    hi = (np.arange(BINS) + 1) / BINS
    out = np.empty((len(cohorts), BINS), dtype=np.uint8)
    for c, cohort in enumerate(cohorts):
        month = np.searchsorted(cohort.cumulative, lo, side="right")  # months passed below lo
        straddles = month != np.searchsorted(cohort.cumulative, hi, side="left")
        pay = month + cohort.lag
        code = np.where((month >= months) | (pay >= min(cohort.cut, months)), DROPPED, pay)
        code[straddles] = AMBIGUOUS
        out[c] = code
    return out.reshape(-1)


def thresholds(loans: Loans, cohorts: list[Cohort]) -> np.ndarray:
    """Per loan, the last 16-bit bin with any part below its curve at maturity (−1: none)."""
    curves = np.stack([c.cumulative for c in cohorts]) if cohorts else np.zeros((0, 1))
    at_maturity = curves[loans.cohort, loans.maturity - 1] if len(loans) else np.zeros(0)
    return np.clip(np.ceil(at_maturity * U16) - 1, -1, U16 - 1).astype(np.int64)


def monte_carlo(
    loans: Loans, cohorts: list[Cohort], fixed: Fixed, caps: Caps, *, months: int, paths: int, seed: int
) -> np.ndarray:
    """(paths, months) claims paid, fen, after the cumulative caps. Same seed, same figures.

    Random bits come from SFC64 (NumPy's fastest generator, which passes the standard
    statistical test batteries), seeded with `seed`."""
    rng = np.random.Generator(np.random.SFC64(seed))
    bits = rng.bit_generator
    k = thresholds(loans, cohorts)
    shocked = loans.shock > 0
    # Loans that can default by the roll rates first (a prefix the fast path compares), then
    # those only a stress default can reach; the rest cannot default in the horizon.
    # (by cohort within each part, so that a path's look-ups walk one cohort's table at a time).
    base, extra = np.flatnonzero(k >= 0), np.flatnonzero((k < 0) & shocked)
    order = np.r_[base[np.argsort(loans.cohort[base], kind="stable")], extra]
    loans, k = loans.take(order), k[order]
    n, n_base = len(loans), int((k >= 0).sum())
    groups = len(caps.group_rooms)
    width = (groups + 1) * 256
    paid = np.zeros((paths, months))
    if n:
        table = tables(cohorts, months)
        offset = (loans.cohort * BINS).astype(np.int32)
        limit16 = np.clip(k, 0, U16 - 1).astype(np.uint16)[:n_base]
        limit32 = k.astype(np.int32)
        gslot = loans.group.astype(np.int64) * 256
        curves = np.stack([c.cumulative for c in cohorts])
        lags = np.array([c.lag for c in cohorts])
        cuts = np.array([min(c.cut, months) for c in cohorts])
        any_shock = bool(loans.shock.any())
        shock = loans.shock.astype(np.int64)
        window = loans.window.astype(np.int64)
        batch = max(1, CELLS_PER_STEP // n)
        take = np.take
        # Draws that straddle a month boundary, resolved together at the end (when no group
        # cap needs each path complete at once): path, loan, 16-bit draw.
        later: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

        def words(cells: int) -> np.ndarray:
            return bits.random_raw((cells + 3) // 4).view(np.uint16)[:cells]

        for first in range(0, paths, batch):
            b = min(batch, paths - first)
            u = words(b * n)
            if b == 1:
                hit = u[:n_base] <= limit16
            else:
                hit = (u.reshape(b, n) <= limit32).reshape(-1)
            if any_shock:
                v = words(b * n)
                struck = v < np.tile(shock, b)
                hit = hit & ~struck[: len(hit)] if b == 1 else hit & ~struck
            f = np.flatnonzero(hit)
            row, i = np.divmod(f, n) if b > 1 else (None, f)
            uf = take(u, f)
            idx = take(offset, i)
            idx += uf >> SHIFT
            code = take(table, idx)
            amb = np.flatnonzero(code == AMBIGUOUS)
            if len(amb):
                if groups:
                    code[amb] = _resolve(i[amb], uf[amb], loans, curves, lags, cuts, rng, months)
                else:
                    at = np.full(len(amb), first) if row is None else first + row[amb]
                    later.append((at, i[amb], uf[amb]))
                    code[amb] = DROPPED
            weights = take(loans.amount, i)
            if groups or row is not None or any_shock:
                slot = code.astype(np.int64)
                if groups:
                    slot += take(gslot, i)
                if row is not None:
                    slot += row * width
                if any_shock:
                    fs = np.flatnonzero(struck)
                    srow, si = np.divmod(fs, n) if b > 1 else (None, fs)
                    month = (v[fs].astype(np.int64) * window[si]) // shock[si]
                    pay = month + lags[loans.cohort[si]]
                    extra = np.where(pay < cuts[loans.cohort[si]], pay, DROPPED) + gslot[si]
                    if srow is not None:
                        extra += srow * width
                    slot = np.concatenate([slot, extra])
                    weights = np.concatenate([weights, loans.amount[si]])
            else:
                slot = code
            sums = np.bincount(slot, weights=weights, minlength=b * width).reshape(b, groups + 1, 256)
            paid[first : first + b] = sums[:, 0, :months]
            if groups:
                paid[first : first + b] += _group_capped(
                    sums[:, 1:, :months] + fixed.group_claims, caps.group_rooms
                )
        if later:
            at, loan, draw = (np.concatenate(parts) for parts in zip(*later, strict=True))
            del later
            for start in range(0, len(at), CELLS_PER_STEP):
                part = slice(start, start + CELLS_PER_STEP)
                pay = _resolve(loan[part], draw[part], loans, curves, lags, cuts, rng, months)
                ok = pay != DROPPED
                np.add.at(paid, (at[part][ok], pay[ok].astype(np.int64)), loans.amount[loan[part][ok]])
    elif groups:
        paid += _group_capped(fixed.group_claims[None], caps.group_rooms)
    paid += fixed.claims - (fixed.group_claims.sum(axis=0) if groups else 0.0)
    return year_capped(paid, caps)


def _resolve(loan, draw, loans: Loans, curves, lags, cuts, rng, months) -> np.ndarray:
    """The exact month of payment for draws whose bin straddles a month boundary: the draw's
    16 bits and a 53-bit uniform inside them place it on the loan's curve."""
    c = loans.cohort[loan]
    x = (draw + rng.random(len(loan))) / U16
    month = (curves[c] <= x[:, None]).sum(axis=1)
    pay = month + lags[c]
    ok = (month < loans.maturity[loan]) & (month < months) & (pay < cuts[c])
    return np.where(ok, pay, DROPPED).astype(np.uint8)


def _group_capped(claims: np.ndarray, rooms: np.ndarray) -> np.ndarray:
    """(…, G, H) monthly claims of capped enterprise groups → the sum over groups, each
    group's running total held to its room (a cumulative cap, month after month)."""
    run = np.cumsum(claims, axis=-1)
    capped = np.minimum(run, rooms[:, None])
    monthly = np.diff(capped, axis=-1, prepend=0.0)
    return monthly.sum(axis=-2)


def year_capped(claims: np.ndarray, caps: Caps) -> np.ndarray:
    """Each path's monthly claims held to the fund's annual cap, per calendar year of payment."""
    out = claims.copy()
    for year, room in caps.year_rooms.items():
        cols = np.flatnonzero(caps.year_of_month == year)
        if not len(cols) or room == NO_CAP:
            continue
        run = np.cumsum(claims[:, cols], axis=1)
        out[:, cols] = np.diff(np.minimum(run, max(room, 0.0)), axis=1, prepend=0.0)
    return out


def recoveries(paid: np.ndarray, *, rate: float, delay: int, fixed: Fixed) -> np.ndarray:
    """Recoveries returned to the fund: `rate` of each month's payouts, `delay` months later,
    plus what is still expected on payouts made before the forecast."""
    out = np.zeros_like(paid)
    if delay < paid.shape[1]:
        out[:, delay:] = rate * paid[:, : paid.shape[1] - delay]
    return out + fixed.recoveries


# --- the analytical expectation ---------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    claims: np.ndarray  # (H,) fen, before the cumulative caps
    new_npl_count: np.ndarray  # (H,)
    new_npl_covered: np.ndarray  # (H,) fen
    covered: np.ndarray  # (H,) fen in cover at the end of each month
    exposure: np.ndarray  # (H,) fen
    default_probability: np.ndarray  # per loan: P(meets the trigger within the horizon)
    paid_probability: np.ndarray  # per loan: P(its claim is paid within the horizon)


def shock_pmf(shock: int, window: int, months: int) -> np.ndarray:
    """P(stress default in month index j | hit) as the draw makes it: (v × N) // X for v
    uniform over 0..X−1 (exactly uniform when N divides X, within 1/X otherwise)."""
    j = np.arange(months + 1)
    edges = -((-j * shock) // window)  # ceil(j × X / N)
    counts = np.diff(np.minimum(edges, shock))
    return counts / shock


def analytical(loans: Loans, cohorts: list[Cohort], fixed: Fixed, *, months: int) -> Expected:
    """Expected claims per month by matrix powers (the cohorts' curves), before the
    cumulative caps (a cap on a sum is not linear; the Monte Carlo applies them)."""
    n, h = len(loans), months
    t = np.arange(h)
    claims = fixed.claims.astype(float).copy()
    count = fixed.new_npl_count.astype(float).copy()
    npl = fixed.new_npl_covered.astype(float).copy()
    covered = fixed.covered.astype(float).copy()
    exposure = fixed.exposure.astype(float).copy()
    p_default = np.zeros(n)
    p_paid = np.zeros(n)
    x = loans.shock / U16
    for c, cohort in enumerate(cohorts):
        mine = np.flatnonzero(loans.cohort == c)
        if not len(mine):
            continue
        pmf = np.diff(cohort.cumulative, prepend=0.0)  # (H,)
        before = t[None, :] < loans.maturity[mine, None]  # (n_c, H): month may still default
        d = (1 - x[mine, None]) * pmf[None, :] * before  # P(default in month j), baseline
        alive = (1 - x[mine, None]) * cohort.alive[None, :] * before
        hit = loans.shock[mine] > 0
        if hit.any():
            keys = np.stack([loans.shock[mine][hit], loans.window[mine][hit]], axis=1)
            combos, which = np.unique(keys, axis=0, return_inverse=True)
            pmfs = np.stack([shock_pmf(int(xs), int(w), h) for xs, w in combos])[which.reshape(-1)]
            d[hit] += x[mine][hit, None] * pmfs
            alive[hit] += x[mine][hit, None] * (1 - np.cumsum(pmfs, axis=1))
        pay_ok = (t + cohort.lag) < min(cohort.cut, h)
        paid = d * pay_ok[None, :]
        p_default[mine] = d.sum(axis=1)
        p_paid[mine] = paid.sum(axis=1)
        shifted = np.zeros((len(mine), h))
        if cohort.lag < h:
            shifted[:, cohort.lag :] = paid[:, : h - cohort.lag]
        claims += loans.amount[mine] @ shifted
        count += d.sum(axis=0)
        npl += loans.covered[mine] @ d
        # In cover: below the trigger and not matured, or triggered and not yet compensated.
        waiting = np.cumsum(d, axis=1) - np.cumsum(shifted, axis=1)
        covered += loans.covered[mine] @ (alive + waiting)
        exposure += loans.exposure[mine] @ (alive + waiting)
    return Expected(
        claims=claims,
        new_npl_count=count,
        new_npl_covered=npl,
        covered=covered,
        exposure=exposure,
        default_probability=p_default,
        paid_probability=p_paid,
    )


# --- what the paths say -------------------------------------------------------------------------

PERCENTILES = (50, 95, 99)


@dataclass(frozen=True)
class Summary:
    mean_claims: np.ndarray  # (H,) fen
    claims: dict[int, np.ndarray]  # percentile → (H,) monthly claims at that percentile
    balance: dict[int, np.ndarray]  # percentile → (H,) balance (the adverse side: P95 = 5 % of paths worse)
    mean_balance: np.ndarray
    first_below_zero: dict[int, int | None]  # percentile → month index, or None
    top_up: dict[int, float]  # percentile → fen to keep that share of paths non-negative throughout
    mean_recoveries: np.ndarray


def summarise(paid: np.ndarray, returned: np.ndarray, *, balance: float) -> Summary:
    net = np.cumsum(paid - returned, axis=1)
    path_balance = balance - net
    worst = np.maximum(0.0, -path_balance.min(axis=1))
    levels = {p: balance - np.percentile(net, p, axis=0) for p in PERCENTILES}
    first = {}
    for p, series in levels.items():
        below = np.flatnonzero(series < -0.5)  # below zero by at least half a fen
        first[p] = int(below[0]) if len(below) else None
    return Summary(
        mean_claims=paid.mean(axis=0),
        claims={p: np.percentile(paid, p, axis=0) for p in PERCENTILES},
        balance=levels,
        mean_balance=path_balance.mean(axis=0),
        first_below_zero=first,
        top_up={p: float(np.percentile(worst, p)) for p in (95, 99)},
        mean_recoveries=returned.mean(axis=0),
    )
