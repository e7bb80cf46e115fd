"""Worked examples of the compensation computation, to the fen (domain-rules §8)."""

from __future__ import annotations

from decimal import Decimal

from loans.rules import compute_claim, recovery_fund_amount

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


def test_guangzhou_per_loan_cap_of_10m_bites():
    c = compute(
        principal=D("30000000.00"),
        covered_principal=D("30000000.00"),
        outstanding_principal=D("25000000.00"),
        fund_share=D("50.00"),
        per_loan_cap=D("10000000.00"),
    )
    assert c.computed_amount == D("12500000.00")
    assert c.claimable_amount == D("10000000.00")
    assert [(cap.code, cap.applied) for cap in c.caps_applied] == [("per_loan", True)]


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
    assert (
        c.caps[0].limit == D("600000.00") and not c.caps[0].applied and c.claimable_amount == D("500000.00")
    )


def test_exhausted_cap_gives_zero_not_negative():
    c = compute(outstanding_principal=D("1000000.00"), fund_share=D("50.00"), per_year_room=D("-5.00"))
    assert c.claimable_amount == D("0.00")


def test_recovery_share_is_the_share_actually_paid_and_capped():
    # fund paid 400,000 of a 1,000,000 loss base (capped below its 50 %): returns 40 % of net recoveries
    assert recovery_fund_amount(
        gross=D("100000.00"),
        costs=D("10000.00"),
        paid_amount=D("400000.00"),
        loss_base=D("1000000.00"),
        already_returned=D("0.00"),
    ) == D("36000.00")
    # never more than what is left of what the fund paid
    assert recovery_fund_amount(
        gross=D("2000000.00"),
        costs=D("0.00"),
        paid_amount=D("400000.00"),
        loss_base=D("1000000.00"),
        already_returned=D("390000.00"),
    ) == D("10000.00")
    assert recovery_fund_amount(
        gross=D("5.00"),
        costs=D("9.00"),
        paid_amount=D("400000.00"),
        loss_base=D("1000000.00"),
        already_returned=D("0.00"),
    ) == D("0.00")
