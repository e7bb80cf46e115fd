"""Will the fund last? The default forecast and stress tests of one fund (`forecast_run`),
and the P95 figures every monthly fund report carries (`forecast_monthly_sections`).

The forecast reads the fund's live book (selectors), estimates its roll rates (rules.rollrates:
the fund's own history, rows with too little borrowed from the province), computes each loan's
claim with the claim rule itself (rules.claims: `loans.rules.claims.compute_claim`, once per
loan), and runs the Monte Carlo and the analytical expectation (rules.simulation). Months are
calendar months: month 1 is the current one (its payouts are still to come), its balance the
ledger's today.

What it assumes, each said in the result's notes when it applies:
- a loan below the trigger moves by the roll rates and is repaid at maturity (bullet
  repayment: the principal outstanding today is what is lost if it defaults);
- a loan that meets the trigger is claimed inside the claim window and paid `lag` months after
  the trigger (the fund's own paid claims say how long that takes, else the province's, else
  DEFAULT_CLAIM_LAG_DAYS); a loan past the trigger whose window has closed is not claimed;
  claims are paid only until the fund's run-off ends;
- open claims are paid next at their approved (else claimable) amount;
- the fund gets back `rate` of each payout `delay` months later (its own recoveries, else the
  province's, else DEFAULT_RECOVERY_RATE after DEFAULT_RECOVERY_DELAY_MONTHS);
- every cap of the rule applies except the fund balance (the question is how far below zero it
  would go) and banks' reserve-deposit limits (not modelled). Each loan's own claim is exact
  (the rule, with its enterprise's rooms as the paid claims left them); where several claims
  share a room the Monte Carlo holds their monthly sum to it: exact for payment rooms (a
  cumulative cap on a sum is the sum of the claims capped one after the other), approximate
  for an enterprise's principal room, which is turned into a payment room at the highest
  share among its loans; the annual cap is held per calendar year of payment. The analytical
  expectation applies no cumulative cap.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from django.db import transaction
from django.utils.translation import gettext as _

from banks.models import Institution
from enterprises.models import Enterprise
from fundmgr.ground.accounts.principals import Principal
from fundmgr.ground.funds.models import Fund, PolicyVersion
from fundmgr.ground.funds.selectors import fund_get
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.errors import AppError, CommonError, Forbidden
from fundmgr.ground.lib.money import HUNDRED, ZERO, quantize
from fundmgr.ground.lib.regions import region_name
from loans.models import ClaimStatus, LoanStatus

from . import selectors
from .errors import ForecastError
from .models import MAX_DEFAULT_WITHIN_MONTHS, MAX_LARGEST_ENTERPRISES, MAX_ROLL_MULTIPLIER, StressScenario
from .rules import claims as claim_rules
from .rules import rollrates
from .rules import simulation as sim

DEFAULT_MONTHS, MIN_MONTHS, MAX_MONTHS = 24, 12, 36
DEFAULT_PATHS, MIN_PATHS, MAX_PATHS = 2_000, 100, 10_000
# The seed when none is given: the same request gives the same figures, today and tomorrow.
DEFAULT_SEED = 20_261_121
MONTHLY_REPORT_PATHS = 1_000  # the monthly report's figures: every fund, every month
# A fund's own paid claims are used for its claim lag and recovery rate from this many on.
MIN_PAID_CLAIMS = 5
DEFAULT_CLAIM_LAG_DAYS = 75  # filing ~30 days after the trigger, then review and payment ~45
DEFAULT_RECOVERY_RATE = Decimal("0.10")
DEFAULT_RECOVERY_DELAY_MONTHS = 12
TOP_N = 10
DAYS_PER_MONTH = 30.44

PERCENTILE_LABELS = {50: "P50", 95: "P95", 99: "P99"}


# --- scenarios ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """What the forecast is asked to assume on top of the roll rates (nothing: the baseline)."""

    name: str = ""
    default_rate: Decimal | None = None  # percent of the loans below the trigger
    default_within: int | None = None  # months
    roll_multiplier: Decimal | None = None
    largest_enterprises: int | None = None
    institution_id: int | None = None
    institution_name: str = ""
    saved_id: int | None = None

    @property
    def is_baseline(self) -> bool:
        stresses = (self.default_rate, self.roll_multiplier, self.largest_enterprises, self.institution_id)
        return all(value is None for value in stresses)

    def lines(self) -> list[str]:
        """Each stress in words, in the active language."""
        out = []
        if self.default_rate is not None:
            out.append(
                _("%(rate)s%% 的未触发贷款在 %(months)s 个月内违约")
                % {"rate": _plain(self.default_rate), "months": self.default_within}
            )
        if self.roll_multiplier is not None:
            out.append(_("向更差分类的迁徙率 × %(k)s") % {"k": _plain(self.roll_multiplier)})
        if self.largest_enterprises is not None:
            out.append(_("在保余额最大的 %(n)s 户企业立即违约") % {"n": self.largest_enterprises})
        if self.institution_id is not None:
            out.append(
                _("%(institution)s在本资金的全部在保贷款立即违约")
                % {"institution": self.institution_name or _("所选机构")}
            )
        return out

    def label(self) -> str:
        if self.is_baseline:
            return _("基准预测（按历史迁徙率）")
        return self.name or _("；").join(self.lines())

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name or None,
            "saved_id": self.saved_id,
            "baseline": self.is_baseline,
            "description": self.label(),
            "default_rate": None if self.default_rate is None else f"{self.default_rate:.2f}",
            "default_within": self.default_within,
            "roll_multiplier": None if self.roll_multiplier is None else f"{self.roll_multiplier:.2f}",
            "largest_enterprises": self.largest_enterprises,
            "institution": self.institution_id and self.institution_name,
        }


BASELINE = Scenario()


def _plain(value: Decimal) -> str:
    """25.00 → 25, 2.50 → 2.5: as people write a percentage or a multiple."""
    return f"{value.normalize():f}"


def _invalid(message: str, field: str | None) -> AppError:
    return AppError(ForecastError.SCENARIO_INVALID, message, field=field, status=400)


def scenario_check(
    *,
    fund: Fund,
    default_rate: Decimal | None,
    default_within: int | None,
    roll_multiplier: Decimal | None,
    largest_enterprises: int | None,
    institution_id: int | None,
) -> None:
    """The rules of a stress, for the admin form and the API alike (400 scenario_invalid)."""
    if (default_rate is None) != (default_within is None):
        raise _invalid(
            _("集中违约比例与期限须同时填写"), "default_within" if default_within is None else "default_rate"
        )
    if default_rate is not None and not (Decimal("0") < default_rate <= HUNDRED):
        raise _invalid(_("集中违约比例应大于 0 且不超过 100"), "default_rate")
    if default_within is not None and not 1 <= default_within <= MAX_DEFAULT_WITHIN_MONTHS:
        raise _invalid(
            _("集中违约期限应为 1 至 %(max)s 个月") % {"max": MAX_DEFAULT_WITHIN_MONTHS}, "default_within"
        )
    if roll_multiplier is not None and not (Decimal("0") < roll_multiplier <= MAX_ROLL_MULTIPLIER):
        raise _invalid(
            _("迁徙率倍数应大于 0 且不超过 %(max)s") % {"max": MAX_ROLL_MULTIPLIER}, "roll_multiplier"
        )
    if largest_enterprises is not None and not 1 <= largest_enterprises <= MAX_LARGEST_ENTERPRISES:
        raise _invalid(
            _("最大企业户数应为 1 至 %(max)s") % {"max": MAX_LARGEST_ENTERPRISES}, "largest_enterprises"
        )
    if institution_id is not None and not selectors.cooperating(fund=fund, institution_id=institution_id):
        raise _not_in_fund()


def _not_in_fund() -> AppError:
    return AppError(
        ForecastError.SCENARIO_INSTITUTION_NOT_IN_FUND,
        _("该机构与本资金没有合作协议"),
        field="institution",
        status=400,
    )


def scenario_build(
    *,
    fund: Fund,
    saved: str | None = None,
    default_rate: Decimal | None = None,
    default_within: int | None = None,
    roll_multiplier: Decimal | None = None,
    largest_enterprises: int | None = None,
    institution_code: str | None = None,
) -> Scenario:
    """A saved scenario of the fund (by id or name), with any part given here on top of it."""
    base: StressScenario | None = None
    if saved:
        qs = StressScenario.objects.filter(fund=fund).select_related("institution")
        base = (qs.filter(pk=int(saved)).first() if saved.isdigit() else None) or qs.filter(
            name=saved
        ).first()
        if base is None:
            raise AppError(
                ForecastError.SCENARIO_NOT_FOUND, _("本资金没有该压力情景"), field="scenario", status=400
            )
    institution = base.institution if base else None
    if institution_code:
        institution = Institution.objects.filter(code=institution_code).first()
        if institution is None:
            raise _not_in_fund()

    def pick(value, attr):
        return value if value is not None else (getattr(base, attr) if base else None)

    values = {
        "default_rate": pick(default_rate, "default_rate"),
        "default_within": pick(default_within, "default_within"),
        "roll_multiplier": pick(roll_multiplier, "roll_multiplier"),
        "largest_enterprises": pick(largest_enterprises, "largest_enterprises"),
        "institution_id": institution.pk if institution else None,
    }
    scenario_check(fund=fund, **values)
    return Scenario(
        name=base.name if base else "",
        saved_id=base.pk if base else None,
        institution_name=institution.name if institution else "",
        **values,
    )


# Who may save, change and delete a fund's named scenarios: the role's permissions, declared
# with every other role's in fundmgr.ground.accounts.backends (the admin asks the same).
SCENARIO_PERMISSIONS = (
    "forecast.add_stressscenario",
    "forecast.change_stressscenario",
    "forecast.delete_stressscenario",
)


def may_edit_scenarios(principal: Principal) -> bool:
    """The manager's staff whose role may; never a regulator or a bank."""
    return principal.is_staff_member and principal.user.has_perms(SCENARIO_PERMISSIONS)


def _require_scenario_editor(principal: Principal) -> None:
    if not may_edit_scenarios(principal):
        raise Forbidden(CommonError.PERMISSION_DENIED, _("无权保存、修改或删除压力情景"))


def scenario_save(*, principal: Principal, scenario: StressScenario) -> StressScenario:
    """Save a fund's named stress scenario, new or changed: staff whose role may (else 403
    permission_denied), a stress that says something and keeps the rules of a stress (else 400
    scenario_invalid, scenario_institution_not_in_fund). A new one records who made it."""
    _require_scenario_editor(principal)
    stress = {
        "default_rate": scenario.default_rate,
        "default_within": scenario.default_within,
        "roll_multiplier": scenario.roll_multiplier,
        "largest_enterprises": scenario.largest_enterprises,
        "institution_id": scenario.institution_id,
    }
    if all(value is None for value in stress.values()):
        raise _invalid(_("请至少设置一项压力条件"), None)
    scenario_check(fund=scenario.fund, **stress)
    if scenario.pk is None:
        scenario.created_by = principal.user
    with transaction.atomic():
        scenario.save()
    return scenario


def scenario_delete(*, principal: Principal, scenario: StressScenario) -> None:
    """Delete a fund's named stress scenario: staff whose role may (else 403)."""
    _require_scenario_editor(principal)
    with transaction.atomic():
        scenario.delete()


# --- the result ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollRow:
    state: str
    label: str
    rates: list[Decimal]  # percent, to settled last
    counts: list[int]
    observations: int
    source: str
    source_label: str


@dataclass(frozen=True)
class MonthRow:
    month: str  # YYYY-MM
    expected_new_npl: Decimal  # loans (expected count, two places)
    expected_new_npl_amount: Decimal  # covered outstanding reaching the trigger
    expected_claims: Decimal
    mean_claims: Decimal  # Monte Carlo mean, after the cumulative caps
    claims_p95: Decimal
    expected_recoveries: Decimal
    expected_balance: Decimal
    balance_p50: Decimal
    balance_p95: Decimal
    balance_p99: Decimal
    covered_outstanding: Decimal  # expected, loans still in cover at the month's end
    exposure: Decimal
    leverage: Decimal | None  # expected covered outstanding ÷ capital


@dataclass(frozen=True)
class ConcentrationRow:
    key: str
    name: str
    loans: int
    covered_outstanding: Decimal
    expected_loss: Decimal
    share: Decimal  # percent of the fund's expected loss


@dataclass(frozen=True)
class ForecastResult:
    fund_code: str
    fund_name: str
    as_of: dt.date
    months: int
    paths: int
    seed: int
    scenario: Scenario
    balance: Decimal
    capital: Decimal
    covered_outstanding: Decimal
    exposure: Decimal
    book: dict[str, int]
    assumptions: dict[str, Any]
    roll_rates: list[RollRow]  # the fund's, as used (rows borrowed from the province say so)
    province_roll_rates: list[RollRow]  # every fund's history together
    rows: list[MonthRow]
    first_below_zero: dict[str, str | None]  # P50/P95/P99 → month or None (never in the horizon)
    top_up: dict[str, Decimal]  # P95/P99 → what keeps the balance non-negative throughout
    expected_claims_total: Decimal
    claims_total: dict[str, Decimal]  # P50/P95/P99 of the claims paid over the horizon
    all_default_now: Decimal | None  # exact: every loan below the trigger claimed today
    concentration: dict[str, list[ConcentrationRow]]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def month_labels(self) -> list[str]:
        return [r.month for r in self.rows]


def _yuan(fen_value: float) -> Decimal:
    return claim_rules.yuan(float(fen_value))


def _month_label(today: dt.date, offset: int) -> str:
    m = today.month - 1 + offset
    return f"{today.year + m // 12:04d}-{m % 12 + 1:02d}"


def _year_of(today: dt.date, offset: int) -> int:
    return today.year + (today.month - 1 + offset) // 12


# --- reading the inputs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """Everything the forecasts of several funds read, in a fixed number of queries."""

    today: dt.date
    loans: selectors.LoanBook
    counts: dict[int, np.ndarray]
    triggers: dict[int, dt.date]
    claims: list[selectors.ClaimRow]
    ledgers: dict[int, selectors.Ledger]
    versions: dict[int, PolicyVersion]

    @property
    def province_counts(self) -> np.ndarray:
        total = np.zeros((6, 6), dtype=np.int64)
        for c in self.counts.values():
            total += c
        return total


def forecast_inputs(*, funds: Iterable[Fund], today: dt.date) -> Inputs:
    ids = [f.pk for f in funds]
    loans = selectors.live_loans(fund_ids=ids, today=today)
    npl = loans.id[loans.loan_status == LoanStatus.NON_PERFORMING].tolist()
    return Inputs(
        today=today,
        loans=loans,
        counts=selectors.transition_counts_kept(today=today),
        triggers=selectors.trigger_dates(filing_ids=npl, today=today),
        claims=selectors.claims(fund_ids=None),
        ledgers=selectors.ledgers(fund_ids=ids, today=today),
        versions=selectors.policies(fund_ids=ids),
    )


# --- estimates from the fund's claims -------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    value: float
    source: str  # fund | province | prior


def _mean_days(rows: list[selectors.ClaimRow]) -> float:
    return float(np.mean([(r.paid_on - r.trigger_date).days for r in rows]))


def claim_lag(claims: list[selectors.ClaimRow], fund_id: int) -> Estimate:
    """Months from the trigger to the payment, from paid claims."""
    paid = [r for r in claims if selectors.was_paid(r) and r.paid_on]
    mine = [r for r in paid if r.fund_id == fund_id]
    for rows, source in ((mine, rollrates.FUND), (paid, rollrates.PROVINCE)):
        if len(rows) >= MIN_PAID_CLAIMS:
            return Estimate(max(0.0, _mean_days(rows)) / DAYS_PER_MONTH, source)
    return Estimate(DEFAULT_CLAIM_LAG_DAYS / DAYS_PER_MONTH, rollrates.PRIOR)


def recovery_terms(claims: list[selectors.ClaimRow], fund_id: int) -> tuple[Estimate, Estimate]:
    """(rate, delay in months): the fund's part of recoveries ÷ what it paid, and the months
    from payment to the first recovery, from paid claims."""
    paid = [r for r in claims if selectors.was_paid(r) and r.paid_on and r.paid]
    mine = [r for r in paid if r.fund_id == fund_id]
    for rows, source in ((mine, rollrates.FUND), (paid, rollrates.PROVINCE)):
        if len(rows) >= MIN_PAID_CLAIMS:
            rate = float(sum(r.recovered for r in rows) / sum(r.paid for r in rows))
            delays = [(r.first_recovery - r.paid_on).days for r in rows if r.first_recovery]
            delay = (
                Estimate(float(np.mean(delays)) / DAYS_PER_MONTH, source)
                if delays
                else Estimate(DEFAULT_RECOVERY_DELAY_MONTHS, rollrates.PRIOR)
            )
            return Estimate(min(rate, 1.0), source), delay
    return (
        Estimate(float(DEFAULT_RECOVERY_RATE), rollrates.PRIOR),
        Estimate(DEFAULT_RECOVERY_DELAY_MONTHS, rollrates.PRIOR),
    )


# --- one fund's model ----------------------------------------------------------------------------

BELOW, PAST_TRIGGER, LAPSED, IN_CLAIM, FORCED = range(5)
# Paid claims on which recoveries may still come back to the fund.
RECOVERING = (ClaimStatus.PAID, ClaimStatus.IN_RECOVERY)


@dataclass
class _Model:
    """One fund's book turned into the simulation's inputs, and what the result needs besides."""

    months: int
    loans: sim.Loans
    cohorts: list[sim.Cohort]
    fixed: sim.Fixed
    caps: sim.Caps
    balance_fen: float
    rate: float
    delay: int
    book: selectors.LoanBook
    kind: np.ndarray
    amount: np.ndarray  # fen per loan (the claim under its own caps)
    below_index: np.ndarray  # rows of `book` that the simulation draws for, in order
    fixed_paid: np.ndarray  # per loan of book: fen paid within the horizon for sure (fixed claims)
    roll: rollrates.RollRates
    lag: Estimate
    rate_est: Estimate
    delay_est: Estimate
    cut: int
    run_off_end: dt.date | None
    policy: PolicyVersion
    notes: list[str]
    groups: int


def _policy_arrays(book: selectors.LoanBook, versions: dict[int, PolicyVersion], fallback: PolicyVersion):
    """Each loan's policy (frozen at acceptance, else the fund's in force), and a function
    giving one of its caps per loan in fen — looked up once per policy, not once per loan."""
    ids, which = np.unique(book.policy_id, return_inverse=True)
    distinct = [versions.get(int(pid)) or fallback for pid in ids]

    def per_loan(value) -> np.ndarray:
        return np.array([value(p) for p in distinct])[which.reshape(-1)] if len(ids) else np.zeros(0)

    def caps(attr: str) -> np.ndarray:
        return per_loan(lambda p: claim_rules.fen(getattr(p, attr))).astype(np.int64)

    return per_loan, caps


def _model(fund: Fund, inputs: Inputs, scenario: Scenario, months: int) -> _Model:
    today = inputs.today
    policy = selectors.in_force(inputs.versions, fund.pk, today)
    if policy is None:
        raise AppError(ForecastError.FORECAST_NO_POLICY, _("该资金没有生效的政策版本，无法预测"), status=409)
    book = inputs.loans.take(inputs.loans.fund_id == fund.pk)
    n, h = len(book), months
    notes: list[str] = []
    per_policy, caps_of = _policy_arrays(book, inputs.versions, policy)

    # Roll rates, lag, recoveries, run-off.
    roll = rollrates.estimate(inputs.counts.get(fund.pk, np.zeros((6, 6), np.int64)), inputs.province_counts)
    matrix = roll.matrix
    if scenario.roll_multiplier is not None:
        matrix = rollrates.stressed(matrix, float(scenario.roll_multiplier))
    lag = claim_lag(inputs.claims, fund.pk)
    rate_est, delay_est = recovery_terms(inputs.claims, fund.pk)
    lag_months = int(round(lag.value))
    delay = max(0, int(round(delay_est.value)))
    start = selectors.month_index(today)
    run_off_end = None
    cut = h
    if fund.end_date is not None:
        m = fund.end_date.month - 1 + policy.run_off_months
        run_off_end = dt.date(fund.end_date.year + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)
        run_off_end = max(run_off_end, fund.end_date)
        cut = int(np.clip(selectors.month_index(run_off_end) - start + 1, 0, h))

    # Where each loan starts: its latest report's class (none yet: normal, or special mention
    # when overdue); past the trigger when non-performing (or its report says so).
    trigger = per_policy(lambda p: rollrates.trigger_rank(p.risk_class_trigger)).astype(np.int64)
    window_days = per_policy(lambda p: p.claim_window_days).astype(np.int64)
    status = book.loan_status
    fallback_class = np.where(status == LoanStatus.OVERDUE, "special_mention", "normal")
    classes = np.where(book.last_class == None, fallback_class, book.last_class)  # noqa: E711
    state = np.array(
        [rollrates.STATE_INDEX.get(c, rollrates.NORMAL) for c in classes.tolist()], dtype=np.int64
    )
    kind = np.full(n, BELOW, dtype=np.int64)
    kind[status == LoanStatus.IN_CLAIM] = IN_CLAIM
    pay_month = np.full(n, -1, dtype=np.int64)
    for i in np.flatnonzero(
        (kind != IN_CLAIM) & ((status == LoanStatus.NON_PERFORMING) | (state >= trigger))
    ):
        triggered = inputs.triggers.get(int(book.id[i]), today)
        if today > triggered + dt.timedelta(days=int(window_days[i])):
            kind[i] = LAPSED
        else:
            kind[i] = PAST_TRIGGER
            pay_month[i] = max(0, lag_months - (start - selectors.month_index(triggered)))
    below = kind == BELOW
    forced = np.zeros(n, dtype=bool)
    if scenario.largest_enterprises:
        totals: dict[int, int] = defaultdict(int)
        for e, c in zip(book.enterprise_id.tolist(), book.covered_outstanding.tolist(), strict=True):
            totals[e] += c
        largest = sorted(totals, key=lambda e: (-totals[e], e))[: scenario.largest_enterprises]
        forced |= np.isin(book.enterprise_id, largest)
    if scenario.institution_id is not None:
        forced |= book.institution_id == scenario.institution_id
    forced &= below
    kind[forced] = FORCED
    pay_month[forced] = lag_months
    below = kind == BELOW

    # Each loan's claim if it met the trigger: the claim rule itself (rules.claims), with the
    # rooms the claims already paid left its enterprise (open claims pass through the caps
    # as payments below). Loans past the window or in a claim need none.
    used_lb: dict[int, Decimal] = defaultdict(lambda: ZERO)
    used_pay: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for row in inputs.claims:
        if selectors.was_paid(row):
            used_lb[row.enterprise_id] += row.loss_base
            used_pay[row.enterprise_id] += row.paid
    ent_pay_cap = caps_of("per_enterprise_comp_cap")
    ent_lb_cap = caps_of("per_enterprise_principal_cap")
    claimable = np.flatnonzero((kind != LAPSED) & (kind != IN_CLAIM))
    amount = np.zeros(n, dtype=np.int64)
    amount[claimable] = claim_rules.claims_at_default(
        principal=book.principal[claimable],
        covered_principal=book.covered_principal[claimable],
        outstanding=book.outstanding[claimable],
        share_bp=book.share_bp[claimable],
        principal_cap=caps_of("per_loan_principal_cap")[claimable],
        payment_cap=caps_of("per_loan_comp_cap")[claimable],
        enterprise_principal_room=_rooms_left(ent_lb_cap, book.enterprise_id, used_lb)[claimable],
        enterprise_payment_room=_rooms_left(ent_pay_cap, book.enterprise_id, used_pay)[claimable],
    )

    # Open claims: paid next, at their approved (else claimable) amount.
    open_amount = {}
    for row in inputs.claims:
        if row.fund_id == fund.pk and selectors.is_open(row):
            open_amount[row.filing_id] = claim_rules.fen(
                row.approved if row.approved is not None else row.claimable
            )
    in_claim = np.flatnonzero(kind == IN_CLAIM)
    fixed_amount = amount.copy()
    for i in in_claim:
        fixed_amount[i] = open_amount.get(int(book.id[i]), 0)
        pay_month[i] = 0

    # An enterprise's rooms shared by several claims: its claims' sum held to them, path by
    # path, where that sum could pass them.
    potential = np.where(kind == IN_CLAIM, fixed_amount, amount)
    group = np.zeros(n, dtype=np.int64)
    rooms: list[float] = []
    capped_enterprises = np.flatnonzero(
        (ent_pay_cap != claim_rules.NO_CAP) | (ent_lb_cap != claim_rules.NO_CAP)
    )
    if len(capped_enterprises):
        enterprises, where = np.unique(book.enterprise_id, return_inverse=True)
        where = where.reshape(-1)
        at_stake = np.bincount(where, weights=potential, minlength=len(enterprises))
        by_ent: dict[int, list[int]] = defaultdict(list)
        for i in capped_enterprises:
            by_ent[int(where[i])].append(int(i))
        for k, rows in sorted(by_ent.items()):
            e = int(enterprises[k])
            room = _enterprise_room(e, rows, ent_pay_cap, ent_lb_cap, book.share_bp, used_lb, used_pay)
            if at_stake[k] > room:  # the cap can bite: tracked path by path
                rooms.append(float(room))
                group[where == k] = len(rooms)
        if rooms:
            notes.append(
                _(
                    "%(n)s 户企业的累计补偿上限可能生效：蒙特卡洛按月对其补偿合计适用上限"
                    "（计入本金上限按该企业贷款的最高分担比例折算为补偿额）；解析期望不含累计上限。"
                )
                % {"n": len(rooms)}
            )
    annual_cap = policy.annual_comp_cap
    year_rooms: dict[int, float] = {}
    years = np.array([_year_of(today, t) for t in range(h)])
    if annual_cap is not None:
        for y in np.unique(years):
            used = inputs.ledgers[fund.pk].paid_this_year if y == today.year else ZERO
            year_rooms[int(y)] = float(claim_rules.fen(annual_cap - used))

    # Claims every path shares.
    g_count = len(rooms)
    fixed_claims = np.zeros(h)
    group_claims = np.zeros((g_count, h))
    fixed_covered = np.zeros(h)
    fixed_exposure = np.zeros(h)
    new_count = np.zeros(h)
    new_covered = np.zeros(h)
    fixed_paid = np.zeros(n)
    share = book.share_bp / 10_000
    t = np.arange(h)
    for i in np.flatnonzero(~below):
        cov = float(book.covered_outstanding[i])
        p = int(pay_month[i])
        paid_in_horizon = kind[i] != LAPSED and 0 <= p < min(cut, h)
        if paid_in_horizon:
            value = float(fixed_amount[i] if kind[i] == IN_CLAIM else amount[i])
            fixed_claims[p] += value
            fixed_paid[i] = value
            if group[i]:
                group_claims[group[i] - 1, p] += value
            in_cover = t < p
        else:
            in_cover = np.ones(h, dtype=bool)
        fixed_covered += cov * in_cover
        fixed_exposure += cov * share[i] * in_cover
        if kind[i] == FORCED:
            new_count[0] += 1
            new_covered[0] += cov

    # Recoveries expected on payouts made before today.
    rate = rate_est.value
    fixed_recoveries = np.zeros(h)
    for row in inputs.claims:
        if row.fund_id == fund.pk and row.status in RECOVERING and row.paid and row.paid_on:
            remaining = max(0.0, rate * float(row.paid) - float(row.recovered)) * 100
            since = start - selectors.month_index(row.paid_on)
            at = max(0, delay - since)
            if at < h and remaining > 0:
                fixed_recoveries[at] += round(remaining)

    # The loans the simulation draws for.
    idx = np.flatnonzero(below)
    cohort_keys: dict[tuple[int, int], int] = {}
    cohorts: list[sim.Cohort] = []
    passages: dict[int, rollrates.FirstPassage] = {}
    cohort = np.zeros(len(idx), dtype=np.int64)
    for k, i in enumerate(idx):
        key = (int(trigger[i]), int(state[i]))
        if key not in cohort_keys:
            fp = passages.get(key[0]) or rollrates.first_passage(matrix, key[0], h)
            passages[key[0]] = fp
            cohort_keys[key] = len(cohorts)
            cohorts.append(
                sim.Cohort(cumulative=fp.cumulative[key[1]], alive=fp.alive[key[1]], lag=lag_months, cut=cut)
            )
        cohort[k] = cohort_keys[key]
    maturity = np.clip(book.maturity_month[idx] - start + 1, 1, h)
    shock = np.zeros(len(idx), dtype=np.int64)
    window = np.ones(len(idx), dtype=np.int64)
    if scenario.default_rate is not None:
        x16 = int(min(sim.U16, max(1, round(float(scenario.default_rate) / 100 * sim.U16))))
        shock[:] = x16
        window = np.minimum(int(scenario.default_within), maturity)
    loans = sim.Loans(
        amount=amount[idx].astype(float),
        covered=book.covered_outstanding[idx].astype(float),
        exposure=book.covered_outstanding[idx] * share[idx],
        cohort=cohort,
        maturity=maturity,
        group=group[idx],
        shock=shock,
        window=window,
    )
    fixed = sim.Fixed(
        claims=fixed_claims,
        group_claims=group_claims,
        recoveries=fixed_recoveries,
        covered=fixed_covered,
        exposure=fixed_exposure,
        new_npl_count=new_count,
        new_npl_covered=new_covered,
    )
    caps = sim.Caps(group_rooms=np.array(rooms), year_of_month=years, year_rooms=year_rooms)
    balance_fen = float(claim_rules.fen(inputs.ledgers[fund.pk].balance))
    for row, source in enumerate(roll.sources[: rollrates.trigger_rank(policy.risk_class_trigger)]):
        if source != rollrates.FUND:
            notes.append(
                _("“%(state)s”行本资金观测不足 %(n)s 次，采用%(source)s。")
                % {
                    "state": rollrates.STATE_LABELS[row],
                    "n": rollrates.MIN_ROW_OBSERVATIONS,
                    "source": rollrates.SOURCE_LABELS[source],
                }
            )
    lapsed = int((kind == LAPSED).sum())
    if lapsed:
        notes.append(_("%(n)s 笔不良贷款已超过补偿申请期限，不再计入补偿。") % {"n": lapsed})
    if cut < h:
        notes.append(_("资金清算过渡期至 %(date)s，其后不再支付补偿。") % {"date": run_off_end})
    return _Model(
        months=h,
        loans=loans,
        cohorts=cohorts,
        fixed=fixed,
        caps=caps,
        balance_fen=balance_fen,
        rate=rate,
        delay=delay,
        book=book,
        kind=kind,
        amount=amount,
        below_index=idx,
        fixed_paid=fixed_paid,
        roll=roll,
        lag=lag,
        rate_est=rate_est,
        delay_est=delay_est,
        cut=cut,
        run_off_end=run_off_end,
        policy=policy,
        notes=notes,
        groups=g_count,
    )


def _rooms_left(caps: np.ndarray, enterprise_id: np.ndarray, used: dict[int, Decimal]) -> np.ndarray:
    """Per loan, fen left under its enterprise cap (`caps`, per loan, NO_CAP: none) after `used`."""
    spent = np.array([claim_rules.fen(used[e]) if e in used else 0 for e in enterprise_id.tolist()])
    left = np.maximum(caps - spent.astype(np.int64), 0) if len(caps) else caps
    return np.where(caps == claim_rules.NO_CAP, claim_rules.NO_CAP, left)


def _enterprise_room(e, rows, pay_cap, lb_cap, share_bp, used_lb, used_pay) -> int:
    """An enterprise's payment room in fen: its payment cap less what was paid, and its
    principal cap less the loss bases paid, × the highest share of its loans (the smallest
    cap among its loans' policies when they differ)."""
    room = None
    pays = [int(pay_cap[i]) for i in rows if pay_cap[i] != claim_rules.NO_CAP]
    if pays:
        room = min(pays) - claim_rules.fen(used_pay[e])
    lbs = [int(lb_cap[i]) for i in rows if lb_cap[i] != claim_rules.NO_CAP]
    if lbs:
        top_share = max(int(share_bp[i]) for i in rows)
        lb_room = (min(lbs) - claim_rules.fen(used_lb[e])) * top_share // 10_000
        room = lb_room if room is None else min(room, lb_room)
    return max(0, room or 0)


# --- running it ----------------------------------------------------------------------------------


def forecast_run(
    *,
    fund: Fund,
    months: int = DEFAULT_MONTHS,
    paths: int = DEFAULT_PATHS,
    scenario: Scenario = BASELINE,
    seed: int = DEFAULT_SEED,
    today: dt.date | None = None,
    inputs: Inputs | None = None,
    exact: bool = True,
) -> ForecastResult:
    """The fund's forecast for `months` months over `paths` Monte Carlo paths, under `scenario`.
    `exact=False` leaves out what reads more (the exact all-default figure, the concentration
    table and its names), so that many funds' forecasts take a fixed number of queries."""
    started = time.perf_counter()
    bounds = (
        ("months", months, MIN_MONTHS, MAX_MONTHS, _("预测月数应为 %(low)s 至 %(high)s")),
        ("paths", paths, MIN_PATHS, MAX_PATHS, _("模拟路径数应为 %(low)s 至 %(high)s")),
    )
    for name, value, low, high, message in bounds:
        if not low <= value <= high:
            raise AppError(
                ForecastError.FORECAST_PARAMETER_INVALID,
                message % {"low": low, "high": high},
                field=name,
                status=400,
            )
    today = today or clock.today()
    inputs = inputs or forecast_inputs(funds=[fund], today=today)
    model = _model(fund, inputs, scenario, months)
    expected = sim.analytical(model.loans, model.cohorts, model.fixed, months=months)
    paid = sim.monte_carlo(
        model.loans, model.cohorts, model.fixed, model.caps, months=months, paths=paths, seed=seed
    )
    returned = sim.recoveries(paid, rate=model.rate, delay=model.delay, fixed=model.fixed)
    summary = sim.summarise(paid, returned, balance=model.balance_fen)
    return _result(
        fund=fund,
        model=model,
        expected=expected,
        paid=paid,
        summary=summary,
        scenario=scenario,
        paths=paths,
        seed=seed,
        today=today,
        inputs=inputs,
        exact=exact,
        started=started,
    )


def _result(
    *, fund, model: _Model, expected, paid, summary, scenario, paths, seed, today, inputs, exact, started
):
    h = model.months
    book = model.book
    ledger = inputs.ledgers[fund.pk]
    capital = ledger.capital
    exp_recoveries = sim.recoveries(
        expected.claims[None], rate=model.rate, delay=model.delay, fixed=model.fixed
    )[0]
    exp_balance = model.balance_fen - np.cumsum(expected.claims - exp_recoveries)
    rows = []
    for t in range(h):
        covered = _yuan(expected.covered[t])
        rows.append(
            MonthRow(
                month=_month_label(today, t),
                expected_new_npl=Decimal(repr(float(expected.new_npl_count[t]))).quantize(
                    Decimal("0.01"), ROUND_HALF_UP
                ),
                expected_new_npl_amount=_yuan(expected.new_npl_covered[t]),
                expected_claims=_yuan(expected.claims[t]),
                mean_claims=_yuan(summary.mean_claims[t]),
                claims_p95=_yuan(summary.claims[95][t]),
                expected_recoveries=_yuan(exp_recoveries[t]),
                expected_balance=_yuan(exp_balance[t]),
                balance_p50=_yuan(summary.balance[50][t]),
                balance_p95=_yuan(summary.balance[95][t]),
                balance_p99=_yuan(summary.balance[99][t]),
                covered_outstanding=covered,
                exposure=_yuan(expected.exposure[t]),
                leverage=(covered / capital).quantize(Decimal("0.01"), ROUND_HALF_UP)
                if capital > 0
                else None,
            )
        )
    totals = paid.sum(axis=1)
    live = book.covered_outstanding
    result = ForecastResult(
        fund_code=fund.code,
        fund_name=fund.name,
        as_of=today,
        months=h,
        paths=paths,
        seed=seed,
        scenario=scenario,
        balance=ledger.balance,
        capital=capital,
        covered_outstanding=_yuan(live.sum()),
        exposure=_yuan(float((live.astype(float) * book.share_bp).sum()) / 10_000),
        book={
            "live_loans": len(book),
            "simulated": len(model.below_index),
            "past_trigger": int((model.kind == PAST_TRIGGER).sum()),
            "lapsed": int((model.kind == LAPSED).sum()),
            "in_claim": int((model.kind == IN_CLAIM).sum()),
            "forced": int((model.kind == FORCED).sum()),
        },
        assumptions=_assumptions(model),
        roll_rates=_roll_rows(model.roll),
        province_roll_rates=_roll_rows(_province_roll(inputs)),
        rows=rows,
        first_below_zero={
            PERCENTILE_LABELS[p]: None if m is None else _month_label(today, m)
            for p, m in summary.first_below_zero.items()
        },
        top_up={PERCENTILE_LABELS[p]: _yuan(v) for p, v in summary.top_up.items()},
        expected_claims_total=_yuan(expected.claims.sum()),
        claims_total={PERCENTILE_LABELS[p]: _yuan(np.percentile(totals, p)) for p in sim.PERCENTILES},
        all_default_now=_all_default_now(fund, model, inputs) if exact else None,
        concentration=_concentration(model, expected) if exact else {},
        notes=model.notes
        + [
            _(
                "P95/P99 为蒙特卡洛各路径按月的分位数（只含贷款层面的随机性，不含宏观共同冲击；"
                "系统性风险请用压力情景）。"
            ),
            _("解析期望按迁徙矩阵幂次计算，不含企业累计上限和年度上限；蒙特卡洛均值已适用这些上限。"),
        ],
        seconds=0.0,
    )
    object.__setattr__(result, "seconds", round(time.perf_counter() - started, 3))
    return result


def _assumptions(model: _Model) -> dict[str, Any]:
    policy = model.policy
    trigger = rollrates.trigger_rank(policy.risk_class_trigger)
    return {
        "trigger": _("风险分类为%(state)s及以下（或逾期%(days)s天）")
        % {"state": rollrates.STATE_LABELS[trigger], "days": policy.trigger_days_overdue},
        "claim_window_days": policy.claim_window_days,
        "claim_lag_months": int(round(model.lag.value)),
        "claim_lag_source": str(rollrates.SOURCE_LABELS[model.lag.source]),
        "recovery_rate": Decimal(repr(model.rate * 100)).quantize(Decimal("0.01"), ROUND_HALF_UP),
        "recovery_delay_months": model.delay,
        "recovery_source": str(rollrates.SOURCE_LABELS[model.rate_est.source]),
        "run_off_end": model.run_off_end,
        "annual_cap": policy.annual_comp_cap,
        "enterprise_groups_capped": model.groups,
    }


def _province_roll(inputs: Inputs) -> rollrates.RollRates:
    province = inputs.province_counts
    roll = rollrates.estimate(province, province)
    sources = tuple(rollrates.PROVINCE if s == rollrates.FUND else s for s in roll.sources)
    return rollrates.RollRates(matrix=roll.matrix, counts=roll.counts, sources=sources)


def _roll_rows(roll: rollrates.RollRates) -> list[RollRow]:
    out = []
    for row in range(rollrates.SETTLED):
        out.append(
            RollRow(
                state=rollrates.STATES[row],
                label=str(rollrates.STATE_LABELS[row]),
                rates=[
                    Decimal(repr(float(v) * 100)).quantize(Decimal("0.01"), ROUND_HALF_UP)
                    for v in roll.matrix[row]
                ],
                counts=[int(c) for c in roll.counts[row]],
                observations=int(roll.counts[row].sum()),
                source=roll.sources[row],
                source_label=str(rollrates.SOURCE_LABELS[roll.sources[row]]),
            )
        )
    return out


def _concentration(model: _Model, expected: sim.Expected) -> dict[str, list[ConcentrationRow]]:
    """Top enterprises, banks and districts by expected loss to the fund over the horizon
    (each loan's claim × the probability it is paid in the horizon; certain claims in full)."""
    book = model.book
    loss = model.fixed_paid.copy()
    loss[model.below_index] = model.amount[model.below_index] * expected.paid_probability
    total = float(loss.sum())
    out: dict[str, list[ConcentrationRow]] = {}
    keys = {
        "enterprises": book.enterprise_id,
        "institutions": book.institution_id,
        "districts": book.region_code,
    }
    for kind, key in keys.items():
        sums: dict[Any, list[float]] = defaultdict(lambda: [0.0, 0, 0.0])
        for k, el, cov in zip(key.tolist(), loss.tolist(), book.covered_outstanding.tolist(), strict=True):
            s = sums[k]
            s[0] += el
            s[1] += 1
            s[2] += cov
        top = sorted(sums.items(), key=lambda item: (-item[1][0], str(item[0])))[:TOP_N]
        if kind == "enterprises":
            label = selectors.names(Enterprise, [k for k, _ in top])
        elif kind == "institutions":
            label = selectors.names(Institution, [k for k, _ in top])
        else:
            label = {k: region_name(k) for k, _ in top}
        out[kind] = [
            ConcentrationRow(
                key=str(k),
                name=label.get(k, str(k)),
                loans=int(s[1]),
                covered_outstanding=_yuan(s[2]),
                expected_loss=_yuan(s[0]),
                share=(
                    Decimal(repr(s[0] / total * 100)).quantize(Decimal("0.01"), ROUND_HALF_UP)
                    if total
                    else ZERO
                ),
            )
            for k, s in top
        ]
    return out


def _left(cap: Decimal | None, used: Decimal) -> Decimal | None:
    return None if cap is None else cap - used


def _all_default_now(fund: Fund, model: _Model, inputs: Inputs) -> Decimal:
    """Exact, through the rule itself: every loan below the trigger claimed today, one after
    the other in loan order, each with the rooms the ones before it left (the fund-balance cap
    aside). Decimal throughout — the closed-form check of the forecast."""
    book = model.book
    used_lb: dict[int, Decimal] = defaultdict(lambda: ZERO)
    used_pay: dict[int, Decimal] = defaultdict(lambda: ZERO)
    committed = ZERO
    for row in inputs.claims:
        if selectors.counts_against_rooms(row):
            used_lb[row.enterprise_id] += row.loss_base
            used_pay[row.enterprise_id] += (row.paid if selectors.was_paid(row) else row.approved) or ZERO
            if row.fund_id == fund.pk and not selectors.was_paid(row):
                committed += row.approved or ZERO
    year_used = inputs.ledgers[fund.pk].paid_this_year + committed
    total = ZERO
    for i in np.flatnonzero((model.kind == BELOW) | (model.kind == FORCED)):
        policy = inputs.versions.get(int(book.policy_id[i])) or model.policy
        e = int(book.enterprise_id[i])
        c = claim_rules.claim_if_defaulted(
            principal=claim_rules.yuan(book.principal[i]),
            covered_principal=claim_rules.yuan(book.covered_principal[i]),
            outstanding=claim_rules.yuan(book.outstanding[i]),
            fund_share=claim_rules.yuan(book.share_bp[i]),
            per_loan_principal_cap=policy.per_loan_principal_cap,
            per_loan_cap=policy.per_loan_comp_cap,
            enterprise_principal_room=_left(policy.per_enterprise_principal_cap, used_lb[e]),
            enterprise_room=_left(policy.per_enterprise_comp_cap, used_pay[e]),
            year_room=_left(policy.annual_comp_cap, year_used),
        )
        if c.claimable_amount > ZERO:
            used_lb[e] += c.loss_base
            used_pay[e] += c.claimable_amount
            year_used += c.claimable_amount
            total += c.claimable_amount
    return quantize(total)


# --- entry points -----------------------------------------------------------------------------------


def require_reader(principal: Principal) -> None:
    """Forecasts are for the manager's staff and the city's regulators; banks are refused."""
    if not (principal.is_staff_member or principal.is_regulator):
        raise Forbidden(ForecastError.FORECAST_READERS_ONLY, _("资金预测仅供资金管理人和本市监管部门查看"))


def forecast_for(
    *,
    principal: Principal,
    code: str,
    months: int = DEFAULT_MONTHS,
    paths: int = DEFAULT_PATHS,
    seed: int = DEFAULT_SEED,
    saved: str | None = None,
    **stress: Any,
) -> ForecastResult:
    """The API's and the admin page's forecast: scoped (another city's fund is 404)."""
    require_reader(principal)
    fund = fund_get(principal=principal, code=code)
    scenario = scenario_build(fund=fund, saved=saved, **stress)
    return forecast_run(fund=fund, months=months, paths=paths, scenario=scenario, seed=seed)


def forecast_monthly_sections(*, funds: list[Fund], today: dt.date) -> dict[int, dict[str, Any]]:
    """The P95 figures of the baseline forecast for each fund's monthly report, read in a fixed
    number of queries for all the funds together."""
    if not funds:
        return {}
    inputs = forecast_inputs(funds=funds, today=today)
    out: dict[int, dict[str, Any]] = {}
    for fund in funds:
        try:
            r = forecast_run(
                fund=fund,
                months=DEFAULT_MONTHS,
                paths=MONTHLY_REPORT_PATHS,
                today=today,
                inputs=inputs,
                exact=False,
            )
        except AppError:
            continue  # no policy in force: nothing to forecast
        out[fund.pk] = {
            "forecast": {
                "as_of": today,
                "months": r.months,
                "paths": r.paths,
                "seed": r.seed,
                "expected_claims": r.expected_claims_total,
                "claims_p95": r.claims_total["P95"],
                "balance_p95_end": r.rows[-1].balance_p95,
                "below_zero_p95": r.first_below_zero["P95"],
                "top_up_p95": r.top_up["P95"],
                "top_up_p99": r.top_up["P99"],
            }
        }
    return out


def province_simulation(*, funds: list[Fund], inputs: Inputs, months: int = DEFAULT_MONTHS):
    """Every fund's baseline book as one simulation (loans, cohorts, shared claims, no
    fund-level caps): what `make bench` times for the whole province."""
    loans, cohorts, claims = [], [], np.zeros(months)
    for fund in funds:
        try:
            model = _model(fund, inputs, BASELINE, months)
        except AppError:
            continue
        shift = len(cohorts)
        cohorts += model.cohorts
        loans.append(
            sim.Loans(
                **{**vars(model.loans), "cohort": model.loans.cohort + shift, "group": model.loans.group * 0}
            )
        )
        claims += model.fixed.claims
    book = sim.Loans(
        **{name: np.concatenate([getattr(x, name) for x in loans]) for name in sim.Loans.__dataclass_fields__}
    )
    fixed = sim.Fixed(
        claims=claims,
        group_claims=np.zeros((0, months)),
        recoveries=np.zeros(months),
        covered=np.zeros(months),
        exposure=np.zeros(months),
        new_npl_count=np.zeros(months),
        new_npl_covered=np.zeros(months),
    )
    caps = sim.Caps(group_rooms=np.zeros(0), year_of_month=np.zeros(months, dtype=np.int64))
    return book, cohorts, fixed, caps
