"""Money helpers: half-up to the fen, no floats, the API's strict two-decimal string format."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fundmgr.ground.lib.money import MoneyError, format_yuan, parse_money, percent_of, quantize, to_wan_yuan


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("2.675", "2.68"),  # as a float this would be 2.67499999… and round down
        ("-0.005", "-0.01"),  # half-up means away from zero
        ("1", "1.00"),
        (7, "7.00"),
        (Decimal("3.14159"), "3.14"),
    ],
)
def test_quantize_rounds_half_up_to_the_fen(value, expected):
    result = quantize(value)
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize("value", [2.675, 0.1, True])
def test_floats_and_bools_are_refused(value):
    with pytest.raises(MoneyError):
        quantize(value)


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", ""])
def test_non_numbers_are_refused(value):
    with pytest.raises(MoneyError):
        quantize(value)


def test_percent_of_rounds_once_at_the_end():
    assert percent_of(Decimal("3500000.00"), Decimal("1.5")) == Decimal("52500.00")
    # 0.33 × 50% = 0.165 → 0.17 (half-up), not 0.16
    assert percent_of(Decimal("0.33"), Decimal("50")) == Decimal("0.17")
    # 1000.00 × 33.333% = 333.33
    assert percent_of(Decimal("1000.00"), Decimal("33.333")) == Decimal("333.33")


def test_percent_of_refuses_floats():
    with pytest.raises(MoneyError):
        percent_of(Decimal("100.00"), 1.5)


@pytest.mark.parametrize(
    ("yuan", "wan"),
    [
        ("3500000.00", "350.00"),
        ("12345.00", "1.23"),
        ("50.00", "0.01"),  # 0.005 万元 rounds up
        ("49.99", "0.00"),
        ("125000.00", "12.50"),
    ],
)
def test_to_wan_yuan_is_half_up(yuan, wan):
    assert to_wan_yuan(yuan) == Decimal(wan)


@pytest.mark.parametrize("zero", [Decimal("0"), Decimal("0.0000"), Decimal("-0.00"), 0, "0.00"])
def test_to_wan_yuan_shows_any_zero_as_two_places(zero):
    assert str(to_wan_yuan(zero)) == "0.00"


@pytest.mark.parametrize("value", [None, 1.5, Decimal("NaN")])
def test_to_wan_yuan_refuses_what_is_not_an_amount(value):
    with pytest.raises(MoneyError):
        to_wan_yuan(value)


def test_format_yuan_groups_thousands():
    assert format_yuan("1234567.8") == "1,234,567.80"


def test_parse_money_accepts_the_api_format():
    assert parse_money("3500000.00") == Decimal("3500000.00")
    assert parse_money(" 0.05 ") == Decimal("0.05")


@pytest.mark.parametrize("value", [3500000, Decimal("1.00"), 1.5, None])
def test_parse_money_refuses_non_strings(value):
    with pytest.raises(MoneyError):
        parse_money(value)


@pytest.mark.parametrize(
    "text",
    [
        "1.005",  # three decimals
        "-1.00",  # negative
        "100",  # missing decimals
        "1.5",  # one decimal
        "1,000.00",
        "1e3",
        ".50",
        "abc",
        "",
    ],
)
def test_parse_money_refuses_other_formats(text):
    with pytest.raises(MoneyError):
        parse_money(text)


def test_parse_money_refuses_amounts_beyond_the_column():
    assert parse_money("9" * 16 + ".99") == Decimal("9" * 16 + ".99")
    with pytest.raises(MoneyError):
        parse_money("1" + "0" * 16 + ".00")
