"""Importing a fund's old books: historical loans keep what they had, the ledger rebuilt from
the workbook equals its balance to the fen, the history says who imported what, and a second
import of the same workbook changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django_fsm_log.models import StateLog
from openpyxl import load_workbook

from banks.models import CooperationAgreement, Institution
from enterprises.models import Enterprise, IPAsset
from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import LedgerEntry
from fundmgr.ground.funds.selectors import fund_balance, fund_figures_one
from fundmgr.ground.lib import clock
from fundmgr.top.books.services import books_export, books_import, books_validate
from loans.models import Claim, FundBook, LoanFiling, LoanStatus, Pledge, Recovery, StatusReport

from .conftest import codes, edit, sample_file, where

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return User.objects.create_user(username="books-admin", password="x", role="admin", is_staff=True)


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Enterprise,
            IPAsset,
            Institution,
            CooperationAgreement,
            LoanFiling,
            Pledge,
            StatusReport,
            Claim,
            Recovery,
            LedgerEntry,
            StateLog,
        )
    }


def test_historical_loans_keep_the_shares_frozen_when_they_were_accepted(new_fund, admin_user, tmp_path):
    # Today's agreements give the fund 50 %; the loans were accepted at 40 % and keep it.
    path = sample_file(
        tmp_path, loans=30, loan_fund_share=Decimal("40.00"), agreement_fund_share=Decimal("50.00")
    )

    report = books_import(file=str(path), by=admin_user, file_name="smp.xlsx")

    assert report.ok and report.imported, report.errors[:5]
    assert report.summary["loans"].new == 30
    loans = LoanFiling.objects.filter(fund=new_fund)
    assert loans.count() == 30
    assert set(loans.values_list("fund_share", "bank_share")) == {(Decimal("40.00"), Decimal("60.00"))}
    assert set(CooperationAgreement.objects.filter(fund=new_fund).values_list("fund_share", flat=True)) == {
        Decimal("50.00")
    }
    # …and the dates and states the books gave them, judged under the policy of the day.
    loan = loans.get(contract_no="SMP-000003")
    assert loan.status == "accepted" and loan.accepted_on == loan.disbursed_on + dt.timedelta(days=3)
    assert loan.submitted_on == loan.accepted_on
    assert loan.policy_version == new_fund.policy_in_force(loan.accepted_on)
    assert loan.loan_status == LoanStatus.SETTLED and loan.settled_on == loan.matures_on
    assert loan.pledges.get().released_on == loan.settled_on
    performing = loans.filter(loan_status=LoanStatus.PERFORMING)
    assert performing.exists()
    assert all(f.status_reports.get().as_of == dt.date(2026, 10, 31) for f in performing)
    # The claim paid on a loan keeps the loan's frozen share (40 %, not the agreement's 50 %).
    claims = Claim.objects.filter(fund=new_fund).select_related("filing")
    assert claims.exists()
    for claim in claims:
        assert claim.fund_share == Decimal("40.00") and claim.paid_amount == claim.claimable_amount
        assert claim.filing.loan_status == LoanStatus.COMPENSATED
    # The fund's kept figures follow the imported book.
    book = FundBook.objects.get(fund=new_fund)
    live = loans.filter(loan_status=LoanStatus.PERFORMING)
    assert book.live_loans == live.count()
    assert book.covered_outstanding == sum(f.covered_outstanding for f in live)
    assert fund_figures_one(fund=new_fund, on=clock.today()).covered_outstanding == book.covered_outstanding


def test_the_history_says_imported_with_who_and_since_when(new_fund, admin_user, tmp_path):
    path = sample_file(tmp_path, loans=8)
    assert books_import(file=str(path), by=admin_user, file_name="肇庆旧台账.xlsx").imported

    loan = LoanFiling.objects.filter(fund=new_fund, loan_status=LoanStatus.PERFORMING).first()
    logs = StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(LoanFiling), object_id=loan.pk
    ).order_by("id")
    assert [(log.transition, log.source_state, log.state, log.by) for log in logs] == [
        ("imported", None, "accepted", admin_user),
        ("imported", None, "performing", admin_user),
    ]
    assert {log.description for log in logs} == {"导入台账：肇庆旧台账.xlsx"}
    assert {log.business.on for log in logs} == {loan.accepted_on}  # in that state since acceptance
    enterprise = Enterprise.objects.filter(fund=new_fund).first()
    log = StateLog.objects.get(
        content_type=ContentType.objects.get_for_model(Enterprise), object_id=enterprise.pk
    )
    assert (log.transition, log.state, log.by, log.business.on) == (
        "imported",
        "admitted",
        admin_user,
        dt.date(2021, 1, 1),
    )
    # The record's own change history names the importer too.
    assert enterprise.history.get().history_user == admin_user


def test_the_ledger_rebuilt_from_the_workbook_equals_its_balance_to_the_fen(new_fund, admin_user, tmp_path):
    path = sample_file(tmp_path, enterprises=200, loans=300)
    stated = load_workbook(path, read_only=True)["资金"]["D2"].value
    rows = [r for r in load_workbook(path, read_only=True)["资金台账"].iter_rows(min_row=2, values_only=True)]

    report = books_import(file=str(path), by=admin_user, file_name="smp.xlsx")

    assert report.imported, report.errors[:5]
    total = sum(Decimal(repr(r[3])) for r in rows)
    assert fund_balance(fund=new_fund) == total == Decimal(repr(stated)) == Decimal(report.balance_after)
    assert LedgerEntry.objects.filter(fund=new_fund).count() == len(rows)
    kinds = set(LedgerEntry.objects.filter(fund=new_fund).values_list("entry_type", flat=True))
    assert {"contribution", "interest", "fee", "compensation_paid", "recovery_returned"} <= kinds
    # Payouts and returns are tied to their claims, as the claim services tie them.
    for claim in Claim.objects.filter(fund=new_fund):
        paid = claim.ledger_entries.filter(entry_type="compensation_paid").get()
        assert -paid.amount == claim.paid_amount
    # Exported again, the fund's books state the same balance, and the ledger rows are the same.
    out = tmp_path / "again.xlsx"
    books_export(fund=new_fund, out=str(out))
    again = load_workbook(out, read_only=True)
    assert Decimal(repr(again["资金"]["D2"].value)) == fund_balance(fund=new_fund)
    exported = sorted(r[:6] for r in again["资金台账"].iter_rows(min_row=2, values_only=True))
    assert exported == sorted(r[:6] for r in rows)


def test_a_stated_balance_one_fen_off_is_refused_and_nothing_is_written(new_fund, admin_user, tmp_path):
    path = sample_file(tmp_path)
    edit(path, lambda book: book["资金"].cell(2, 4, book["资金"].cell(2, 4).value + 0.01))
    before = counts()

    report = books_import(file=str(path), by=admin_user)

    assert not report.imported
    assert where(report) == {("资金", 2, "D", "row_ledger_total_mismatch")}
    assert counts() == before


def test_importing_the_same_workbook_twice_changes_nothing(new_fund, admin_user, tmp_path):
    path = sample_file(tmp_path, loans=20)
    first = books_import(file=str(path), by=admin_user)
    assert first.imported
    after_first, balance = counts(), fund_balance(fund=new_fund)

    second = books_import(file=str(path), by=admin_user)

    assert second.ok and counts() == after_first and fund_balance(fund=new_fund) == balance
    for key, summary in second.summary.items():
        assert summary.new == summary.changed == 0, key
        assert summary.unchanged == first.summary[key].new + first.summary[key].unchanged, key


def test_a_corrected_figure_updates_the_enterprise_and_counts_as_changed(new_fund, admin_user, tmp_path):
    path = sample_file(tmp_path)
    books_import(file=str(path), by=admin_user)
    enterprise = Enterprise.objects.filter(fund=new_fund).order_by("uscc").first()
    row = next(r for r in range(2, 20) if load_workbook(path)["企业"].cell(r, 1).value == enterprise.uscc)
    edit(path, lambda book: book["企业"].cell(row, 6, 900))  # 从业人员: 900 makes it a medium firm

    dry = books_validate(file=str(path))
    assert dry.ok and dry.summary["enterprises"].changed == 1
    report = books_import(file=str(path), by=admin_user)

    enterprise.refresh_from_db()
    assert report.imported and enterprise.employees == 900 and enterprise.size_class == "medium"
    assert enterprise.history.first().history_change_reason == "导入台账"


def test_an_emptied_optional_cell_clears_the_value(new_fund, admin_user, tmp_path):
    path = sample_file(tmp_path)
    books_import(file=str(path), by=admin_user)
    uscc = load_workbook(path)["企业"]["A2"].value

    def clear(book) -> None:
        book["企业"]["K2"] = None  # 联系人
        book["企业"]["F2"] = None  # 从业人员(人)

    edit(path, clear)
    report = books_import(file=str(path), by=admin_user)

    assert report.imported and report.summary["enterprises"].changed == 1, report.errors[:3]
    enterprise = Enterprise.objects.get(uscc=uscc)
    assert (enterprise.contact_name, enterprise.employees) == ("", None)
    assert "须补充从业人员" in enterprise.size_basis


def test_the_admission_state_of_an_enterprise_already_registered_is_not_changed_by_import(
    new_fund, admin_user, tmp_path
):
    path = sample_file(tmp_path)
    books_import(file=str(path), by=admin_user)
    edit(path, lambda book: book["企业"].cell(2, 15, "已出库"))

    report = books_validate(file=str(path))

    assert where(report) == {("企业", 2, "O", "row_state_differs")}
    assert "只能通过审核流程改变" in report.errors[0].message


def test_a_dry_run_writes_nothing(new_fund, tmp_path):
    path = sample_file(tmp_path, loans=20)
    before = counts()
    report = books_validate(file=str(path))
    assert report.ok and not report.imported and report.summary["loans"].new == 20
    assert counts() == before and not codes(report)


def test_only_loans_marked_historical_are_spared_the_filing_deadline(new_fund, tmp_path):
    path = sample_file(tmp_path)
    edit(path, lambda book: book["贷款"].cell(2, 4, "否"))  # SMP-000000, disbursed 2021-01-04

    report = books_validate(file=str(path))

    assert where(report) == {("贷款", 2, "J", "filing_deadline_passed")}
    assert "须在放款后10个工作日内" in report.errors[0].message
    # Marked historical again, the same loan passes every other check as of its acceptance.
    edit(path, lambda book: book["贷款"].cell(2, 4, "是"))
    assert books_validate(file=str(path)).ok
