"""Identifier validation (domain rules §13)."""

from __future__ import annotations

import datetime as dt

import pytest

from fundmgr.ground.lib.errors import AppError
from fundmgr.ground.lib.identifiers import (
    IP_KINDS,
    PATENT_KINDS,
    IdentifierError,
    normalize_patent_number,
    normalize_uscc,
    patent_check_char,
    patent_filing_year,
    patent_term_expiry,
    patent_type_digit,
    uscc_entity_category,
    uscc_is_enterprise_legal_person,
    uscc_organisation_code_consistent,
    uscc_region_code,
    validate_ip_number,
    validate_patent_number,
    validate_pledge_registration_no,
    validate_uscc,
)

TODAY = dt.date(2026, 6, 30)


def _code(excinfo: pytest.ExceptionInfo[IdentifierError]) -> str:
    return excinfo.value.code


# --- USCC -------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["914403001922038216", "9144030071526726XG", "91350100M000100Y43"])
def test_valid_uscc(code):
    assert validate_uscc(code) == code


def test_uscc_is_normalised():
    assert normalize_uscc("  9144030071526726xg ") == "9144030071526726XG"
    assert validate_uscc(" 9144030071526726xg\n") == "9144030071526726XG"
    # Full-width characters typed with a Chinese IME
    assert validate_uscc("９１４４０３００１９２２０３８２１６") == "914403001922038216"


@pytest.mark.parametrize(
    ("code", "message_part"),
    [
        ("91350100M000100Y44", "校验位"),  # the standard's example with a wrong check
        ("914403001922038217", "校验位"),
        ("9144030071526726XH", "校验位"),
        ("91350100M000100Y4Z", "I、O、S、V、Z"),  # the standard's counter-example
        ("91440300192203821O", "I、O、S、V、Z"),
        ("9144030019220382I6", "I、O、S、V、Z"),
        ("9144030019220382", "18位"),
        ("9144030019220382160", "18位"),
        ("", "不能为空"),
        ("91440300-922038216", "数字和大写字母"),
        ("A14403001922038216", "前8位"),
    ],
)
def test_invalid_uscc(code, message_part):
    with pytest.raises(IdentifierError) as excinfo:
        validate_uscc(code)
    assert _code(excinfo) == "invalid_uscc"
    assert message_part in excinfo.value.message


def test_uscc_error_is_a_value_error_and_an_app_error():
    with pytest.raises(ValueError) as excinfo:
        validate_uscc("123")
    assert isinstance(excinfo.value, AppError)
    assert excinfo.value.status == 422


def test_uscc_non_string_is_refused():
    with pytest.raises(IdentifierError):
        validate_uscc(914403001922038216)


def test_uscc_parts():
    assert uscc_entity_category("914403001922038216") == "91"
    assert uscc_is_enterprise_legal_person("914403001922038216")
    assert not uscc_is_enterprise_legal_person("92440300MA4W000000")
    assert uscc_region_code("914403001922038216") == "440300"
    assert uscc_region_code("91440606MA4UJ00000") == "440606"


def test_uscc_organisation_code_second_check():
    assert uscc_organisation_code_consistent("914403001922038216")
    assert uscc_organisation_code_consistent("9144030071526726XG")
    # Position 17 altered: still a warning-level finding only
    assert not uscc_organisation_code_consistent("914403001922038226")


# --- patents: check character ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "check"),
    [("201710601862", "3"), ("95115608", "X"), ("202110123456", "7"), ("202130123456", "8")],
)
def test_patent_check_char_worked_examples(digits, check):
    assert patent_check_char(digits) == check


@pytest.mark.parametrize("digits", ["2017106018", "2017106018623", "20171060186X", ""])
def test_patent_check_char_needs_8_or_12_digits(digits):
    with pytest.raises(IdentifierError):
        patent_check_char(digits)


# --- patents: validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("201710601862.3", "201710601862.3"),
        ("ZL201710601862.3", "201710601862.3"),
        ("zl201710601862.3", "201710601862.3"),
        ("CN 2021 1 0123456.7", "202110123456.7"),
        ("cn2021101234567", "202110123456.7"),
        ("  202110123456.7  ", "202110123456.7"),
        ("95115608.X", "95115608.X"),
        ("95115608x", "95115608.X"),
        ("ZL 95115608.x", "95115608.X"),
        ("２０２１１０１２３４５６．７", "202110123456.7"),
        ("202120123456.2", "202120123456.2"),  # utility model
        ("202130123456.8", "202130123456.8"),  # design
        ("202180123456.5", "202180123456.5"),  # PCT invention
        ("202190123456.0", "202190123456.0"),  # PCT utility model
        ("198510000001.9", "198510000001.9"),
        ("85100001.0", "85100001.0"),
        ("03100001.0", "03100001.0"),
        ("00200001.6", "00200001.6"),
    ],
)
def test_valid_patent_numbers(text, canonical):
    assert normalize_patent_number(text) == canonical
    assert validate_patent_number(text, today=TODAY) == canonical


@pytest.mark.parametrize(
    ("text", "message_part"),
    [
        ("201710601862.4", "校验位错误"),
        ("95115608.1", "校验位错误"),
        ("CN102822194A", "公开（公告）号"),
        ("CN102822194B", "公开（公告）号"),
        ("CN201621234567U", "数字或X"),
        ("CN205123456U", "公开（公告）号"),
        ("202110123456", "缺少最后一位校验位"),
        ("20211012345.67", "小数点"),
        ("2021101234A6.7", "只能是数字"),
        ("2021101234567.89", "9位或13位"),
        ("202140123456.3", "类型位"),  # type digit 4 does not exist
        ("198410123456.5", "申请年份1984"),
        ("202710123456.4", "申请年份2027"),  # future year
        ("84100001.8", "年份"),
        ("04100001.3", "年份"),  # 8-digit form ended in 2003
        ("", "9位或13位"),
    ],
)
def test_invalid_patent_numbers(text, message_part):
    with pytest.raises(IdentifierError) as excinfo:
        validate_patent_number(text, today=TODAY)
    assert _code(excinfo) == "invalid_patent_number"
    assert message_part in excinfo.value.message


def test_wrong_check_message_does_not_reveal_the_expected_character():
    with pytest.raises(IdentifierError) as excinfo:
        validate_patent_number("201710601862.4", today=TODAY)
    assert "3" not in excinfo.value.message


def test_future_year_becomes_valid_once_that_year_arrives():
    with pytest.raises(IdentifierError):
        validate_patent_number("202710123456.4", today=dt.date(2026, 12, 31))
    assert validate_patent_number("202710123456.4", today=dt.date(2027, 1, 4)) == "202710123456.4"


def test_default_today_is_the_business_date(settings):
    settings.FUNDMGR_BUSINESS_DATE = "2026-12-31"
    with pytest.raises(IdentifierError):
        validate_patent_number("202710123456.4")
    settings.FUNDMGR_BUSINESS_DATE = "2027-01-04"
    assert validate_patent_number("202710123456.4") == "202710123456.4"


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("202110123456.7", "invention_patent"),
        ("202180123456.5", "invention_patent"),
        ("202120123456.2", "utility_model"),
        ("202190123456.0", "utility_model"),
        ("202130123456.8", "design_patent"),
        ("95115608.X", "invention_patent"),
    ],
)
def test_patent_kind_matches(number, kind):
    assert validate_patent_number(number, kind=kind, today=TODAY) == number


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("202110123456.7", "utility_model"),
        ("202110123456.7", "design_patent"),
        ("202120123456.2", "invention_patent"),
        ("202130123456.8", "utility_model"),
        ("202190123456.0", "design_patent"),
    ],
)
def test_patent_kind_mismatch(number, kind):
    with pytest.raises(IdentifierError) as excinfo:
        validate_patent_number(number, kind=kind, today=TODAY)
    assert _code(excinfo) == "patent_kind_mismatch"


def test_patent_kind_must_be_a_patent_kind():
    with pytest.raises(IdentifierError) as excinfo:
        validate_patent_number("202110123456.7", kind="trademark", today=TODAY)
    assert _code(excinfo) == "invalid_ip_kind"


def test_patent_year_and_type_digit():
    assert patent_filing_year("ZL201710601862.3") == 2017
    assert patent_type_digit("ZL201710601862.3") == "1"
    assert patent_filing_year("95115608.X") == 1995
    assert patent_type_digit("95115608.X") == "1"
    assert patent_filing_year("03100001.0") == 2003
    assert patent_type_digit("202130123456.8") == "3"
    with pytest.raises(IdentifierError):
        patent_filing_year("CN102822194A")


# --- patent terms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "filed_on", "expiry"),
    [
        ("invention_patent", dt.date(2016, 3, 15), dt.date(2036, 3, 14)),
        ("utility_model", dt.date(2016, 3, 15), dt.date(2026, 3, 14)),
        ("design_patent", dt.date(2021, 5, 31), dt.date(2031, 5, 30)),  # old 10-year term
        ("design_patent", dt.date(2021, 6, 1), dt.date(2036, 5, 31)),  # 15 years from 2021-06-01
        ("invention_patent", dt.date(2020, 1, 1), dt.date(2039, 12, 31)),
        ("utility_model", dt.date(2020, 2, 29), dt.date(2030, 2, 28)),  # leap day filing
        ("utility_model", dt.date(2020, 3, 1), dt.date(2030, 2, 28)),
        ("invention_patent", dt.date(2020, 2, 29), dt.date(2040, 2, 28)),
    ],
)
def test_patent_term_expiry(kind, filed_on, expiry):
    assert patent_term_expiry(kind, filed_on) == expiry


def test_patent_term_of_a_non_patent_is_refused():
    with pytest.raises(IdentifierError) as excinfo:
        patent_term_expiry("trademark", dt.date(2020, 1, 1))
    assert _code(excinfo) == "invalid_ip_kind"


# --- other IP numbers -------------------------------------------------------------------------------


def test_kind_lists():
    assert IP_KINDS == (
        "invention_patent",
        "utility_model",
        "design_patent",
        "trademark",
        "copyright",
        "software_copyright",
        "geographical_indication",
    )
    assert PATENT_KINDS == ("invention_patent", "utility_model", "design_patent")


@pytest.mark.parametrize(
    ("kind", "text", "normalised"),
    [
        ("invention_patent", "ZL201710601862.3", "201710601862.3"),
        ("trademark", "12345678", "12345678"),
        ("trademark", "第12345678号", "12345678"),
        ("trademark", " 1 ", "1"),
        ("trademark", "123456789", "123456789"),
        ("geographical_indication", "第1234567号", "1234567"),
        ("software_copyright", "2021SR0123456", "2021SR0123456"),
        ("software_copyright", "2019sr123456", "2019SR123456"),
        ("software_copyright", "软著登字第2021SR0123456号", "2021SR0123456"),
        ("copyright", "国作登字-2021-F-00012345", "国作登字-2021-F-00012345"),
    ],
)
def test_valid_ip_numbers(kind, text, normalised):
    assert validate_ip_number(kind, text, today=TODAY) == normalised


@pytest.mark.parametrize(
    ("kind", "text", "code"),
    [
        ("trademark", "1234567890", "invalid_trademark_number"),
        ("trademark", "12A45", "invalid_trademark_number"),
        ("trademark", "第号", "invalid_trademark_number"),
        ("trademark", "", "invalid_trademark_number"),
        ("geographical_indication", "GI-001", "invalid_trademark_number"),
        ("software_copyright", "21SR0123456", "invalid_copyright_number"),
        ("software_copyright", "2021SR01234", "invalid_copyright_number"),
        ("software_copyright", "2021SR012345678", "invalid_copyright_number"),
        ("copyright", "   ", "invalid_copyright_number"),
        ("copyright", "X" * 65, "invalid_copyright_number"),
        ("design_patent", "202110123456.7", "patent_kind_mismatch"),
        ("utility_model", "201710601862.4", "invalid_patent_number"),
        ("know_how", "123", "invalid_ip_kind"),
    ],
)
def test_invalid_ip_numbers(kind, text, code):
    with pytest.raises(IdentifierError) as excinfo:
        validate_ip_number(kind, text, today=TODAY)
    assert _code(excinfo) == code


def test_copyright_length_limit_is_inclusive():
    assert validate_ip_number("copyright", "X" * 64) == "X" * 64


# --- pledge registration numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("Y2022440000123", "Y2022440000123"),
        (" y2022440000123 ", "Y2022440000123"),
        ("2015440000123", "2015440000123"),
    ],
)
def test_valid_pledge_registration_no(text, normalised):
    assert validate_pledge_registration_no(text) == normalised


@pytest.mark.parametrize(
    "text", ["Y202244000012", "Y20224400001234", "X2022440000123", "YY2022440000123", "Y2022-440000123", ""]
)
def test_invalid_pledge_registration_no(text):
    with pytest.raises(IdentifierError) as excinfo:
        validate_pledge_registration_no(text)
    assert _code(excinfo) == "invalid_pledge_registration_no"
