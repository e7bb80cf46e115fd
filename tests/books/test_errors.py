"""A workbook seeded with one error of each kind: every error is reported at its sheet, row and
column with its code, the import writes nothing, and the annotated copy marks each cell."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from fundmgr.ground.accounts.models import User
from fundmgr.top.books.layout import SHEETS_BY_KEY
from fundmgr.top.books.sample import patent, uscc
from fundmgr.top.books.services import books_annotate, books_import, books_validate

from .conftest import edit, sample_file, where
from .test_import import counts

pytestmark = pytest.mark.django_db


def col(sheet_key: str, key: str) -> str:
    """The column letter of a layout column (the export writes them in the layout's order)."""
    columns = SHEETS_BY_KEY[sheet_key].columns
    return get_column_letter(next(i for i, c in enumerate(columns, start=1) if c.key == key))


def append(book, sheet_key: str, values: dict) -> int:
    """Add a row as a person would type it; returns its row number."""
    spec = SHEETS_BY_KEY[sheet_key]
    sheet = book[spec.name]
    row = sheet.max_row + 1
    for key, value in values.items():
        cell = sheet[f"{col(sheet_key, key)}{row}"]
        cell.value = value
        if isinstance(value, dt.date):
            cell.number_format = "yyyy-mm-dd"
    return row


def enterprise(n: int, **extra) -> dict:
    base = {
        "uscc": uscc(f"91441202MC{n:07d}"),
        "name": f"测试企业{n}",
        "region_code": "441202",
        "industry_code": "C3985",
        "registered_on": dt.date(2015, 1, 1),
        "employees": 30,
        "status": "已提交",
    }
    return {**base, **extra}


def seeded(tmp_path):
    """The clean sample books with one faulty row (or cell) per kind of error. Returns the file
    and the errors expected: (sheet, row, column, code)."""
    path = sample_file(tmp_path)
    expected: set[tuple[str, int | None, str, str]] = set()

    def change(book) -> None:
        book["资金"]["D2"] = None  # no stated balance: the rows below change it (tested apart)

        def expect(sheet_key, row, key, code):
            expected.add((SHEETS_BY_KEY[sheet_key].name, row, col(sheet_key, key), code))

        # 企业: a USCC whose check character is wrong
        bad = enterprise(1)
        bad["uscc"] = bad["uscc"][:-1] + ("0" if bad["uscc"][-1] != "0" else "1")
        expect("enterprises", append(book, "enterprises", bad), "uscc", "invalid_uscc")
        # 企业: a date typed as text
        expect("enterprises", append(book, "enterprises", enterprise(2, registered_on="2015-03-01")),
               "registered_on", "cell_date_as_text")  # fmt: skip
        # 企业: admitted although registered outside the fund's city (eligibility on admission)
        outside = enterprise(3, region_code="440604", status="已入库", admitted_on=dt.date(2022, 3, 1))
        expect("enterprises", append(book, "enterprises", outside), "region_code", "not_registered_in_city")
        append(book, "ip", {"enterprise_uscc": outside["uscc"], "kind": "发明专利", "number": patent(2019, 9_100_001),
                            "title": "外地企业的专利", "filed_on": dt.date(2019, 3, 1), "status": "有效"})  # fmt: skip
        # 企业: merged cells where values belong
        row = append(book, "enterprises", enterprise(4, contact_name="王五"))
        book["企业"].merge_cells(
            f"{col('enterprises', 'contact_name')}{row}:{col('enterprises', 'contact_phone')}{row}"
        )
        expect("enterprises", row, "contact_name", "cell_merged")
        # 知识产权: a patent number with a wrong check character
        owner = book["企业"]["A2"].value
        number = patent(2018, 9_100_002)
        wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
        expect("ip", append(book, "ip", {"enterprise_uscc": owner, "kind": "发明专利", "number": wrong, "title": "专利",
                                         "filed_on": dt.date(2018, 3, 1), "status": "有效"}),
               "number", "invalid_patent_number")  # fmt: skip
        # 知识产权: a formula where a value belongs
        expect("ip", append(book, "ip", {"enterprise_uscc": owner, "kind": "发明专利", "number": patent(2018, 9_100_003),
                                         "title": "=B2", "filed_on": dt.date(2018, 3, 1), "status": "有效"}),
               "title", "cell_formula_not_allowed")  # fmt: skip
        # 知识产权: the same right twice
        first_ip = [c.value for c in book["知识产权"][2]]
        expect("ip", append(book, "ip", dict(zip([c.key for c in SHEETS_BY_KEY["ip"].columns], first_ip, strict=True))),
               "number", "duplicate_ip_asset")  # fmt: skip
        # 合作机构: a required value missing, and a value not among the allowed ones
        expect("institutions", append(book, "institutions", {"code": "no-name", "kind": "银行", "status": "合作中"}),
               "name", "required")  # fmt: skip
        expect("institutions", append(book, "institutions", {"code": "odd-kind", "name": "某机构", "kind": "钱庄", "status": "合作中"}),
               "kind", "invalid_choice")  # fmt: skip
        # 合作协议: the fund's share above the policy's maximum (50 %), and shares not totalling 100
        bank = book["合作机构"]["A2"].value
        expect("agreements", append(book, "agreements", {"institution_code": bank, "valid_from": dt.date(2024, 1, 1),
               "signed_on": dt.date(2023, 12, 20), "fund_share": 60, "bank_share": 40}),
               "fund_share", "fund_share_exceeds_policy")  # fmt: skip
        expect("agreements", append(book, "agreements", {"institution_code": bank, "valid_from": dt.date(2025, 1, 1),
               "signed_on": dt.date(2024, 12, 20), "fund_share": 50, "bank_share": 40}),
               "fund_share", "shares_must_total_100")  # fmt: skip
        # 贷款: a term longer than the policy allows (36 months)
        loan = {"institution_code": bank, "historical": "是", "enterprise_uscc": book["企业"]["A10"].value,
                "principal": 1000000, "pledge_type": "纯知识产权质押", "annual_rate": 4.35,
                "disbursed_on": dt.date(2024, 3, 1), "matures_on": dt.date(2028, 3, 1), "status": "已受理入池",
                "accepted_on": dt.date(2024, 3, 4), "loan_status": "正常", "fund_share": 50, "bank_share": 50,
                "outstanding_principal": 1000000}  # fmt: skip
        expect(
            "loans",
            append(book, "loans", {**loan, "contract_no": "LONG-1"}),
            "matures_on",
            "term_exceeds_limit",
        )
        free_ip = next(
            r
            for r in book["知识产权"].iter_rows(min_row=2, values_only=True)
            if r[0] == book["企业"]["A10"].value
        )
        append(book, "pledges", {"institution_code": bank, "contract_no": "LONG-1", "ip_kind": "发明专利",
               "ip_number": free_ip[2], "registration_no": "Y2024440000001", "registered_on": dt.date(2024, 2, 20)})  # fmt: skip
        # 贷款: a borrower neither in the workbook nor in the system
        stranger = uscc("91441202MY0000009")
        expect("loans", append(book, "loans", {**loan, "contract_no": "WHO-1", "enterprise_uscc": stranger,
                                               "matures_on": dt.date(2026, 3, 1)}),
               "enterprise_uscc", "row_unknown_reference")  # fmt: skip
        # 质押物: a right already pledged to a loan still covered (SMP-000007 is performing)
        held = next(r for r in book["质押物"].iter_rows(min_row=2, values_only=True) if r[1] == "SMP-000007")
        holder_owner = next(
            r[4] for r in book["贷款"].iter_rows(min_row=2, values_only=True) if r[1] == "SMP-000007"
        )
        append(book, "loans", {**loan, "contract_no": "TWICE-1", "enterprise_uscc": holder_owner,
                               "matures_on": dt.date(2026, 3, 1)})  # fmt: skip
        expect("pledges", append(book, "pledges", {"institution_code": bank, "contract_no": "TWICE-1", "ip_kind": "发明专利",
               "ip_number": held[3], "registration_no": "Y2024440000002", "registered_on": dt.date(2024, 2, 20)}),
               "ip_number", "ip_already_pledged")  # fmt: skip
        # 资金台账: an outflow before any money came in (the balance below zero in date order)
        expect("ledger", append(book, "ledger", {"value_date": dt.date(2019, 12, 1), "entry_type": "费用", "amount": -5000}),
               "amount", "fund_balance_insufficient")  # fmt: skip
        # 资金台账: a number stored as text
        expect("ledger", append(book, "ledger", {"value_date": dt.date(2021, 6, 1), "entry_type": "利息", "amount": "1000.00"}),
               "amount", "cell_number_as_text")  # fmt: skip

    edit(path, change)
    return path, expected


def test_each_error_is_reported_at_its_sheet_row_and_column_with_its_code(new_fund, tmp_path):
    path, expected = seeded(tmp_path)

    report = books_validate(file=str(path), file_name="seeded.xlsx")

    assert where(report) == expected
    assert report.error_count == len(expected) == 16
    # Chinese messages a person can act on, with the English code beside them.
    by_code = {e.code: e for e in report.errors}
    assert "校验位" in by_code["invalid_uscc"].message
    assert "须为 Excel 日期单元格" in by_code["cell_date_as_text"].message
    assert "不能是公式" in by_code["cell_formula_not_allowed"].message
    assert by_code["cell_merged"].message.startswith("K")
    assert by_code["fund_share_exceeds_policy"].column == "E 资金分担比例(%)"
    # Rows with an error are counted apart from new ones.
    assert report.summary["enterprises"].invalid == 4 and report.summary["enterprises"].new == 12


def test_the_import_of_a_faulty_workbook_writes_nothing(new_fund, tmp_path):
    path, expected = seeded(tmp_path)
    admin = User.objects.create_user(username="books-admin", password="x", role="admin", is_staff=True)
    before = counts()

    report = books_import(file=str(path), by=admin, file_name="seeded.xlsx")

    assert not report.imported
    assert where(report) == expected
    assert counts() == before


def test_the_annotated_workbook_marks_each_faulty_cell(new_fund, tmp_path):
    path, expected = seeded(tmp_path)
    report = books_validate(file=str(path))
    out = io.BytesIO()

    books_annotate(file=str(path), report=report, out=out)

    book = load_workbook(io.BytesIO(out.getvalue()))
    listing = list(book["错误清单"].iter_rows(min_row=2, values_only=True))
    assert {(r[0], r[1], r[2].split(" ")[0], r[3]) for r in listing} == expected
    for sheet, row, column, code in expected:
        cell = book[sheet][f"{column}{row}"]
        assert code in cell.comment.text, (sheet, row, column)
        assert cell.fill.fgColor.rgb.endswith("FFC7CE"), (sheet, row, column)
    # Cells without an error are copied as they were, unmarked.
    assert book["企业"]["A2"].comment is None
    assert book["企业"]["B2"].value == load_workbook(path)["企业"]["B2"].value
