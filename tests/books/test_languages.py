"""The workbook speaks the language of the request: exported in English when English is
chosen, Chinese otherwise; read in any of the system's languages, so a Chinese workbook always
reads, and its errors are explained in the reader's language."""

from __future__ import annotations

import pytest
from django.utils import translation
from openpyxl import load_workbook

from fundmgr.ground.accounts.models import User
from fundmgr.top.books.services import books_export, books_import, books_validate

from .conftest import edit, sample_file, where

pytestmark = pytest.mark.django_db


def test_an_english_export_reads_back_clean_in_either_language(new_fund, tmp_path):
    admin = User.objects.create_user(username="books-admin", password="x", role="admin", is_staff=True)
    assert books_import(file=str(sample_file(tmp_path)), by=admin).imported
    out = tmp_path / "english.xlsx"

    with translation.override("en"):
        books_export(fund=new_fund, out=str(out))
        in_english = books_validate(file=str(out))

    book = load_workbook(out, read_only=True)
    assert book.sheetnames[:3] == ["Description", "Fund", "Enterprise"]
    assert [c.value for c in next(book["Loan"].iter_rows(max_row=1))][:3] == [
        "Institution code",
        "Loan contract no.",
        "Filing reference",
    ]
    statuses = {r[14] for r in book["Enterprise"].iter_rows(min_row=2, values_only=True)}
    assert statuses == {"Admitted"}
    assert in_english.ok and in_english.summary["loans"].unchanged == 8, in_english.errors[:3]
    in_chinese = books_validate(file=str(out))  # an English workbook read by a Chinese-speaking user
    assert in_chinese.ok and in_chinese.summary["enterprises"].unchanged == 12


def test_a_chinese_workbook_checked_in_english_explains_its_errors_in_english(new_fund, tmp_path):
    path = sample_file(tmp_path)
    edit(path, lambda book: book["贷款"].cell(2, 10, "2021-01-04"))  # 放款日 typed as text

    with translation.override("en"):
        report = books_validate(file=str(path))

    assert where(report) == {("贷款", 2, "J", "cell_date_as_text")}
    assert report.errors[0].message.startswith("“Disbursement date” is the text “2021-01-04”")
