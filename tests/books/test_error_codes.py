"""One error of each kind, each reported at its sheet, row and column with its code.

Every case starts from the clean generated books of the `smp` fund, seeds one fault (as a
person would type it into Excel, or by changing the system the workbook meets), and asserts
the dry run reports exactly that fault, where it is; the import of a faulty workbook writes
nothing (tests/books/test_errors.py). The last tests check that every code of the import
(BooksError, and every code the checks name) is triggered by one of these cases, so a code
nothing can reach is noticed and removed.
"""

from __future__ import annotations

import ast
import datetime as dt
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from enterprises.models import Enterprise, IPAsset
from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import Fund, PolicyVersion
from fundmgr.ground.lib.errors import AppError
from fundmgr.top.books import checks
from fundmgr.top.books import services as books_services
from fundmgr.top.books.errors import BooksError
from fundmgr.top.books.layout import SHEETS_BY_KEY
from fundmgr.top.books.models import ImportRun
from fundmgr.top.books.sample import patent, sample_books, sample_fund, uscc
from fundmgr.top.books.services import books_import, books_validate, import_run_confirm, import_run_create
from fundmgr.top.books.workbook import write_books
from tests.conftest import DEFAULT_BUSINESS_DATE

from .conftest import where

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date.fromisoformat(DEFAULT_BUSINESS_DATE)
CASES: dict[str, Callable] = {}


def case(fn: Callable) -> Callable:
    CASES[fn.__name__.removeprefix("case_")] = fn
    return fn


@pytest.fixture(scope="module")
def clean_books(tmp_path_factory) -> Path:
    """The sample books (12 enterprises, 8 loans, 2 claims paid, 2 recoveries returned), with
    no stated balance (a case that moves money would otherwise also miss it)."""
    path = tmp_path_factory.mktemp("books") / "clean.xlsx"
    write_books(str(path), sample_books(fund_code="smp", enterprises=12, loans=8, today=TODAY))
    book = load_workbook(path)
    book["资金"]["D2"] = None
    book.save(path)
    return path


class Seed:
    """The workbook being seeded, and the errors the dry run must report."""

    def __init__(self, book, admin: User, path: Path) -> None:
        self.book, self.admin, self.path = book, admin, path
        self.expected: set[tuple[str, int | None, str, str]] = set()
        self.says: list[str] = []  # words the messages must hold
        self.imported_first = False

    # --- the workbook, as a person edits it
    def sheet(self, key: str):
        return self.book[str(SHEETS_BY_KEY[key].name)]

    @staticmethod
    def col(key: str, column: str) -> str:
        columns = SHEETS_BY_KEY[key].columns
        return get_column_letter(next(i for i, c in enumerate(columns, start=1) if c.key == column))

    def set(self, key: str, row: int, column: str, value) -> None:
        cell = self.sheet(key)[f"{self.col(key, column)}{row}"]
        cell.value = value
        if isinstance(value, dt.date):
            cell.number_format = "yyyy-mm-dd"

    def get(self, key: str, row: int, column: str):
        return self.sheet(key)[f"{self.col(key, column)}{row}"].value

    def append(self, key: str, values: dict) -> int:
        row = self.sheet(key).max_row + 1
        for column, value in values.items():
            self.set(key, row, column, value)
        return row

    def expect(self, key: str, row: int | None, column: str | None, code: str) -> None:
        letter = self.col(key, column) if column else ""
        self.expected.add((str(SHEETS_BY_KEY[key].name), row, letter, code))

    def import_first(self) -> None:
        """The clean books imported before the edit: the seeded row meets records in the system."""
        self.imported_first = True

    # --- rows to add
    ENTERPRISE_ROW = 10  # enterprise 8: admitted, no loans, three patents of its own
    FREE_PATENTS = {
        8: (26, 27, 28),
        9: (29, 30, 31),
    }  # IP rows of enterprise 8's and 9's patents (none pledged)

    def enterprise_uscc(self, i: int) -> str:
        return self.get("enterprises", 2 + i, "uscc")

    def patent_of(self, i: int, n: int = 0) -> str:
        return self.get("ip", self.FREE_PATENTS[i][n], "number")

    def loan(self, contract: str, *, pledge: str | None = "default", enterprise: int = 8, **values) -> int:
        """A settled historical loan of enterprise 8 at smp-bank-1 (its first free patent
        pledged), with `values` changed; returns its row."""
        row = {
            "institution_code": "smp-bank-1",
            "contract_no": contract,
            "historical": "是",
            "enterprise_uscc": self.enterprise_uscc(enterprise),
            "principal": 1000000,
            "pledge_type": "纯知识产权质押",
            "annual_rate": 4.35,
            "disbursed_on": dt.date(2024, 3, 1),
            "matures_on": dt.date(2025, 3, 1),
            "status": "已受理入池",
            "accepted_on": dt.date(2024, 3, 4),
            "loan_status": "已结清",
            "fund_share": 50,
            "bank_share": 50,
            "outstanding_principal": 0,
            "settled_on": dt.date(2025, 3, 1),
            **values,
        }
        number = self.append("loans", {k: v for k, v in row.items() if v is not None})
        if pledge is not None:
            self.pledge(
                contract,
                self.patent_of(enterprise) if pledge == "default" else pledge,
                row["institution_code"],
            )
        return number

    def performing(self) -> dict:
        return {"loan_status": "正常", "outstanding_principal": 1000000, "settled_on": None,
                "matures_on": dt.date(2027, 3, 1)}  # fmt: skip

    def pledge(
        self, contract: str, number: str, bank: str = "smp-bank-1", kind: str = "发明专利", **values
    ) -> int:
        return self.append(
            "pledges",
            {"institution_code": bank, "contract_no": contract, "ip_kind": kind, "ip_number": number,
             "registration_no": "Y2024440000099", "registered_on": dt.date(2024, 2, 20), **values},
        )  # fmt: skip

    def recovery(self, **values) -> int:
        """A recovery of claim smp-CL-000005 (paid 300,000.00 of a 600,000.00 loss) still due."""
        row = {"claim_reference": "smp-CL-000005", "received_on": dt.date(2025, 3, 3), "gross_amount": 20000,
               "costs": 0, "source": "借款人", "fund_amount": 10000, "status": "待返还", **values}  # fmt: skip
        return self.append("recoveries", row)

    def institution(self, code: str, status: str) -> None:
        self.append(
            "institutions", {"code": code, "name": f"测试银行{code}", "kind": "银行", "status": status}
        )
        self.append(
            "agreements",
            {"institution_code": code, "valid_from": dt.date(2020, 6, 1), "signed_on": dt.date(2020, 5, 20),
             "fund_share": 50, "bank_share": 50},
        )  # fmt: skip


def policy() -> PolicyVersion:
    return PolicyVersion.objects.get(fund__code="smp")


def other_fund_enterprise(number: str | None = None) -> Enterprise:
    other = sample_fund(code="oth", prefix="OT")
    enterprise = Enterprise.objects.create(
        fund=other, uscc=uscc("91441202MX0000001"), name="他资金企业", region_code="441202",
        industry_code="C3985", registered_on=dt.date(2015, 1, 1), status="submitted",
    )  # fmt: skip
    if number:
        IPAsset.objects.create(
            enterprise=enterprise, kind="invention_patent", number=number, title="他人专利",
            owner_name=enterprise.name, expires_on=dt.date(2039, 3, 1),
        )  # fmt: skip
    return enterprise


# --- the file and its layout ---------------------------------------------------------------------


@case
def case_not_xlsx(s: Seed):
    s.path.write_bytes(b"uscc,name\n914403001922038216,x\n")
    s.expected.add(("", None, "", BooksError.NOT_XLSX))
    return "raw"


@case
def case_missing_sheet(s: Seed):
    del s.book["追偿回收"]
    s.expect("recoveries", None, None, BooksError.MISSING_SHEET)


@case
def case_missing_column(s: Seed):
    s.sheet("loans").delete_cols(6)  # 贷款本金(元)
    s.expected.add(("贷款", 1, "贷款本金(元)", BooksError.MISSING_COLUMN))


@case
def case_duplicate_column(s: Seed):
    s.sheet("enterprises")["R1"] = "企业名称"
    s.expected.add(("企业", 1, "R", BooksError.DUPLICATE_COLUMN))


@case
def case_too_many_rows(s: Seed, monkeypatch):
    monkeypatch.setattr(checks, "MAX_ROWS_PER_SHEET", 30)  # 知识产权 has 36 rows, every other sheet fewer
    s.expect("ip", None, None, BooksError.TOO_MANY_ROWS)


@case
def case_fund_row_required(s: Seed):
    s.sheet("fund")["A3"] = "smp"
    s.expect("fund", None, None, BooksError.FUND_ROW_REQUIRED)


@case
def case_fund_not_found(s: Seed):
    s.set("fund", 2, "code", "nowhere")
    s.expect("fund", 2, "code", BooksError.FUND_NOT_FOUND)


# --- cells -------------------------------------------------------------------------------------


@case
def case_formula(s: Seed):
    s.set("ip", 28, "title", "=B28")
    s.expect("ip", 28, "title", BooksError.FORMULA_NOT_ALLOWED)


@case
def case_merged_cells(s: Seed):
    s.sheet("enterprises").merge_cells("K10:L10")
    s.expect("enterprises", 10, "contact_name", BooksError.MERGED_CELL)


@case
def case_date_as_text(s: Seed):
    s.set("enterprises", 10, "registered_on", "2012-01-09")
    s.expect("enterprises", 10, "registered_on", BooksError.DATE_AS_TEXT)


@case
def case_not_a_date(s: Seed):
    s.set("enterprises", 10, "credit_report_date", "不详")
    s.expect("enterprises", 10, "credit_report_date", BooksError.NOT_A_DATE)


@case
def case_number_as_text(s: Seed):
    s.set("enterprises", 10, "employees", "40")
    s.expect("enterprises", 10, "employees", BooksError.NUMBER_AS_TEXT)


@case
def case_not_a_number(s: Seed):
    s.set("enterprises", 10, "employees", "四十")
    s.expect("enterprises", 10, "employees", BooksError.NOT_A_NUMBER)


@case
def case_not_a_whole_number(s: Seed):
    s.set("enterprises", 10, "employees", 40.5)
    s.expect("enterprises", 10, "employees", BooksError.NOT_A_WHOLE_NUMBER)


@case
def case_not_yes_no(s: Seed):
    s.set("enterprises", 10, "credit_record_clean", "也许")
    s.expect("enterprises", 10, "credit_record_clean", BooksError.NOT_YES_NO)


@case
def case_error_value(s: Seed):
    s.set("enterprises", 10, "annual_revenue", "#DIV/0!")
    s.expect("enterprises", 10, "annual_revenue", BooksError.ERROR_VALUE)


@case
def case_negative(s: Seed):
    s.set("enterprises", 10, "employees", -5)
    s.expect("enterprises", 10, "employees", "min_value")


@case
def case_too_many_decimal_places(s: Seed):
    s.set("enterprises", 10, "annual_revenue", 1.234)
    s.expect("enterprises", 10, "annual_revenue", "max_decimal_places")


@case
def case_too_many_digits(s: Seed):
    s.set("enterprises", 10, "annual_revenue", 1e20)
    s.expect("enterprises", 10, "annual_revenue", "max_digits")


@case
def case_percent_above_100(s: Seed):
    s.set("agreements", 2, "fund_share", 150)
    s.expect("agreements", 2, "fund_share", "max_value")


@case
def case_text_too_long(s: Seed):
    s.set("enterprises", 10, "name", "长" * 201)
    s.expect("enterprises", 10, "name", "max_length")


@case
def case_value_not_allowed(s: Seed):
    s.set("enterprises", 10, "status", "开业")
    s.expect("enterprises", 10, "status", "invalid_choice")


@case
def case_required(s: Seed):
    s.set("enterprises", 10, "industry_code", None)
    s.expect("enterprises", 10, "industry_code", "required")


@case
def case_region_code_not_six_digits(s: Seed):
    s.set("enterprises", 10, "region_code", "4412")
    s.expect("enterprises", 10, "region_code", "invalid")


# --- rows and references between sheets -------------------------------------------------------------


@case
def case_duplicate_row(s: Seed):
    values = {c.key: s.get("enterprises", 2, c.key) for c in SHEETS_BY_KEY["enterprises"].columns}
    s.expect("enterprises", s.append("enterprises", values), "uscc", BooksError.DUPLICATE_ROW)


@case
def case_unknown_reference(s: Seed):
    row = s.append("ip", {"enterprise_uscc": uscc("91441202MY0000009"), "kind": "发明专利",
                          "number": patent(2019, 9_300_001), "title": "无主专利", "filed_on": dt.date(2019, 3, 1),
                          "status": "有效"})  # fmt: skip
    s.expect("ip", row, "enterprise_uscc", BooksError.UNKNOWN_REFERENCE)


@case
def case_in_other_fund(s: Seed):
    stranger = other_fund_enterprise()
    values = {c.key: s.get("enterprises", 10, c.key) for c in SHEETS_BY_KEY["enterprises"].columns}
    s.expect(
        "enterprises",
        s.append("enterprises", {**values, "uscc": stranger.uscc}),
        "uscc",
        BooksError.IN_OTHER_FUND,
    )


@case
def case_record_differs(s: Seed):
    s.import_first()
    s.set("agreements", 2, "quota", 1000)
    s.expect("agreements", 2, "quota", BooksError.RECORD_DIFFERS)


@case
def case_state_differs(s: Seed):
    s.import_first()
    s.set("enterprises", 2, "status", "已出库")
    s.expect("enterprises", 2, "status", BooksError.STATE_DIFFERS)


@case
def case_status_not_importable(s: Seed):
    s.set("enterprises", 10, "status", "审核中")
    s.expect("enterprises", 10, "status", BooksError.STATUS_NOT_IMPORTABLE)


@case
def case_dates_out_of_order(s: Seed):
    s.set("enterprises", 10, "admitted_until", dt.date(2020, 12, 31))  # admitted 2021-01-01
    s.expect("enterprises", 10, "admitted_until", BooksError.DATE_ORDER)


@case
def case_date_in_the_future(s: Seed):
    s.set("enterprises", 10, "credit_report_date", dt.date(2027, 1, 4))
    s.expect("enterprises", 10, "credit_report_date", BooksError.DATE_IN_FUTURE)


@case
def case_settled_loan_with_a_balance(s: Seed):
    s.set("loans", 2, "outstanding_principal", 1000)  # SMP-000000, settled
    s.expect("loans", 2, "outstanding_principal", BooksError.LOAN_STATE_INCONSISTENT)


@case
def case_loan_without_pledge(s: Seed):
    s.expect("loans", s.loan("NEW-1", pledge=None), "contract_no", BooksError.LOAN_WITHOUT_PLEDGE)


@case
def case_payout_not_in_the_ledger(s: Seed):
    s.set("ledger", 10, "amount", -449000)  # smp-CL-000002 paid 450,000.00
    s.expect("claims", 2, "paid_amount", BooksError.CLAIM_LEDGER_MISMATCH)


@case
def case_return_not_in_the_ledger(s: Seed):
    s.set("ledger", 11, "amount", 50001)  # smp-CL-000002's recovery returned 50,000.00
    s.expect("ledger", 11, "amount", BooksError.RECOVERY_LEDGER_MISMATCH)


@case
def case_inflow_with_a_minus_sign(s: Seed):
    s.set("ledger", 4, "amount", -123456.78)  # interest
    s.expect("ledger", 4, "amount", BooksError.LEDGER_SIGN_MISMATCH)


@case
def case_stated_balance_differs(s: Seed):
    s.set("fund", 2, "balance", 1)
    s.expect("fund", 2, "balance", BooksError.LEDGER_TOTAL_MISMATCH)


@case
def case_ledger_entry_edited(s: Seed):
    s.import_first()
    s.set("ledger", 4, "amount", 123456.79)
    s.expect("ledger", 4, "amount", BooksError.LEDGER_ENTRY_DIFFERS)


@case
def case_recovery_not_in_proportion(s: Seed):
    s.expect(
        "recoveries", s.recovery(fund_amount=10000.01), "fund_amount", BooksError.RECOVERY_SHARE_MISMATCH
    )


# --- the owning apps' rules, applied to the rows -------------------------------------------------------


@case
def case_uscc_check_character(s: Seed):
    code = s.enterprise_uscc(8)
    s.set("enterprises", 10, "uscc", code[:-1] + ("0" if code[-1] != "0" else "1"))
    for row in Seed.FREE_PATENTS[8]:
        s.set("ip", row, "enterprise_uscc", s.get("enterprises", 10, "uscc"))
    s.expect("enterprises", 10, "uscc", "invalid_uscc")
    for row in Seed.FREE_PATENTS[8]:  # its rights name an enterprise the workbook does not list
        s.expect("ip", row, "enterprise_uscc", BooksError.UNKNOWN_REFERENCE)


@case
def case_patent_check_character(s: Seed):
    number = s.get("ip", 28, "number")
    s.set("ip", 28, "number", number[:-1] + ("1" if number[-1] != "1" else "2"))
    s.expect("ip", 28, "number", "invalid_patent_number")


@case
def case_duplicate_ip_right(s: Seed):
    values = {c.key: s.get("ip", 28, c.key) for c in SHEETS_BY_KEY["ip"].columns}
    s.expect("ip", s.append("ip", values), "number", "duplicate_ip_asset")


@case
def case_ip_right_of_another_enterprise(s: Seed):
    other_fund_enterprise(number=patent(2019, 9_300_002))
    row = s.append("ip", {"enterprise_uscc": s.enterprise_uscc(8), "kind": "发明专利", "number": patent(2019, 9_300_002),
                          "title": "他人的专利", "filed_on": dt.date(2019, 3, 1), "status": "有效"})  # fmt: skip
    s.expect("ip", row, "number", "ip_already_registered")


@case
def case_nice_class(s: Seed):
    s.set("ip", 28, "nice_class", 46)
    s.expect("ip", 28, "nice_class", "max_value")


@case
def case_ip_expiry_before_filing(s: Seed):
    s.set("ip", 28, "expires_on", dt.date(2018, 1, 1))  # filed 2018-03-01
    s.expect("ip", 28, "expires_on", "invalid")


@case
def case_not_registered_in_the_city(s: Seed):
    s.set("enterprises", 10, "region_code", "440604")
    s.expect("enterprises", 10, "region_code", "not_registered_in_city")


@case
def case_registered_too_recently(s: Seed):
    s.set("enterprises", 10, "registered_on", dt.date(2020, 10, 1))  # admitted 2021-01-01
    s.expect("enterprises", 10, "registered_on", "registered_too_recently")


@case
def case_not_a_legal_person(s: Seed):
    code = uscc("92441202MC0000001")  # an individual business
    row = s.append("enterprises", {"uscc": code, "name": "个体户", "region_code": "441202", "industry_code": "C3985",
                                   "registered_on": dt.date(2015, 1, 1), "employees": 8, "status": "已入库",
                                   "admitted_on": dt.date(2021, 1, 1)})  # fmt: skip
    s.append("ip", {"enterprise_uscc": code, "kind": "发明专利", "number": patent(2019, 9_300_003), "title": "专利",
                    "filed_on": dt.date(2019, 3, 1), "status": "有效"})  # fmt: skip
    s.expect("enterprises", row, "uscc", "not_legal_person")


@case
def case_large_enterprise(s: Seed):
    s.set("enterprises", 10, "employees", 5000)
    s.set("enterprises", 10, "annual_revenue", 5_000_000_000)
    s.expect("enterprises", 10, "employees", "not_sme")


@case
def case_bad_credit(s: Seed):
    s.set("enterprises", 10, "credit_record_clean", "否")
    s.expect("enterprises", 10, "credit_record_clean", "credit_record_unclean")


@case
def case_no_eligible_ip(s: Seed):
    row = s.append("enterprises", {"uscc": uscc("91441202MC0000002"), "name": "无专利企业", "region_code": "441202",
                                   "industry_code": "C3985", "registered_on": dt.date(2015, 1, 1), "employees": 30,
                                   "status": "已入库", "admitted_on": dt.date(2021, 1, 1)})  # fmt: skip
    s.expect("enterprises", row, "uscc", "no_eligible_ip")


@case
def case_industry_code_contradicts_itself(s: Seed):
    s.set("enterprises", 10, "industry_code", "A3985")  # division 39 is manufacturing (C), not A
    s.expect("enterprises", 10, "industry_code", "sme_industry_code_invalid")


@case
def case_admitted_before_any_policy(s: Seed):
    s.set("enterprises", 10, "admitted_on", dt.date(2019, 6, 1))  # the policy starts 2020-01-01
    s.expect("enterprises", 10, "admitted_on", "no_policy_in_force")


@case
def case_institution_code(s: Seed):
    row = s.append("institutions", {"code": "bad code", "name": "某银行", "kind": "银行", "status": "合作中"})
    s.expect("institutions", row, "code", "invalid_code")


@case
def case_institution_region(s: Seed):
    s.set("institutions", 2, "region_code", "44")
    s.expect("institutions", 2, "region_code", "invalid_region_code")


@case
def case_fund_share_above_policy(s: Seed):
    row = s.append("agreements", {"institution_code": "smp-bank-1", "valid_from": dt.date(2024, 1, 1),
                                  "signed_on": dt.date(2023, 12, 20), "fund_share": 60, "bank_share": 40})  # fmt: skip
    s.expect("agreements", row, "fund_share", "fund_share_exceeds_policy")


@case
def case_shares_not_100(s: Seed):
    row = s.append("agreements", {"institution_code": "smp-bank-1", "valid_from": dt.date(2025, 1, 1),
                                  "signed_on": dt.date(2024, 12, 20), "fund_share": 50, "bank_share": 40})  # fmt: skip
    s.expect("agreements", row, "fund_share", "shares_must_total_100")


@case
def case_agreement_ends_before_it_starts(s: Seed):
    row = s.append("agreements", {"institution_code": "smp-bank-1", "valid_from": dt.date(2026, 1, 1),
                                  "signed_on": dt.date(2025, 12, 20), "valid_until": dt.date(2025, 12, 31),
                                  "fund_share": 50, "bank_share": 50})  # fmt: skip
    s.expect("agreements", row, "valid_until", "invalid_agreement_term")


@case
def case_product_code(s: Seed):
    row = s.append("products", {"institution_code": "smp-bank-1", "code": "bad code", "version": 1, "name": "某产品",
                                "status": "已提交"})  # fmt: skip
    s.expect("products", row, "code", "invalid_code")


@case
def case_product_filed_without_agreement(s: Seed):
    s.set("products", 2, "filed_on", dt.date(2020, 3, 1))  # the agreements start 2020-06-01
    s.expect("products", 2, "filed_on", "no_agreement_in_force")


@case
def case_product_unknown(s: Seed):
    s.set("loans", 2, "product_code", "nothing")
    s.expect("loans", 2, "product_code", BooksError.UNKNOWN_REFERENCE)


@case
def case_product_not_filed(s: Seed):
    current = policy()
    current.pk, current.effective_from, current.requires_product_filing = None, dt.date(2026, 6, 1), True
    current.save()
    row = s.loan("NEW-1", disbursed_on=dt.date(2026, 6, 29), matures_on=dt.date(2027, 6, 29),
                 accepted_on=dt.date(2026, 7, 1), settled_on=dt.date(2026, 10, 1))  # fmt: skip
    s.expect("loans", row, "product_code", "product_not_filed")


@case
def case_term_too_long(s: Seed):
    s.expect("loans", s.loan("NEW-1", matures_on=dt.date(2028, 3, 1), settled_on=None, loan_status="正常",
                             outstanding_principal=1000000), "matures_on", "term_exceeds_limit")  # fmt: skip


@case
def case_rate_too_high(s: Seed):
    s.set("loans", 2, "annual_rate", 7)
    s.expect("loans", 2, "annual_rate", "rate_exceeds_limit")


@case
def case_covered_principal(s: Seed):
    s.set("loans", 2, "covered_principal", 500000)  # a pure IP pledge covers its whole principal
    s.expect("loans", 2, "covered_principal", "covered_principal_invalid")


@case
def case_filing_deadline(s: Seed):
    s.set("loans", 2, "historical", "否")  # disbursed 2021-01-04
    s.expect("loans", 2, "disbursed_on", "filing_deadline_passed")


@case
def case_accepted_after_the_fund_ended(s: Seed):
    Fund.objects.filter(code="smp").update(end_date=dt.date(2025, 1, 1))  # SMP-000007 accepted 2025-02-02
    s.expect("loans", 9, "accepted_on", "fund_not_active")


@case
def case_accepted_before_any_policy(s: Seed):
    row = s.loan("NEW-1", disbursed_on=dt.date(2019, 11, 1), matures_on=dt.date(2020, 11, 1),
                 accepted_on=dt.date(2019, 11, 4), settled_on=dt.date(2020, 11, 1))  # fmt: skip
    s.expect("loans", row, "accepted_on", "no_policy_in_force")


@case
def case_borrower_not_admitted(s: Seed):
    s.set("enterprises", 9, "status", "已提交")  # enterprise 7 borrowed SMP-000007
    s.expect("loans", 9, "enterprise_uscc", "enterprise_not_admitted")


@case
def case_bank_not_cooperating(s: Seed):
    s.institution("smp-bank-9", "已申请")
    s.expect(
        "loans", s.loan("NEW-1", institution_code="smp-bank-9"), "institution_code", "institution_not_active"
    )


@case
def case_bank_suspended(s: Seed):
    s.institution("smp-bank-9", "已暂停")
    row = s.loan("NEW-1", institution_code="smp-bank-9", historical="否", disbursed_on=dt.date(2026, 11, 25),
                 accepted_on=dt.date(2026, 11, 27), **{**s.performing(), "matures_on": dt.date(2027, 11, 25)})  # fmt: skip
    s.expect("loans", row, "institution_code", "institution_suspended")


@case
def case_enterprise_exposure(s: Seed):
    s.loan("BIG-1", principal=3000000, accepted_on=dt.date(2026, 3, 4), disbursed_on=dt.date(2026, 3, 1),
           **{**s.performing(), "outstanding_principal": 3000000})  # fmt: skip
    row = s.loan("BIG-2", principal=3000000, accepted_on=dt.date(2026, 3, 5), disbursed_on=dt.date(2026, 3, 2),
                 pledge=s.patent_of(8, 1), **{**s.performing(), "outstanding_principal": 3000000})  # fmt: skip
    s.expect("loans", row, "principal", "enterprise_exposure_exceeded")


@case
def case_fund_capacity(s: Seed):
    PolicyVersion.objects.filter(fund__code="smp").update(leverage=Decimal("0.001"))  # capacity 200,000.00
    s.expect("loans", 9, "covered_principal", "fund_capacity_exceeded")  # SMP-000007 covers 840,000.00


@case
def case_ip_kind_not_accepted(s: Seed):
    s.append("ip", {"enterprise_uscc": s.enterprise_uscc(8), "kind": "著作权", "number": "国作登字-2021-A-00001234",
                    "title": "作品", "expires_on": dt.date(2070, 12, 31), "status": "有效"})  # fmt: skip
    s.loan("NEW-1", pledge=None)
    s.expect(
        "pledges",
        s.pledge("NEW-1", "国作登字-2021-A-00001234", kind="著作权"),
        "ip_kind",
        "ip_kind_not_accepted",
    )


@case
def case_ip_not_owned(s: Seed):
    s.loan("NEW-1", pledge=None)
    s.expect("pledges", s.pledge("NEW-1", s.patent_of(9)), "ip_number", "ip_not_owned")


@case
def case_ip_expired(s: Seed):
    s.set("ip", 26, "expires_on", dt.date(2024, 1, 1))
    s.loan("NEW-1", pledge=None)
    s.expect("pledges", s.pledge("NEW-1", s.patent_of(8)), "ip_number", "ip_expired")


@case
def case_ip_expires_before_maturity(s: Seed):
    s.set("ip", 26, "expires_on", dt.date(2024, 12, 31))  # the loan matures 2025-03-01
    s.loan("NEW-1", pledge=None)
    s.expect("pledges", s.pledge("NEW-1", s.patent_of(8)), "ip_number", "ip_expires_before_maturity")


@case
def case_ip_already_pledged(s: Seed):
    held = s.get("pledges", 9, "ip_number")  # SMP-000007's patent, still pledged
    s.loan("NEW-1", pledge=None, enterprise=7, **s.performing())
    s.expect("pledges", s.pledge("NEW-1", held), "ip_number", "ip_already_pledged")


@case
def case_pledge_not_registered(s: Seed):
    s.set("pledges", 2, "registration_no", "ABC")
    s.expect("pledges", 2, "registration_no", "pledge_not_registered")


@case
def case_report_as_of_not_month_end(s: Seed):
    s.set("loans", 9, "report_as_of", dt.date(2026, 10, 30))
    s.expect("loans", 9, "report_as_of", "as_of_not_month_end")


@case
def case_report_month_not_ended(s: Seed):
    s.set("loans", 9, "report_as_of", dt.date(2026, 11, 30))
    s.expect("loans", 9, "report_as_of", "report_period_not_ended")


@case
def case_report_before_disbursement(s: Seed):
    s.set("loans", 9, "report_as_of", dt.date(2024, 12, 31))  # disbursed 2025-01-30
    s.expect("loans", 9, "report_as_of", "report_before_disbursement")


@case
def case_days_overdue_impossible(s: Seed):
    s.set("loans", 9, "days_overdue", 9999)
    s.expect("loans", 9, "days_overdue", "days_overdue_impossible")


@case
def case_overdue_above_balance(s: Seed):
    s.set("loans", 9, "overdue_principal", 900000)  # balance 840,000.00
    s.expect("loans", 9, "overdue_principal", "overdue_exceeds_outstanding")


@case
def case_balance_above_principal(s: Seed):
    s.set("loans", 9, "outstanding_principal", 2000000)  # principal 1,200,000.00
    s.expect("loans", 9, "outstanding_principal", "outstanding_exceeds_principal")


@case
def case_second_open_claim(s: Seed):
    values = {c.key: s.get("claims", 2, c.key) for c in SHEETS_BY_KEY["claims"].columns if not c.readonly}
    row = s.append("claims", {**values, "reference": "smp-CL-000002-B"})
    s.expect("claims", row, "contract_no", "claim_exists")


@case
def case_meeting_minutes_missing(s: Seed):
    s.set("claims", 2, "meeting_ref", None)
    s.expect("claims", 2, "meeting_ref", "meeting_ref_required")


@case
def case_recovered_above_balance(s: Seed):
    s.set("claims", 2, "recovered_before_claim", 1000000)  # balance 900,000.00
    s.expect("claims", 2, "recovered_before_claim", "invalid_recovered")


@case
def case_claim_out_of_time(s: Seed):
    s.set("claims", 2, "trigger_date", dt.date(2022, 4, 1))  # 180 days before 2022-11-15 is 2022-05-19
    s.expect("claims", 2, "submitted_on", "claim_window_closed")


@case
def case_nothing_approved(s: Seed):
    s.set("claims", 2, "approved_amount", 0)
    s.expect("claims", 2, "approved_amount", "nothing_to_approve")


@case
def case_approved_above_per_loan_cap(s: Seed):
    PolicyVersion.objects.filter(fund__code="smp").update(per_loan_comp_cap=Decimal("400000.00"))
    s.expect("claims", 2, "approved_amount", "approved_amount_exceeds_claimable")  # 450,000.00 approved
    s.says.append("单笔补偿上限")


@case
def case_approved_above_the_banks_reserve(s: Seed):
    s.set("agreements", 4, "reserve_deposit", 400000)  # smp-bank-3, whose loan SMP-000002 got 450,000.00
    s.expect("claims", 2, "approved_amount", "approved_amount_exceeds_claimable")
    s.says.append("合作机构补偿限额（风险准备金）")


@case
def case_approved_above_the_years_cap(s: Seed):
    PolicyVersion.objects.filter(fund__code="smp").update(annual_comp_cap=Decimal("400000.00"))
    s.expect("claims", 2, "approved_amount", "approved_amount_exceeds_claimable")  # 450,000.00 in 2022
    s.says.append("年度补偿总额上限")


@case
def case_recovery_costs_above_gross(s: Seed):
    s.expect("recoveries", s.recovery(costs=30000, fund_amount=0), "costs", "costs_exceed_gross")


@case
def case_recovery_before_payout(s: Seed):
    s.expect(
        "recoveries", s.recovery(received_on=dt.date(2024, 9, 1)), "received_on", "received_before_payment"
    )


@case
def case_recovery_in_the_future(s: Seed):
    s.expect(
        "recoveries", s.recovery(received_on=dt.date(2026, 12, 15)), "received_on", "invalid_received_on"
    )


@case
def case_recovery_of_nothing(s: Seed):
    s.expect("recoveries", s.recovery(gross_amount=0, fund_amount=0), "gross_amount", "invalid_money")


@case
def case_contribution_without_level(s: Seed):
    s.set("ledger", 2, "government_level", None)
    s.expect("ledger", 2, "government_level", "government_level_required")


@case
def case_entry_of_nothing(s: Seed):
    row = s.append("ledger", {"value_date": dt.date(2021, 6, 1), "entry_type": "利息", "amount": 0})
    s.expect("ledger", row, "amount", "invalid_amount")


@case
def case_balance_below_zero_in_date_order(s: Seed):
    row = s.append("ledger", {"value_date": dt.date(2019, 12, 1), "entry_type": "费用", "amount": -5000})
    s.expect("ledger", row, "amount", "fund_balance_insufficient")


@pytest.fixture
def admin_user(db):
    return User.objects.create_user(username="books-admin", password="x", role="admin", is_staff=True)


@pytest.mark.parametrize("name", list(CASES))
def test_each_error_is_reported_at_its_sheet_row_and_column(
    name, new_fund, admin_user, clean_books, tmp_path, monkeypatch
):
    path = tmp_path / "seeded.xlsx"
    shutil.copyfile(clean_books, path)
    book = load_workbook(path)
    seed = Seed(book, admin_user, path)
    function = CASES[name]
    raw = function(seed, monkeypatch) if "monkeypatch" in function.__code__.co_varnames else function(seed)
    if seed.imported_first:
        assert books_import(file=str(clean_books), by=admin_user).imported
    if raw != "raw":
        book.save(path)

    report = books_validate(file=str(path), file_name="seeded.xlsx")

    assert where(report) == seed.expected, [
        (e.sheet, e.row, e.column, e.code, e.message) for e in report.errors
    ]
    assert all(e.message for e in report.errors)
    for words in seed.says:
        assert any(words in e.message for e in report.errors), (words, [e.message for e in report.errors])


# --- the import run's own refusals ------------------------------------------------------------------------------


def test_a_run_that_did_not_pass_its_dry_run_cannot_be_confirmed(
    new_fund, admin_user, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    with django_capture_on_commit_callbacks(execute=True):
        run = import_run_create(upload=SimpleUploadedFile("x.xlsx", b"not a workbook"), by=admin_user)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.INVALID

    with pytest.raises(AppError) as refused:
        import_run_confirm(run_id=run.pk, by=admin_user)

    assert (refused.value.code, refused.value.status) == (BooksError.NOT_VALIDATED, 409)


def test_an_import_that_breaks_says_so_and_writes_nothing(
    new_fund, admin_user, clean_books, settings, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    with django_capture_on_commit_callbacks(execute=True):
        run = import_run_create(
            upload=SimpleUploadedFile("smp.xlsx", clean_books.read_bytes()), by=admin_user
        )
    run.refresh_from_db()
    assert run.status == ImportRun.Status.VALIDATED

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(books_services, "books_import", broken)
    with django_capture_on_commit_callbacks(execute=True):
        import_run_confirm(run_id=run.pk, by=admin_user)

    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert [e["code"] for e in run.report["errors"]] == [BooksError.IMPORT_FAILED]
    assert not Enterprise.objects.filter(fund=new_fund).exists()


# --- every code is reached ------------------------------------------------------------------------------------


def _codes_named_in(source: str, *, strings: bool = False) -> set[str]:
    """The codes a module names: enum members (BooksError.X, LoansError.Y …) by their value,
    and (`strings`) string constants that are declared codes."""
    from fundmgr.ground.lib.errors import ErrorCode, declared_codes

    enums = {}
    pending = [ErrorCode]
    while pending:
        for sub in pending.pop().__subclasses__():
            enums[sub.__name__] = sub
            pending.append(sub)
    codes = declared_codes()
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in enums:
            member = enums[node.value.id].__members__.get(node.attr)
            if member is not None:
                found.add(member.value)
        elif (
            strings and isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in codes
        ):
            found.add(node.value)
    return found


def test_every_code_of_the_import_is_triggered_by_a_case():
    reached = _codes_named_in(
        (ROOT / "tests/books/test_error_codes.py").read_text(encoding="utf-8"), strings=True
    )
    reached.add(BooksError.IMPORT_PERMISSION_REQUIRED.value)  # tests/books/test_permissions.py
    assert {c.value for c in BooksError} - reached == set()
    named = set()
    for path in (
        "fundmgr/top/books/checks.py",
        "enterprises/imports.py",
        "banks/imports.py",
        "loans/services/imports.py",
        "fundmgr/ground/funds/imports.py",
    ):
        named |= _codes_named_in((ROOT / path).read_text(encoding="utf-8"))
    assert named - reached == set()
