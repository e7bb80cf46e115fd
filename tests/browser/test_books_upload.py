"""The books import in a real browser: the administrator downloads a fund's workbook from the
fund list, uploads the old books of a new fund, reads the dry-run report, presses 确认导入 and
sees them imported; a faulty workbook shows each error and offers the annotated copy; an
officer without 导入台账 is refused."""

from __future__ import annotations

from fundmgr.top.books.sample import sample_fund
from loans.models import LoanFiling
from tests.books.conftest import edit, sample_file

from .helpers import click_and_wait


def summary_row(page, sheet: str) -> list[str]:
    row = page.locator("#books-summary tbody tr", has_text=sheet).first
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def test_admin_uploads_the_books_checks_them_and_imports_them(as_persona, personas, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    fund = sample_fund(code="smp", prefix="SP")
    clean = sample_file(tmp_path, "肇庆旧台账.xlsx", loans=10)
    faulty = edit(
        sample_file(tmp_path, "有错的台账.xlsx"), lambda book: book["企业"].cell(3, 5, "2015-03-01")
    )

    admin = as_persona("admin")
    # The fund list offers each fund's books as a workbook.
    admin.goto("/admin/funds/fund/")
    link = admin.locator("#result_list").get_by_role("link", name="台账工作簿").first
    with admin.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".xlsx")

    # From the start page to the upload page.
    admin.goto("/admin/")
    click_and_wait(admin, admin.get_by_role("link", name="台账导入", exact=True).first)
    click_and_wait(admin, admin.get_by_role("link", name="上传台账工作簿"))
    assert admin.locator("#content h1").inner_text().strip() == "导入台账"

    # A faulty workbook: every error listed where it is, nothing written, the marked copy offered.
    admin.locator("input[type=file]").set_input_files(str(faulty))
    click_and_wait(admin, admin.get_by_role("button", name="上传并校验"))
    assert "状态：有错误" in admin.locator("#run-status").inner_text()
    error = [t.strip() for t in admin.locator("#books-errors tbody tr").first.locator("td").all_inner_texts()]
    assert error[:4] == ["企业", "3", "E 成立日期", "cell_date_as_text"]
    assert "须为 Excel 日期单元格" in error[4]
    assert admin.get_by_role("button", name="确认导入").count() == 0
    with admin.expect_download() as download:
        admin.get_by_role("link", name="下载标注错误的工作簿").click()
    assert download.value.suggested_filename == "有错的台账-错误标注.xlsx"

    # The clean workbook: the dry run counts what would come in; 确认导入 brings it in.
    admin.goto("/admin/books/importrun/upload/")
    admin.locator("input[type=file]").set_input_files(str(clean))
    click_and_wait(admin, admin.get_by_role("button", name="上传并校验"))
    assert "状态：校验通过" in admin.locator("#run-status").inner_text()
    assert summary_row(admin, "贷款") == ["贷款", "10", "10", "0", "0", "0"]
    assert not LoanFiling.objects.filter(fund=fund).exists()
    click_and_wait(admin, admin.get_by_role("button", name="确认导入"))
    assert "状态：已导入" in admin.locator("#run-status").inner_text()
    assert "导入后资金台账余额" in admin.locator("#books-run").inner_text()
    assert LoanFiling.objects.filter(fund=fund).count() == 10

    # The list of imports shows both uploads.
    admin.goto("/admin/books/importrun/")
    assert admin.locator("#result_list tbody tr").count() == 2


def test_an_officer_without_the_permission_is_refused(as_persona, personas):
    officer = as_persona("officer")
    response = officer.goto("/admin/books/importrun/upload/")
    assert response.status == 403
    officer.goto("/admin/")
    assert officer.get_by_role("link", name="台账导入", exact=True).count() == 0
