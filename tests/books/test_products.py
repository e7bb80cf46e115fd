"""Filed products (产品备案) in the workbook: exported with the fund's books, described in 说明,
imported in the state the books give them, named by the loans that were made under them and
judged by their terms; the round trip changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from banks.models import Product
from fundmgr.ground.accounts.models import User
from fundmgr.top.books.layout import HELP_SHEET_NAME, PRODUCTS
from fundmgr.top.books.services import books_export, books_import, books_validate
from loans.models import LoanFiling

from .conftest import edit, sample_file, where

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return User.objects.create_user(username="books-admin", password="x", role="admin", is_staff=True)


def test_products_come_in_with_their_state_and_the_loans_name_them(new_fund, admin_user, tmp_path):
    path = sample_file(tmp_path)

    def withdrawn_version(book) -> None:
        sheet = book["备案产品"]
        sheet.append(
            ["smp-bank-1", "ipl-old", 1, "旧版知识产权质押贷", "已撤回", "发明专利、实用新型专利、商标", 3000000,
             24, 5.5, 30, dt.date(2020, 7, 1), dt.date(2021, 6, 30)]
        )  # fmt: skip

    edit(path, withdrawn_version)

    report = books_import(file=str(path), by=admin_user, file_name="smp.xlsx")

    assert report.imported, report.errors[:5]
    assert report.summary["products"].new == 6
    filed = Product.objects.get(fund=new_fund, institution__code="smp-bank-2", code="ipl")
    assert (filed.status, filed.version, filed.filed_on, filed.max_term_months) == (
        "filed",
        1,
        dt.date(2020, 6, 1),
        36,
    )
    assert filed.accepted_ip_kinds == ["invention_patent", "utility_model"]
    assert filed.history.get().history_user == admin_user  # who brought it in
    old = Product.objects.get(fund=new_fund, code="ipl-old")
    assert (old.status, old.withdrawn_on, old.max_pledge_rate) == (
        "withdrawn",
        dt.date(2021, 6, 30),
        Decimal("30.00"),
    )
    assert old.accepted_ip_kinds == ["invention_patent", "utility_model", "trademark"]
    # Every loan names its bank's product (the version filed when it was accepted).
    loans = LoanFiling.objects.filter(fund=new_fund).select_related("product", "institution")
    assert loans.count() == 8
    assert all(f.product.code == "ipl" and f.product.institution == f.institution for f in loans)


def test_the_round_trip_keeps_products_and_the_loans_product_versions(new_fund, admin_user, tmp_path):
    path = sample_file(tmp_path)
    assert books_import(file=str(path), by=admin_user).imported
    out = tmp_path / "again.xlsx"

    books_export(fund=new_fund, out=str(out))

    book = load_workbook(out, read_only=True)
    rows = list(book["备案产品"].iter_rows(min_row=2, values_only=True))
    assert [r[:5] for r in rows] == [
        (f"smp-bank-{n}", "ipl", 1, f"知识产权质押贷{n}", "已备案") for n in range(1, 6)
    ]
    assert {r[5] for r in rows} == {"发明专利、实用新型专利"}
    loan_headers = [c.value for c in next(book["贷款"].iter_rows(max_row=1))]
    code_col, version_col = loan_headers.index("产品代码"), loan_headers.index("产品版本")
    loans = list(book["贷款"].iter_rows(min_row=2, values_only=True))
    assert {(r[code_col], r[version_col]) for r in loans} == {("ipl", 1)}
    # Imported again: every row unchanged, products included.
    again = books_validate(file=str(out))
    assert again.ok, again.errors[:3]
    assert again.summary["products"].unchanged == 5 and again.summary["products"].new == 0
    assert again.summary["loans"].unchanged == 8


def test_a_product_already_in_the_system_is_not_changed_by_import(new_fund, admin_user, tmp_path):
    path = sample_file(tmp_path)
    assert books_import(file=str(path), by=admin_user).imported
    edit(path, lambda book: book["备案产品"].cell(2, 8, 60))  # 最长期限(月): 36 → 60

    report = books_validate(file=str(path))

    assert where(report) == {("备案产品", 2, "H", "row_record_differs")}
    assert "已有的产品不能通过导入修改" in report.errors[0].message


def test_a_loan_is_judged_by_its_products_terms(new_fund, tmp_path):
    path = sample_file(tmp_path)
    edit(path, lambda book: book["备案产品"].cell(5, 8, 6))  # smp-bank-4's product: at most 6 months

    report = books_validate(file=str(path))

    # SMP-000003 went to smp-bank-4 and ran 12 months, beyond its product's 6.
    assert where(report) == {("贷款", 5, "K", "term_exceeds_limit")}
    assert "贷款期限不超过6个月" in report.errors[0].message


def test_a_product_filed_before_its_bank_had_an_agreement_is_refused(new_fund, tmp_path):
    path = sample_file(tmp_path)
    edit(path, lambda book: book["备案产品"].cell(2, 11, dt.date(2020, 3, 1)))  # agreements start 2020-06-01

    report = books_validate(file=str(path))

    assert where(report) == {("备案产品", 2, "K", "no_agreement_in_force")}


def test_the_help_sheet_explains_the_product_columns(tmp_path):
    path = tmp_path / "template.xlsx"
    books_export_template(path)
    rows = list(
        load_workbook(path, read_only=True)[str(HELP_SHEET_NAME)].iter_rows(min_row=2, values_only=True)
    )
    described = {r[1]: r for r in rows if r[0] == str(PRODUCTS.name) and r[1]}
    assert set(described) == {str(c.header) for c in PRODUCTS.columns}
    assert "发明专利" in described["可质押知识产权类型"][4]
    assert "以“、”分隔" in described["可质押知识产权类型"][3]


def books_export_template(path) -> None:
    from fundmgr.top.books.services import books_template

    books_template(out=str(path))
