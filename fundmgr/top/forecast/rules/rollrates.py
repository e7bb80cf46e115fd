"""Roll rates: the month-to-month transition matrix between risk classes, and what it says
about when a loan first meets its fund's claim trigger.

States, in order: the five-tier risk classes of the banks' monthly reports (normal, special
mention, substandard, doubtful, loss) and settled (repaid). A transition is counted from two
consecutive current month-end reports of the same loan (month m → month m + 1), and X →
settled when a loan's last report is for month m and it was settled in month m + 1.

A fund's row with fewer than `MIN_ROW_OBSERVATIONS` transitions out of a state borrows the
province's row (all funds together), and says so; when the province has too few as well, the
row is `PRIOR_ROWS` (a stated assumption, shown as such). Pure NumPy, no database.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext_lazy as _

from loans.models import RISK_ORDER, LoanStatus

STATES = (*(c.value for c in RISK_ORDER), LoanStatus.SETTLED.value)
STATE_LABELS = (*(c.label for c in RISK_ORDER), LoanStatus.SETTLED.label)  # lazy: str() them to show
NORMAL, SPECIAL_MENTION, SUBSTANDARD, DOUBTFUL, LOSS, SETTLED = range(6)
N_STATES = len(STATES)
STATE_INDEX = {name: i for i, name in enumerate(STATES)}

# A fund's row needs at least this many observed transitions out of the state; fewer and the
# province's row is used instead (documented in the forecast's notes).
MIN_ROW_OBSERVATIONS = 30

# The rows used when neither the fund nor the province has enough history (a new system): a
# stated assumption in the spirit of SME loan books (about 2–3 % of normal loans a year reach
# substandard), never presented as observed. Each row sums to 1.
PRIOR_ROWS = np.array(
    [
        [0.9750, 0.0150, 0.0050, 0.0000, 0.0000, 0.0050],
        [0.2500, 0.5500, 0.1500, 0.0300, 0.0100, 0.0100],
        [0.0500, 0.0500, 0.6000, 0.2000, 0.1000, 0.0000],
        [0.0000, 0.0000, 0.0500, 0.6500, 0.3000, 0.0000],
        [0.0000, 0.0000, 0.0000, 0.0000, 1.0000, 0.0000],
        [0.0000, 0.0000, 0.0000, 0.0000, 0.0000, 1.0000],
    ]
)

FUND, PROVINCE, PRIOR = "fund", "province", "prior"
SOURCE_LABELS = {FUND: _("本资金历史"), PROVINCE: _("全省历史"), PRIOR: _("默认假设（历史不足）")}


@dataclass(frozen=True)
class RollRates:
    """A row-stochastic matrix with, per row, the counts it came from and where it came from."""

    matrix: np.ndarray  # (6, 6) float64, rows sum to 1
    counts: np.ndarray  # (6, 6) int64: the transitions behind each row (the fund's or the province's)
    sources: tuple[str, ...]  # per row: FUND, PROVINCE or PRIOR

    @property
    def observations(self) -> np.ndarray:
        return self.counts.sum(axis=1)


def transition_counts(pairs: np.ndarray) -> np.ndarray:
    """(6, 6) counts from an (n, 2) array of (from, to) state indexes."""
    counts = np.zeros((N_STATES, N_STATES), dtype=np.int64)
    if len(pairs):
        np.add.at(counts, (pairs[:, 0], pairs[:, 1]), 1)
    return counts


def estimate(
    fund_counts: np.ndarray, province_counts: np.ndarray, *, min_observations: int = MIN_ROW_OBSERVATIONS
) -> RollRates:
    """The fund's roll rates: each row from the fund's own transitions when it has at least
    `min_observations` of them, else the province's, else the prior. Settled stays settled."""
    matrix = np.zeros((N_STATES, N_STATES))
    counts = np.zeros((N_STATES, N_STATES), dtype=np.int64)
    sources = []
    for row in range(N_STATES):
        if row == SETTLED:
            matrix[row, SETTLED] = 1.0
            sources.append(FUND)
            continue
        for source, table in ((FUND, fund_counts), (PROVINCE, province_counts)):
            n = int(table[row].sum())
            if n >= min_observations:
                matrix[row] = table[row] / n
                counts[row] = table[row]
                sources.append(source)
                break
        else:
            matrix[row] = PRIOR_ROWS[row]
            counts[row] = province_counts[row]
            sources.append(PRIOR)
    return RollRates(matrix=matrix, counts=counts, sources=tuple(sources))


def stressed(matrix: np.ndarray, multiplier: float) -> np.ndarray:
    """Roll rates × k: every transition to a worse risk class is multiplied by k; the loan
    stays where it is with what is left (better classes and settlement unchanged). When the
    worse transitions would exceed what is available they are scaled down to take it all."""
    if multiplier == 1:
        return matrix.copy()
    out = matrix.copy()
    for row in range(LOSS):
        worse = out[row, row + 1 : SETTLED] * multiplier
        room = out[row, row] + matrix[row, row + 1 : SETTLED].sum()  # staying + the worse moves
        if worse.sum() > room:
            worse *= room / worse.sum()
        out[row, row + 1 : SETTLED] = worse
        out[row, row] = room - worse.sum()
    return out


def trigger_rank(risk_class_trigger: str) -> int:
    """The first risk class that meets a policy's claim trigger. A trigger on days overdue
    only counts as substandard: a loan over 90 days overdue is at least substandard under the
    NFRA/PBOC classification rules (domain-rules §8.1)."""
    return STATE_INDEX.get(risk_class_trigger or "substandard", SUBSTANDARD)


@dataclass(frozen=True)
class FirstPassage:
    """From each state below the trigger, the probability of first meeting the trigger in
    month t (t = 1..H), and of still being a live, untriggered loan at the end of month t —
    by powers of the transient block of the matrix."""

    trigger: int
    default: np.ndarray  # (trigger, H): P(first reaches the trigger in month t | start state)
    alive: np.ndarray  # (trigger, H): P(live, not triggered, not settled at the end of month t)

    @property
    def cumulative(self) -> np.ndarray:
        return np.cumsum(self.default, axis=1)


def first_passage(matrix: np.ndarray, trigger: int, months: int) -> FirstPassage:
    transient = slice(0, trigger)
    q = matrix[transient, transient]
    to_trigger = matrix[transient, trigger:SETTLED].sum(axis=1)
    v = np.eye(trigger)
    default = np.zeros((trigger, months))
    alive = np.zeros((trigger, months))
    for t in range(months):
        default[:, t] = v @ to_trigger
        v = v @ q
        alive[:, t] = v.sum(axis=1)
    return FirstPassage(trigger=trigger, default=default, alive=alive)
