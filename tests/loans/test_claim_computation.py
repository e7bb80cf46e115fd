"""Worked examples of the compensation computation, to the fen (domain-rules §8)."""

from __future__ import annotations

from decimal import Decimal

from loans.rules.claims import compute_claim, recovery_fund_amount

D = Decimal
NO_CAPS = {"per_loan_cap": None, "per_enterprise_room": None, "per_year_room": None, "institution_room": None}


def compute(**kw):
    args = {
        "principal": D("1000000.00"),
        "covered_principal": D("1000000.00"),
        "outstanding_principal": D("1000000.00"),
        "recovered_before_claim": D("0.00"),
        "available_balance": D("100000000.00"),
        **NO_CAPS,
    }
    args.update(kw)
    return compute_claim(**args)


def test_foshan_style_70_30():
    c = compute(
        outstanding_principal=D("2345678.91"),
        principal=D("3000000.00"),
        covered_principal=D("3000000.00"),
        fund_share=D("70.00"),
    )
    assert c.loss_base == D("2345678.91")
    assert c.computed_amount == D("1641975.24")  # 2,345,678.91 × 70 % = 1,641,975.237 → half-up
    assert c.claimable_amount == D("1641975.24") and c.caps_applied == []


def test_zhongshan_54_26_16_4_fund_part():
    c = compute(outstanding_principal=D("800000.00"), fund_share=D("54.00"))
    assert c.computed_amount == D("432000.00")
    # the other parties' parts are the rest of the loss: 26 % bank, 16 % insurer, 4 % valuer
    assert [c.loss_base * p / 100 for p in (26, 16, 4)] == [D("208000"), D("128000"), D("32000")]


def test_zhuhai_40_60_with_recoveries_before_the_claim():
    c = compute(
        outstanding_principal=D("1500000.00"), recovered_before_claim=D("123456.78"), fund_share=D("40.00")
    )
    assert c.loss_base == D("1376543.22")
    assert c.computed_amount == D("550617.29")  # 550,617.288 → .29


def test_guangzhou_2023_caps_the_principal_entering_the_loss_base_not_the_payment():
    # "A single bad loan counts only up to 10,000,000": a 15m bad loan under a 40 % agreement
    # pays min(15m, 10m) × 40 % = 4,000,000.00, not min(15m × 40 %, 5m) = 5,000,000.00.
    c = compute(
        principal=D("15000000.00"),
        covered_principal=D("15000000.00"),
        outstanding_principal=D("15000000.00"),
        fund_share=D("40.00"),
        per_loan_principal_cap=D("10000000.00"),
    )
    assert c.covered_loss == D("15000000.00")
    assert c.loss_base == D("10000000.00")
    assert c.computed_amount == c.claimable_amount == D("4000000.00")
    assert [(cap.code, cap.stage, cap.applied) for cap in c.caps_applied] == [
        ("per_loan_principal", "loss_base", True)
    ]
    # the same loan under the payment cap misread as 10m × 50 % would have paid 5m: the two
    # kinds of cap are separate fields, and only the principal cap is Guangzhou's rule
    wrong = compute(
        principal=D("15000000.00"),
        covered_principal=D("15000000.00"),
        outstanding_principal=D("15000000.00"),
        fund_share=D("40.00"),
        per_loan_cap=D("5000000.00"),
    )
    assert wrong.claimable_amount == D("5000000.00") and wrong.loss_base == D("15000000.00")


def test_guangzhou_per_loan_principal_cap_at_50_percent():
    c = compute(
        principal=D("30000000.00"),
        covered_principal=D("30000000.00"),
        outstanding_principal=D("25000000.00"),
        fund_share=D("50.00"),
        per_loan_principal_cap=D("10000000.00"),
    )
    assert (c.loss_base, c.computed_amount, c.claimable_amount) == (
        D("10000000.00"),
        D("5000000.00"),
        D("5000000.00"),
    )


def test_per_enterprise_principal_room_then_payment_caps():
    # 20m per enterprise, 12m already counted for earlier claims: 8m left of this 9m loss.
    c = compute(
        principal=D("9000000.00"),
        covered_principal=D("9000000.00"),
        outstanding_principal=D("9000000.00"),
        fund_share=D("50.00"),
        per_loan_principal_cap=D("10000000.00"),
        per_enterprise_principal_room=D("8000000.00"),
        per_year_room=D("3500000.00"),
    )
    assert c.loss_base == D("8000000.00") and c.computed_amount == D("4000000.00")
    assert c.claimable_amount == D("3500000.00")
    assert [(cap.code, cap.stage) for cap in c.caps_applied] == [
        ("per_enterprise_principal", "loss_base"),
        ("per_year", "payment"),
    ]
    assert c.as_dict()["covered_loss"] == "9000000.00" and c.as_dict()["loss_base"] == "8000000.00"


def test_principal_cap_on_a_combined_pledge_applies_to_the_covered_part():
    # 20m loan, 15m covered by IP (75 %), 16m outstanding: covered loss 12m, capped to 10m.
    c = compute(
        principal=D("20000000.00"),
        covered_principal=D("15000000.00"),
        outstanding_principal=D("16000000.00"),
        fund_share=D("50.00"),
        per_loan_principal_cap=D("10000000.00"),
    )
    assert (c.covered_loss, c.loss_base, c.claimable_amount) == (
        D("12000000.00"),
        D("10000000.00"),
        D("5000000.00"),
    )


def test_combined_pledge_only_ip_part():
    # 2m loan, 1.2m secured by IP (60 %); 1.5m outstanding, 100k recovered before the claim
    c = compute(
        principal=D("2000000.00"),
        covered_principal=D("1200000.00"),
        outstanding_principal=D("1500000.00"),
        recovered_before_claim=D("100000.00"),
        fund_share=D("50.00"),
    )
    assert c.loss_base == D("840000.00")  # (1,500,000 − 100,000) × 60 %
    assert c.computed_amount == D("420000.00")


def test_caps_bite_one_by_one_in_order():
    base = {"outstanding_principal": D("1000000.00"), "fund_share": D("50.00")}  # computed 500,000
    assert compute(**base, per_enterprise_room=D("300000.00")).caps_applied[0].code == "per_enterprise"
    c = compute(**base, per_enterprise_room=D("300000.00"), per_year_room=D("200000.00"))
    assert [cap.code for cap in c.caps_applied] == ["per_enterprise", "per_year"]
    assert c.claimable_amount == D("200000.00")
    c = compute(**base, institution_room=D("150000.00"), available_balance=D("99999.99"))
    assert [cap.code for cap in c.caps_applied] == ["institution", "fund_balance"]
    assert c.claimable_amount == D("99999.99")
    # a cap that does not bite is listed with its limit, not applied
    c = compute(**base, per_loan_cap=D("600000.00"))
    per_loan = next(cap for cap in c.caps if cap.code == "per_loan")
    assert per_loan.limit == D("600000.00") and not per_loan.applied and c.claimable_amount == D("500000.00")
    assert [cap.code for cap in c.caps] == [
        "per_loan_principal",
        "per_enterprise_principal",
        "per_loan",
        "per_enterprise",
        "per_year",
        "institution",
        "fund_balance",
    ]


def test_exhausted_cap_gives_zero_not_negative():
    c = compute(outstanding_principal=D("1000000.00"), fund_share=D("50.00"), per_year_room=D("-5.00"))
    assert c.claimable_amount == D("0.00")


def test_recovery_share_is_the_share_actually_paid_and_capped():
    # fund paid 400,000 of a 1,000,000 loss (capped below its 50 %): returns 40 % of net recoveries
    assert recovery_fund_amount(
        gross=D("100000.00"),
        costs=D("10000.00"),
        paid_amount=D("400000.00"),
        bank_loss=D("1000000.00"),
        already_returned=D("0.00"),
    ) == D("36000.00")
    # never more than what is left of what the fund paid
    assert recovery_fund_amount(
        gross=D("2000000.00"),
        costs=D("0.00"),
        paid_amount=D("400000.00"),
        bank_loss=D("1000000.00"),
        already_returned=D("390000.00"),
    ) == D("10000.00")
    assert recovery_fund_amount(
        gross=D("5.00"),
        costs=D("9.00"),
        paid_amount=D("400000.00"),
        bank_loss=D("1000000.00"),
        already_returned=D("0.00"),
    ) == D("0.00")


def test_recovery_on_a_combined_pledge_in_the_proportion_the_fund_bore_the_loss():
    # Outstanding 1,000,000, 60 % covered by the IP pledge, fund share 50 %: paid 300,000.
    c = compute(
        principal=D("1000000.00"),
        covered_principal=D("600000.00"),
        outstanding_principal=D("1000000.00"),
        fund_share=D("50.00"),
    )
    assert c.claimable_amount == D("300000.00")
    # A later gross 200,000 with 20,000 costs: 180,000 × 300,000 ÷ 1,000,000 = 54,000.00
    # (dividing by the covered loss base, 600,000, would wrongly give 90,000.00).
    assert recovery_fund_amount(
        gross=D("200000.00"),
        costs=D("20000.00"),
        paid_amount=c.claimable_amount,
        bank_loss=c.outstanding_principal - c.recovered_before_claim,
        already_returned=D("0.00"),
    ) == D("54000.00")


def test_recovery_on_a_pure_ip_pledge_is_the_fund_share():
    # Pure IP pledge, no cap: the fund's part of a recovery is its share, as before.
    c = compute(
        outstanding_principal=D("800000.00"), recovered_before_claim=D("50000.00"), fund_share=D("70.00")
    )
    assert c.claimable_amount == D("525000.00")  # 750,000 × 70 %
    assert recovery_fund_amount(
        gross=D("100000.00"),
        costs=D("0.00"),
        paid_amount=c.claimable_amount,
        bank_loss=D("750000.00"),
        already_returned=D("0.00"),
    ) == D("70000.00")
