"""Money: Decimal yuan with two places, rounded half-up to the fen. Never a float.

万元 (ten-thousand yuan) appears only at the report edge, via `to_wan_yuan` (and `format_wan`
for dashboards and overviews that show it).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
TEN_THOUSAND = Decimal("10000")
HUNDRED = Decimal("100")

MONEY_MAX_DIGITS = 18
MONEY_DECIMAL_PLACES = 2


class MoneyError(ValueError):
    pass


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Exact conversion; floats are refused because they are not exact."""
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError("money must not be a float or a bool")
    if isinstance(value, Decimal):
        result = value
    else:
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise MoneyError(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise MoneyError(f"not a finite number: {value!r}")
    return result


def quantize(value: Decimal | int | str) -> Decimal:
    """Round to the fen, half-up (0.005 -> 0.01)."""
    return to_decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    """`amount × percent / 100`, rounded half-up to the fen once, at the end."""
    return quantize(to_decimal(amount) * to_decimal(percent) / HUNDRED)


def to_wan_yuan(amount: Decimal | int | str) -> Decimal:
    """Yuan to 万元 with two decimals, half-up (report edge only)."""
    if type(amount) is not Decimal or not amount.is_finite():  # a report converts thousands: skip the checks
        amount = to_decimal(amount)
    if not amount:  # most of a bank's figures in a report: nothing to divide
        return ZERO
    return (amount / TEN_THOUSAND).quantize(FEN, rounding=ROUND_HALF_UP)


def format_yuan(amount: Decimal | int | str) -> str:
    """'1234567.8' -> '1,234,567.80' (admin display)."""
    return f"{quantize(amount):,.2f}"


def format_wan(amount: Decimal | int | str) -> str:
    """Yuan shown in 万元: '12345678.9' -> '1,234.57' (dashboards and regulators' pages; the
    unit goes in the header, exports keep exact yuan)."""
    return f"{to_wan_yuan(amount):,.2f}"


def ascii_digits(text: str) -> bool:
    """0-9 only: str.isdigit() also says yes to full-width (１), superscript (²) and other
    scripts' digits, which must never become an amount."""
    return bool(text) and text.isascii() and text.isdigit()


def parse_money(text: str) -> Decimal:
    """Parse the API's money format: a string with exactly two decimals, not negative."""
    if not isinstance(text, str):
        raise MoneyError(_('金额必须是字符串，例如 "3500000.00"'))
    s = text.strip()
    whole, dot, frac = s.partition(".")
    if not dot or len(frac) != 2 or not ascii_digits(whole) or not ascii_digits(frac):
        raise MoneyError(_('金额格式应为两位小数的字符串，例如 "3500000.00"'))
    value = Decimal(s)
    if len(whole.lstrip("0")) > MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES:
        raise MoneyError(_("金额超出范围"))
    return value
