"""SME size classification (中小企业划型) under 工信部联企业〔2011〕300号.

The thresholds are data (`data/sme_thresholds_2011.json`, loaded into `SMEThreshold` by a
data migration), because MIIT revises the standard; this module only holds the algorithm
(domain-rules §3.2):

1. map the GB/T 4754-2017 industry code to a row, the longest matching prefix winning and
   unmapped codes falling to the catch-all row (其他未列明行业);
2. the firm is an SME if ANY indicator of the row's ceiling is below its limit, so it is
   large only when it is at or above every one of them;
3. medium if it meets ALL medium lower limits, else small if it meets ALL small lower
   limits, else micro.

Amounts are compared in 万元, as the standard states them; enterprises keep yuan, so the
`*_from_db` entry point converts with `yuan_to_wan`. Decimal throughout, never float: a
boundary such as "营业收入2000万元及以上" must not move by a binary rounding error.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from enterprises.errors import EnterprisesError
from fundmgr.ground.lib.errors import AppError
from fundmgr.ground.lib.i18n import recorded
from fundmgr.ground.lib.money import TEN_THOUSAND, to_decimal

DEFAULT_STANDARD = "MIIT-2011-300"
# Date of the notice 工信部联企业〔2011〕300号; it applies from publication.
DEFAULT_EFFECTIVE_FROM = dt.date(2011, 6, 18)
DEFAULT_THRESHOLDS_PATH = Path(__file__).resolve().parent / "data" / "sme_thresholds_2011.json"

SizeClass = Literal["large", "medium", "small", "micro"]

# Canonical order, also the order used in `missing` and in the Chinese explanation.
INDICATORS: tuple[str, ...] = ("employees", "revenue", "total_assets")
INDICATOR_LABELS: dict[str, str] = {
    "employees": _("从业人员"),
    "revenue": _("营业收入"),
    "total_assets": _("资产总额"),
}
SIZE_LABELS: dict[str, str] = {
    "large": _("大型企业"),
    "medium": _("中型企业"),
    "small": _("小型企业"),
    "micro": _("微型企业"),
}

# Row keys, identical to the SMEThreshold field names so that a data migration can do
# `SMEThreshold.objects.update_or_create(..., defaults=row)` without any renaming.
ROW_FIELDS: tuple[str, ...] = ("standard", "industry", "name", "gbt4754_prefixes", "rule", "effective_from")

# GB/T 4754-2017 sections (门类) by their two-digit divisions (大类). Used to accept codes
# written without the letter ("3985") and to catch a letter that contradicts its digits
# ("I3985"), either of which would otherwise silently land on the wrong threshold row.
_SECTION_DIVISIONS: tuple[tuple[str, int, int], ...] = (
    ("A", 1, 5),
    ("B", 6, 12),
    ("C", 13, 43),
    ("D", 44, 46),
    ("E", 47, 50),
    ("F", 51, 52),
    ("G", 53, 60),
    ("H", 61, 62),
    ("I", 63, 65),
    ("J", 66, 69),
    ("K", 70, 70),
    ("L", 71, 72),
    ("M", 73, 75),
    ("N", 76, 79),
    ("O", 80, 82),
    ("P", 83, 83),
    ("Q", 84, 85),
    ("R", 86, 90),
    ("S", 91, 96),
    ("T", 97, 97),
)
_SECTIONS = frozenset(letter for letter, _lo, _hi in _SECTION_DIVISIONS)


class SMEThresholdError(ValueError):
    """The threshold data (JSON file or table) is malformed or inconsistent."""


class SMEThreshold(models.Model):
    """One industry row of an SME classification standard (中小企业划型标准).

    `rule` holds the conditions, amounts in 万元 and employees in persons:
    {"sme_ceiling": {"any_below": [[indicator, limit], ...]},
     "medium": {"all_at_least": [...]}, "small": {"all_at_least": [...]},
     "micro": {"any_below": [...]}}   # micro optional; must be the complement of small
    """

    standard = models.CharField(
        _("划型标准"),
        max_length=32,
        default=DEFAULT_STANDARD,
        help_text=_("标准版本代码，如 MIIT-2011-300（工信部联企业〔2011〕300号）"),
    )
    industry = models.SlugField(_("行业标识"), max_length=40)
    name = models.CharField(_("行业名称"), max_length=64)
    gbt4754_prefixes = models.JSONField(
        _("国民经济行业代码前缀"),
        default=list,
        blank=True,
        help_text=_(
            "GB/T 4754-2017 门类字母加 0、2、3 或 4 位数字，如 C、F52、K7010；空列表表示其他未列明行业"
        ),
    )
    rule = models.JSONField(
        _("划型条件"), help_text=_("上限、中型、小型（及微型）条件，金额单位万元，人数单位人")
    )
    effective_from = models.DateField(_("施行日期"), default=DEFAULT_EFFECTIVE_FROM)

    class Meta:
        app_label = "enterprises"
        verbose_name = _("中小企业划型标准")
        verbose_name_plural = _("中小企业划型标准")
        ordering = ["standard", "industry"]
        constraints = [
            models.UniqueConstraint(
                fields=["standard", "industry"], name="enterprises_sme_threshold_std_industry_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.standard} {self.name}"

    def clean(self) -> None:
        # An admin edit must leave the whole standard usable, so check this row together
        # with its siblings (duplicate prefixes, a second catch-all row, ...).
        siblings = SMEThreshold.objects.filter(standard=self.standard).exclude(pk=self.pk)
        rows = [_row_from_instance(row) for row in siblings] + [_row_from_instance(self)]
        try:
            validate_threshold_rows(rows)
        except SMEThresholdError as exc:
            raise ValidationError(str(exc)) from exc


@dataclass(frozen=True)
class SMEResult:
    size_class: SizeClass
    industry: str
    industry_name: str
    basis: str
    # Indicators the row needs but the caller did not give; non-empty means provisional.
    missing: list[str]
    standard: str = DEFAULT_STANDARD

    @property
    def is_sme(self) -> bool:
        return self.size_class != "large"

    @property
    def is_provisional(self) -> bool:
        return bool(self.missing)


# --- loading and validating the data -------------------------------------------------------


def load_threshold_rows(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Read a standard's JSON file into rows keyed like the SMEThreshold fields.

    Standard-wide facts (`standard`, `effective_from`) are stated once in the file and
    copied onto every row. The rows are validated, so a typo in a revised file fails here
    rather than misclassifying enterprises later.
    """
    file = Path(path) if path is not None else DEFAULT_THRESHOLDS_PATH
    with file.open(encoding="utf-8") as fh:
        # parse_float=Decimal so that a fractional limit is never a float, even briefly.
        document = json.load(fh, parse_float=Decimal)
    try:
        standard = document["standard"]
        effective_from = dt.date.fromisoformat(document["effective_from"])
        raw_rows = document["rows"]
    except (KeyError, TypeError, ValueError) as exc:
        raise SMEThresholdError(
            gettext("%(file)s: 须包含 standard、effective_from（YYYY-MM-DD）和 rows") % {"file": file}
        ) from exc
    rows = [
        {
            "standard": standard,
            "industry": raw.get("industry"),
            "name": raw.get("name"),
            "gbt4754_prefixes": list(raw.get("gbt4754_prefixes", [])),
            "rule": _jsonable_rule(raw.get("rule")),
            "effective_from": effective_from,
        }
        for raw in raw_rows
    ]
    validate_threshold_rows(rows)
    return rows


def _jsonable_rule(rule: Any) -> Any:
    """Fractional limits become strings: exact, and storable in a JSONField as they are."""
    if isinstance(rule, dict):
        return {key: _jsonable_rule(value) for key, value in rule.items()}
    if isinstance(rule, list):
        return [_jsonable_rule(value) for value in rule]
    if isinstance(rule, Decimal):
        return str(rule)
    return rule


def _row_from_instance(instance: SMEThreshold) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in ROW_FIELDS}


def validate_threshold_rows(rows: Sequence[Mapping[str, Any]]) -> None:
    """Raise SMEThresholdError unless `rows` form one complete, consistent standard."""
    if not rows:
        raise SMEThresholdError(gettext("划型标准没有任何行业"))
    standards = {row.get("standard") for row in rows}
    if len(standards) > 1:
        raise SMEThresholdError(
            gettext("一次划型只能使用一个标准版本，实际有：%(standards)s")
            % {"standards": sorted(map(str, standards))}
        )
    seen_industries: set[str] = set()
    prefix_owner: dict[str, str] = {}
    catch_all: list[str] = []
    for row in rows:
        industry = row.get("industry")
        if not isinstance(industry, str) or not industry:
            raise SMEThresholdError(gettext("行业标识缺失：%(row)r") % {"row": row})
        if industry in seen_industries:
            raise SMEThresholdError(gettext("行业 %(industry)s 重复") % {"industry": industry})
        seen_industries.add(industry)
        if not isinstance(row.get("name"), str) or not row["name"]:
            raise SMEThresholdError(gettext("行业 %(industry)s 缺少中文名称") % {"industry": industry})
        prefixes = row.get("gbt4754_prefixes")
        if not isinstance(prefixes, list):
            raise SMEThresholdError(
                gettext("行业 %(industry)s 的行业代码前缀须为列表") % {"industry": industry}
            )
        if not prefixes:
            catch_all.append(industry)
        for prefix in prefixes:
            if not _is_valid_prefix(prefix):
                raise SMEThresholdError(
                    gettext("行业 %(industry)s 的行业代码前缀无效：%(prefix)r")
                    % {"industry": industry, "prefix": prefix}
                )
            if prefix in prefix_owner:
                raise SMEThresholdError(
                    gettext("行业代码前缀 %(prefix)s 同时属于 %(first)s 和 %(second)s")
                    % {"prefix": prefix, "first": prefix_owner[prefix], "second": industry}
                )
            prefix_owner[prefix] = industry
        _validate_rule(industry, row.get("rule"))
    if len(catch_all) != 1:
        raise SMEThresholdError(
            gettext("须有且只有一个其他未列明行业（前缀为空列表），实际：%(rows)s") % {"rows": catch_all}
        )


def _is_valid_prefix(prefix: Any) -> bool:
    if not isinstance(prefix, str) or not prefix or prefix[0] not in _SECTIONS:
        return False
    digits = prefix[1:]
    if digits and not (digits.isascii() and digits.isdigit() and 2 <= len(digits) <= 4):
        return False
    # A prefix whose digits belong to another section could never match a valid code.
    return not digits or _section_of_division(int(digits[:2])) == prefix[0]


def _validate_rule(industry: str, rule: Any) -> None:
    if not isinstance(rule, Mapping):
        raise SMEThresholdError(gettext("行业 %(industry)s 的划型条件须为对象") % {"industry": industry})
    ceiling = _limits(industry, rule, "sme_ceiling", "any_below")
    medium = _limits(industry, rule, "medium", "all_at_least")
    small = _limits(industry, rule, "small", "all_at_least")
    extra = set(rule) - {"sme_ceiling", "medium", "small", "micro"}
    if extra:
        raise SMEThresholdError(
            gettext("行业 %(industry)s 的划型条件有未知项：%(keys)s")
            % {"industry": industry, "keys": sorted(extra)}
        )
    if "micro" in rule:
        # The algorithm derives micro as "not small"; a data file that words micro
        # differently would be silently ignored, so insist on the complement.
        micro = _limits(industry, rule, "micro", "any_below")
        if micro != small:
            raise SMEThresholdError(
                gettext("行业 %(industry)s 的微型条件须与小型下限互补") % {"industry": industry}
            )
    for indicator, limit in small.items():
        if indicator in medium and medium[indicator] < limit:
            raise SMEThresholdError(
                gettext("行业 %(industry)s：%(indicator)s中型下限低于小型下限")
                % {"industry": industry, "indicator": INDICATOR_LABELS[indicator]}
            )
    for indicator, limit in medium.items():
        if indicator in ceiling and ceiling[indicator] <= limit:
            raise SMEThresholdError(
                gettext("行业 %(industry)s：%(indicator)s中小企业上限须高于中型下限")
                % {"industry": industry, "indicator": INDICATOR_LABELS[indicator]}
            )


def _limits(industry: str, rule: Mapping[str, Any], tier: str, operator: str) -> dict[str, Decimal]:
    condition = rule.get(tier)
    if not isinstance(condition, Mapping) or set(condition) != {operator}:
        raise SMEThresholdError(
            gettext("行业 %(industry)s 的 %(tier)s 须为 {%(operator)r: [[指标, 限额], ...]}")
            % {"industry": industry, "tier": tier, "operator": operator}
        )
    pairs = condition[operator]
    if not isinstance(pairs, list) or not pairs:
        raise SMEThresholdError(
            gettext("行业 %(industry)s 的 %(tier)s 至少须有一个指标") % {"industry": industry, "tier": tier}
        )
    limits: dict[str, Decimal] = {}
    for pair in pairs:
        if not (isinstance(pair, list | tuple) and len(pair) == 2):
            raise SMEThresholdError(
                gettext("行业 %(industry)s 的 %(tier)s 条件须为 [指标, 限额]：%(pair)r")
                % {"industry": industry, "tier": tier, "pair": pair}
            )
        indicator, raw_limit = pair
        if indicator not in INDICATORS:
            raise SMEThresholdError(
                gettext("行业 %(industry)s 的 %(tier)s 指标未知：%(indicator)r")
                % {"industry": industry, "tier": tier, "indicator": indicator}
            )
        if indicator in limits:
            raise SMEThresholdError(
                gettext("行业 %(industry)s 的 %(tier)s 指标重复：%(indicator)s")
                % {"industry": industry, "tier": tier, "indicator": indicator}
            )
        limit = _limit_value(raw_limit)
        if limit is None or limit <= 0:
            raise SMEThresholdError(
                gettext("行业 %(industry)s 的 %(tier)s 限额须为正数（整数或数字字符串）：%(limit)r")
                % {"industry": industry, "tier": tier, "limit": raw_limit}
            )
        limits[indicator] = limit
    return limits


def _limit_value(raw: Any) -> Decimal | None:
    # Floats and bools are refused: the file must state limits exactly.
    if isinstance(raw, bool) or not isinstance(raw, int | str | Decimal):
        return None
    try:
        value = Decimal(raw) if not isinstance(raw, str) else Decimal(raw.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


# --- industry code mapping -----------------------------------------------------------------


def _section_of_division(division: int) -> str | None:
    for letter, low, high in _SECTION_DIVISIONS:
        if low <= division <= high:
            return letter
    return None


def normalize_industry_code(industry_code: str) -> str:
    """'c3985' -> 'C3985', '3985' -> 'C3985'; refuse a letter that contradicts its division."""
    code = "".join(str(industry_code or "").split()).upper()
    if not code:
        raise AppError(
            EnterprisesError.SME_INDUSTRY_CODE_REQUIRED,
            gettext("缺少国民经济行业代码（GB/T 4754），无法划型"),
            field="industry_code",
        )
    if len(code) >= 2 and code[:2].isascii() and code[:2].isdigit():
        section = _section_of_division(int(code[:2]))
        if section is None:
            raise AppError(
                EnterprisesError.SME_INDUSTRY_CODE_INVALID,
                gettext("行业代码 %(code)s 的大类不存在") % {"code": code},
                field="industry_code",
            )
        return section + code
    if code[0] in _SECTIONS and len(code) >= 3 and code[1:3].isascii() and code[1:3].isdigit():
        section = _section_of_division(int(code[1:3]))
        if section != code[0]:
            raise AppError(
                EnterprisesError.SME_INDUSTRY_CODE_INVALID,
                gettext("行业代码 %(code)s 的门类 %(section)s 与大类 %(division)s 不一致")
                % {"code": code, "section": code[0], "division": code[1:3]},
                field="industry_code",
            )
    # Anything else (e.g. an unknown letter) is simply unmapped and falls to the catch-all.
    return code


def match_threshold_row(industry_code: str, rows: Iterable[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The row whose longest prefix matches the code; the catch-all row when none does.

    Independent of the order of `rows`, so callers need not sort them.
    """
    code = normalize_industry_code(industry_code)
    best: Mapping[str, Any] | None = None
    best_length = 0
    catch_all: Mapping[str, Any] | None = None
    for row in rows:
        prefixes = row["gbt4754_prefixes"]
        if not prefixes:
            catch_all = row
        for prefix in prefixes:
            if code.startswith(prefix) and len(prefix) > best_length:
                best, best_length = row, len(prefix)
    if best is not None:
        return best
    if catch_all is None:
        raise SMEThresholdError(gettext("划型标准缺少其他未列明行业（前缀为空列表的行）"))
    return catch_all


def most_specific_prefix_length(row: Mapping[str, Any]) -> int:
    return max((len(prefix) for prefix in row["gbt4754_prefixes"]), default=0)


# --- classification ------------------------------------------------------------------------


def yuan_to_wan(amount_yuan: Decimal) -> Decimal:
    """Yuan to 万元, exact (no rounding), so that a boundary comparison is never nudged."""
    return to_decimal(amount_yuan) / TEN_THOUSAND


def _checked_amount(value: Decimal | None, indicator: str) -> Decimal | None:
    if value is None:
        return None
    label = INDICATOR_LABELS[indicator]
    field = "annual_revenue" if indicator == "revenue" else indicator
    if isinstance(value, bool) or isinstance(value, float) or not isinstance(value, Decimal | int):
        raise AppError(
            EnterprisesError.SME_FIGURE_INVALID,
            gettext("%(label)s须为精确金额（Decimal），不接受浮点数") % {"label": label},
            field=field,
        )
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0:
        raise AppError(
            EnterprisesError.SME_FIGURE_INVALID,
            gettext("%(label)s须为非负金额") % {"label": label},
            field=field,
        )
    return amount


def _checked_employees(value: int | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AppError(
            EnterprisesError.SME_FIGURE_INVALID, gettext("从业人员须为非负整数"), field="employees"
        )
    return Decimal(value)


def _any_below(limits: Mapping[str, Decimal], values: Mapping[str, Decimal | None]) -> bool | None:
    """True if some known figure is below its limit; None if that hinges on a missing one."""
    if any(values[i] is not None and values[i] < limit for i, limit in limits.items()):
        return True
    return None if any(values[i] is None for i in limits) else False


def _all_at_least(limits: Mapping[str, Decimal], values: Mapping[str, Decimal | None]) -> bool | None:
    """False if some known figure is below its limit; None if that hinges on a missing one."""
    if any(values[i] is not None and values[i] < limit for i, limit in limits.items()):
        return False
    return None if any(values[i] is None for i in limits) else True


def _format_figure(indicator: str, value: Decimal | None) -> str:
    """One figure of the basis (recorded: the basis is stored with the enterprise)."""
    label = INDICATOR_LABELS[indicator]
    if value is None:
        return recorded(gettext_noop("%(label)s未提供"), label=label)
    if indicator == "employees":
        return recorded(gettext_noop("%(label)s%(value)s人"), label=label, value=value)
    # Display only: the comparisons above used the exact figure.
    amount = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return recorded(gettext_noop("%(label)s%(value)s万元"), label=label, value=amount)


def classify_sme(
    *,
    industry_code: str,
    employees: int | None,
    revenue_wan: Decimal | None,
    total_assets_wan: Decimal | None,
    rows: Sequence[Mapping[str, Any]],
) -> SMEResult:
    """Classify one enterprise against one standard's rows (amounts in 万元).

    Missing figures: the firm is never called large on missing data (that would exclude
    it from the fund on an absent number). Otherwise the result is the LARGEST class the
    known figures still allow: a missing figure never makes a firm look smaller than it may
    be, since small and micro firms can get preferential terms. `missing` lists what must
    be supplied before the result is final.
    """
    row = match_threshold_row(industry_code, rows)
    rule = row["rule"]
    ceiling = _limits(row["industry"], rule, "sme_ceiling", "any_below")
    medium = _limits(row["industry"], rule, "medium", "all_at_least")
    small = _limits(row["industry"], rule, "small", "all_at_least")
    values: dict[str, Decimal | None] = {
        "employees": _checked_employees(employees),
        "revenue": _checked_amount(revenue_wan, "revenue"),
        "total_assets": _checked_amount(total_assets_wan, "total_assets"),
    }
    needed = [i for i in INDICATORS if i in ceiling or i in medium or i in small]
    missing = [i for i in needed if values[i] is None]

    size_class: SizeClass
    if _any_below(ceiling, values) is False:
        size_class = "large"
    elif _all_at_least(medium, values) is not False:
        size_class = "medium"
    elif _all_at_least(small, values) is not False:
        size_class = "small"
    else:
        size_class = "micro"

    # The basis is stored with the enterprise, so it is recorded in the default language.
    figures = "，".join(_format_figure(i, values[i]) for i in needed)
    if missing:
        basis = recorded(
            gettext_noop("%(industry)s：%(figures)s；按已知指标暂定为%(size)s，须补充%(missing)s后复核"),
            industry=row["name"],
            figures=figures,
            size=SIZE_LABELS[size_class],
            missing="、".join(recorded(INDICATOR_LABELS[i]) for i in missing),
        )
    else:
        basis = recorded(
            gettext_noop("%(industry)s：%(figures)s，属%(size)s"),
            industry=row["name"],
            figures=figures,
            size=SIZE_LABELS[size_class],
        )
    return SMEResult(
        size_class=size_class,
        industry=row["industry"],
        industry_name=row["name"],
        basis=basis,
        missing=missing,
        standard=str(row.get("standard") or DEFAULT_STANDARD),
    )


# --- database entry point ------------------------------------------------------------------


def threshold_rows_from_db(
    *, standard: str | None = None, as_of: dt.date | None = None
) -> list[dict[str, Any]]:
    """The rows of `standard`, or of the standard in force on `as_of` (default: business today).

    A revised standard is added as new rows under a new `standard` code and effective date;
    without an explicit `standard` the newest one already in force is used.
    """
    if standard is None:
        if as_of is None:
            from fundmgr.ground.lib.clock import today

            as_of = today()
        standard = (
            SMEThreshold.objects.filter(effective_from__lte=as_of)
            .order_by("-effective_from")
            .values_list("standard", flat=True)
            .first()
        )
        if standard is None:
            raise SMEThresholdError(
                gettext("%(date)s 没有已施行的中小企业划型标准，请先载入标准数据") % {"date": as_of}
            )
    rows = list(SMEThreshold.objects.filter(standard=standard).values(*ROW_FIELDS))
    if not rows:
        raise SMEThresholdError(gettext("中小企业划型标准 %(standard)s 未载入") % {"standard": standard})
    validate_threshold_rows(rows)
    # Most specific first, for readability when rows are logged; classify_sme itself does
    # not depend on the order.
    rows.sort(key=lambda row: (-most_specific_prefix_length(row), row["industry"]))
    return rows


def classify_sme_from_db(
    *,
    industry_code: str,
    employees: int | None,
    annual_revenue_yuan: Decimal | None,
    total_assets_yuan: Decimal | None,
    standard: str | None = None,
    as_of: dt.date | None = None,
) -> SMEResult:
    """Classify with figures in yuan, as enterprises store them, against the stored table."""
    return classify_sme(
        industry_code=industry_code,
        employees=employees,
        revenue_wan=None if annual_revenue_yuan is None else yuan_to_wan(annual_revenue_yuan),
        total_assets_wan=None if total_assets_yuan is None else yuan_to_wan(total_assets_yuan),
        rows=threshold_rows_from_db(standard=standard, as_of=as_of),
    )
