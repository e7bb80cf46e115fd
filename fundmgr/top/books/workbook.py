"""Writing workbooks: a fund's books (export), the empty template, and the annotated copy of
an uploaded file whose faulty cells are marked.

All three stream through xlsxwriter's constant-memory mode, one row at a time, so their size
never sits in memory. Formats follow the layout's kinds: dates as Excel dates, money with two
places, identifiers as text (an 18-digit USCC typed as a number would lose digits), and each
choice column offers its allowed values as a drop-down.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .layout import (
    BOOL,
    CHOICE,
    CHOICES,
    DATE,
    HELP_HEADERS,
    HELP_SHEET_NAME,
    INT,
    MONEY,
    NO,
    PERCENT,
    RATE,
    SHEETS,
    SIGNED_MONEY,
    TEXT,
    YES,
    Col,
    Sheet,
    help_rows,
)
from .reader import WorkbookReader

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS_SHEET_NAME = gettext_lazy("错误清单")
# Drop-downs cover this many rows below the data, so rows typed into the template get them too.
VALIDATION_ROWS = 5000
# Excel limits an inline list's source to 255 characters.
_LIST_LIMIT = 255

NUMBER_FORMATS = {
    INT: "0",
    MONEY: "#,##0.00",
    SIGNED_MONEY: "#,##0.00",
    PERCENT: "0.00",
    RATE: "0.0000",
    DATE: "yyyy-mm-dd",
    TEXT: "@",
    CHOICE: "@",
    CHOICES: "@",
    BOOL: "@",
}


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.header = book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
        )
        self.readonly_header = book.add_format(
            {"bold": True, "bg_color": "#EDEDED", "border": 1, "text_wrap": True, "valign": "top"}
        )
        self.kind = {kind: book.add_format({"num_format": fmt}) for kind, fmt in NUMBER_FORMATS.items()}
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.bad = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.bad_date = book.add_format(
            {"bg_color": "#FFC7CE", "font_color": "#9C0006", "num_format": "yyyy-mm-dd"}
        )
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})


def _cell_value(col: Col, value: Any) -> Any:
    if value is None or value == "":
        return None
    if col.kind == CHOICE:
        return col.label_of(value)
    if col.kind == CHOICES:
        return "、".join(col.label_of(v) for v in value) or None
    if col.kind == BOOL:
        return str(YES if value else NO)
    return value


def _write(sheet, row: int, column: int, col: Col, value: Any, formats: _Formats) -> None:
    value = _cell_value(col, value)
    if value is None:
        return
    fmt = formats.kind[col.kind]
    if col.kind == DATE:
        sheet.write_datetime(row, column, dt.datetime.combine(value, dt.time()), fmt)
    elif col.kind in (MONEY, SIGNED_MONEY, PERCENT, RATE, INT):
        # xlsxwriter stores a double; every amount here has at most 18 digits and two (or four)
        # places, which a double holds exactly enough to read back the same Decimal.
        sheet.write_number(row, column, float(value) if isinstance(value, Decimal) else value, fmt)
    else:
        sheet.write_string(row, column, str(value), fmt)


def _write_help(book: xlsxwriter.Workbook, formats: _Formats) -> None:
    sheet = book.add_worksheet(str(HELP_SHEET_NAME))
    for column, (header, width) in enumerate(zip(HELP_HEADERS, (12, 24, 6, 30, 40, 70), strict=True)):
        sheet.set_column(column, column, width)
        sheet.write_string(0, column, str(header), formats.header)
    sheet.freeze_panes(1, 0)
    for row, values in enumerate(help_rows(), start=1):
        for column, value in enumerate(values):
            if value:
                sheet.write_string(row, column, value, formats.wrap)


def _start_sheet(book: xlsxwriter.Workbook, spec: Sheet, formats: _Formats):
    sheet = book.add_worksheet(str(spec.name))
    for column, col in enumerate(spec.columns):
        sheet.set_column(column, column, col.width, formats.kind[col.kind])
        header_format = formats.readonly_header if col.readonly else formats.header
        sheet.write_string(0, column, str(col.header), header_format)
        if col.note:
            sheet.write_comment(0, column, str(col.note), {"x_scale": 2, "y_scale": 1.5})
        options = (
            col.choice_labels() if col.kind == CHOICE else ([str(YES), str(NO)] if col.kind == BOOL else [])
        )
        if options and not col.readonly and len(",".join(options)) <= _LIST_LIMIT:
            sheet.data_validation(
                1,
                column,
                VALIDATION_ROWS,
                column,
                {"validate": "list", "source": options, "ignore_blank": True, "show_error": False},
            )
    sheet.freeze_panes(1, 0)
    return sheet


def write_books(
    out: str | IO[bytes],
    rows: Mapping[str, Iterable[Mapping[str, Any]]],
    *,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Write the whole workbook: 说明, then every sheet of the layout with `rows[sheet.key]`
    (missing keys: headers only, which is the template). Returns rows written per sheet."""
    book = xlsxwriter.Workbook(
        out, {"constant_memory": True, "in_memory": False, "strings_to_numbers": False}
    )
    formats = _Formats(book)
    counts: dict[str, int] = {}
    try:
        _write_help(book, formats)
        for spec in SHEETS:
            sheet = _start_sheet(book, spec, formats)
            n = 0
            for n, row in enumerate(rows.get(spec.key, ()), start=1):
                for column, col in enumerate(spec.columns):
                    _write(sheet, n, column, col, row.get(col.key), formats)
                if progress and n % 5000 == 0:
                    progress(spec.name, n)
            counts[spec.key] = n
            if n:
                sheet.autofilter(0, 0, n, len(spec.columns) - 1)
    finally:
        book.close()
    return counts


def write_annotated(
    source: str | IO[bytes],
    out: str | IO[bytes],
    errors: Iterable[Mapping[str, Any]],
) -> None:
    """A copy of the uploaded workbook with every faulty cell filled red and commented with its
    errors (code and message), and a first sheet listing every error. Cells are copied by value
    (a formula stays a formula); merges and styles of the original are not carried over."""
    errors = list(errors)
    by_row: dict[tuple[str, int], dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for e in errors:
        if e.get("row") and e.get("col"):
            by_row[(e["sheet"], e["row"])][e["col"]].append(f"{e['message']}（{e['code']}）")
    reader = WorkbookReader(source)
    book = xlsxwriter.Workbook(
        out, {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False}
    )
    formats = _Formats(book)
    try:
        listing = book.add_worksheet(str(ERRORS_SHEET_NAME))
        headers = (_("工作表"), _("行"), _("列"), _("代码"), _("说明"))
        for column, (header, width) in enumerate(zip(headers, (12, 8, 22, 30, 80), strict=True)):
            listing.set_column(column, column, width)
            listing.write_string(0, column, header, formats.header)
        for n, e in enumerate(errors, start=1):
            listing.write_string(n, 0, e["sheet"])
            if e.get("row"):
                listing.write_number(n, 1, e["row"])
            listing.write_string(n, 2, e.get("column") or "")
            listing.write_string(n, 3, e["code"])
            listing.write_string(n, 4, e["message"])
        for name in reader.sheet_names:
            if name == str(ERRORS_SHEET_NAME):
                continue
            sheet = book.add_worksheet(name[:31])
            for row_number, cells in reader.rows(name):
                faults = by_row.get((name, row_number), {})
                # a required cell left empty is marked in place too, so the user sees where to type
                for column in sorted(set(cells) | set(faults)):
                    notes = faults.get(column)
                    if column in cells:
                        value, data_type = cells[column]
                        _copy_cell(
                            sheet, row_number - 1, column - 1, value, data_type, formats, bad=bool(notes)
                        )
                    else:
                        sheet.write_blank(row_number - 1, column - 1, None, formats.bad)
                    if notes:
                        sheet.write_comment(
                            row_number - 1, column - 1, "\n".join(notes), {"x_scale": 3, "y_scale": 2}
                        )
    finally:
        reader.close()
        book.close()


def _copy_cell(
    sheet, row: int, column: int, value: Any, data_type: str, formats: _Formats, *, bad: bool
) -> None:
    fmt = formats.bad if bad else None
    if data_type == "f":
        sheet.write_formula(row, column, str(value), fmt)
    elif data_type == "d" and isinstance(value, (dt.datetime, dt.date)):
        if not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        sheet.write_datetime(row, column, value, formats.bad_date if bad else formats.date)
    elif data_type == "b":
        sheet.write_boolean(row, column, bool(value), fmt)
    elif data_type == "n" and isinstance(value, (int, float)):
        sheet.write_number(row, column, value, fmt)
    else:
        sheet.write_string(row, column, str(value), fmt)
