"""SME classification (工信部联企业〔2011〕300号): data file, prefix mapping, boundaries.

Pure tests: rows come from the JSON file, never from the database. Boundary figures are
written out literally here (not read back from the data) so that a wrong number in the
data file makes a test fail.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from enterprises import sme
from enterprises.sme import (
    SMEResult,
    SMEThreshold,
    SMEThresholdError,
    classify_sme,
    load_threshold_rows,
    match_threshold_row,
    validate_threshold_rows,
    yuan_to_wan,
)
from fundmgr.ground.lib.errors import AppError

ROWS = load_threshold_rows()
SHARED = Path(__file__).resolve().parents[3] / "shared"
CENT = Decimal("0.01")


def classify(code: str, employees: int | None = None, revenue=None, assets=None, rows=ROWS) -> SMEResult:
    return classify_sme(
        industry_code=code,
        employees=employees,
        revenue_wan=None if revenue is None else Decimal(revenue),
        total_assets_wan=None if assets is None else Decimal(assets),
        rows=rows,
    )


# --- boundaries -----------------------------------------------------------------------------

# (code, employees, revenue 万元, total assets 万元, expected class)
BOUNDARY_CASES = [
    # 工业: ceiling employees 1000 / revenue 40000; medium 300 & 2000; small 20 & 300
    ("C3985", 1000, "40000", None, "large"),
    ("C3985", 999, "40000", None, "medium"),
    ("C3985", 1000, "39999.99", None, "medium"),
    ("C3985", 300, "2000", None, "medium"),
    ("C3985", 299, "2000", None, "small"),
    ("C3985", 300, "1999.99", None, "small"),
    ("C3985", 20, "300", None, "small"),
    ("C3985", 19, "300", None, "micro"),
    ("C3985", 500, "299.99", None, "micro"),
    ("C3985", 1500, "1000", None, "small"),  # SME via revenue although employees exceed 1000
    # 软件和信息技术服务业: ceiling 300 / 10000; medium 100 & 1000; small 10 & 50
    ("I6510", 300, "10000", None, "large"),
    ("I6510", 299, "10000", None, "medium"),
    ("I6510", 300, "9999.99", None, "medium"),
    ("I6510", 100, "1000", None, "medium"),
    ("I6510", 99, "1000", None, "small"),
    ("I6510", 100, "999.99", None, "small"),
    ("I6510", 10, "50", None, "small"),
    ("I6510", 9, "500", None, "micro"),
    ("I6510", 50, "49.99", None, "micro"),
    # 零售业: ceiling 300 / 20000; medium 50 & 500; small 10 & 100
    ("F5211", 300, "20000", None, "large"),
    ("F5211", 300, "19999.99", None, "medium"),
    ("F5211", 299, "20000", None, "medium"),
    ("F5211", 50, "500", None, "medium"),
    ("F5211", 49, "500", None, "small"),
    ("F5211", 50, "499.99", None, "small"),
    ("F5211", 10, "100", None, "small"),
    ("F5211", 9, "100", None, "micro"),
    ("F5211", 10, "99.99", None, "micro"),
    # 建筑业: revenue and total assets only; ceiling 80000 / 80000; medium 6000 & 5000; small 300 & 300
    ("E4811", None, "80000", "80000", "large"),
    ("E4811", None, "80000", "79999.99", "medium"),
    ("E4811", None, "79999.99", "80000", "medium"),
    ("E4811", None, "6000", "5000", "medium"),
    ("E4811", None, "5999.99", "5000", "small"),
    ("E4811", None, "6000", "4999.99", "small"),
    ("E4811", None, "300", "300", "small"),
    ("E4811", None, "299.99", "300", "micro"),
    ("E4811", None, "300", "299.99", "micro"),
    # 其他未列明行业: employees only; ceiling 300; medium 100; small 10
    ("X9999", 300, None, None, "large"),
    ("X9999", 299, None, None, "medium"),
    ("X9999", 100, None, None, "medium"),
    ("X9999", 99, None, None, "small"),
    ("X9999", 10, None, None, "small"),
    ("X9999", 9, None, None, "micro"),
    ("M7320", 50, "999999", "999999", "small"),  # money does not count in "other"
    # 农、林、牧、渔业: revenue only; ceiling 20000; medium 500; small 50
    ("A0111", None, "20000", None, "large"),
    ("A0111", None, "19999.99", None, "medium"),
    ("A0111", None, "499.99", None, "small"),
    ("A0111", None, "49.99", None, "micro"),
    # 房地产开发经营: ceiling revenue 200000 / assets 10000; medium 1000 & 5000; small 100 & 2000
    ("K7010", None, "200000", "10000", "large"),
    ("K7010", None, "200000", "9999.99", "medium"),
    ("K7010", None, "1000", "4999.99", "small"),
    ("K7010", None, "100", "1999.99", "micro"),
    # 租赁和商务服务业: employees and total assets
    ("L7212", 300, None, "120000", "large"),
    ("L7212", 300, None, "119999.99", "medium"),
    ("L7212", 99, None, "8000", "small"),
    ("L7212", 9, None, "8000", "micro"),
]


@pytest.mark.parametrize(("code", "employees", "revenue", "assets", "expected"), BOUNDARY_CASES)
def test_boundaries(code, employees, revenue, assets, expected):
    result = classify(code, employees, revenue, assets)
    assert result.size_class == expected, result.basis
    assert result.missing == []
    assert result.is_sme is (expected != "large")


def test_comparison_is_exact_not_rounded():
    # 0.0001 万元 (one yuan) below the medium limit is still below it.
    assert classify("C3985", 300, "1999.9999").size_class == "small"
    assert classify("C3985", 300, yuan_to_wan(Decimal("19999999.99"))).size_class == "small"
    assert classify("C3985", 300, yuan_to_wan(Decimal("20000000.00"))).size_class == "medium"


# --- industry mapping ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "industry"),
    [
        ("C3985", "industry"),
        ("B0610", "industry"),
        ("D4411", "industry"),
        ("I6510", "software_it"),
        ("I6311", "information_transmission"),
        ("I6421", "information_transmission"),
        ("F5211", "retail"),
        ("F5111", "wholesale"),
        ("K7020", "property_management"),
        ("K7010", "real_estate_development"),
        ("K7030", "other"),  # 房地产中介服务 is not a listed row
        ("G5990", "warehousing"),
        ("G5920", "warehousing"),
        ("G6010", "postal"),
        ("G5411", "transport"),
        ("G5810", "transport"),
        ("H6110", "accommodation"),
        ("H6210", "catering"),
        ("E4811", "construction"),
        ("L7212", "leasing_business_services"),
        ("A0111", "agriculture"),
        ("A0411", "agriculture"),
        ("A0511", "other"),  # 农林牧渔专业及辅助性活动
        ("M7320", "other"),
        ("X9999", "other"),
        (" c3985 ", "industry"),  # case and whitespace from hand-typed forms
        ("3985", "industry"),  # section letter omitted
        ("6510", "software_it"),
    ],
)
def test_gbt4754_mapping(code, industry):
    assert match_threshold_row(code, ROWS)["industry"] == industry
    assert classify(code, 50, "500", "500").industry == industry


def test_most_specific_prefix_wins_regardless_of_order():
    rows = copy.deepcopy(ROWS)
    special = copy.deepcopy(next(r for r in rows if r["industry"] == "industry"))
    special.update(industry="special", name="专用设备", gbt4754_prefixes=["C39"])
    rows.append(special)
    for ordering in (rows, list(reversed(rows))):
        assert match_threshold_row("C3985", ordering)["industry"] == "special"
        assert match_threshold_row("C1752", ordering)["industry"] == "industry"


def test_letter_contradicting_division_is_refused():
    with pytest.raises(AppError) as excinfo:
        classify("I3985", 50, "500")
    assert excinfo.value.field == "industry_code"
    with pytest.raises(AppError):
        classify("  ", 50, "500")


# --- missing figures ----------------------------------------------------------------------


def test_missing_revenue_is_reported_and_never_large():
    result = classify("C3985", 5000, None)
    assert result.size_class == "medium"
    assert result.missing == ["revenue"]
    assert result.is_provisional
    assert "营业收入未提供" in result.basis and "须补充营业收入" in result.basis


def test_missing_figure_uses_known_figures():
    # Known employees already rule out medium, and prove small's employee limit.
    assert classify("C3985", 24, None).size_class == "small"
    # A known figure below the small limit makes it micro whatever the missing one is.
    result = classify("C3985", 5, None)
    assert (result.size_class, result.missing) == ("micro", ["revenue"])
    # A known figure below the ceiling makes it an SME even with the other missing.
    result = classify("I6510", None, "9999.99")
    assert (result.size_class, result.missing) == ("medium", ["employees"])
    result = classify("E4811", None, "100", None)
    assert (result.size_class, result.missing) == ("micro", ["total_assets"])


def test_missing_lists_only_indicators_the_row_needs():
    assert classify("E4811", None, "6000", "5000").missing == []  # construction: no employees
    assert classify("X9999", 50, None, None).missing == []  # other: employees only
    result = classify("X9999", None, "50000", "50000")
    assert (result.size_class, result.missing) == ("medium", ["employees"])
    assert classify("L7212", None, None, None).missing == ["employees", "total_assets"]


# --- explanation and inputs ---------------------------------------------------------------


def test_basis_explains_in_chinese():
    result = classify("C3985", 24, yuan_to_wan(Decimal("74230000.00")))
    assert result == SMEResult(
        size_class="small",
        industry="industry",
        industry_name="工业",
        basis="工业：从业人员24人，营业收入7423.00万元，属小型企业",
        missing=[],
        standard="MIIT-2011-300",
    )
    assert classify("E4811", None, "80000", "80000").basis == (
        "建筑业：营业收入80000.00万元，资产总额80000.00万元，属大型企业"
    )


def test_yuan_to_wan_is_exact():
    assert yuan_to_wan(Decimal("74230000.00")) == Decimal("7423")
    assert yuan_to_wan(Decimal("1")) == Decimal("0.0001")
    assert yuan_to_wan(Decimal("123456789.01")) == Decimal("12345.678901")
    with pytest.raises(ValueError):
        yuan_to_wan(7423.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"employees": 24, "revenue_wan": 7423.0, "total_assets_wan": None},
        {"employees": 24, "revenue_wan": Decimal("-1"), "total_assets_wan": None},
        {"employees": -1, "revenue_wan": Decimal("1"), "total_assets_wan": None},
        {"employees": 24.0, "revenue_wan": Decimal("1"), "total_assets_wan": None},
    ],
)
def test_inexact_or_negative_figures_are_refused(kwargs):
    with pytest.raises(AppError):
        classify_sme(industry_code="C3985", rows=ROWS, **kwargs)


def test_from_db_converts_yuan_to_wan(monkeypatch):
    # The DB read is replaced by the file's rows, leaving the yuan -> 万元 path under test.
    monkeypatch.setattr(sme, "threshold_rows_from_db", lambda **kwargs: ROWS)
    at_limit = sme.classify_sme_from_db(
        industry_code="C3985",
        employees=300,
        annual_revenue_yuan=Decimal("20000000.00"),
        total_assets_yuan=None,
    )
    below = sme.classify_sme_from_db(
        industry_code="C3985",
        employees=300,
        annual_revenue_yuan=Decimal("19999999.99"),
        total_assets_yuan=None,
    )
    assert (at_limit.size_class, below.size_class) == ("medium", "small")


# --- the data file ------------------------------------------------------------------------


def test_rows_map_onto_model_fields():
    assert len(ROWS) == 16
    field_names = {f.name for f in SMEThreshold._meta.get_fields()} - {"id"}
    for row in ROWS:
        assert set(row) == field_names
        assert row["standard"] == "MIIT-2011-300"
        assert row["effective_from"] == dt.date(2011, 6, 18)
        instance = SMEThreshold(**row)
        instance.clean_fields()  # no DB: field types and lengths only
    assert SMEThreshold._meta.app_label == "enterprises"
    assert str(SMEThreshold._meta.verbose_name) == "中小企业划型标准"
    assert any(tuple(c.fields) == ("standard", "industry") for c in SMEThreshold._meta.constraints), (
        "standard + industry must be unique"
    )
    json.dumps([row["rule"] for row in ROWS])  # storable in a JSONField as-is


def _spec_table() -> dict[str, list[str]]:
    """§3.2 of the shared spec: Chinese industry label -> the four threshold cells."""
    spec = SHARED / "spec" / "domain-rules.md"
    if not spec.exists():
        pytest.skip(
            "shared/spec/domain-rules.md is not beside this checkout; the data file is checked elsewhere"
        )
    text = spec.read_text(encoding="utf-8")
    section = text[text.index("### 3.2 SME") : text.index("### 3.3")]
    table: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        label = re.search(r"\(([\u4e00-\u9fff]+)", cells[0]) if len(cells) == 5 else None
        if label and re.search(r"\d", cells[1]):  # skips the header row
            table[label.group(1)] = cells[1:]
    return table


SPEC_LABELS = {
    "农林牧渔业": "agriculture",
    "工业": "industry",
    "建筑业": "construction",
    "批发业": "wholesale",
    "零售业": "retail",
    "交通运输业": "transport",
    "仓储业": "warehousing",
    "邮政业": "postal",
    "住宿业": "accommodation",
    "餐饮业": "catering",
    "信息传输业": "information_transmission",
    "软件和信息技术服务业": "software_it",
    "房地产开发经营": "real_estate_development",
    "物业管理": "property_management",
    "租赁和商务服务业": "leasing_business_services",
    "其他未列明行业": "other",
}


def _cell_limits(cell: str, comparator: str) -> dict[str, Decimal]:
    found = re.findall(r"(employees|revenue|assets)\s*(<|≥)\s*([\d,]+)", cell)
    assert found and all(op == comparator for _ind, op, _n in found), cell
    names = {"employees": "employees", "revenue": "revenue", "assets": "total_assets"}
    return {names[ind]: Decimal(n.replace(",", "")) for ind, _op, n in found}


def _row_limits(row: dict, tier: str) -> dict[str, Decimal]:
    [(_operator, pairs)] = row["rule"][tier].items()
    return {indicator: Decimal(limit) for indicator, limit in pairs}


def test_data_matches_the_spec_table():
    table = _spec_table()
    assert set(table) == set(SPEC_LABELS)
    by_slug = {row["industry"]: row for row in ROWS}
    assert set(by_slug) == set(SPEC_LABELS.values())
    for label, (ceiling, medium, small, micro) in table.items():
        row = by_slug[SPEC_LABELS[label]]
        assert _row_limits(row, "sme_ceiling") == _cell_limits(ceiling, "<"), label
        assert _row_limits(row, "medium") == _cell_limits(medium, "≥"), label
        assert _row_limits(row, "small") == _cell_limits(small, "≥"), label
        assert _row_limits(row, "micro") == _cell_limits(micro, "<"), label


def _corrupt(mutate) -> list[dict]:
    rows = copy.deepcopy(ROWS)
    mutate({row["industry"]: row for row in rows})
    return rows


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda r: r["retail"].update(gbt4754_prefixes=["F51"]), id="prefix-in-two-rows"),
        pytest.param(lambda r: r["retail"].update(gbt4754_prefixes=[]), id="two-catch-all-rows"),
        pytest.param(lambda r: r["other"].update(gbt4754_prefixes=["Z"]), id="no-catch-all-row"),
        pytest.param(lambda r: r["retail"].update(gbt4754_prefixes=["F5"]), id="one-digit-prefix"),
        pytest.param(lambda r: r["retail"].update(gbt4754_prefixes=["C52"]), id="prefix-letter-vs-digits"),
        pytest.param(
            lambda r: r["retail"]["rule"]["small"]["all_at_least"].append(["profit", 1]), id="indicator"
        ),
        pytest.param(lambda r: r["retail"]["rule"]["medium"].update(all_at_least=[]), id="empty-tier"),
        pytest.param(lambda r: r["retail"]["rule"]["micro"]["any_below"].pop(), id="micro-not-complement"),
        pytest.param(
            lambda r: r["retail"]["rule"]["medium"].update(all_at_least=[["employees", 5]]), id="m<s"
        ),
        pytest.param(
            lambda r: r["retail"]["rule"]["small"].update(all_at_least=[["employees", 1.5]]), id="float"
        ),
        pytest.param(lambda r: r["retail"].update(standard="OTHER"), id="two-standards"),
        pytest.param(lambda r: r["wholesale"].update(industry="retail"), id="duplicate-industry"),
    ],
)
def test_validation_rejects_broken_data(mutate):
    with pytest.raises(SMEThresholdError):
        validate_threshold_rows(_corrupt(mutate))


def test_thresholds_come_from_the_data_file(tmp_path):
    document = json.loads(sme.DEFAULT_THRESHOLDS_PATH.read_text(encoding="utf-8"))
    industry = next(row for row in document["rows"] if row["industry"] == "industry")
    industry["rule"]["medium"]["all_at_least"] = [["employees", 250], ["revenue", "1999.5"]]
    revised = tmp_path / "revised.json"
    revised.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    rows = load_threshold_rows(revised)
    assert classify("C3985", 250, "1999.5", rows=rows).size_class == "medium"
    assert classify("C3985", 250, "1999.5").size_class == "small"  # the 2011 file is unchanged


# --- demo enterprises -----------------------------------------------------------------------


def test_demo_enterprises_are_smes():
    seed = json.loads(
        (Path(__file__).resolve().parents[2] / "fundmgr" / "top" / "demo" / "demo-seed.json").read_text(
            encoding="utf-8"
        )
    )
    enterprises = seed["enterprises"]
    assert enterprises
    for enterprise in enterprises:
        result = classify_sme(
            industry_code=enterprise["industry_code"],
            employees=enterprise["employees"],
            revenue_wan=yuan_to_wan(Decimal(enterprise["annual_revenue"])),
            total_assets_wan=yuan_to_wan(Decimal(enterprise["total_assets"])),
            rows=ROWS,
        )
        assert result.size_class in {"medium", "small", "micro"}, (enterprise["name"], result.basis)
        assert result.missing == [], enterprise["name"]
