"""Validation of the identifiers the fund handles (domain rules §13).

Pure functions, no models: USCC (统一社会信用代码), patent application numbers
(专利申请号/专利号), trademark and copyright registration numbers, and the CNIPA patent
pledge registration number. Every refusal is an `IdentifierError` with a stable code and
a Chinese message the user can act on.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import uscc

from fundmgr.ground.lib.errors import AppError


class IdentifierError(AppError, ValueError):
    """A refused identifier. Also an `AppError`, so the API answers 422 without a wrapper."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(code, message, field=field)


# --- shared helpers -------------------------------------------------------------------


def _as_text(value: object, code: str, label: str) -> str:
    """Text in NFKC form, so full-width input typed with a Chinese IME (２０２１．Ｘ) is accepted."""
    if not isinstance(value, str):
        raise IdentifierError(code, _("%(label)s必须是文本") % {"label": label})
    return unicodedata.normalize("NFKC", value).strip()


def _default_today() -> dt.date:
    """The business date when Django is configured, so demos replaying a date agree with rules."""
    from django.conf import settings

    if settings.configured:
        from fundmgr.ground.lib.clock import today

        return today()
    return dt.date.today()


# --- USCC (§13.1) -------------------------------------------------------------------------

USCC_LENGTH = 18
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_EXCLUDED_LETTERS = "IOSVZ"
_USCC_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def normalize_uscc(text: str) -> str:
    return _as_text(text, "invalid_uscc", gettext_lazy("统一社会信用代码")).upper()


def validate_uscc(text: str) -> str:
    """Return the normalised code or raise `IdentifierError(code="invalid_uscc")`.

    The check itself is python-stdnum's; the pre-checks only give a more precise message.
    Note that stdnum requires positions 1–8 to be digits, so codes issued by "other"
    authorities (first character `Y`) are refused; fund applicants start with `91`.
    """
    code = normalize_uscc(text)
    if not code:
        raise IdentifierError("invalid_uscc", _("统一社会信用代码不能为空"))
    if len(code) != USCC_LENGTH:
        raise IdentifierError(
            "invalid_uscc", _("统一社会信用代码应为18位，实际为%(length)s位") % {"length": len(code)}
        )
    excluded = sorted({c for c in code if c in USCC_EXCLUDED_LETTERS})
    if excluded:
        raise IdentifierError(
            "invalid_uscc",
            _("统一社会信用代码不使用字母 I、O、S、V、Z，发现：%(letters)s")
            % {"letters": "、".join(excluded)},
        )
    if any(c not in USCC_ALPHABET for c in code):
        raise IdentifierError("invalid_uscc", _("统一社会信用代码只能包含数字和大写字母"))
    try:
        uscc.validate(code)
    except stdnum_exceptions.InvalidChecksum:
        raise IdentifierError("invalid_uscc", _("统一社会信用代码校验位错误")) from None
    except stdnum_exceptions.InvalidLength:
        raise IdentifierError("invalid_uscc", _("统一社会信用代码应为18位")) from None
    except stdnum_exceptions.ValidationError:
        raise IdentifierError("invalid_uscc", _("统一社会信用代码前8位应为数字")) from None
    return code


def uscc_entity_category(code: str) -> str:
    """Registration authority + entity category, e.g. "91" (market regulator, enterprise)."""
    return normalize_uscc(code)[:2]


def uscc_is_enterprise_legal_person(code: str) -> bool:
    return uscc_entity_category(code) == "91"


def uscc_region_code(code: str) -> str:
    """Positions 3–8: the registering authority's division code (a soft hint only: firms move)."""
    return normalize_uscc(code)[2:8]


def uscc_organisation_code_consistent(code: str) -> bool:
    """Second check on the embedded organisation code (positions 9–17).

    §13.1 says this is a warning, never a refusal, so it returns a bool instead of raising.
    """
    org = normalize_uscc(code)[8:17]
    if len(org) != 9 or not org.isalnum():
        return False
    total = sum(int(c, 36) * w for c, w in zip(org[:8], _USCC_ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    expected = {10: "X", 11: "0"}.get(check, str(check))
    return org[8] == expected


# --- patent application numbers (§13.2) ------------------------------------------------------

INVENTION_PATENT = "invention_patent"
UTILITY_MODEL = "utility_model"
DESIGN_PATENT = "design_patent"
TRADEMARK = "trademark"
COPYRIGHT = "copyright"
SOFTWARE_COPYRIGHT = "software_copyright"
GEOGRAPHICAL_INDICATION = "geographical_indication"

PATENT_KINDS: tuple[str, ...] = (INVENTION_PATENT, UTILITY_MODEL, DESIGN_PATENT)
IP_KINDS: tuple[str, ...] = (
    INVENTION_PATENT,
    UTILITY_MODEL,
    DESIGN_PATENT,
    TRADEMARK,
    COPYRIGHT,
    SOFTWARE_COPYRIGHT,
    GEOGRAPHICAL_INDICATION,
)

# The kinds as staff read them (the admin shows these, never the codes).
IP_KIND_LABELS: dict[str, str] = {
    INVENTION_PATENT: gettext_lazy("发明专利"),
    UTILITY_MODEL: gettext_lazy("实用新型专利"),
    DESIGN_PATENT: gettext_lazy("外观设计专利"),
    TRADEMARK: gettext_lazy("商标"),
    COPYRIGHT: gettext_lazy("著作权"),
    SOFTWARE_COPYRIGHT: gettext_lazy("软件著作权"),
    GEOGRAPHICAL_INDICATION: gettext_lazy("地理标志"),
}

PATENT_TYPE_DIGITS = frozenset("12389")
# 8 and 9 are PCT applications entering the national phase (invention / utility model).
_KIND_TYPE_DIGITS: dict[str, frozenset[str]] = {
    INVENTION_PATENT: frozenset("18"),
    UTILITY_MODEL: frozenset("29"),
    DESIGN_PATENT: frozenset("3"),
}
_KIND_LABELS = {
    INVENTION_PATENT: gettext_lazy("发明专利"),
    UTILITY_MODEL: gettext_lazy("实用新型"),
    DESIGN_PATENT: gettext_lazy("外观设计"),
    TRADEMARK: gettext_lazy("商标"),
    COPYRIGHT: gettext_lazy("著作权"),
    SOFTWARE_COPYRIGHT: gettext_lazy("软件著作权"),
    GEOGRAPHICAL_INDICATION: gettext_lazy("地理标志"),
}
_TYPE_DIGIT_LABELS = {
    "1": gettext_lazy("发明"),
    "2": gettext_lazy("实用新型"),
    "3": gettext_lazy("外观设计"),
    "8": gettext_lazy("PCT发明"),
    "9": gettext_lazy("PCT实用新型"),
}

_PATENT_WEIGHTS_12 = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_PATENT_WEIGHTS_8 = (2, 3, 4, 5, 6, 7, 8, 9)
FIRST_PATENT_YEAR = 1985  # the Patent Law took effect on 1985-04-01
LAST_OLD_FORMAT_YEAR = 2003  # ZC 0006-2003 introduced the 12-digit form on 2003-10-01

_PATENT_PREFIX = re.compile(r"^(?:CN|ZL)")
_CANONICAL_PATENT = re.compile(r"^(\d{8}|\d{12})\.([0-9X])$", re.ASCII)
# CN + 9 digits + kind code (A, B, U, S, C, Y…) is a publication/grant number.
_PUBLICATION_NUMBER = re.compile(r"^\d{7,9}[A-Z]\d?$", re.ASCII)

_INVALID_PATENT = "invalid_patent_number"


def _patent_error(message: str) -> IdentifierError:
    return IdentifierError(_INVALID_PATENT, message)


def normalize_patent_number(text: str) -> str:
    """Canonical form `202110123456.7` / `95115608.X`.

    Removes a `CN`/`ZL` prefix (any case), whitespace and an optional dot before the check
    character; upper-cases `x`. Input that does not have the shape of an application
    number comes back compacted but otherwise as typed (a misplaced dot stays where it
    was), so `validate_patent_number` can refuse it with a specific message.
    """
    compact = re.sub(r"\s+", "", _as_text(text, _INVALID_PATENT, gettext_lazy("专利号"))).upper()
    compact = _PATENT_PREFIX.sub("", compact)
    body, dot, check = compact.rpartition(".")
    if dot and len(check) == 1 and "." not in body:
        compact = body + check
    elif dot:
        return compact
    if len(compact) in (9, 13):
        return f"{compact[:-1]}.{compact[-1]}"
    return compact


def patent_check_char(digits: str) -> str:
    """Check character for the 12-digit (new) or 8-digit (old) body: Σ dᵢ·wᵢ mod 11, 10 → X."""
    if not (digits.isascii() and digits.isdigit()) or len(digits) not in (8, 12):
        raise _patent_error(_("专利申请号主体应为8位或12位数字"))
    weights = _PATENT_WEIGHTS_12 if len(digits) == 12 else _PATENT_WEIGHTS_8
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


def _split_patent(number: str) -> tuple[str, str]:
    """(body digits, check char) of a number that has the application-number shape."""
    canonical = normalize_patent_number(number)
    match = _CANONICAL_PATENT.match(canonical)
    if match:
        return match.group(1), match.group(2)
    flat = canonical.replace(".", "")
    if _PUBLICATION_NUMBER.match(flat):
        raise _patent_error(_("这是专利公开（公告）号，请填写专利申请号，例如 202110123456.7"))
    if len(flat) in (8, 12) and flat.isascii() and flat.isdigit():
        raise _patent_error(_("专利申请号缺少最后一位校验位，请按证书完整填写，例如 202110123456.7"))
    if len(flat) not in (9, 13):
        raise _patent_error(
            _("专利申请号去掉前缀、空格和小数点后应为9位或13位，实际为%(length)s位，例如 202110123456.7")
            % {"length": len(flat)}
        )
    if "." in canonical and canonical.index(".") != len(canonical) - 2:
        raise _patent_error(_("专利申请号中的小数点应在最后一位校验位之前"))
    if not (flat[:-1].isascii() and flat[:-1].isdigit()):
        raise _patent_error(_("专利申请号除最后一位校验位外只能是数字"))
    raise _patent_error(_("专利申请号的校验位只能是数字或X"))


def _filing_year(body: str) -> int:
    if len(body) == 12:
        return int(body[:4])
    two_digits = int(body[:2])
    return 1900 + two_digits if two_digits >= 85 else 2000 + two_digits


def _type_digit(body: str) -> str:
    return body[4] if len(body) == 12 else body[2]


def patent_filing_year(number: str) -> int:
    """Filing year encoded in the number (two-digit years 85–99, 00–03 in the old format)."""
    body, _ = _split_patent(number)
    return _filing_year(body)


def patent_type_digit(number: str) -> str:
    body, _ = _split_patent(number)
    return _type_digit(body)


def _check_patent_year(body: str, today: dt.date) -> None:
    year = _filing_year(body)
    if len(body) == 12:
        if not FIRST_PATENT_YEAR <= year <= today.year:
            raise _patent_error(
                _("专利申请号中的申请年份%(year)s不合理（应在%(first)s至%(last)s年之间）")
                % {"year": year, "first": FIRST_PATENT_YEAR, "last": today.year}
            )
        return
    two_digits = int(body[:2])
    if not (85 <= two_digits <= 99 or 0 <= two_digits <= LAST_OLD_FORMAT_YEAR % 100):
        raise _patent_error(
            _("旧格式专利申请号中的年份“%(year)s”不合理（应为85–99或00–03）") % {"year": body[:2]}
        )


def validate_patent_number(text: str, *, kind: str | None = None, today: dt.date | None = None) -> str:
    """Return the canonical application number or raise `IdentifierError`.

    Codes: "invalid_patent_number" for a malformed number, "patent_kind_mismatch" when the
    type digit contradicts `kind`, "invalid_ip_kind" for a `kind` that is not a patent kind.
    """
    if kind is not None and kind not in PATENT_KINDS:
        raise IdentifierError("invalid_ip_kind", _("不是专利类型：%(kind)s") % {"kind": kind})
    body, check = _split_patent(text)
    _check_patent_year(body, today or _default_today())
    type_digit = _type_digit(body)
    if type_digit not in PATENT_TYPE_DIGITS:
        raise _patent_error(
            _("专利申请号中的类型位“%(digit)s”无效（应为1、2、3、8或9）") % {"digit": type_digit}
        )
    expected = patent_check_char(body)
    if check != expected:
        # Never reveal the expected character: users would "fix" a mistyped number with it.
        raise _patent_error(_("专利申请号校验位错误，请逐位核对号码"))
    if kind is not None and type_digit not in _KIND_TYPE_DIGITS[kind]:
        raise IdentifierError(
            "patent_kind_mismatch",
            _("专利申请号的类型位“%(digit)s”表示%(meaning)s，与所选类型“%(kind)s”不符")
            % {"digit": type_digit, "meaning": _TYPE_DIGIT_LABELS[type_digit], "kind": _KIND_LABELS[kind]},
        )
    return f"{body}.{check}"


# --- patent legal terms (§13.2) ---------------------------------------------------------------

DESIGN_15_YEAR_TERM_FROM = dt.date(2021, 6, 1)  # Patent Law 4th amendment took effect


def _patent_term_years(kind: str, filed_on: dt.date) -> int:
    if kind == INVENTION_PATENT:
        return 20
    if kind == UTILITY_MODEL:
        return 10
    if kind == DESIGN_PATENT:
        return 15 if filed_on >= DESIGN_15_YEAR_TERM_FROM else 10
    raise IdentifierError("invalid_ip_kind", _("不是专利类型：%(kind)s") % {"kind": kind})


def _anniversary(day: dt.date, years: int) -> dt.date:
    """Same day `years` later; 29 February falls on 1 March in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def patent_term_expiry(kind: str, filed_on: dt.date) -> dt.date:
    """Last day of protection: the day before the term's anniversary of the filing date."""
    return _anniversary(filed_on, _patent_term_years(kind, filed_on)) - dt.timedelta(days=1)


# --- trademarks, copyrights, GI (§13.3) -------------------------------------------------------

_TRADEMARK_NUMBER = re.compile(r"^\d{1,9}$", re.ASCII)
_SOFTWARE_COPYRIGHT_NUMBER = re.compile(r"^\d{4}SR\d{6,7}$", re.ASCII)
COPYRIGHT_NUMBER_MAX_LENGTH = 64
# The wording around a number copied from a certificate (第12345678号, 软著登字第2021SR0123456号):
# input matched as typed, not UI text.
CERTIFICATE_NUMBER_SUFFIX = "号"
TRADEMARK_CERTIFICATE_PREFIXES = ("第",)
SOFTWARE_COPYRIGHT_CERTIFICATE_PREFIXES = ("软著登字第", "第")


def _strip_certificate_wording(text: str, prefixes: tuple[str, ...]) -> str:
    """Drop the "第…号" wording copied from a certificate (longest prefix first)."""
    for prefix in prefixes:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text.removesuffix(CERTIFICATE_NUMBER_SUFFIX).strip()


def validate_trademark_number(text: str) -> str:
    code = "invalid_trademark_number"
    number = _strip_certificate_wording(
        _as_text(text, code, gettext_lazy("商标注册号")), TRADEMARK_CERTIFICATE_PREFIXES
    )
    if not _TRADEMARK_NUMBER.match(number):
        raise IdentifierError(code, _("商标注册号应为1至9位数字，例如 第12345678号"))
    return number


def validate_software_copyright_number(text: str) -> str:
    code = "invalid_copyright_number"
    number = _as_text(text, code, gettext_lazy("软件著作权登记号")).upper()
    number = _strip_certificate_wording(number, SOFTWARE_COPYRIGHT_CERTIFICATE_PREFIXES)
    if not _SOFTWARE_COPYRIGHT_NUMBER.match(number):
        raise IdentifierError(code, _("软件著作权登记号格式应为“年份+SR+6至7位数字”，例如 2021SR0123456"))
    return number


def validate_copyright_number(text: str) -> str:
    """Format unknown (§13.3 "?"), so only presence and length are checked."""
    code = "invalid_copyright_number"
    number = _as_text(text, code, gettext_lazy("著作权登记号"))
    if not number:
        raise IdentifierError(code, _("著作权登记号不能为空"))
    if len(number) > COPYRIGHT_NUMBER_MAX_LENGTH:
        raise IdentifierError(
            code, _("著作权登记号不能超过%(limit)s个字符") % {"limit": COPYRIGHT_NUMBER_MAX_LENGTH}
        )
    return number


def validate_ip_number(kind: str, number: str, *, today: dt.date | None = None) -> str:
    """Validate `number` for an IP right of `kind` (one of `IP_KINDS`); returns it normalised."""
    if kind in PATENT_KINDS:
        return validate_patent_number(number, kind=kind, today=today)
    if kind in (TRADEMARK, GEOGRAPHICAL_INDICATION):
        # A GI is pledged through its collective/certification trademark (§13.3).
        return validate_trademark_number(number)
    if kind == SOFTWARE_COPYRIGHT:
        return validate_software_copyright_number(number)
    if kind == COPYRIGHT:
        return validate_copyright_number(number)
    raise IdentifierError("invalid_ip_kind", _("未知的知识产权类型：%(kind)s") % {"kind": kind})


# --- patent pledge registration number (§13.4) ------------------------------------------------

_PLEDGE_REGISTRATION_NO = re.compile(r"^Y?\d{13}$", re.ASCII)


def validate_pledge_registration_no(text: str) -> str:
    """Lenient on purpose: no official format was found, only observed numbers (§13.4)."""
    code = "invalid_pledge_registration_no"
    number = _as_text(text, code, gettext_lazy("专利权质押登记号")).upper()
    if not _PLEDGE_REGISTRATION_NO.match(number):
        raise IdentifierError(code, _("专利权质押登记号格式应为“Y+13位数字”或13位数字，例如 Y2022440000123"))
    return number
