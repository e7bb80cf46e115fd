"""Report exports: JSON values, formatted XLSX and CSV, from one column list per table.

A column says its key (the JSON field), its header with the unit, and its kind, which
decides the cell's number format. Headers, sheet names and titles are marked for translation
and written in the active language: the request's for a download (Chinese by default, which
is what the city receives), the default language for the reports the scheduled jobs store.
Values arrive as Decimal (already rounded: 万元 and ratios to two places, half-up), int, str
or None; nothing here rounds or touches a float.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fundmgr.ground.lib.regions import region_name

TEXT, INT, WAN, YUAN, PERCENT, MULTIPLE = "text", "int", "wan", "yuan", "percent", "multiple"
# A date (written as a real date in XLSX, ISO in CSV and JSON) and a GB/T 2260 code shown by
# its name (端州区; the code itself in JSON and in the CSV's code column).
DATE, REGION = "date", "region"
# A column whose cells take the kind named by their row's "kind" (a label/value summary sheet).
ROW_KIND = "row"

# Amounts and counts with thousands separators (1,624.60 万元; 12,345 笔), dates as dates.
NUMBER_FORMATS = {
    INT: "#,##0",
    WAN: "#,##0.00",
    YUAN: "#,##0.00",
    PERCENT: "0.00",
    MULTIPLE: "0.00",
    DATE: "yyyy-mm-dd",
}

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise  # a lazy translation, rendered when the file is written
    kind: str = INT
    width: int = 12


@dataclass(frozen=True)
class Table:
    name: str | Promise  # sheet name / CSV table label
    columns: Sequence[Column]
    rows: Sequence[dict[str, Any]]
    total: dict[str, Any] | None = None


# --- the quarterly regulator table --------------------------------------------------------------

QUARTERLY_METRICS: tuple[Column, ...] = (
    Column("amount_wan_yuan", _("本期受理贷款金额(万元)"), WAN, 14),
    Column("projects", _("本期项目数(笔)"), INT),
    Column("rights", _("质押知识产权合计(件)"), INT),
    Column("patent_amount_wan_yuan", _("其中：专利质押融资金额(万元)"), WAN, 14),
    Column("patent_projects", _("专利质押项目数(笔)"), INT),
    Column("trademark_amount_wan_yuan", _("其中：商标质押融资金额(万元)"), WAN, 14),
    Column("trademark_projects", _("商标质押项目数(笔)"), INT),
    Column("patents", _("质押专利(件)"), INT),
    Column("invention_patents", _("其中：发明专利(件)"), INT),
    Column("utility_models", _("其中：实用新型(件)"), INT),
    Column("design_patents", _("其中：外观设计(件)"), INT),
    Column("trademarks", _("质押商标(件)"), INT),
    Column("other_ip", _("其他知识产权(件)"), INT),
    Column("enterprises", _("惠及企业(家)"), INT),
    Column("new_enterprises", _("新入库企业(家)"), INT),
    Column("outstanding_wan_yuan", _("期末在保余额(万元)"), WAN, 14),
    Column("non_performing_loans", _("期末不良(笔)"), INT),
    Column("non_performing_wan_yuan", _("期末不良余额(万元)"), WAN, 14),
    Column("npl_ratio", _("不良率(%)"), PERCENT),
    Column("compensations", _("本期代偿(笔)"), INT),
    Column("compensation_paid_wan_yuan", _("本期代偿金额(万元)"), WAN, 14),
    Column("recoveries_returned_wan_yuan", _("本期追偿返还(万元)"), WAN, 14),
    Column("fund_balance_wan_yuan", _("期末资金余额(万元)"), WAN, 14),
    Column("leverage", _("实际放大倍数(倍)"), MULTIPLE),
    Column("leverage_limit", _("放大倍数上限(倍)"), MULTIPLE),
    Column("cumulative_amount_wan_yuan", _("累计受理贷款金额(万元)"), WAN, 14),
    Column("cumulative_projects", _("累计项目数(笔)"), INT),
    Column("cumulative_patents", _("累计质押专利(件)"), INT),
    Column("cumulative_trademarks", _("累计质押商标(件)"), INT),
    Column("cumulative_other_ip", _("累计其他知识产权(件)"), INT),
    Column("cumulative_enterprises", _("累计惠及企业(家)"), INT),
    Column("cumulative_admitted_enterprises", _("累计入库企业(家)"), INT),
    Column("cumulative_compensations", _("累计代偿(笔)"), INT),
    Column("cumulative_compensation_paid_wan_yuan", _("累计代偿金额(万元)"), WAN, 14),
    Column("cumulative_recoveries_returned_wan_yuan", _("累计追偿返还(万元)"), WAN, 14),
)

# Not summed in a total row: recomputed from the summed parts, or meaningless as a sum.
NON_ADDITIVE = frozenset({"npl_ratio", "leverage", "leverage_limit"})

RANK = Column("rank", _("排名"), TEXT, 6)
FUND_COLUMNS = (RANK, Column("fund_name", _("资金"), TEXT, 34), Column("region_code", _("城市"), REGION, 12))
DISTRICT_COLUMNS = (
    RANK,
    Column("fund_name", _("资金"), TEXT, 34),
    Column("region_code", _("区县"), REGION, 14),
    Column("region_code", _("区县代码"), TEXT, 10),
)
INSTITUTION_COLUMNS = (
    RANK,
    Column("fund_name", _("资金"), TEXT, 34),
    Column("institution_name", _("合作机构"), TEXT, 34),
)
# Sub-tables carry no fund-level figures.
_FUND_ONLY = frozenset({"fund_balance_wan_yuan", "leverage", "leverage_limit"})
SUB_TABLE_METRICS = tuple(c for c in QUARTERLY_METRICS if c.key not in _FUND_ONLY)

# CSV: every table in one file, told apart by the first column (as in the regulators'
# reference tables), with the union of the tables' identity columns.
CSV_IDENTITY = (
    Column("table", pgettext_lazy("the CSV column naming a row's table", "报表"), TEXT),
    RANK,
    Column("fund", _("资金代码"), TEXT),
    Column("fund_name", _("资金"), TEXT),
    Column("region_code", _("行政区划代码"), TEXT),
    Column("region_code", _("行政区划"), REGION),
    Column("institution", _("合作机构代码"), TEXT),
    Column("institution_name", _("合作机构"), TEXT),
)
TABLE_LABELS = {"rows": _("按资金"), "by_district": _("按区县"), "by_institution": _("按合作机构")}


# The regulators' separate patent and trademark tables, laid out like theirs (Henan 2020):
# rank, city, amount in 万元, projects, rights.
IP_TABLE_NAMES = {"patent_table": _("专利质押融资"), "trademark_table": _("商标质押融资")}
IP_TABLE_COLUMNS = {
    "patent_table": (
        RANK,
        Column("city", _("城市"), TEXT, 12),
        Column("fund_name", _("资金"), TEXT, 34),
        Column("amount_wan_yuan", _("专利质押融资金额(万元)"), WAN, 16),
        Column("projects", _("项目数(笔)"), INT),
        Column("rights", _("专利数(件)"), INT),
    ),
    "trademark_table": (
        RANK,
        Column("city", _("城市"), TEXT, 12),
        Column("fund_name", _("资金"), TEXT, 34),
        Column("amount_wan_yuan", _("商标质押融资金额(万元)"), WAN, 16),
        Column("projects", _("项目数(笔)"), INT),
        Column("rights", _("商标数(件)"), INT),
    ),
}
# In the CSV, a patent or trademark table row puts its figures under the fund row's columns
# of the same meaning, so that one header serves every table.
CSV_IP_KEYS = {
    "patent_table": {
        "amount_wan_yuan": "patent_amount_wan_yuan",
        "projects": "patent_projects",
        "rights": "patents",
    },
    "trademark_table": {
        "amount_wan_yuan": "trademark_amount_wan_yuan",
        "projects": "trademark_projects",
        "rights": "trademarks",
    },
}


# --- outreach: the matching funnel and the events (投融对接、政策宣传) -----------------------------

OUTREACH_FUNNEL_METRICS: tuple[Column, ...] = (
    Column("needs", _("登记融资需求(项)"), INT),
    Column("needs_amount_wan_yuan", _("需求金额(万元)"), WAN, 14),
    Column("needs_with_interest", _("其中：银行表达意向(项)"), INT, 14),
    Column("needs_filed", _("其中：报送贷款备案(项)"), INT, 14),
    Column("needs_accepted", _("其中：受理入池(项)"), INT, 14),
    Column("accepted_amount_wan_yuan", _("受理贷款金额(万元)"), WAN, 14),
    Column("interest_rate", _("意向率(%)"), PERCENT),
    Column("filed_rate", _("备案转化率(%)"), PERCENT),
    Column("accepted_rate", _("受理转化率(%)"), PERCENT),
    Column("amount_conversion_rate", _("金额转化率(%)"), PERCENT),
)
OUTREACH_EVENT_METRICS: tuple[Column, ...] = (
    Column("events", _("活动(场)"), INT),
    Column("enterprises", _("参加企业(家次)"), INT),
    Column("institutions", _("参加机构(家次)"), INT),
    Column("attendance", _("现场人数(人)"), INT),
    Column("online_viewers", _("线上观看(人次)"), INT),
    Column("signings", _("现场签约(笔)"), INT),
    Column("signed_amount_wan_yuan", _("签约意向金额(万元)"), WAN, 14),
    Column("realised_signings", _("已实现签约(笔)"), INT),
    Column("realised_amount_wan_yuan", _("实现受理贷款(万元)"), WAN, 14),
    Column("realisation_rate", _("签约实现率(%)"), PERCENT),
)
OUTREACH_FUND_COLUMNS = (
    Column("fund_name", _("资金"), TEXT, 34),
    Column("region_code", _("城市"), REGION, 12),
)
OUTREACH_KIND = Column("kind_label", _("活动类型"), TEXT, 14)
OUTREACH_TABLE_NAMES = {"funnel": _("投融对接"), "events": pgettext_lazy("a report table", "宣传与对接活动")}
# CSV: the outreach tables' columns after the regulator table's, under the same header.
OUTREACH_CSV_COLUMNS = (OUTREACH_KIND, *OUTREACH_FUNNEL_METRICS, *OUTREACH_EVENT_METRICS)
# The outreach report's own CSV: the table, then the 合计 marker, then the fund's identity.
OUTREACH_CSV_HEADER = (
    Column("table", pgettext_lazy("the CSV column naming a row's table", "报表"), TEXT),
    Column("rank", _("合计"), TEXT),
    Column("fund", _("资金代码"), TEXT),
    Column("fund_name", _("资金"), TEXT),
    Column("region_code", _("行政区划代码"), TEXT),
    *OUTREACH_CSV_COLUMNS,
)


def outreach_tables(outreach: dict[str, Any]) -> list[Table]:
    return [
        Table(
            OUTREACH_TABLE_NAMES["funnel"],
            OUTREACH_FUND_COLUMNS + OUTREACH_FUNNEL_METRICS,
            outreach["funnel"],
            outreach["funnel_total"],
        ),
        Table(
            OUTREACH_TABLE_NAMES["events"],
            (*OUTREACH_FUND_COLUMNS, OUTREACH_KIND, *OUTREACH_EVENT_METRICS),
            outreach["events"],
            outreach["events_total"],
        ),
    ]


def _outreach_csv_rows(outreach: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key, label in OUTREACH_TABLE_NAMES.items():
        for row in [*outreach[key], {**outreach[f"{key}_total"], "rank": gettext("合计")}]:
            out.append({**row, "table": label})
    return out


def _period_name(period: dict[str, Any]) -> str:
    """2025年第3季度, or 2025年度 for a calendar year."""
    if period.get("quarter"):
        return gettext("%(year)s年第%(quarter)s季度") % {"year": period["year"], "quarter": period["quarter"]}
    return gettext("%(year)s年度") % {"year": period["year"]}


def _period_line(report: dict[str, Any], message: str) -> str:
    """A report's period line: `message` with its period name, first and last day and as-of date."""
    p = report["period"]
    return message % {
        "period": _period_name(p),
        "from": _iso(p["from"]),
        "to": _iso(p["to"]),
        "as_of": _iso(report["as_of"]),
    }


def outreach_title(report: dict[str, Any]) -> tuple[str, list[str]]:
    lines = [
        _period_line(report, gettext("统计期间：%(period)s（%(from)s 至 %(to)s）；截至 %(as_of)s")),
        gettext(
            "投融对接：本期登记的融资需求，按截至期末达到的环节统计（报送备案视为银行已表达意向）；"
            "活动：本期举办的活动及现场签约，已实现指签约银行对该需求的贷款已受理入池；金额单位：万元"
        ),
    ]
    return gettext("投融对接与政策宣传统计表"), lines


def outreach_file(report: dict[str, Any], fmt: str) -> tuple[bytes, str]:
    """The outreach report as a file: (content, content type)."""
    if fmt == "xlsx":
        title, lines = outreach_title(report)
        return xlsx(title=title, lines=lines, tables=outreach_tables(report)), XLSX_CONTENT_TYPE
    return csv_bytes(OUTREACH_CSV_HEADER, _outreach_csv_rows(report)), CSV_CONTENT_TYPE


def quarterly_tables(report: dict[str, Any]) -> list[Table]:
    tables = [
        Table(TABLE_LABELS["rows"], FUND_COLUMNS + QUARTERLY_METRICS, report["rows"], report["total"]),
        Table(
            TABLE_LABELS["by_district"],
            DISTRICT_COLUMNS + SUB_TABLE_METRICS,
            report["by_district"],
            report["by_district_total"],
        ),
        Table(
            TABLE_LABELS["by_institution"],
            INSTITUTION_COLUMNS + SUB_TABLE_METRICS,
            report["by_institution"],
            report["by_institution_total"],
        ),
    ]
    for key, name in IP_TABLE_NAMES.items():
        if key in report:  # reports stored before these tables existed have none
            tables.append(Table(name, IP_TABLE_COLUMNS[key], report[key]["rows"], report[key]["total"]))
    if "outreach" in report:  # nor the outreach tables
        tables += outreach_tables(report["outreach"])
    return tables


def quarterly_title(report: dict[str, Any]) -> tuple[str, list[str]]:
    lines = [
        _period_line(report, gettext("统计期间：%(period)s（%(from)s 至 %(to)s）；期末指标截至 %(as_of)s")),
        gettext(
            "金额单位：万元（四舍五入保留两位小数）；不良率、放大倍数按在保余额（知识产权担保覆盖部分）计算；"
            "同时质押专利和商标的贷款分别计入专利表和商标表，在总金额中只计一次"
        ),
    ]
    return gettext("知识产权质押融资风险补偿资金统计表"), lines


def quarterly_xlsx(report: dict[str, Any]) -> bytes:
    title, lines = quarterly_title(report)
    return xlsx(title=title, lines=lines, tables=quarterly_tables(report))


def table_file(report: dict[str, Any], fmt: str) -> tuple[bytes, str]:
    """A regulator table (quarterly or annual) as a file: (content, content type)."""
    if fmt == "xlsx":
        return quarterly_xlsx(report), XLSX_CONTENT_TYPE
    return quarterly_csv(report), CSV_CONTENT_TYPE


def quarterly_csv(report: dict[str, Any]) -> bytes:
    """Every table in one file, told apart by the first column, under one header."""
    columns = CSV_IDENTITY + QUARTERLY_METRICS + (OUTREACH_CSV_COLUMNS if "outreach" in report else ())
    out: list[dict[str, Any]] = []
    total_label = gettext("合计")
    for key, label in TABLE_LABELS.items():
        total = report["total"] if key == "rows" else report[f"{key}_total"]
        for row in [*report[key], {**total, "rank": total_label}]:
            out.append({**row, "table": label})
    for key, label in IP_TABLE_NAMES.items():
        keys = CSV_IP_KEYS[key]
        for row in [*report[key]["rows"], {**report[key]["total"], "rank": total_label}]:
            out.append(
                {
                    "table": label,
                    **{k: row[k] for k in ("rank", "fund", "fund_name", "region_code")},
                    **{column: row[k] for k, column in keys.items()},
                }
            )
    if "outreach" in report:
        out += _outreach_csv_rows(report["outreach"])
    return csv_bytes(columns, out)


# --- generic writers ------------------------------------------------------------------------------

_BORDER_COLOR = "#999999"
_HEADER_BG = "#DDEBF7"
_TOTAL_BG = "#F2F2F2"


class _Formats:
    """Each distinct cell format created once per workbook and shared by every cell that
    uses it (styling cells one by one was where the monthly job spent its time)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self._cache: dict[tuple, Any] = {}
        self.title = book.add_format({"bold": True, "font_size": 14, "align": "center"})
        self.line = book.add_format({})
        self.header = book.add_format(
            {
                "bold": True,
                "bg_color": _HEADER_BG,
                "border": 1,
                "border_color": _BORDER_COLOR,
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
            }
        )

    def cell(self, kind: str, total: bool):
        key = (kind, total)
        if key not in self._cache:
            spec: dict[str, Any] = {"border": 1, "border_color": _BORDER_COLOR}
            if kind in NUMBER_FORMATS:
                spec["num_format"] = NUMBER_FORMATS[kind]
            if total:
                spec.update(bold=True, bg_color=_TOTAL_BG)
            self._cache[key] = self.book.add_format(spec)
        return self._cache[key]


def xlsx(*, title: str, lines: Iterable[str], tables: Sequence[Table]) -> bytes:
    """One sheet per table: a title row, the period lines, Chinese headers, rows, a 合计 row."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    formats = _Formats(book)
    lines = list(lines)
    for table in tables:
        sheet = book.add_worksheet(str(table.name)[:31])
        last_column = len(table.columns) - 1
        if last_column > 0:
            sheet.merge_range(0, 0, 0, last_column, title, formats.title)
        else:
            sheet.write_string(0, 0, title, formats.title)
        for offset, line in enumerate(lines, start=1):
            if last_column > 0:
                sheet.merge_range(offset, 0, offset, last_column, line, formats.line)
            else:
                sheet.write_string(offset, 0, line)
        header_row = len(lines) + 1
        for index, column in enumerate(table.columns):
            sheet.write_string(header_row, index, str(column.label), formats.header)
            sheet.set_column(index, index, column.width)
        sheet.set_row(header_row, 32)
        _write_rows(sheet, formats, table, first_row=header_row + 1)
        sheet.freeze_panes(header_row + 1, 1)
    book.close()
    return buffer.getvalue()


def _write_rows(sheet, formats: _Formats, table: Table, *, first_row: int) -> None:
    """The table's rows, then its 合计 row. The innermost loop of every workbook (a monthly
    statement lists every loan of the bank): each column's kind and formats are looked up
    once per table, not once per cell, and each cell makes one call into xlsxwriter."""

    columns = []
    for index, column in enumerate(table.columns):
        if column.kind == ROW_KIND:  # a summary's value column: each row says its kind
            columns.append((index, column.key, column.kind, None, None))
        else:
            plain, bold = formats.cell(column.kind, False), formats.cell(column.kind, True)
            columns.append((index, column.key, column.kind, plain, bold))
    write_blank, write_string, write_number = sheet.write_blank, sheet.write_string, sheet.write_number
    body = list(table.rows)
    if table.total is not None:
        body.append({**table.total, "rank": gettext("合计")})
    total_row = len(body) if table.total is not None else 0
    for offset, row in enumerate(body, start=1):
        r, is_total = first_row + offset - 1, offset == total_row
        for index, key, kind, plain, bold in columns:
            value = row.get(key)
            if kind == ROW_KIND:
                kind = row.get("kind", TEXT)
                fmt = formats.cell(kind, is_total)
            else:
                fmt = bold if is_total else plain
            if value is None:
                write_blank(r, index, None, fmt)
            elif kind == TEXT:
                write_string(r, index, str(value), fmt)
            elif kind == REGION:
                write_string(r, index, region_name(str(value)), fmt)
            elif kind == DATE:
                day = dt.date.fromisoformat(value) if isinstance(value, str) else value
                sheet.write_datetime(r, index, day, fmt)
            elif isinstance(value, str):  # a stored (JSON) report: numbers kept as exact strings
                write_number(r, index, int(value) if kind == INT else Decimal(value), fmt)
            else:
                write_number(r, index, value, fmt)


def csv_bytes(
    columns: Sequence[Column],
    rows: Iterable[dict[str, Any]],
    *,
    bom: bool = True,
    leading_blank: bool = False,
) -> bytes:
    """UTF-8 with a byte-order mark (so Excel opens the Chinese headers correctly) unless the
    bytes continue a file that has one."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if leading_blank:
        writer.writerow([])
    writer.writerow([str(c.label) for c in columns])
    for row in rows:
        writer.writerow([_csv_value(row.get(c.key), c) for c in columns])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def _csv_value(value: Any, column: Column) -> str:
    if value is None:
        return ""
    if column.kind == REGION:
        return region_name(str(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


_JSON_AS_IS = frozenset({str, int, bool, float, type(None)})


def to_json(value: Any) -> Any:
    """Decimals as exact strings with two places; dates ISO; containers recursively."""
    # The exact types first (a monthly statement converts ~2 values per loan), then the rest.
    kind = value.__class__
    if kind in _JSON_AS_IS:
        return value
    if kind is dict:
        return {k: to_json(v) for k, v in value.items()}
    if kind is Decimal:
        return f"{value:.2f}"
    if kind is dt.date:
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


# --- the monthly report ---------------------------------------------------------------------------

MONTHLY_SUMMARY: tuple[tuple[str, str, str], ...] = (
    ("filings_received", _("本月收到备案(笔)"), INT),
    ("filings_received_amount", _("本月收到备案金额(元)"), YUAN),
    ("filings_accepted", _("本月受理入池(笔)"), INT),
    ("filings_accepted_amount", _("本月受理入池金额(元)"), YUAN),
    ("covered_loans", _("月末在保贷款(笔)"), INT),
    ("covered_outstanding", _("月末在保余额(元)"), YUAN),
    ("overdue_loans", _("月末逾期(笔)"), INT),
    ("overdue_amount", _("月末逾期余额(元)"), YUAN),
    ("non_performing_loans", _("月末不良(笔)"), INT),
    ("non_performing_amount", _("月末不良余额(元)"), YUAN),
    ("npl_ratio", _("不良率(%)"), PERCENT),
    ("claims_filed", _("本月补偿申请(笔)"), INT),
    ("claims_filed_amount", _("本月补偿申请金额(元)"), YUAN),
    ("claims_approved", _("本月批准补偿(笔)"), INT),
    ("claims_approved_amount", _("本月批准补偿金额(元)"), YUAN),
    ("claims_paid", _("本月代偿(笔)"), INT),
    ("claims_paid_amount", _("本月代偿金额(元)"), YUAN),
    ("recoveries_returned", _("本月追偿返还(笔)"), INT),
    ("recoveries_returned_amount", _("本月追偿返还金额(元)"), YUAN),
    ("exposure", _("月末风险敞口(元)"), YUAN),
    ("capital", _("出资总额(元)"), YUAN),
    ("leverage", _("实际放大倍数(倍)"), MULTIPLE),
    ("leverage_limit", _("放大倍数上限(倍)"), MULTIPLE),
    ("capacity", _("可备案容量(元)"), YUAN),
)

# Figures of the fund as a whole: not in a bank's statement nor in the per-bank table.
FUND_LEVEL_KEYS = ("capital", "leverage", "leverage_limit", "capacity")

MONTHLY_BY_INSTITUTION = (
    Column("institution_name", _("合作机构"), TEXT, 34),
    *(Column(key, label, kind, 16) for key, label, kind in MONTHLY_SUMMARY if key not in FUND_LEVEL_KEYS),
)

MONTHLY_LOANS = (
    Column("reference", _("备案编号"), TEXT, 18),
    Column("contract_no", _("借款合同号"), TEXT, 20),
    Column("enterprise", _("借款企业"), TEXT, 34),
    Column("accepted_on", _("受理日期"), DATE, 12),
    Column("principal", _("贷款本金(元)"), YUAN, 16),
    Column("covered_outstanding", _("月末在保余额(元)"), YUAN, 16),
    Column("loan_class", _("月末状态"), TEXT, 10),
)

LEDGER_COLUMNS = (Column("label", _("项目"), TEXT, 24), Column("amount", _("金额(元)"), YUAN, 18))


# The forecast's P95 figures at the foot of the fund report (fundmgr.top.forecast adds them).
MONTHLY_FORECAST: tuple[tuple[str, str, str], ...] = (
    ("expected_claims", _("预测期内预期补偿(元)"), YUAN),
    ("claims_p95", _("预测期内补偿 P95(元)"), YUAN),
    ("balance_p95_end", _("预测期末资金余额 P95(元)"), YUAN),
    ("below_zero_p95", _("P95 余额首次低于零的月份"), TEXT),
    ("top_up_p95", _("P95 需补充资金(元)"), YUAN),
    ("top_up_p99", _("P99 需补充资金(元)"), YUAN),
)


def _forecast_lines(forecast: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not forecast:
        return []
    head = gettext("风险预测（未来%(months)s个月，%(paths)s条模拟路径）") % {
        "months": forecast["months"],
        "paths": forecast["paths"],
    }
    lines = [{"label": head, "value": None, "kind": TEXT}]
    for key, label, kind in MONTHLY_FORECAST:
        value = forecast.get(key)
        if key == "below_zero_p95" and value is None:
            value = gettext("预测期内不低于零")
        lines.append({"label": label, "value": value, "kind": kind})
    return lines


def monthly_xlsx(report: dict[str, Any]) -> bytes:
    p = report["period"]
    who = report["fund"]["name"]
    if report.get("institution"):
        who = f"{who} · {report['institution']['name']}"
    if report.get("institution"):
        title = gettext("合作机构月度对账单：%(who)s") % {"who": who}
    else:
        title = gettext("风险补偿资金月度报告：%(who)s") % {"who": who}
    lines = [
        gettext("报告期间：%(year)s年%(month)s月（%(from)s 至 %(to)s）")
        % {"year": p["year"], "month": p["month"], "from": _iso(p["from"]), "to": _iso(p["to"])},
        gettext("金额单位：元"),
    ]
    summary = report["summary"]
    tables = [
        Table(
            gettext("月报"),
            (Column("label", gettext("指标"), TEXT, 28), Column("value", gettext("数值"), ROW_KIND, 20)),
            [
                {"label": label, "value": summary.get(key), "kind": kind}
                for key, label, kind in MONTHLY_SUMMARY
                if key in summary
            ]
            + _forecast_lines(report.get("forecast")),
        )
    ]
    if report.get("ledger"):
        ledger = report["ledger"]
        rows = [{"label": gettext("期初余额"), "amount": ledger["opening_balance"]}]
        rows += [{"label": m["label"], "amount": m["amount"]} for m in ledger["movements"]]
        rows.append({"label": gettext("期末余额"), "amount": ledger["closing_balance"]})
        tables.append(Table(gettext("资金台账"), LEDGER_COLUMNS, rows))
    if report.get("by_institution") is not None:
        tables.append(Table(gettext("分机构"), MONTHLY_BY_INSTITUTION, report["by_institution"]))
    if report.get("loans") is not None:
        tables.append(Table(gettext("在保贷款明细"), MONTHLY_LOANS, report["loans"]))
    return xlsx(title=title, lines=lines, tables=tables)
