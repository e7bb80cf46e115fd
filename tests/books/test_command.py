"""`export_workbook` and `import_workbook`: the file written, every error printed as sheet,
row, column, code and message, a progress line, and the exit status (1 with errors, 0 clean)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from enterprises.models import Enterprise
from fundmgr.ground.accounts.models import User
from loans.models import LoanFiling

from .conftest import edit, sample_file

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exit:
        return exit.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def admin_user(db):
    return User.objects.create_user(username="books-admin", password="x", role="admin", is_staff=True)


def test_export_writes_the_funds_books(demo, tmp_path):
    out = tmp_path / "zq.xlsx"
    status, stdout, _ = run("export_workbook", "--fund", "zhaoqing", "--out", str(out))
    assert status == 0 and "zhaoqing written to" in stdout
    book = load_workbook(out, read_only=True)
    assert book["资金"]["A2"].value == "zhaoqing"
    usccs = {r[0] for r in book["企业"].iter_rows(min_row=2, values_only=True)}
    assert usccs == set(Enterprise.objects.filter(fund__code="zhaoqing").values_list("uscc", flat=True))


def test_export_of_an_unknown_fund_is_an_error(db, tmp_path):
    with pytest.raises(CommandError, match="no fund"):
        call_command("export_workbook", "--fund", "nowhere", "--out", str(tmp_path / "x.xlsx"))


def test_a_clean_dry_run_exits_0_and_writes_nothing(new_fund, tmp_path, capsys):
    path = sample_file(tmp_path)
    status, stdout, _ = run("import_workbook", str(path), "--dry-run")
    assert status == 0
    assert "clean: smp may be imported" in stdout
    assert "企业" in stdout and not LoanFiling.objects.exists()


def test_a_dry_run_with_errors_exits_1_and_prints_each_error(new_fund, tmp_path):
    path = sample_file(tmp_path)
    edit(path, lambda book: book["贷款"].cell(2, 10, "2021-01-04"))  # 放款日 typed as text
    status, stdout, _ = run("import_workbook", str(path), "--dry-run")
    assert status == 1
    assert "贷款\t2\tJ 放款日\tcell_date_as_text\t“放款日”是文本“2021-01-04”" in stdout
    assert "1 errors; nothing imported" in stdout


def test_an_import_needs_someone_who_holds_the_permission(new_fund, tmp_path):
    path = sample_file(tmp_path)
    with pytest.raises(CommandError, match="--by USERNAME"):
        call_command("import_workbook", str(path))
    User.objects.create_user(username="clerk", password="x", role="officer", is_staff=True)
    with pytest.raises(CommandError, match="permission to import books"):
        call_command("import_workbook", str(path), "--by", "clerk")
    assert not Enterprise.objects.filter(fund=new_fund).exists()


def test_an_import_exits_0_with_the_balance_and_shows_its_progress(new_fund, admin_user, tmp_path):
    path = sample_file(tmp_path, enterprises=1200, loans=10)
    status, stdout, stderr = run("import_workbook", str(path), "--by", admin_user.username)
    assert status == 0, stdout
    assert "imported into smp; ledger balance" in stdout
    assert Enterprise.objects.filter(fund=new_fund).count() == 1200
    # The progress line (at most twice a second) says which sheet and how far.
    assert re.search(r"\r(资金|企业|知识产权): [\d,]+ rows read \(\d+ s\)", stderr), stderr
    # The same file again: every row unchanged.
    status, stdout, _ = run("import_workbook", str(path), "--by", admin_user.username)
    assert status == 0 and Enterprise.objects.filter(fund=new_fund).count() == 1200
