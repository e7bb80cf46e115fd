"""The fund forecast on a real database: roll rates counted from the reports, the closed-form
cases through the real claim rule, the claim window, open claims, stress scenarios."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.db import IntegrityError, transaction

from fundmgr.ground.funds.models import Fund, PolicyVersion
from fundmgr.ground.lib.errors import AppError
from fundmgr.ground.lib.money import ZERO
from fundmgr.top.forecast import selectors, services
from fundmgr.top.forecast.models import StressScenario
from fundmgr.top.forecast.rules import rollrates
from loans.models import LoanFiling

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = dt.date(2026, 11, 30)  # the suite's business date
N, SM, SS, SETTLED = (
    rollrates.STATE_INDEX[s] for s in ("normal", "special_mention", "substandard", "settled")
)


def test_roll_rates_from_a_hand_built_history_match_a_hand_count(book):
    """Four Zhaoqing loans and one Foshan loan, their current month-end reports:

    A  Aug normal, Sep normal, Oct special mention, Nov substandard → N→N, N→SM, SM→SS
    B  Aug normal, (no Sep), Oct normal, Nov normal                  → N→N (Oct→Nov only)
    C  Sep special mention, Oct normal, repaid 10 Nov               → SM→N, N→settled
    D  Oct normal corrected to special mention, Nov substandard     → SM→SS (the corrected one)
    F  (Foshan) Oct normal, Nov normal                               → the province's only
    """
    a, b, c, d = (book.loan() for _ in range(4))
    for as_of, cls in (("2026-08-31", "normal"), ("2026-09-30", "normal"), ("2026-10-31", "special_mention"), ("2026-11-30", "substandard")):  # fmt: skip
        book.report(a, as_of, cls)
    for as_of in ("2026-08-31", "2026-10-31", "2026-11-30"):
        book.report(b, as_of, "normal")
    book.report(c, "2026-09-30", "special_mention")
    book.report(c, "2026-10-31", "normal")
    c.__class__.objects.filter(pk=c.pk).update(loan_status="settled", settled_on=dt.date(2026, 11, 10))
    wrong = book.report(d, "2026-10-31", "normal")
    wrong.is_current = False
    wrong.save()
    book.report(d, "2026-10-31", "special_mention", supersedes=wrong)
    book.report(d, "2026-11-30", "substandard")
    f = book.loan("foshan")
    book.report(f, "2026-10-31", "normal")
    book.report(f, "2026-11-30", "normal")

    counts = selectors.transition_counts(today=TODAY)
    hand = np.zeros((6, 6), dtype=np.int64)
    hand[N, N], hand[N, SM], hand[SM, SS], hand[SM, N], hand[N, SETTLED] = 2, 1, 2, 1, 1
    np.testing.assert_array_equal(counts[book.funds["zhaoqing"].pk], hand)
    foshan = np.zeros((6, 6), dtype=np.int64)
    foshan[N, N] = 1
    np.testing.assert_array_equal(counts[book.funds["foshan"].pk], foshan)

    # Too few observations in every row: the fund borrows, and the forecast says so.
    result = services.forecast_run(fund=book.funds["zhaoqing"], paths=200)
    normal = result.roll_rates[N]
    assert (normal.counts, normal.source) == ([3, 1, 0, 0, 0, 1], "prior")  # the province: 5 < 30
    province = result.province_roll_rates[N]
    assert (province.counts, province.observations) == ([3, 1, 0, 0, 0, 1], 5)
    assert any("“正常”行本资金观测不足 30 次" in note for note in result.notes)


def _caps_that_bite(fund: Fund, **caps) -> PolicyVersion:
    policy = fund.policy_in_force(TODAY)
    PolicyVersion.objects.filter(pk=policy.pk).update(
        **{
            "per_loan_principal_cap": D("3000000.00"),
            "per_loan_comp_cap": D("1200000.00"),
            "per_enterprise_comp_cap": D("1500000.00"),
            "annual_comp_cap": D("3000000.00"),
            **caps,
        }
    )
    policy.refresh_from_db()
    return policy


def _what_the_loans_app_pays(loans) -> tuple[Decimal, set[str]]:
    """The loans app's own claim computation (`compute_for`: the loan's frozen policy, every
    cap's room gathered from the claims on record), loan after loan in id order, each claim
    approved at what it computes so that the next one sees the room it took — then all of it
    rolled back. Returns the total and the caps that bit."""
    from loans.models import Claim, ClaimStatus
    from loans.services.claims import compute_for

    total, bitten = ZERO, set()
    with transaction.atomic():
        for n, loan in enumerate(sorted(loans, key=lambda x: x.pk)):
            c = compute_for(
                filing=loan, outstanding=loan.outstanding_principal, recovered_before=ZERO, today=TODAY
            )
            bitten |= {cap.code for cap in c.caps_applied}
            if c.claimable_amount > ZERO:
                Claim.objects.create(
                    filing=loan, fund=loan.fund, institution=loan.institution, reference=f"ORACLE-{n}",
                    status=ClaimStatus.APPROVED, trigger_date=TODAY, outstanding_principal=c.outstanding_principal,
                    recovered_before_claim=ZERO, loss_base=c.loss_base, fund_share=c.fund_share,
                    computed_amount=c.computed_amount, claimable_amount=c.claimable_amount,
                    approved_amount=c.claimable_amount,
                )  # fmt: skip
            total += c.claimable_amount
        transaction.set_rollback(True)
    assert not bitten & {"fund_balance", "institution"}  # the two caps the forecast leaves out
    return total, bitten


@pytest.mark.parametrize("annual_cap_bites", [False, True])
def test_every_performing_loan_defaulting_at_once_costs_the_sum_of_each_capped_share(book, annual_cap_bites):
    """Closed form: with every loan below the trigger defaulting in month one, every path pays,
    two months later (the claim lag), exactly what the loans app's claim computation pays
    loan by loan — to the fen — and that is the exact figure the forecast reports as well."""
    fund = book.funds["zhaoqing"]
    policy = _caps_that_bite(fund, **({} if annual_cap_bites else {"annual_comp_cap": D("99000000.00")}))
    e1, e2, e3 = book.enterprises("zhaoqing")[:3]
    loans = [
        book.loan(principal="5000000.00", enterprise=e1),  # principal cap 3,000,000 → 1,500,000 → loan cap
        book.loan(principal="900000.00", enterprise=e1),  # 450,000: the enterprise cap takes 300,000
        book.loan(principal="3000000.00", covered="1000000.00", outstanding="2000000.01", enterprise=e2),
        book.loan(principal="777777.77", outstanding="333333.33", enterprise=e2, fund_share="33.33"),
        book.loan(principal="2400000.00", enterprise=e3),
        book.loan(principal="1800000.00", outstanding="1799999.99", enterprise=e3, fund_share="49.99"),
    ]
    LoanFiling.objects.filter(pk__in=[x.pk for x in loans]).update(
        policy_version=policy
    )  # frozen at acceptance
    result = services.forecast_run(
        fund=fund,
        paths=300,
        scenario=services.Scenario(default_rate=D("100"), default_within=1),
    )
    expected, bitten = _what_the_loans_app_pays([LoanFiling.objects.get(pk=x.pk) for x in loans])
    lag = result.assumptions["claim_lag_months"]
    assert lag == 2  # no paid claims anywhere yet: the stated default (75 days)
    paid = result.rows[lag]
    assert paid.mean_claims == paid.claims_p95 == expected == result.all_default_now
    assert result.claims_total["P50"] == result.claims_total["P99"] == expected
    assert sum(r.mean_claims for r in result.rows) == expected
    assert result.book["simulated"] == 6
    assert {"per_loan_principal", "per_loan", "per_enterprise"} <= bitten
    if annual_cap_bites:
        assert expected == D("3000000.00") and "per_year" in bitten
    else:
        # 1,200,000.00 (loan cap) + 300,000.00 (what the enterprise has left)
        # + 2,000,000.01 × 1/3 = 666,666.67 × 50 % = 333,333.34 + 333,333.33 × 33.33 % = 111,100.00
        # + 1,200,000.00 + 1,799,999.99 × 49.99 % = 899,820.00, held to the 300,000.00 left
        assert expected == D("3444433.34")


def test_a_loan_s_claim_meets_its_enterprise_s_principal_cap_and_the_paid_claims(book):
    """One loan per enterprise: each claim alone meets the caps the rule gives it — the
    enterprise's principal room (counted before the fund share) and its payment room as the
    claims already paid left them — as the loans app computes it."""
    fund = book.funds["zhaoqing"]
    policy = _caps_that_bite(
        fund,
        per_loan_principal_cap=None,
        per_loan_comp_cap=None,
        per_enterprise_principal_cap=D("2500000.00"),
        per_enterprise_comp_cap=D("1000000.00"),
        annual_comp_cap=None,
    )
    e1, e2, e3 = book.enterprises("zhaoqing")[:3]
    earlier = book.loan(principal="800000.00", enterprise=e3, status="in_claim")
    from loans.models import Claim, ClaimStatus

    Claim.objects.create(
        filing=earlier, fund=fund, institution=earlier.institution, reference="PAID-1", status=ClaimStatus.PAID,
        trigger_date=dt.date(2026, 3, 31), outstanding_principal=D("800000.00"), recovered_before_claim=ZERO,
        loss_base=D("800000.00"), fund_share=D("50.00"), computed_amount=D("400000.00"),
        claimable_amount=D("400000.00"), approved_amount=D("400000.00"), paid_amount=D("400000.00"),
        paid_on=dt.date(2026, 5, 20),
    )  # fmt: skip
    LoanFiling.objects.filter(pk=earlier.pk).update(loan_status="compensated")  # out of the live book
    loans = [
        book.loan(principal="4000000.00", enterprise=e1),  # principal room 2,500,000 → 1,250,000 → 1,000,000
        book.loan(principal="2400000.00", enterprise=e2),  # 1,200,000 → the payment room 1,000,000
        book.loan(principal="3000000.00", enterprise=e3),  # rooms left: 1,700,000 → 850,000; 600,000
    ]
    LoanFiling.objects.filter(pk__in=[x.pk for x in loans]).update(policy_version=policy)
    result = services.forecast_run(
        fund=fund, paths=100, scenario=services.Scenario(default_rate=D("100"), default_within=1)
    )
    expected, bitten = _what_the_loans_app_pays([LoanFiling.objects.get(pk=x.pk) for x in loans])
    assert {"per_enterprise_principal", "per_enterprise"} <= bitten
    assert expected == D("2600000.00")
    assert result.claims_total["P50"] == result.claims_total["P99"] == expected == result.all_default_now


def test_zero_roll_rates_give_no_claims(book):
    """Thirty loans reported normal two months running: the fund's own normal row says no
    loan ever moves, so nothing is claimed, the balance never falls and nothing is needed."""
    loans = [book.loan(principal="500000.00") for _ in range(31)]
    for loan in loans:
        book.report(loan, "2026-09-30", "normal")
        book.report(loan, "2026-10-31", "normal")
    result = services.forecast_run(fund=book.funds["zhaoqing"], paths=500)
    assert result.roll_rates[N].rates[N] == D("100.00") and result.roll_rates[N].source == "fund"
    assert all(r.expected_claims == r.mean_claims == ZERO for r in result.rows)
    assert result.first_below_zero == {"P50": None, "P95": None, "P99": None}
    assert result.top_up == {"P95": ZERO, "P99": ZERO}
    assert result.rows[-1].balance_p99 == result.balance


def test_the_same_seed_gives_the_same_forecast(book):
    for _ in range(40):
        book.loan(principal="800000.00")
    fund = book.funds["zhaoqing"]
    one = services.forecast_run(fund=fund, paths=1000, seed=7)
    two = services.forecast_run(fund=fund, paths=1000, seed=7)
    other = services.forecast_run(fund=fund, paths=1000, seed=8)
    assert one.rows == two.rows and one.top_up == two.top_up and one.concentration == two.concentration
    assert [r.balance_p95 for r in one.rows] != [r.balance_p95 for r in other.rows]
    # the analytical expectation does not depend on the seed
    assert [r.expected_claims for r in one.rows] == [r.expected_claims for r in other.rows]


def test_the_claim_window_and_the_claims_already_open(world):
    """Bank A's world: a loan non-performing since its report, a submitted claim, an approved-
    and-paid claim in recovery. A loan whose trigger passed more than the claim window ago
    is not claimed any more; one inside it is paid when the lag says."""
    from loans.models import Claim, LoanFiling, StatusReport

    fund = Fund.objects.get(code="zhaoqing")
    npl = LoanFiling.objects.get(pk=world.non_performing)
    StatusReport.objects.create(
        filing=npl, as_of=dt.date(2026, 4, 30), outstanding_principal=npl.outstanding_principal,
        overdue_principal=npl.outstanding_principal, overdue_interest=D("0"), days_overdue=120,
        risk_class="substandard", loan_status_after="non_performing",
    )  # fmt: skip
    result = services.forecast_run(fund=fund, paths=200)
    assert result.book["lapsed"] == 1 and result.book["past_trigger"] == 0
    assert any("已超过补偿申请期限" in note for note in result.notes)
    open_claim = Claim.objects.get(pk=world.claim)
    assert result.book["in_claim"] == 1
    assert result.rows[0].mean_claims == open_claim.claimable_amount  # paid first, every path

    # Reported non-performing last month instead: inside the window, paid after the lag.
    StatusReport.objects.filter(filing=npl).update(as_of=dt.date(2026, 10, 31))
    again = services.forecast_run(fund=fund, paths=200)
    assert again.book["lapsed"] == 0 and again.book["past_trigger"] == 1
    lag = again.assumptions["claim_lag_months"]
    share = npl.outstanding_principal * npl.fund_share / 100
    assert again.rows[lag - 1].mean_claims - result.rows[lag - 1].mean_claims == share.quantize(D("0.01"))


def test_stress_scenarios_and_their_combinations(book):
    fund = book.funds["zhaoqing"]
    enterprises = book.enterprises("zhaoqing")
    big = book.loan(principal="9000000.00", enterprise=enterprises[1])
    for i in range(30):
        book.loan(principal="400000.00", enterprise=enterprises[i % 3])
    baseline = services.forecast_run(fund=fund, paths=500)
    largest = services.forecast_run(fund=fund, paths=500, scenario=services.Scenario(largest_enterprises=1))
    assert largest.book["forced"] == 1 + 10  # the enterprise with the 9,000,000 loan: all its loans
    assert largest.expected_claims_total > baseline.expected_claims_total
    doubled = services.forecast_run(fund=fund, paths=500, scenario=services.Scenario(roll_multiplier=D("3")))
    assert doubled.expected_claims_total > baseline.expected_claims_total
    bank = services.scenario_build(fund=fund, institution_code=big.institution.code)
    whole_bank = services.forecast_run(fund=fund, paths=500, scenario=bank)
    assert whole_bank.book["forced"] == 31
    combined = services.scenario_build(
        fund=fund, default_rate=D("10"), default_within=6, roll_multiplier=D("2"), largest_enterprises=2
    )
    both = services.forecast_run(fund=fund, paths=500, scenario=combined)
    assert both.expected_claims_total > largest.expected_claims_total
    assert "在保余额最大的 2 户企业立即违约" in both.scenario.label()
    # the concentration table names the enterprise with the big loan first
    assert largest.concentration["enterprises"][0].name == enterprises[1].name


def test_scenarios_are_validated_and_saved_ones_found(book):
    fund, other = book.funds["zhaoqing"], book.funds["foshan"]
    with pytest.raises(AppError) as half:
        services.scenario_build(fund=fund, default_rate=D("20"))
    assert (half.value.code, half.value.field, half.value.status) == (
        "scenario_invalid",
        "default_within",
        400,
    )
    with pytest.raises(AppError) as too_much:
        services.scenario_build(fund=fund, roll_multiplier=D("25"))
    assert too_much.value.field == "roll_multiplier"
    foshan_bank = other.agreements.first().institution
    with pytest.raises(AppError) as elsewhere:
        services.scenario_build(fund=fund, institution_code=foshan_bank.code)
    assert elsewhere.value.code == "scenario_institution_not_in_fund"
    with pytest.raises(AppError) as missing:
        services.scenario_build(fund=fund, saved="没有这个情景")
    assert missing.value.code == "scenario_not_found"

    saved = StressScenario.objects.create(
        fund=fund, name="经济下行", roll_multiplier=D("2.5"), largest_enterprises=3
    )
    by_name = services.scenario_build(fund=fund, saved="经济下行")
    by_id = services.scenario_build(fund=fund, saved=str(saved.pk), largest_enterprises=5)  # a part on top
    assert (by_name.roll_multiplier, by_name.largest_enterprises, by_name.name) == (D("2.50"), 3, "经济下行")
    assert (by_id.roll_multiplier, by_id.largest_enterprises) == (D("2.50"), 5)
    with pytest.raises(AppError):
        services.scenario_build(fund=other, saved="经济下行")  # another fund's scenario is not there
    with pytest.raises(IntegrityError), transaction.atomic():
        StressScenario.objects.create(fund=fund, name="空情景")  # says nothing: refused by the database
    with pytest.raises(IntegrityError), transaction.atomic():
        StressScenario.objects.create(fund=fund, name="缺期限", default_rate=D("10"))


def test_bounds_of_the_horizon_and_paths(book):
    fund = book.funds["zhaoqing"]
    for kwargs in ({"months": 11}, {"months": 37}, {"paths": 99}, {"paths": 10_001}):
        with pytest.raises(AppError) as caught:
            services.forecast_run(fund=fund, **kwargs)
        assert caught.value.status == 400 and caught.value.code == "forecast_parameter_invalid"


def test_leverage_exposure_and_months_ahead(book):
    for _ in range(5):
        book.loan(principal="1000000.00", matures_on=dt.date(2027, 2, 15))
    result = services.forecast_run(fund=book.funds["zhaoqing"], months=12, paths=200)
    assert [r.month for r in result.rows][:3] == ["2026-11", "2026-12", "2027-01"]
    assert len(result.rows) == 12
    assert result.rows[0].covered_outstanding <= D("5000000.00")
    # Every loan matures in February 2027: from March only those that defaulted and wait for
    # their claim (paid two months on) are left in cover; from May, none.
    assert result.rows[3].covered_outstanding > result.rows[4].covered_outstanding > ZERO
    assert result.rows[6].covered_outstanding == ZERO and result.rows[6].exposure == ZERO
    assert result.rows[0].leverage == (result.rows[0].covered_outstanding / result.capital).quantize(
        D("0.01")
    )


def test_the_monthly_report_carries_the_p95_figures(book, business_date):
    from openpyxl import load_workbook

    from fundmgr.top.reports.services import monthly_report_generate

    for _ in range(10):
        book.loan(principal="900000.00")
    business_date("2026-12-01")
    fund_report = monthly_report_generate(fund=book.funds["zhaoqing"], year=2026, month=11)[0]
    forecast = fund_report.data["forecast"]
    assert set(forecast) >= {
        "expected_claims",
        "claims_p95",
        "balance_p95_end",
        "below_zero_p95",
        "top_up_p95",
        "top_up_p99",
    }
    assert forecast["paths"] == services.MONTHLY_REPORT_PATHS and forecast["as_of"] == "2026-12-01"
    direct = services.forecast_run(
        fund=book.funds["zhaoqing"], paths=services.MONTHLY_REPORT_PATHS, today=dt.date(2026, 12, 1)
    )
    assert forecast["claims_p95"] == f"{direct.claims_total['P95']:.2f}"
    import io

    from fundmgr.top.reports.services import stored_report_workbook

    sheet = load_workbook(io.BytesIO(stored_report_workbook(report=fund_report)))["月报"]
    labels = [sheet.cell(row=r, column=1).value for r in range(1, sheet.max_row + 1)]
    assert "预测期内补偿 P95(元)" in labels and "P95 需补充资金(元)" in labels


def test_the_monthly_report_api_and_its_document_carry_the_forecast(book, personas, business_date):
    """The stored fund report's forecast section is served by GET reports/monthly/ and
    documented in the OpenAPI document (MonthlyReport.forecast), the answer matching it."""
    import jsonschema
    from drf_spectacular.generators import SchemaGenerator

    from fundmgr.top.reports.services import monthly_report_generate

    for _ in range(10):
        book.loan(principal="900000.00")
    business_date("2026-12-01")
    monthly_report_generate(fund=book.funds["zhaoqing"], year=2026, month=11)
    url = "/api/v1/reports/monthly/?fund=zhaoqing&year=2026&month=11"
    body = personas.client("regulator_x").get(url).json()
    forecast = body["forecast"]
    assert forecast["as_of"] == "2026-12-01" and forecast["months"] == services.DEFAULT_MONTHS
    assert forecast["below_zero_p95"] is None or len(forecast["below_zero_p95"]) == 7  # YYYY-MM

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    documented = schemas["MonthlyReport"]["properties"]["forecast"]
    ref = (documented.get("allOf") or [documented])[0]["$ref"].rsplit("/", 1)[1]
    section = schemas[ref]
    assert set(section["properties"]) == set(forecast)
    # OpenAPI 3.0's `nullable` as JSON Schema says it
    section = {
        **section,
        "properties": {
            key: {**field, "type": [field["type"], "null"]} if field.get("nullable") else field
            for key, field in section["properties"].items()
        },
    }
    assert "forecast" not in schemas["MonthlyReport"].get("required", [])  # statements have none
    jsonschema.validate(forecast, section)
    bad = {**forecast, "claims_p95": 12.5}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, section)
