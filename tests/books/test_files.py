"""Bad files get clear answers, never a 500: not a workbook, a sheet or a column missing, more
rows than the documented limit; and the empty template reads back clean."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook

from fundmgr.top.books.layout import HELP_SHEET_NAME, MAX_ROWS_PER_SHEET, SHEETS
from fundmgr.top.books.services import books_template, books_validate

from .conftest import edit, sample_file, where

pytestmark = pytest.mark.django_db


def test_a_file_that_is_not_a_workbook_is_refused_with_a_clear_answer(new_fund, tmp_path):
    for content in (
        b"uscc,name\n914403001922038216,x\n",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
        b"",
    ):
        path = tmp_path / "books.xlsx"
        path.write_bytes(content)
        report = books_validate(file=str(path))
        assert where(report) == {("", None, "", "workbook_not_xlsx")}
        assert "Excel 工作簿(*.xlsx)" in report.errors[0].message


def test_a_zip_that_is_not_a_workbook_is_refused(new_fund, tmp_path):
    path = tmp_path / "books.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    assert {e.code for e in books_validate(file=str(path)).errors} == {"workbook_not_xlsx"}


def test_a_missing_sheet_and_a_missing_column_are_named(new_fund, tmp_path):
    path = sample_file(tmp_path)

    def change(book) -> None:
        del book["追偿回收"]
        book["贷款"].delete_cols(6)  # 贷款本金(元)

    edit(path, change)
    report = books_validate(file=str(path))

    assert where(report) == {
        ("追偿回收", None, "", "workbook_missing_sheet"),
        ("贷款", 1, "贷款本金(元)", "workbook_missing_column"),
    }
    assert {e.message for e in report.errors} == {
        "缺少工作表“追偿回收”（请使用导出的模板）",
        "工作表“贷款”缺少列“贷款本金(元)”",
    }


def test_columns_may_come_in_any_order_and_headers_tolerate_full_width_brackets(new_fund, tmp_path):
    path = sample_file(tmp_path)

    def change(book) -> None:
        sheet = book["企业"]
        sheet.move_range("A1:A100", cols=20)  # the USCC column moved to the far right
        sheet["F1"] = "从业人员（人）"

    edit(path, change)
    report = books_validate(file=str(path))
    assert report.ok, report.errors[:3]
    assert report.summary["enterprises"].new == 12


def test_more_rows_than_the_documented_limit_are_refused_before_they_are_read(new_fund, tmp_path):
    template = io.BytesIO()
    books_template(out=template)
    path = tmp_path / "huge.xlsx"
    rows = MAX_ROWS_PER_SHEET + 1
    with (
        zipfile.ZipFile(io.BytesIO(template.getvalue())) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as out,
    ):
        # xlsxwriter numbers the sheet files in the workbook's order: 说明 is sheet1.xml
        enterprises = f"xl/worksheets/sheet{[s.name for s in SHEETS].index('企业') + 2}.xml"
        for name in source.namelist():
            if name != enterprises:
                out.writestr(name, source.read(name))
        with out.open(enterprises, "w") as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xe7\xbb\x9f\xe4\xb8\x80\xe7\xa4\xbe\xe4\xbc\x9a\xe4\xbf\xa1\xe7\x94\xa8\xe4\xbb\xa3\xe7\xa0\x81</t></is></c></row>'
            )
            for start in range(2, rows + 2, 100_000):
                sheet.write(
                    "".join(
                        f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>'
                        for n in range(start, min(start + 100_000, rows + 2))
                    ).encode()
                )
            sheet.write(b"</sheetData></worksheet>")

    report = books_validate(file=str(path))

    assert ("企业", None, "", "workbook_too_many_rows") in where(report)
    message = next(e.message for e in report.errors if e.code == "workbook_too_many_rows")
    assert "1,000,001行" in message and "1,000,000行" in message


def test_the_template_has_the_help_sheet_and_every_sheet_with_its_headers(tmp_path):
    out = io.BytesIO()
    books_template(out=out)
    book = load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == [HELP_SHEET_NAME, *[s.name for s in SHEETS]]
    for spec in SHEETS:
        assert [c.value for c in book[spec.name][1]] == [c.header for c in spec.columns]
    # 说明 explains every column from the same declarations: its header, format, allowed values.
    help_rows = list(book[HELP_SHEET_NAME].iter_rows(min_row=2, values_only=True))
    assert "最多 1,000,000 行数据" in help_rows[0][5]
    described = {(r[0], r[1]) for r in help_rows if r[1]}
    assert described == {(s.name, c.header) for s in SHEETS for c in s.columns}
    status = next(r for r in help_rows if r[:2] == ("企业", "入库状态"))
    assert "已入库" in status[4] and status[2] == "是"
    amount = next(r for r in help_rows if r[:2] == ("资金台账", "金额(元)"))
    assert "流入为正、流出为负" in amount[3]


def test_an_empty_template_with_the_fund_code_reads_back_clean(new_fund, tmp_path):
    out = tmp_path / "template.xlsx"
    books_template(out=str(out))
    edit(out, lambda book: book["资金"].cell(2, 1, "smp"))
    report = books_validate(file=str(out))
    assert report.ok and report.fund_code == "smp"
    assert all(s.rows == 0 for key, s in report.summary.items() if key != "fund")


def test_a_workbook_for_a_fund_the_system_does_not_have_is_refused(new_fund, tmp_path):
    path = sample_file(tmp_path)
    edit(path, lambda book: book["资金"].cell(2, 1, "nowhere"))
    report = books_validate(file=str(path))
    assert where(report) == {("资金", 2, "A", "workbook_fund_not_found")}
