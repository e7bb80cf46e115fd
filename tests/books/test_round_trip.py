"""Round trip on the demo data: each fund's books exported, then imported, change nothing —
every row is reported unchanged, no record or history entry is added, and exporting again
gives the same workbook."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db.models import Sum
from openpyxl import load_workbook

from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import Fund, LedgerEntry
from fundmgr.top.books.services import books_export, books_import
from loans.models import Claim, LoanFiling, Recovery

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

APPS = ("enterprises", "banks", "loans", "funds", "django_fsm_log", "accounts", "reports", "notifications")


def snapshot() -> dict:
    """Every row count of the business apps and their history, and the money on them."""
    counts = {
        model._meta.label: model.objects.count()
        for app in APPS
        for model in apps.get_app_config(app).get_models()
    }
    money = {
        "ledger": list(
            LedgerEntry.objects.values("fund__code").annotate(total=Sum("amount")).order_by("fund__code")
        ),
        "covered": LoanFiling.objects.aggregate(Sum("covered_outstanding")),
        "paid": Claim.objects.aggregate(Sum("paid_amount")),
        "returned": Recovery.objects.aggregate(Sum("fund_amount")),
    }
    return {"counts": counts, "money": money}


def cells(path) -> dict[str, list[tuple]]:
    book = load_workbook(path, read_only=True)
    return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}


def test_export_then_import_of_the_demo_books_changes_nothing(demo, tmp_path):
    from fundmgr.top.demo.history import build_history

    history = build_history()
    assert not history.skipped and LoanFiling.objects.exists() and Recovery.objects.exists()
    admin = User.objects.get(username="admin")
    before = snapshot()

    for fund in Fund.objects.order_by("code"):
        path = tmp_path / f"{fund.code}.xlsx"
        books_export(fund=fund, out=str(path))
        report = books_import(file=str(path), by=admin, file_name=path.name)

        assert report.ok, (fund.code, report.errors[:5])
        for key, summary in report.summary.items():
            assert summary.new == summary.changed == summary.invalid == 0, (fund.code, key, summary)
            assert summary.unchanged == summary.rows, (fund.code, key)
        assert report.summary["loans"].rows == LoanFiling.objects.filter(fund=fund).count()
        assert report.summary["ledger"].rows == LedgerEntry.objects.filter(fund=fund).count()

        again = tmp_path / f"{fund.code}-again.xlsx"
        books_export(fund=fund, out=str(again))
        assert cells(again) == cells(path)

    after = snapshot()
    assert {k: (v, after["counts"][k]) for k, v in before["counts"].items() if after["counts"][k] != v} == {}
    assert after == before
