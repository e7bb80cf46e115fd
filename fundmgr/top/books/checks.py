"""Every row of a fund's workbook through the rules, sheet by sheet; on import, through the
owning apps' import services as well.

One pass over the file, whether it is a dry run or an import: each sheet is read in chunks of
rows; a chunk is typed (reader), matched with the records already in the system by its
natural key (USCC, IP kind and number, institution code, product code and version,
institution and contract number, claim reference, the ledger entry's own fields), checked,
and, when importing and nothing has failed so far, written. A check never depends on what the
import has written: references between sheets resolve through an index of the workbook's own
rows first, then the database as it was, so a dry run and an import of the same file find the
same errors.

Every business check is the owning app's rule (enterprises.rules, banks.rules, loans.rules,
funds.rules), the one its services apply; this module only gathers the facts from the rows,
judges historical records as of the day they happened, and says where a refusal belongs in
the workbook. Checks that need a later sheet (an enterprise's rights for its eligibility, a
loan's pledges, a claim's computation with every cap, which needs the ledger's balance on the
approval day and the other claims before it) run once that sheet has been read; then come the
limits only the whole book shows (the fund's capacity, each enterprise's exposure, the ledger
never below zero in date order), each blamed on the row that crosses them. Any error makes
the import raise at the end, inside its one transaction: nothing is kept. Claims, recoveries
and ledger entries are written last, once every check has passed.

Memory: rows are read and dropped chunk by chunk; what stays is a compact index of keys and
the few facts other sheets refer to (and the claims, recoveries and ledger entries to write,
which are few).
"""

from __future__ import annotations

import bisect
import datetime as dt
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from banks.imports import (
    IMPORTABLE_PRODUCT_STATUSES,
    agreements_import_create,
    institution_row_violations,
    institutions_import_create,
    institutions_import_update,
    product_filing_violations,
    products_import_create,
)
from banks.imports import UPDATABLE_FIELDS as INSTITUTION_UPDATABLE
from banks.models import CooperationAgreement, Institution, Product
from banks.rules import AgreementTerms, check_agreement, check_product
from enterprises.errors import EnterprisesError
from enterprises.imports import (
    ADMITTED_ONCE,
    IMPORTABLE_STATUSES,
    IP_UPDATABLE_FIELDS,
    UPDATABLE_FIELDS,
    AdmissionFacts,
    admission_violations,
    enterprises_import_create,
    enterprises_import_update,
    ip_assets_import_create,
    ip_assets_import_update,
    sme_classifier,
)
from enterprises.models import Enterprise, IPAsset
from enterprises.rules import IPFacts, admission_until, ip_asset_expiry
from fundmgr.ground.funds.errors import FundsError
from fundmgr.ground.funds.imports import ImportedEntry, Movement, first_negative, ledger_import
from fundmgr.ground.funds.models import (
    INFLOW_TYPES,
    OUTFLOW_TYPES,
    EntryType,
    Fund,
    LedgerEntry,
)
from fundmgr.ground.funds.rules import entry_violations
from fundmgr.ground.funds.selectors import fund_balance, fund_figures_one
from fundmgr.ground.lib.errors import AppError, FieldError, Violation
from fundmgr.ground.lib.i18n import recorded
from fundmgr.ground.lib.identifiers import (
    IdentifierError,
    validate_ip_number,
    validate_pledge_registration_no,
    validate_uscc,
)
from fundmgr.ground.lib.money import ZERO, quantize
from loans.errors import LoansError
from loans.models import (
    COMMITTED_CLAIM_STATUSES,
    PAID_CLAIM_STATUSES,
    Claim,
    ClaimStatus,
    FilingStatus,
    LoanFiling,
    LoanStatus,
    Pledge,
    Recovery,
    RecoveryStatus,
)
from loans.rules import claims as claim_rules
from loans.rules.filings import PledgeFacts, check_enterprise_exposure, check_fund_capacity, holds_pledges
from loans.rules.servicing import check_report
from loans.selectors.filings import pledged_elsewhere
from loans.services import imports as loan_imports
from loans.services.imports import LoanTerms, ProductTerms, ReportFacts

from . import selectors
from .errors import BooksError
from .layout import (
    AGREEMENTS,
    CLAIMS,
    ENTERPRISES,
    FUND,
    INSTITUTIONS,
    IP_RIGHTS,
    LEDGER,
    LOANS,
    MAX_ROWS_PER_SHEET,
    PLEDGES,
    PRODUCTS,
    RECOVERIES,
    SHEETS,
    Sheet,
)
from .reader import Problem, WorkbookReader, letter, merged_cells, typed
from .report import BookError, BooksReport

CHUNK_ROWS = 1000
Progress = Callable[[str, int], None]


class ImportRefused(Exception):
    """Raised inside the import's transaction when a row failed: nothing is kept."""

    def __init__(self, report: BooksReport) -> None:
        super().__init__(f"{report.error_count} errors")
        self.report = report


def _stored(model, key: str, value: Any) -> Any:
    """An empty cell as the field stores it: '' for text, None where the field may be null."""
    if value is None and not model._meta.get_field(key).null:
        return ""
    return value


def _norm_header(text: Any) -> str:
    text = "" if text is None else str(text)
    return "".join(text.replace("（", "(").replace("）", ")").split())


def _yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _agreement_violations(terms: AgreementTerms, policy) -> list[Violation]:
    """`agreement_sign`'s rules against the policy in force on the terms' start (None: none)."""
    return check_agreement(terms, max_fund_share=policy.max_fund_share if policy else None)


@dataclass(slots=True)
class Row:
    number: int
    values: dict[str, Any]
    bad: set[str] = field(default_factory=set)  # columns whose cell was refused
    failed: bool = False  # any error on the row
    errored: set[str] = field(default_factory=set)  # columns already reported (one error each)

    def __getitem__(self, key: str) -> Any:
        return self.values.get(key)


# --- the index: what other sheets need to know about a row -------------------------------------


@dataclass(slots=True)
class Ent:
    pk: int | None
    new: bool
    bad: bool
    status: str
    name: str = ""
    region_code: str = ""
    admitted_until: dt.date | None = None
    row: int | None = None
    admission: AdmissionFacts | None = None  # a new enterprise admitted once: checked after the IP sheet


@dataclass(slots=True)
class IPRight:
    """A right, indexed by (kind, number)."""

    pk: int | None
    new: bool
    bad: bool
    uscc: str  # its owner (interned: one string per enterprise, however many rights it has)
    status: str
    expires_on: dt.date | None


@dataclass(slots=True)
class Inst:
    pk: int | None
    new: bool
    bad: bool
    status: str


@dataclass(slots=True)
class Agreement:
    valid_from: dt.date
    valid_until: dt.date | None
    reserve_deposit: Decimal | None = None


@dataclass(slots=True)
class Prod:
    """A filed product, indexed by (institution code, product code, version)."""

    pk: int | None
    new: bool
    bad: bool
    status: str
    filed_on: dt.date | None
    withdrawn_on: dt.date | None
    max_term_months: int | None
    max_annual_rate: Decimal | None

    def filed_on_day(self, day: dt.date) -> bool:
        """Filed and not withdrawn on `day`."""
        return (
            self.status in (Product.Status.FILED, Product.Status.WITHDRAWN)
            and self.filed_on is not None
            and self.filed_on <= day
            and (self.withdrawn_on is None or day < self.withdrawn_on)
        )


@dataclass(slots=True)
class Loan:
    pk: int | None
    new: bool
    bad: bool
    reference: str
    institution_code: str
    enterprise_uscc: str
    enterprise_pk: int | None
    status: str
    loan_status: str | None
    terms: LoanTerms | None
    accepted_on: dt.date | None
    settled_on: dt.date | None
    fund_share: Decimal | None
    outstanding: Decimal
    covered_outstanding: Decimal
    policy: Any = None
    historical: bool = False
    row: int | None = None
    pledges: int = 0

    @property
    def live(self) -> bool:
        return holds_pledges(status=self.status, loan_status=self.loan_status)


@dataclass(slots=True)
class ClaimFacts:
    pk: int | None
    new: bool
    bad: bool
    status: str
    paid_amount: Decimal | None
    paid_on: dt.date | None
    policy: Any
    outstanding: Decimal = ZERO
    recovered_before: Decimal = ZERO
    loan_principal: Decimal = ZERO
    row: int | None = None
    returns_due: Decimal = ZERO  # fund amounts of every recovery (existing and new)
    returned: Decimal = ZERO  # fund amounts of the recoveries returned
    values: dict[str, Any] | None = None  # a new claim's record, written once every check passed
    loan_key: tuple[str, str] | None = None


@dataclass(slots=True)
class CapsClaim:
    """A claim as the caps see it: when it was approved and paid, what it counted."""

    order: tuple
    reference: str
    enterprise: Any
    institution: Any
    approved_on: dt.date
    paid_on: dt.date | None
    loss_base: Decimal
    approved_amount: Decimal
    paid_amount: Decimal


class BooksCheck:
    """One run over one workbook. `run()` returns the report; with `write=True` it must be
    called inside a transaction, and raises ImportRefused when anything failed."""

    def __init__(
        self,
        reader: WorkbookReader,
        *,
        today: dt.date,
        by=None,
        write: bool = False,
        file_name: str = "",
        progress: Progress | None = None,
    ) -> None:
        self.reader = reader
        self.today = today
        self.by = by
        self.write = write
        self.progress = progress or (lambda _sheet, _n: None)
        self.report = BooksReport(file_name=file_name)
        # Stored with the records (history, transition log): in the default language.
        self.comment = (
            recorded(gettext_noop("导入台账：%(file)s"), file=file_name)
            if file_name
            else recorded(gettext_noop("导入台账"))
        )
        self.sheet_names: dict[str, str] = {}  # sheet key → its name in this workbook
        self.columns: dict[str, dict[str, int]] = {}
        self.merges: dict[str, dict[int, list[tuple[int, str]]]] = defaultdict(lambda: defaultdict(list))
        self.skip: set[str] = set()
        self.fund: Fund | None = None
        self.control_balance: Decimal | None = None
        self.control_row: Row | None = None
        self.policies: list = []
        self.ent: dict[str, Ent] = {}
        self.ip: dict[tuple[str, str], IPRight] = {}
        self.ip_of_new: dict[str, list[tuple[str, dt.date]]] = defaultdict(
            list
        )  # new admitted: (kind, expiry)
        self.inst: dict[str, Inst] = {}
        self.agreements: dict[str, list[Agreement]] = defaultdict(list)
        self.products: dict[tuple[str, str, int], Prod] = {}
        self.loans: dict[tuple[str, str], Loan] = {}
        self.references: set[str] = set()
        self.live_holder: dict[tuple[str, str], str] = {}  # IP key → reference of the live loan holding it
        self.claims: dict[str, ClaimFacts] = {}
        self.new_recoveries: list[dict[str, Any]] = []
        self.ledger_claims: dict[str, list[Row]] = defaultdict(list)
        self.new_ledger: list[tuple[Row, ImportedEntry]] = []
        self.movements: list[Movement] = []  # the ledger after the import: the system's, then the new rows
        self.ledger_failed = False  # a ledger row was refused: the capital is not known
        self.earliest: dt.date | None = None

    # --- reporting ---------------------------------------------------------------------------

    @property
    def writing(self) -> bool:
        """Write this chunk? Only on import, and only while nothing has failed."""
        return self.write and self.report.error_count == 0

    def sheet_name(self, spec: Sheet) -> str:
        return self.sheet_names.get(spec.key) or str(spec.name)

    def error(self, spec: Sheet, row: Row | int | None, key: str | None, code: str, message: str) -> None:
        number = row.number if isinstance(row, Row) else row
        col = self.columns.get(spec.key, {}).get(key) if key else None
        header = str(spec.col(key).header) if key and any(c.key == key for c in spec.columns) else ""
        column = f"{letter(col)} {header}" if col else header
        self.report.add(BookError(self.sheet_name(spec), number, col, column, str(code), str(message)))
        if isinstance(row, Row):
            row.failed = True
            if key:
                row.errored.add(key)

    def violations(
        self, spec: Sheet, row: Row, violations: list[Violation], fields: dict[str, str] | None = None
    ) -> None:
        """Each violation at its column (`fields` maps a rule's field to a column; "*" is the
        column for any other); a column already reported on this row is not reported again."""
        fields = fields or {}
        for v in violations:
            key = fields.get(v.field or "", v.field)
            if key not in self.columns.get(spec.key, {}):
                key = fields.get("*") or spec.natural_key[0]
            if key in row.errored or key in row.bad:
                continue
            self.error(spec, row, key, v.code, v.message)

    # --- the run --------------------------------------------------------------------------------

    def run(self) -> BooksReport:
        if self._layout() and self._fund():
            self._enterprises()
            self._ip()
            self._admissions()
            self._institutions()
            self._agreements()
            self._products()
            self._loans()
            self._pledges()
            self._claims()
            self._recoveries()
            self._ledger()
            self._claim_money()
            self._claim_caps()
            self._book_limits()
            if self.writing:
                self._write_money()
                self._finish()
        if self.write and not self.report.ok:
            raise ImportRefused(self.report)
        self.report.imported = self.write
        return self.report

    def _layout(self) -> bool:
        present = set(self.reader.sheet_names)
        for spec in SHEETS:
            found = next((n for n in self.reader.sheet_names if n in spec.names), None)
            if found is None:
                self.error(
                    spec,
                    None,
                    None,
                    BooksError.MISSING_SHEET,
                    _("缺少工作表“%(sheet)s”（请使用导出的模板）") % {"sheet": spec.name},
                )
                continue
            present.discard(found)
            self.sheet_names[spec.key] = found
            headers = self._headers(found)
            mapping: dict[str, int] = {}
            seen: dict[str, int] = {}
            for col_number, text in headers.items():
                key = _norm_header(text)
                if key in seen:
                    self.report.add(
                        BookError(
                            found,
                            1,
                            col_number,
                            letter(col_number),
                            BooksError.DUPLICATE_COLUMN,
                            _("列“%(column)s”重复出现（%(first)s列和%(second)s列）")
                            % {"column": text, "first": letter(seen[key]), "second": letter(col_number)},
                        )
                    )
                seen.setdefault(key, col_number)
            for col in spec.columns:
                number = next((seen[h] for h in map(_norm_header, col.headers) if h in seen), None)
                if number is not None:
                    mapping[col.key] = number
                elif not col.readonly:
                    self.report.add(
                        BookError(
                            found,
                            1,
                            None,
                            str(col.header),
                            BooksError.MISSING_COLUMN,
                            _("工作表“%(sheet)s”缺少列“%(column)s”") % {"sheet": found, "column": col.header},
                        )
                    )
            self.columns[spec.key] = mapping
            rows, merges = self.reader.scan(found)
            rows -= 1
            # A merged range is reported on its first data row, as the rows are read.
            for ref in merges:
                min_col, min_row, _max_col, max_row = merged_cells(ref)
                if max_row >= 2:  # a merged title above the headers is harmless
                    self.merges[spec.key][max(min_row, 2)].append((min_col, ref))
            if rows > MAX_ROWS_PER_SHEET:
                self.skip.add(spec.key)
                self.error(
                    spec,
                    None,
                    None,
                    BooksError.TOO_MANY_ROWS,
                    _("工作表“%(sheet)s”有%(rows)s行数据，超过每表%(limit)s行的上限，请分批导入")
                    % {"sheet": found, "rows": f"{rows:,}", "limit": f"{MAX_ROWS_PER_SHEET:,}"},
                )
        return self.report.ok

    def _headers(self, name: str) -> dict[int, Any]:
        rows = self.reader.rows(name)
        try:
            number, cells = next(rows, (None, {}))
        finally:
            rows.close()
        if number != 1:
            return {}
        return {col: value for col, (value, _type) in cells.items()}

    def _chunks(self, spec: Sheet) -> Iterator[list[Row]]:
        """The sheet's data rows, typed, in chunks. Cell problems and missing required values
        are reported here; a refused cell reads as empty and is marked bad."""
        if spec.key in self.skip or spec.key not in self.sheet_names:
            return
        mapping = self.columns[spec.key]
        cols = [(spec.col(key), number) for key, number in mapping.items()]
        summary = self.report.summary[spec.key]
        chunk: list[Row] = []
        count = 0
        merges = self.merges[spec.key]
        rows = self.reader.rows(self.sheet_names[spec.key])
        try:
            for number, cells in rows:
                if number == 1:
                    continue
                row = Row(number, {})
                present = False
                for col, col_number in cols:
                    raw = cells.get(col_number)
                    if raw is None or col.readonly:
                        row.values[col.key] = None
                        continue
                    present = True
                    value = typed(col, *raw)
                    if isinstance(value, Problem):
                        row.values[col.key] = None
                        self.error(spec, row, col.key, value.code, value.message)
                        row.bad.add(col.key)
                    else:
                        row.values[col.key] = value
                for min_col, ref in merges.pop(number, ()):
                    self._merged(spec, row, min_col, ref)
                    present = True
                if not present:
                    continue  # nothing in the columns this import reads (read-only or unknown ones)
                count += 1
                for col in spec.input_columns:
                    if col.required and row.values.get(col.key) is None and col.key not in row.bad:
                        self.error(
                            spec,
                            row,
                            col.key,
                            FieldError.REQUIRED,
                            _("请填写“%(column)s”") % {"column": col.header},
                        )
                chunk.append(row)
                if len(chunk) >= CHUNK_ROWS:
                    yield chunk
                    self._count(summary, chunk)
                    self.progress(self.sheet_names[spec.key], count)
                    chunk = []
        finally:
            rows.close()
        if chunk:
            yield chunk
            self._count(summary, chunk)
            self.progress(self.sheet_names[spec.key], count)
        for number, ranges in sorted(merges.items()):  # on rows with nothing else in them
            for min_col, ref in ranges:
                self._merged(spec, number, min_col, ref)

    def _merged(self, spec: Sheet, row: Row | int, min_col: int, ref: str) -> None:
        number = row.number if isinstance(row, Row) else row
        key = next((k for k, n in self.columns.get(spec.key, {}).items() if n == min_col), None)
        column = f"{letter(min_col)} {spec.col(key).header}" if key else letter(min_col)
        self.report.add(
            BookError(
                self.sheet_name(spec),
                number,
                min_col,
                column,
                BooksError.MERGED_CELL,
                _("%(range)s 是合并单元格：每个单元格须单独填写数值，请取消合并") % {"range": ref},
            )
        )
        if isinstance(row, Row):
            row.failed = True

    @staticmethod
    def _count(summary, chunk: list[Row]) -> None:
        summary.rows += len(chunk)
        summary.invalid += sum(1 for r in chunk if r.failed)

    def _classify(self, spec: Sheet, row: Row, kind: str) -> None:
        """new / changed / unchanged, counted for rows without errors."""
        if not row.failed:
            summary = self.report.summary[spec.key]
            setattr(summary, kind, getattr(summary, kind) + 1)

    def _note_date(self, day: dt.date | None) -> None:
        if day is not None and (self.earliest is None or day < self.earliest):
            self.earliest = day

    def _future(self, spec: Sheet, row: Row, *keys: str) -> None:
        for key in keys:
            day = row[key]
            if day is not None and day > self.today:
                self.error(
                    spec,
                    row,
                    key,
                    BooksError.DATE_IN_FUTURE,
                    _("“%(column)s”不能晚于今天（%(today)s）")
                    % {"column": spec.col(key).header, "today": self.today},
                )

    def _order(self, spec: Sheet, row: Row, earlier: str, later: str, *, strict: bool = False) -> bool:
        a, b = row[earlier], row[later]
        if a is None or b is None or (a < b if strict else a <= b):
            return True
        message = (
            _("“%(later)s”（%(b)s）须晚于“%(earlier)s”（%(a)s）")
            if strict
            else _("“%(later)s”（%(b)s）须不早于“%(earlier)s”（%(a)s）")
        )
        self.error(
            spec,
            row,
            later,
            BooksError.DATE_ORDER,
            message % {"later": spec.col(later).header, "b": b, "earlier": spec.col(earlier).header, "a": a},
        )
        return False

    # --- policies ----------------------------------------------------------------------------

    def policy_on(self, day: dt.date):
        found = None
        for policy in self.policies:
            if policy.effective_from <= day:
                found = policy
        return found

    # --- 资金 ------------------------------------------------------------------------------------

    def _fund(self) -> bool:
        rows = [row for chunk in self._chunks(FUND) for row in chunk]
        if len(rows) != 1:
            self.error(
                FUND,
                None,
                None,
                BooksError.FUND_ROW_REQUIRED,
                _("“%(sheet)s”表须有且只有一行：本工作簿所属资金的代码") % {"sheet": self.sheet_name(FUND)},
            )
            return False
        row = rows[0]
        code = row["code"]
        self.fund = Fund.objects.filter(code=code).first() if code else None
        if self.fund is None:
            if code:
                self.error(
                    FUND,
                    row,
                    "code",
                    BooksError.FUND_NOT_FOUND,
                    _("系统中没有代码为“%(code)s”的资金，请先设立资金和政策版本") % {"code": code},
                )
            return False
        self.report.fund_code, self.report.fund_name = self.fund.code, self.fund.name
        self.control_balance, self.control_row = row["balance"], row
        self.policies = list(self.fund.policy_versions.order_by("effective_from"))
        # The book before the import (the limits are checked on it plus the new loans).
        self.before = fund_figures_one(fund=self.fund, on=self.today)
        for a in CooperationAgreement.objects.filter(fund=self.fund).select_related("institution"):
            self.agreements[a.institution.code].append(
                Agreement(a.valid_from, a.valid_until, a.reserve_deposit)
            )
        self._classify(FUND, row, "unchanged")
        return self.report.error_count == 0

    # --- 企业 ------------------------------------------------------------------------------------

    def _uscc(self, spec: Sheet, row: Row, key: str) -> str | None:
        raw = row[key]
        if raw is None:
            return None
        try:
            return sys.intern(validate_uscc(raw))
        except IdentifierError as exc:
            self.error(spec, row, key, exc.code, exc.message)
            return None

    def _enterprises(self) -> None:
        classify = sme_classifier(on=self.today)
        for chunk in self._chunks(ENTERPRISES):
            usccs = {}
            for row in chunk:
                uscc = self._uscc(ENTERPRISES, row, "uscc")
                if uscc is not None:
                    usccs[row.number] = uscc
            existing = {
                e.uscc: e
                for e in Enterprise.objects.filter(uscc__in=list(usccs.values())).select_related("fund")
            }
            new_rows: list[dict[str, Any]] = []
            updates: list[tuple[Enterprise, dict[str, Any]]] = []
            for row in chunk:
                uscc = usccs.get(row.number)
                if uscc is None:
                    continue
                if uscc in self.ent:
                    self.error(
                        ENTERPRISES,
                        row,
                        "uscc",
                        BooksError.DUPLICATE_ROW,
                        _("统一社会信用代码 %(uscc)s 在本表中重复") % {"uscc": uscc},
                    )
                    continue
                e = existing.get(uscc)
                if e is not None:
                    changes = self._enterprise_existing(row, e, classify)
                    self.ent[uscc] = Ent(
                        e.pk, False, row.failed, e.status, e.name, e.region_code, e.admitted_until, row.number
                    )
                    if changes and not row.failed:
                        updates.append((e, changes))
                    self._classify(ENTERPRISES, row, "changed" if changes else "unchanged")
                    continue
                values = self._enterprise_new(row, uscc, classify)
                self.ent[uscc] = Ent(
                    None, True, row.failed, row["status"] or "", row["name"] or "", row["region_code"] or "",
                    values.get("admitted_until") if values else None, row.number,
                    admission=values.pop("_admission", None) if values else None,
                )  # fmt: skip
                if values and not row.failed:
                    new_rows.append(values)
                self._classify(ENTERPRISES, row, "new")
            if self.writing:
                created = enterprises_import_create(
                    fund=self.fund, rows=new_rows, by=self.by, comment=self.comment, today=self.today
                )
                for e in created:
                    self.ent[e.uscc].pk = e.pk
                enterprises_import_update(changes=updates, by=self.by, comment=self.comment)

    def _size(self, row: Row, classify, values: dict[str, Any]):
        try:
            return classify(
                industry_code=values["industry_code"],
                employees=values["employees"],
                annual_revenue=values["annual_revenue"],
                total_assets=values["total_assets"],
            )
        except AppError as exc:
            self.error(ENTERPRISES, row, "industry_code", exc.code, exc.message)
            return None

    def _region(self, spec: Sheet, row: Row, key: str) -> None:
        code = row[key]
        if code is not None and not (len(code) == 6 and code.isascii() and code.isdigit()):
            self.error(
                spec,
                row,
                key,
                FieldError.INVALID,
                _("“%(column)s”应为6位数字，而不是“%(value)s”")
                % {"column": spec.col(key).header, "value": code},
            )

    def _enterprise_existing(self, row: Row, e: Enterprise, classify) -> dict[str, Any]:
        if e.fund_id != self.fund.pk:
            self.error(
                ENTERPRISES,
                row,
                "uscc",
                BooksError.IN_OTHER_FUND,
                _("企业 %(uscc)s 已登记在其他资金（%(fund)s）") % {"uscc": e.uscc, "fund": e.fund},
            )
            return {}
        current = selectors.enterprise_row(e)
        for key in ("status", "admitted_on", "admitted_until"):
            given = row[key]
            if key == "admitted_until" and given is None:
                continue
            if given != current[key] and key not in row.bad:
                col = ENTERPRISES.col(key)
                self.error(
                    ENTERPRISES,
                    row,
                    key,
                    BooksError.STATE_DIFFERS,
                    _("系统中该企业的“%(column)s”为%(value)s；入库状态和日期只能通过审核流程改变")
                    % {
                        "column": col.header,
                        "value": col.label_of(current[key]) if key == "status" else current[key],
                    },
                )
        changes = {
            key: _stored(Enterprise, key, row[key])
            for key in UPDATABLE_FIELDS
            if key not in row.bad and row[key] != current[key]
        }
        if not changes:
            return {}
        self._region(ENTERPRISES, row, "region_code")
        self._future(ENTERPRISES, row, "registered_on", "credit_report_date")
        merged = {**current, **changes}
        size = self._size(row, classify, merged)
        if size is not None and (size.size_class, size.basis[:300]) != (e.size_class, e.size_basis):
            changes.update(size_class=size.size_class, size_basis=size.basis[:300])
        return changes

    def _enterprise_new(self, row: Row, uscc: str, classify) -> dict[str, Any] | None:
        status = row["status"]
        if status is not None and status not in IMPORTABLE_STATUSES:
            self.error(
                ENTERPRISES,
                row,
                "status",
                BooksError.STATUS_NOT_IMPORTABLE,
                _("新企业不能以“%(status)s”状态导入（可为：已提交、已入库、已暂停、已过期、已出库）")
                % {"status": ENTERPRISES.col("status").label_of(status)},
            )
        self._region(ENTERPRISES, row, "region_code")
        self._future(ENTERPRISES, row, "registered_on", "credit_report_date", "admitted_on")
        admitted_on, until = row["admitted_on"], row["admitted_until"]
        if status in ADMITTED_ONCE and admitted_on is None and "admitted_on" not in row.bad:
            self.error(
                ENTERPRISES, row, "admitted_on", FieldError.REQUIRED, _("已入库过的企业须填写“入库日期”")
            )
        self._order(ENTERPRISES, row, "registered_on", "admitted_on")
        self._order(ENTERPRISES, row, "admitted_on", "admitted_until", strict=True)
        if status not in ADMITTED_ONCE:
            admitted_on = until = None
        if row.failed:
            return None
        size = self._size(row, classify, row.values)
        if size is None:
            return None
        admission = None
        if status in ADMITTED_ONCE:
            policy = self.policy_on(admitted_on)
            if policy is None:
                self.error(
                    ENTERPRISES,
                    row,
                    "admitted_on",
                    EnterprisesError.NO_POLICY_IN_FORCE,
                    _("入库日期 %(date)s 本资金没有生效的政策版本") % {"date": admitted_on},
                )
                return None
            until = until or admission_until(admitted_on, policy.admission_valid_months)
            admission = AdmissionFacts(
                uscc=uscc,
                region_code=row["region_code"],
                registered_on=row["registered_on"],
                size_class=size.size_class,
                size_missing=size.missing,
                credit_report_date=row["credit_report_date"],
                credit_record_clean=row["credit_record_clean"],
                admitted_on=admitted_on,
            )
        return {
            "uscc": uscc,
            "name": row["name"],
            "region_code": row["region_code"],
            "industry_code": row["industry_code"],
            "registered_on": row["registered_on"],
            "employees": row["employees"],
            "annual_revenue": row["annual_revenue"],
            "total_assets": row["total_assets"],
            "size_class": size.size_class,
            "size_basis": size.basis[:300],
            "legal_representative": row["legal_representative"] or "",
            "contact_name": row["contact_name"] or "",
            "contact_phone": row["contact_phone"] or "",
            "credit_report_date": row["credit_report_date"],
            "credit_record_clean": row["credit_record_clean"],
            "status": status,
            "admitted_on": admitted_on,
            "admitted_until": until,
            "_admission": admission,
        }

    def _enterprise_ref(self, usccs: set[str]) -> None:
        """Index the enterprises rows refer to that the workbook does not list (the system's)."""
        missing = [u for u in usccs if u not in self.ent]
        if not missing:
            return
        for e in Enterprise.objects.filter(uscc__in=missing):
            if e.fund_id == self.fund.pk:
                self.ent[e.uscc] = Ent(e.pk, False, False, e.status, e.name, e.region_code, e.admitted_until)

    def _admissions(self) -> None:
        """New enterprises admitted once: eligible on their admission date, rights included."""
        for ent in self.ent.values():
            if ent.admission is None or ent.bad:
                continue
            found = admission_violations(
                ent.admission,
                fund_region_code=self.fund.region_code,
                policy=self.policy_on(ent.admission.admitted_on),
                assets=[
                    IPFacts(kind=k, status="valid", expires_on=e)
                    for k, e in self.ip_of_new.get(ent.admission.uscc, ())
                ],
                today=self.today,
            )
            row = Row(ent.row, {})
            self.violations(
                ENTERPRISES, row, found,
                {"size_class": "employees", "ip_assets": "uscc", "*": "uscc"},
            )  # fmt: skip
            if row.failed:
                ent.bad = True
                summary = self.report.summary["enterprises"]
                summary.new -= 1
                summary.invalid += 1
            ent.admission = None
        self.ip_of_new.clear()  # needed for admissions only

    # --- 知识产权 ----------------------------------------------------------------------------------

    def _ip_key(self, spec: Sheet, row: Row, kind_key: str, number_key: str) -> tuple[str, str] | None:
        kind, number = row[kind_key], row[number_key]
        if kind is None or number is None:
            return None
        try:
            return kind, validate_ip_number(kind, number, today=self.today)
        except IdentifierError as exc:
            self.error(spec, row, number_key, exc.code, exc.message)
            return None

    def _ip(self) -> None:
        for chunk in self._chunks(IP_RIGHTS):
            keys: dict[int, tuple[str, str]] = {}
            owners: dict[int, str] = {}
            for row in chunk:
                key = self._ip_key(IP_RIGHTS, row, "kind", "number")
                if key is not None:
                    keys[row.number] = key
                if row["enterprise_uscc"] is not None:
                    owners[row.number] = sys.intern(row["enterprise_uscc"].strip().upper())
            self._enterprise_ref(set(owners.values()))
            numbers = {k[1] for k in keys.values()}
            existing = {
                (a.kind, a.number): a
                for a in IPAsset.objects.filter(number__in=numbers).select_related("enterprise")
            }
            new_rows, updates = [], []
            for row in chunk:
                key, uscc = keys.get(row.number), owners.get(row.number)
                if key is None or uscc is None:
                    continue
                ent = self.ent.get(uscc)
                if ent is None:
                    self.error(
                        IP_RIGHTS,
                        row,
                        "enterprise_uscc",
                        BooksError.UNKNOWN_REFERENCE,
                        _("企业 %(uscc)s 不在“企业”表中，也不是本资金已登记的企业") % {"uscc": uscc},
                    )
                if key in self.ip:
                    self.error(
                        IP_RIGHTS,
                        row,
                        "number",
                        EnterprisesError.DUPLICATE_IP_ASSET,
                        _("知识产权 %(number)s 在本表中重复") % {"number": key[1]},
                    )
                    continue
                asset = existing.get(key)
                expires_on = self._check_ip_values(row, key)
                if asset is not None:
                    if asset.enterprise.uscc != uscc:
                        self.error(
                            IP_RIGHTS,
                            row,
                            "number",
                            EnterprisesError.IP_ALREADY_REGISTERED,
                            _("知识产权 %(number)s 已登记在 %(name)s（%(uscc)s）名下")
                            % {
                                "number": key[1],
                                "name": asset.enterprise.name,
                                "uscc": asset.enterprise.uscc,
                            },
                        )
                    current = selectors.ip_row(asset, uscc=asset.enterprise.uscc)
                    given = {**row.values, "expires_on": expires_on}
                    if given["owner_name"] is None:
                        given["owner_name"] = current["owner_name"]
                    changes = {
                        k: _stored(IPAsset, k, given[k])
                        for k in IP_UPDATABLE_FIELDS
                        if k not in row.bad and given[k] != current[k]
                    }
                    self.ip[key] = IPRight(
                        asset.pk,
                        False,
                        row.failed,
                        uscc,
                        given["status"] or asset.status,
                        given["expires_on"],
                    )
                    if changes and not row.failed:
                        updates.append((asset, changes))
                    self._classify(IP_RIGHTS, row, "changed" if changes else "unchanged")
                    continue
                self.ip[key] = IPRight(None, True, row.failed, uscc, row["status"] or "valid", expires_on)
                if ent is not None and ent.admission is not None and expires_on is not None:
                    self.ip_of_new[uscc].append((key[0], expires_on))
                if not row.failed and ent is not None:
                    new_rows.append(
                        {
                            "enterprise_id": ent.pk,
                            "kind": key[0],
                            "number": key[1],
                            "title": row["title"],
                            "owner_name": row["owner_name"] or ent.name,
                            "nice_class": row["nice_class"],
                            "filed_on": row["filed_on"],
                            "expires_on": expires_on,
                            "status": row["status"],
                            "_uscc": uscc,
                        }
                    )
                self._classify(IP_RIGHTS, row, "new")
            for r in new_rows:
                uscc = r.pop("_uscc")
                r["enterprise_id"] = self.ent[uscc].pk
            if self.writing:
                for a in ip_assets_import_create(rows=new_rows, by=self.by, comment=self.comment):
                    self.ip[(a.kind, a.number)].pk = a.pk
                ip_assets_import_update(changes=updates, by=self.by, comment=self.comment)

    def _check_ip_values(self, row: Row, key: tuple[str, str]) -> dt.date | None:
        """The right's registration rules (its expiry; a trademark's Nice class), and dates
        that have happened; returns its expiry."""
        nice = row["nice_class"]
        if nice is not None and not 1 <= nice <= 45:
            self.error(
                IP_RIGHTS,
                row,
                "nice_class",
                FieldError.MAX_VALUE,
                _("尼斯分类应为1至45，而不是%(value)s") % {"value": nice},
            )
        expires_on, found = ip_asset_expiry(
            kind=key[0], filed_on=row["filed_on"], expires_on=row["expires_on"]
        )
        if "filed_on" not in row.bad:
            self.violations(IP_RIGHTS, row, found)
        self._future(IP_RIGHTS, row, "filed_on")
        return expires_on

    # --- 合作机构 ----------------------------------------------------------------------------------

    def _institutions(self) -> None:
        for chunk in self._chunks(INSTITUTIONS):
            codes = {row["code"] for row in chunk if row["code"]}
            existing = {i.code: i for i in Institution.objects.filter(code__in=codes)}
            new_rows, updates = [], []
            for row in chunk:
                code = row["code"]
                if code is None:
                    continue
                if code in self.inst:
                    self.error(
                        INSTITUTIONS,
                        row,
                        "code",
                        BooksError.DUPLICATE_ROW,
                        _("机构代码 %(code)s 在本表中重复") % {"code": code},
                    )
                    continue
                cleaned, found = institution_row_violations(row.values)
                self.violations(INSTITUTIONS, row, found)
                institution = existing.get(code)
                if institution is not None:
                    current = selectors.institution_row(institution)
                    if row["status"] is not None and row["status"] != current["status"]:
                        self.error(
                            INSTITUTIONS,
                            row,
                            "status",
                            BooksError.STATE_DIFFERS,
                            _("系统中该机构的合作状态为“%(status)s”；合作状态只能通过审核流程改变")
                            % {"status": institution.get_status_display()},
                        )
                    changes = {
                        k: cleaned[k] or ""
                        for k in INSTITUTION_UPDATABLE
                        if k not in row.bad and cleaned[k] != current[k]
                    }
                    self.inst[code] = Inst(institution.pk, False, row.failed, institution.status)
                    if changes and not row.failed:
                        updates.append((institution, changes))
                    self._classify(INSTITUTIONS, row, "changed" if changes else "unchanged")
                    continue
                self.inst[code] = Inst(None, True, row.failed, row["status"] or "")
                if not row.failed:
                    new_rows.append(
                        {
                            "code": code,
                            "name": cleaned["name"],
                            "kind": cleaned["kind"],
                            "region_code": cleaned["region_code"] or "",
                            "uscc": cleaned["uscc"] or "",
                            "contact_name": cleaned["contact_name"] or "",
                            "contact_phone": cleaned["contact_phone"] or "",
                            "contact_email": cleaned["contact_email"] or "",
                            "status": cleaned["status"],
                        }
                    )
                self._classify(INSTITUTIONS, row, "new")
            if self.writing:
                for i in institutions_import_create(
                    rows=new_rows, by=self.by, comment=self.comment, today=self.today
                ):
                    self.inst[i.code].pk = i.pk
                institutions_import_update(changes=updates, by=self.by, comment=self.comment)

    def _institution_ref(self, codes: set[str]) -> None:
        missing = [c for c in codes if c not in self.inst]
        if not missing:
            return
        for i in Institution.objects.filter(code__in=missing):
            self.inst[i.code] = Inst(i.pk, False, False, i.status)

    def _unknown_institution(self, spec: Sheet, row: Row, code: str) -> None:
        self.error(
            spec,
            row,
            "institution_code",
            BooksError.UNKNOWN_REFERENCE,
            _("机构 %(code)s 不在“合作机构”表中，也不在系统中") % {"code": code},
        )

    # --- 合作协议 ----------------------------------------------------------------------------------

    def _agreements(self) -> None:
        seen: set[tuple[str, dt.date]] = set()
        existing = {
            (a.institution.code, a.valid_from): a
            for a in CooperationAgreement.objects.filter(fund=self.fund).select_related("institution")
        }
        for chunk in self._chunks(AGREEMENTS):
            self._institution_ref({row["institution_code"] for row in chunk if row["institution_code"]})
            new_rows = []
            for row in chunk:
                code, valid_from = row["institution_code"], row["valid_from"]
                if code is None or valid_from is None:
                    continue
                if (code, valid_from) in seen:
                    self.error(
                        AGREEMENTS,
                        row,
                        "valid_from",
                        BooksError.DUPLICATE_ROW,
                        _("机构 %(code)s 生效日期 %(date)s 的协议在本表中重复")
                        % {"code": code, "date": valid_from},
                    )
                    continue
                seen.add((code, valid_from))
                inst = self.inst.get(code)
                if inst is None:
                    self._unknown_institution(AGREEMENTS, row, code)
                    continue
                agreement = existing.get((code, valid_from))
                if agreement is not None:
                    self._same(
                        AGREEMENTS,
                        row,
                        selectors.agreement_row(agreement, institution_code=code),
                        _("合作协议"),
                    )
                    self._classify(AGREEMENTS, row, "unchanged")
                    continue
                terms = AgreementTerms(
                    fund_share=row["fund_share"] if row["fund_share"] is not None else ZERO,
                    bank_share=row["bank_share"] or ZERO,
                    insurer_share=row["insurer_share"] or ZERO,
                    valuer_share=row["valuer_share"] or ZERO,
                    valid_from=valid_from,
                    valid_until=row["valid_until"],
                    quota=row["quota"],
                    reserve_deposit=row["reserve_deposit"],
                )
                if "fund_share" not in row.bad and row["fund_share"] is not None:
                    self.violations(
                        AGREEMENTS, row, _agreement_violations(terms, self.policy_on(valid_from)),
                        {"": "fund_share", "valid_from": "valid_from"},
                    )  # fmt: skip
                self._future(AGREEMENTS, row, "signed_on")
                self.agreements[code].append(
                    Agreement(valid_from, row["valid_until"], row["reserve_deposit"])
                )
                if not row.failed:
                    new_rows.append(
                        {
                            "_code": code,
                            "fund_share": terms.fund_share,
                            "bank_share": terms.bank_share,
                            "insurer_share": terms.insurer_share,
                            "valuer_share": terms.valuer_share,
                            "quota": terms.quota,
                            "reserve_deposit": terms.reserve_deposit,
                            "signed_on": row["signed_on"],
                            "valid_from": valid_from,
                            "valid_until": row["valid_until"],
                            "document_ref": row["document_ref"] or "",
                        }
                    )
                self._classify(AGREEMENTS, row, "new")
            if self.writing:
                for r in new_rows:
                    r["institution_id"] = self.inst[r.pop("_code")].pk
                agreements_import_create(fund=self.fund, rows=new_rows, by=self.by, comment=self.comment)

    def _same(
        self, spec: Sheet, row: Row, current: dict[str, Any], what: str, *, skip: tuple[str, ...] = ()
    ) -> None:
        """A record already in the system is not changed by an import: each given cell must
        equal it (an empty cell is taken as 'as in the system' for optional columns)."""
        for col in spec.input_columns:
            if col.key in skip or col.key in row.bad:
                continue
            given = row[col.key]
            if given is None and not col.required:
                continue
            if given != current.get(col.key):
                value = current.get(col.key)
                if col.choices and isinstance(value, list):
                    shown = "、".join(col.label_of(v) for v in value)
                else:
                    shown = col.label_of(value) if col.choices else value
                self.error(
                    spec,
                    row,
                    col.key,
                    BooksError.RECORD_DIFFERS,
                    _("系统中已有该%(what)s，其“%(column)s”为“%(value)s”；已有的%(what)s不能通过导入修改")
                    % {"what": what, "column": col.header, "value": "" if shown is None else shown},
                )

    def _agreement_on(self, code: str, day: dt.date) -> Agreement | None:
        """The institution's agreement with the fund in force on `day` (the latest started)."""
        started = [a for a in self.agreements.get(code, []) if a.valid_from <= day]
        if not started:
            return None
        latest = max(started, key=lambda a: a.valid_from)
        return latest if latest.valid_until is None or latest.valid_until >= day else None

    # --- 备案产品 ----------------------------------------------------------------------------------

    def _products(self) -> None:
        existing = {
            (p.institution.code, p.code, p.version): p
            for p in Product.objects.filter(fund=self.fund).select_related("institution")
        }
        for (code, product_code, version), p in existing.items():
            self.products[(code, product_code, version)] = self._prod_of(p)
        seen: set[tuple[str, str, int]] = set()
        for chunk in self._chunks(PRODUCTS):
            self._institution_ref({row["institution_code"] for row in chunk if row["institution_code"]})
            new_rows = []
            for row in chunk:
                key = (row["institution_code"], row["code"], row["version"])
                if None in key:
                    continue
                if key in seen:
                    self.error(
                        PRODUCTS,
                        row,
                        "version",
                        BooksError.DUPLICATE_ROW,
                        _("机构 %(institution)s 的产品 %(code)s 第%(version)s版在本表中重复")
                        % {"institution": key[0], "code": key[1], "version": key[2]},
                    )
                    continue
                seen.add(key)
                inst = self.inst.get(key[0])
                if inst is None:
                    self._unknown_institution(PRODUCTS, row, key[0])
                    continue
                product = existing.get(key)
                if product is not None:
                    self._same(
                        PRODUCTS, row, selectors.product_row(product, institution_code=key[0]), _("产品")
                    )
                    self._classify(PRODUCTS, row, "unchanged")
                    continue
                values = self._product_new(row, key, inst)
                if values is not None and not row.failed:
                    new_rows.append(values)
                self._classify(PRODUCTS, row, "new")
            if self.writing and new_rows:
                keys = [(r["_code"], r["code"], r["version"]) for r in new_rows]
                for r in new_rows:
                    r["institution_id"] = self.inst[r.pop("_code")].pk
                created = products_import_create(
                    fund=self.fund, rows=new_rows, by=self.by, comment=self.comment
                )
                for key, product in zip(keys, created, strict=True):
                    self.products[key].pk = product.pk

    @staticmethod
    def _prod_of(p: Product) -> Prod:
        return Prod(
            p.pk, False, False, p.status, p.filed_on, p.withdrawn_on, p.max_term_months, p.max_annual_rate
        )

    def _product_new(self, row: Row, key: tuple[str, str, int], inst: Inst) -> dict[str, Any] | None:
        status, filed_on, withdrawn_on = row["status"], row["filed_on"], row["withdrawn_on"]
        kinds = row["accepted_ip_kinds"] or []
        self.violations(
            PRODUCTS, row, check_product(code=key[1], name=row["name"] or "", accepted_ip_kinds=kinds)
        )
        if row["version"] is not None and row["version"] < 1:
            self.error(PRODUCTS, row, "version", FieldError.MIN_VALUE, _("版本从1开始"))
        if status is not None and status not in IMPORTABLE_PRODUCT_STATUSES:
            self.error(
                PRODUCTS,
                row,
                "status",
                BooksError.STATUS_NOT_IMPORTABLE,
                _("产品不能以“%(status)s”状态导入") % {"status": PRODUCTS.col("status").label_of(status)},
            )
        if status == Product.Status.WITHDRAWN and withdrawn_on is None and "withdrawn_on" not in row.bad:
            self.error(PRODUCTS, row, "withdrawn_on", FieldError.REQUIRED, _("已撤回的产品须填写撤回日期"))
        if status == Product.Status.FILED and filed_on is None and "filed_on" not in row.bad:
            self.error(PRODUCTS, row, "filed_on", FieldError.REQUIRED, _("已备案的产品须填写备案日期"))
        if status != Product.Status.WITHDRAWN and withdrawn_on is not None:
            self.error(
                PRODUCTS,
                row,
                "withdrawn_on",
                BooksError.LOAN_STATE_INCONSISTENT,
                _("未撤回的产品不应有撤回日期"),
            )
        if status == Product.Status.SUBMITTED and filed_on is not None:
            self.error(
                PRODUCTS, row, "filed_on", BooksError.LOAN_STATE_INCONSISTENT, _("未备案的产品不应有备案日期")
            )
        self._order(PRODUCTS, row, "filed_on", "withdrawn_on")
        self._future(PRODUCTS, row, "filed_on", "withdrawn_on")
        if filed_on is not None and not row.failed and not inst.bad:
            self.violations(
                PRODUCTS,
                row,
                product_filing_violations(
                    institution_status=inst.status,
                    has_agreement_in_force=self._agreement_on(key[0], filed_on) is not None,
                ),
                {"*": "filed_on", "institution": "institution_code"},
            )
        prod = Prod(
            None,
            True,
            row.failed,
            status or "",
            filed_on,
            withdrawn_on,
            row["max_term_months"],
            row["max_annual_rate"],
        )
        self.products[key] = prod
        if row.failed:
            return None
        return {
            "_code": key[0],
            "code": key[1],
            "version": key[2],
            "name": row["name"],
            "status": status,
            "accepted_ip_kinds": kinds,
            "max_principal": row["max_principal"],
            "max_term_months": row["max_term_months"],
            "max_annual_rate": row["max_annual_rate"],
            "max_pledge_rate": row["max_pledge_rate"],
            "filed_on": filed_on,
            "withdrawn_on": withdrawn_on,
        }

    def _product_of(
        self, row: Row, inst_code: str, judged_on: dt.date | None
    ) -> tuple[Prod | None, int | None]:
        """The product a loan row names (its version, or the latest filed on the day it is
        judged): (product, version), (None, None) when it names none; reported when unknown."""
        code = row["product_code"]
        if code is None:
            if row["product_version"] is not None:
                self.error(
                    LOANS, row, "product_code", FieldError.REQUIRED, _("填写了产品版本，请同时填写“产品代码”")
                )
            return None, None
        versions = {v: p for (i, c, v), p in self.products.items() if i == inst_code and c == code}
        version = row["product_version"]
        if version is None and versions:
            filed = [v for v, p in versions.items() if judged_on is not None and p.filed_on_day(judged_on)]
            version = max(filed or versions)
        product = versions.get(version) if version is not None else None
        if product is None:
            self.error(
                LOANS,
                row,
                "product_code",
                BooksError.UNKNOWN_REFERENCE,
                _(
                    "机构 %(institution)s 的产品 %(code)s%(version)s 不在“备案产品”表中，也不是本资金已登记的产品"
                )
                % {
                    "institution": inst_code,
                    "code": code,
                    "version": ""
                    if row["product_version"] is None
                    else _("第%(n)s版") % {"n": row["product_version"]},
                },
            )
            return None, None
        return product, version

    # --- 贷款 ------------------------------------------------------------------------------------

    def _loans(self) -> None:
        for chunk in self._chunks(LOANS):
            self._institution_ref({row["institution_code"] for row in chunk if row["institution_code"]})
            self._enterprise_ref(
                {row["enterprise_uscc"].strip().upper() for row in chunk if row["enterprise_uscc"]}
            )
            keys = [
                (row["institution_code"], row["contract_no"])
                for row in chunk
                if row["institution_code"] and row["contract_no"]
            ]
            existing = self._existing_loans(keys)
            given_refs = {row["reference"] for row in chunk if row["reference"]}
            taken_refs = set(
                LoanFiling.objects.filter(reference__in=given_refs).values_list("reference", flat=True)
            )
            new_rows = []
            for row in chunk:
                key = (row["institution_code"], row["contract_no"])
                if None in key:
                    continue
                if key in self.loans:
                    self.error(
                        LOANS,
                        row,
                        "contract_no",
                        BooksError.DUPLICATE_ROW,
                        _("机构 %(institution)s 的借款合同号 %(contract)s 在本表中重复")
                        % {"institution": key[0], "contract": key[1]},
                    )
                    continue
                filing = existing.get(key)
                if filing is not None:
                    self._loan_existing(row, key, filing)
                    continue
                values = self._loan_new(row, key, taken_refs)
                if values is not None and not row.failed:
                    new_rows.append(values)
                self._classify(LOANS, row, "new")
            if self.writing and new_rows:
                rows = [{k: v for k, v in r.items() if k != "_key"} for r in new_rows]
                for r in rows:
                    r["institution_id"] = self.inst[r.pop("_inst")].pk
                    r["enterprise_id"] = self.ent[r.pop("_uscc")].pk
                    product = r.pop("_product")
                    r["product_id"] = self.products[product].pk if product else None
                created = loan_imports.filings_import_create(
                    fund=self.fund, rows=rows, by=self.by, comment=self.comment, today=self.today
                )
                for r, filing in zip(new_rows, created, strict=True):
                    loan = self.loans[r["_key"]]
                    loan.pk, loan.reference = filing.pk, filing.reference

    def _existing_loans(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], LoanFiling]:
        if not keys:
            return {}
        contracts = {k[1] for k in keys}
        qs = selectors.loans_with_report(
            LoanFiling.objects.filter(contract_no__in=contracts, institution__code__in={k[0] for k in keys})
        ).select_related("institution", "enterprise", "policy_version", "product")
        return {(f.institution.code, f.contract_no): f for f in qs}

    def _loan_facts(self, filing: LoanFiling, key: tuple[str, str], row: int | None, bad: bool) -> Loan:
        return Loan(
            filing.pk, False, bad, filing.reference, key[0], filing.enterprise.uscc, filing.enterprise_id,
            filing.status, filing.loan_status, self._terms_of(filing), filing.accepted_on, filing.settled_on,
            filing.fund_share, filing.outstanding_principal, filing.covered_outstanding, filing.policy_version,
            row=row,
        )  # fmt: skip

    def _loan_existing(self, row: Row, key: tuple[str, str], filing: LoanFiling) -> None:
        if filing.fund_id != self.fund.pk:
            self.error(
                LOANS,
                row,
                "contract_no",
                BooksError.IN_OTHER_FUND,
                _("该贷款已在其他资金备案（%(reference)s）") % {"reference": filing.reference},
            )
        current = selectors.loan_row(filing, institution_code=key[0], enterprise_uscc=filing.enterprise.uscc)
        self._same(LOANS, row, current, _("贷款"), skip=("historical",))
        self.references.add(filing.reference)
        self.loans[key] = self._loan_facts(filing, key, row.number, row.failed)
        self._classify(LOANS, row, "unchanged")

    @staticmethod
    def _terms_of(filing: LoanFiling) -> LoanTerms:
        return LoanTerms(
            principal=filing.principal,
            covered_principal=filing.covered_principal,
            pledge_type=filing.pledge_type,
            annual_rate=filing.annual_rate,
            disbursed_on=filing.disbursed_on,
            matures_on=filing.matures_on,
        )

    def _loan_new(self, row: Row, key: tuple[str, str], taken_refs: set[str]) -> dict[str, Any] | None:
        inst_code, contract = key
        uscc = sys.intern(row["enterprise_uscc"].strip().upper()) if row["enterprise_uscc"] else None
        inst, ent = self.inst.get(inst_code), self.ent.get(uscc) if uscc else None
        if inst is None:
            self._unknown_institution(LOANS, row, inst_code)
        if uscc and ent is None:
            self.error(
                LOANS,
                row,
                "enterprise_uscc",
                BooksError.UNKNOWN_REFERENCE,
                _("企业 %(uscc)s 不在“企业”表中，也不是本资金已登记的企业") % {"uscc": uscc},
            )
        reference = row["reference"]
        if reference and (reference in taken_refs or reference in self.references):
            self.error(
                LOANS,
                row,
                "reference",
                BooksError.DUPLICATE_ROW,
                _("备案编号 %(reference)s 已被使用") % {"reference": reference},
            )
        if reference:
            self.references.add(reference)
        status, loan_status = row["status"], row["loan_status"]
        if status is not None and status != FilingStatus.ACCEPTED:
            self.error(
                LOANS,
                row,
                "status",
                BooksError.STATUS_NOT_IMPORTABLE,
                _("新贷款须为“已受理入池”的贷款；其他备案请由合作机构通过接口提交"),
            )
        for required in ("accepted_on", "loan_status", "fund_share", "outstanding_principal"):
            if row[required] is None and required not in row.bad:
                self.error(
                    LOANS,
                    row,
                    required,
                    FieldError.REQUIRED,
                    _("已受理的贷款须填写“%(column)s”") % {"column": LOANS.col(required).header},
                )
        if loan_status is not None and loan_status not in loan_imports.IMPORTABLE_LOAN_STATUSES:
            self.error(
                LOANS,
                row,
                "loan_status",
                BooksError.STATUS_NOT_IMPORTABLE,
                _("新贷款不能以“%(status)s”状态导入（在补偿中的贷款请连同已付的补偿导入为已代偿）")
                % {"status": LOANS.col("loan_status").label_of(loan_status)},
            )
        principal = row["principal"]
        if principal is not None and principal <= 0:
            self.error(LOANS, row, "principal", FieldError.MIN_VALUE, _("贷款本金须大于零"))
        covered = row["covered_principal"]
        if covered is None and row["pledge_type"] == LoanFiling.PledgeType.IP_ONLY:
            covered = principal
        if (
            row["pledge_type"] == LoanFiling.PledgeType.COMBINED
            and covered is None
            and "covered_principal" not in row.bad
        ):
            self.error(
                LOANS, row, "covered_principal", FieldError.REQUIRED, _("组合质押须填写知识产权担保本金")
            )
        if not self._order(LOANS, row, "disbursed_on", "matures_on", strict=True):
            row.failed = True
        self._order(LOANS, row, "disbursed_on", "accepted_on")
        self._order(LOANS, row, "disbursed_on", "settled_on")
        self._future(LOANS, row, "disbursed_on", "accepted_on", "settled_on")
        accepted_on = row["accepted_on"]
        policy = self.policy_on(accepted_on) if accepted_on else None
        if accepted_on is not None and policy is None:
            self.error(
                LOANS,
                row,
                "accepted_on",
                EnterprisesError.NO_POLICY_IN_FORCE,
                _("受理日期 %(date)s 本资金没有生效的政策版本") % {"date": accepted_on},
            )
        historical = bool(row["historical"])
        judged_on = accepted_on if historical else self.today
        product, version = self._product_of(row, inst_code, judged_on) if inst is not None else (None, None)
        outstanding = row["outstanding_principal"]
        if loan_status == LoanStatus.SETTLED:
            if row["settled_on"] is None and "settled_on" not in row.bad:
                self.error(LOANS, row, "settled_on", FieldError.REQUIRED, _("已结清的贷款须填写结清日期"))
            if outstanding not in (None, ZERO):
                self.error(
                    LOANS,
                    row,
                    "outstanding_principal",
                    BooksError.LOAN_STATE_INCONSISTENT,
                    _("已结清的贷款余额应为0"),
                )
        elif row["settled_on"] is not None and loan_status in loan_imports.REPORTED_LOAN_STATUSES:
            self.error(
                LOANS,
                row,
                "settled_on",
                BooksError.LOAN_STATE_INCONSISTENT,
                _("“%(status)s”的贷款不应有结清日期")
                % {"status": LOANS.col("loan_status").label_of(loan_status)},
            )
        report = self._report(row)
        # A borrower or bank whose own row failed is reported there; its loans are not judged.
        ready = (
            not row.failed
            and None not in (inst, ent, policy, principal, covered, outstanding)
            and not (inst.bad or ent.bad or (product is not None and product.bad))
        )
        terms = None
        if ready:
            terms = LoanTerms(
                principal,
                covered,
                row["pledge_type"],
                row["annual_rate"],
                row["disbursed_on"],
                row["matures_on"],
            )
            product_terms = (
                ProductTerms(
                    filed=product.filed_on_day(judged_on),
                    max_term_months=product.max_term_months,
                    max_annual_rate=product.max_annual_rate,
                )
                if product is not None
                else None
            )
            self._loan_rules(
                row, inst_code, ent, inst, terms, policy, historical, outstanding, report, product_terms
            )
        covered_outstanding = (
            loan_imports.covered_outstanding(
                outstanding=outstanding, covered_principal=covered, principal=principal
            )
            if ready
            else ZERO
        )
        loan = Loan(
            None, True, row.failed, reference or "", inst_code, uscc or "", ent.pk if ent else None,
            status or "", loan_status, terms, accepted_on, row["settled_on"], row["fund_share"],
            outstanding or ZERO, covered_outstanding, policy, historical, row.number,
        )  # fmt: skip
        self.loans[key] = loan
        self._note_date(accepted_on)
        if row.failed:
            return None
        if loan_status == LoanStatus.SETTLED:
            since = row["settled_on"]
        elif loan_status in (LoanStatus.OVERDUE, LoanStatus.NON_PERFORMING) and report is not None:
            since = report.as_of
        else:
            since = accepted_on
        check_note = (
            gettext_noop("历史贷款：按受理日期当时的政策校验，不检查备案期限")
            if historical
            else gettext_noop("按导入日的政策校验")
        )
        return {
            "_key": key,
            "_inst": inst_code,
            "_uscc": uscc,
            "_product": (inst_code, row["product_code"], version) if product is not None else None,
            "reference": reference or "",
            "contract_no": contract,
            "principal": principal,
            "pledge_type": row["pledge_type"],
            "covered_principal": covered,
            "annual_rate": row["annual_rate"],
            "disbursed_on": row["disbursed_on"],
            "matures_on": row["matures_on"],
            "purpose": row["purpose"] or "",
            "checks": [{"code": "imported", "passed": True, "field": None, "message": recorded(check_note)}],
            "status": FilingStatus.ACCEPTED,
            "loan_status": loan_status,
            "policy_version": policy,
            "fund_share": row["fund_share"],
            "bank_share": row["bank_share"] or ZERO,
            "insurer_share": row["insurer_share"] or ZERO,
            "valuer_share": row["valuer_share"] or ZERO,
            "accepted_on": accepted_on,
            "outstanding_principal": outstanding,
            "covered_outstanding": covered_outstanding,
            "settled_on": row["settled_on"],
            "report": report,
            "loan_status_on": since,
        }

    def _report(self, row: Row) -> ReportFacts | None:
        as_of = row["report_as_of"]
        if as_of is None:
            for key in ("overdue_principal", "overdue_interest", "days_overdue", "risk_class"):
                if row[key] is not None:
                    self.error(
                        LOANS,
                        row,
                        "report_as_of",
                        FieldError.REQUIRED,
                        _("填写了月报数据，请同时填写“最近月报月末”"),
                    )
                    break
            return None
        for key in ("days_overdue", "risk_class"):
            if row[key] is None and key not in row.bad:
                self.error(
                    LOANS,
                    row,
                    key,
                    FieldError.REQUIRED,
                    _("有月报的贷款须填写“%(column)s”") % {"column": LOANS.col(key).header},
                )
        if row.failed:
            return None
        return ReportFacts(
            as_of=as_of,
            overdue_principal=row["overdue_principal"] or ZERO,
            overdue_interest=row["overdue_interest"] or ZERO,
            days_overdue=row["days_overdue"],
            risk_class=row["risk_class"],
        )

    def _loan_rules(
        self, row: Row, inst_code: str, ent: Ent, inst: Inst, terms: LoanTerms, policy, historical: bool,
        outstanding: Decimal, report: ReportFacts | None, product: ProductTerms | None,
    ) -> None:  # fmt: skip
        accepted_on = row["accepted_on"]
        judged_on = accepted_on if historical else self.today
        fund = self.fund
        fund_active = fund.start_date <= accepted_on and (
            fund.end_date is None or accepted_on <= fund.end_date
        )
        if historical:
            admitted = ent.status in ADMITTED_ONCE
        else:
            admitted = ent.status == Enterprise.Status.ADMITTED and (
                ent.admitted_until is None or ent.admitted_until >= self.today
            )
        failed = loan_imports.filing_checks(
            terms=terms,
            policy=policy,
            judged_on=judged_on,
            historical=historical,
            fund_active=fund_active,
            enterprise_admitted=admitted and not ent.bad,
            institution_violations=loan_imports.institution_violations(
                status=inst.status,
                has_agreement_in_force=self._agreement_on(inst_code, judged_on) is not None,
                historical=historical,
            ),
            product=product,
        )
        self.violations(
            LOANS,
            row,
            [
                Violation(
                    c.code,
                    c.message,
                    "accepted_on" if c.code == EnterprisesError.FUND_NOT_ACTIVE else c.field,
                )
                for c in failed
            ],
            {
                "fund": "institution_code",
                "enterprise_uscc": "enterprise_uscc",
                "product": "product_code",
                "*": "contract_no",
            },
        )
        shares = AgreementTerms(
            fund_share=row["fund_share"],
            bank_share=row["bank_share"] or ZERO,
            insurer_share=row["insurer_share"] or ZERO,
            valuer_share=row["valuer_share"] or ZERO,
            valid_from=accepted_on,
        )
        self.violations(LOANS, row, _agreement_violations(shares, policy), {"": "fund_share"})
        if report is not None:
            self.violations(
                LOANS, row,
                check_report(
                    as_of=report.as_of, days_overdue=report.days_overdue, outstanding=outstanding,
                    overdue_principal=report.overdue_principal, principal=terms.principal,
                    disbursed_on=terms.disbursed_on, today=self.today,
                ),
                {"as_of": "report_as_of"},
            )  # fmt: skip
        elif outstanding > terms.principal:
            self.error(
                LOANS,
                row,
                "outstanding_principal",
                LoansError.OUTSTANDING_EXCEEDS_PRINCIPAL,
                _("贷款余额不能超过贷款本金"),
            )
        loan_status = row["loan_status"]
        if loan_status in loan_imports.REPORTED_LOAN_STATUSES and not row.failed:
            expected = loan_imports.expected_loan_status(policy=policy, report=report)
            if expected != loan_status:
                self.error(
                    LOANS,
                    row,
                    "loan_status",
                    BooksError.LOAN_STATE_INCONSISTENT,
                    _("按最近月报和受理时的政策，该贷款应为“%(status)s”")
                    % {"status": LOANS.col("loan_status").label_of(expected)},
                )

    def _loan_ref(self, keys: set[tuple[str, str]]) -> None:
        missing = [k for k in keys if k not in self.loans]
        if not missing:
            return
        for key, filing in self._existing_loans(missing).items():
            if filing.fund_id == self.fund.pk:
                self.loans[key] = self._loan_facts(filing, key, None, False)

    # --- 质押物 ------------------------------------------------------------------------------------

    def _pledges(self) -> None:
        seen: set[tuple] = set()
        for chunk in self._chunks(PLEDGES):
            self._loan_ref(
                {
                    (r["institution_code"], r["contract_no"])
                    for r in chunk
                    if r["institution_code"] and r["contract_no"]
                }
            )
            ip_keys = {}
            for row in chunk:
                key = self._ip_key(PLEDGES, row, "ip_kind", "ip_number")
                if key is not None:
                    ip_keys[row.number] = key
            self._ip_ref(set(ip_keys.values()))
            existing = self._existing_pledges(chunk)
            asset_ids = [self.ip[k].pk for k in ip_keys.values() if k in self.ip and self.ip[k].pk]
            held = pledged_elsewhere(asset_ids=asset_ids) if asset_ids else {}
            new_rows = []
            for row in chunk:
                loan_key, ip_key = (row["institution_code"], row["contract_no"]), ip_keys.get(row.number)
                if None in loan_key or ip_key is None:
                    continue
                if (loan_key, ip_key) in seen:
                    self.error(
                        PLEDGES,
                        row,
                        "ip_number",
                        BooksError.DUPLICATE_ROW,
                        _("同一贷款的质押物 %(number)s 在本表中重复") % {"number": ip_key[1]},
                    )
                    continue
                seen.add((loan_key, ip_key))
                loan = self.loans.get(loan_key)
                if loan is None:
                    self._unknown_loan(PLEDGES, row, loan_key)
                    continue
                pledge = existing.get((loan_key, ip_key))
                if pledge is not None:
                    self._same(PLEDGES, row, pledge, _("质押物"))
                    self._classify(PLEDGES, row, "unchanged")
                    continue
                if not loan.new:
                    self.error(
                        PLEDGES,
                        row,
                        "contract_no",
                        BooksError.RECORD_DIFFERS,
                        _("贷款 %(reference)s 已在系统中，不能通过导入增加质押物")
                        % {"reference": loan.reference},
                    )
                    continue
                values = self._pledge_new(row, loan, ip_key, held)
                if values is not None and not row.failed:
                    new_rows.append(values)
                if loan.row is not None:
                    loan.pledges += 1
                self._classify(PLEDGES, row, "new")
            if self.writing and new_rows:
                for r in new_rows:
                    r["filing_id"] = self.loans[r.pop("_loan")].pk
                    r["ip_asset_id"] = self.ip[r.pop("_ip")].pk
                loan_imports.pledges_import_create(rows=new_rows)
        for loan in self.loans.values():
            if loan.new and not loan.bad and loan.row is not None and loan.pledges == 0:
                self.error(
                    LOANS,
                    loan.row,
                    "contract_no",
                    BooksError.LOAN_WITHOUT_PLEDGE,
                    _("贷款在“%(sheet)s”表中没有质押的知识产权") % {"sheet": self.sheet_name(PLEDGES)},
                )

    def _unknown_loan(self, spec: Sheet, row: Row, key: tuple[str, str]) -> None:
        self.error(
            spec,
            row,
            "contract_no",
            BooksError.UNKNOWN_REFERENCE,
            _("贷款（%(institution)s，%(contract)s）不在“贷款”表中，也不是本资金已备案的贷款")
            % {"institution": key[0], "contract": key[1]},
        )

    def _ip_ref(self, keys: set[tuple[str, str]]) -> None:
        missing = [k for k in keys if k not in self.ip]
        if not missing:
            return
        for a in IPAsset.objects.filter(number__in={k[1] for k in missing}).select_related("enterprise"):
            key = (a.kind, a.number)
            if key in missing:
                self.ip[key] = IPRight(
                    a.pk, False, False, sys.intern(a.enterprise.uscc), a.status, a.expires_on
                )

    def _existing_pledges(self, chunk: list[Row]) -> dict:
        filing_ids = {
            self.loans[k].pk
            for k in {(r["institution_code"], r["contract_no"]) for r in chunk}
            if k in self.loans and not self.loans[k].new
        }
        if not filing_ids:
            return {}
        out = {}
        qs = Pledge.objects.filter(filing_id__in=filing_ids).select_related("filing__institution", "ip_asset")
        for p in qs:
            loan_key = (p.filing.institution.code, p.filing.contract_no)
            ip_key = (p.ip_asset.kind, p.ip_asset.number)
            out[(loan_key, ip_key)] = selectors.pledge_row(
                p, institution_code=loan_key[0], contract_no=loan_key[1], kind=ip_key[0], number=ip_key[1]
            )
        return out

    def _pledge_new(
        self, row: Row, loan: Loan, ip_key: tuple[str, str], held: dict[int, str]
    ) -> dict[str, Any] | None:
        right = self.ip.get(ip_key)
        released_on = row["released_on"]
        if released_on is None and loan.loan_status == LoanStatus.SETTLED:
            released_on = loan.settled_on
        self._order(PLEDGES, row, "registered_on", "released_on")
        self._future(PLEDGES, row, "registered_on", "released_on")
        live = loan.live and released_on is None
        holder = None
        if live and right is not None:
            holder = self.live_holder.get(ip_key) or (held.get(right.pk) if right.pk else None)
        registration_ok = True
        registration_no = row["registration_no"]
        if registration_no is not None:
            try:
                registration_no = validate_pledge_registration_no(registration_no)
            except IdentifierError:
                registration_ok = False
        if loan.bad or loan.terms is None or (right is not None and right.bad):
            return None  # the loan's or the right's own row failed: reported there
        judged_on = loan.accepted_on if loan.historical else self.today
        facts = PledgeFacts(
            index=0,
            kind=ip_key[0],
            number=ip_key[1],
            owned_by_borrower=right is not None and right.uscc == loan.enterprise_uscc,
            # The right's legal status on the acceptance date of a historical loan is not in the books.
            asset_status="valid" if loan.historical else (right.status if right else None),
            expires_on=right.expires_on if right else None,
            pledged_elsewhere=holder,
            registration_no_valid=registration_ok,
            registered_on=row["registered_on"],
        )
        failed = loan_imports.pledge_checks(
            terms=loan.terms, policy=loan.policy, judged_on=judged_on, pledge=facts
        )
        self.violations(
            PLEDGES, row, [Violation(c.code, c.message, c.field) for c in failed],
            {"pledges[0].kind": "ip_kind", "pledges[0].number": "ip_number", "pledges[0].registration_no": "registration_no"},
        )  # fmt: skip
        if live and not row.failed:
            self.live_holder[ip_key] = loan.reference or f"{loan.institution_code}/{row['contract_no']}"
        if row.failed:
            return None
        return {
            "_loan": (loan.institution_code, row["contract_no"]),
            "_ip": ip_key,
            "registration_no": registration_no,
            "registered_on": row["registered_on"],
            "appraised_value": row["appraised_value"],
            "released_on": released_on,
        }

    # --- 补偿申请 ----------------------------------------------------------------------------------

    @staticmethod
    def _with_returns(qs):
        """Claims with the fund amounts of their recoveries summed (all, and those returned)."""
        return qs.annotate(
            returns_due=Coalesce(Sum("recoveries__fund_amount"), ZERO),
            returned=Coalesce(
                Sum("recoveries__fund_amount", filter=Q(recoveries__status=RecoveryStatus.RETURNED)), ZERO
            ),
        )

    def _claims(self) -> None:
        open_claims = Counter(
            Claim.objects.filter(fund=self.fund)
            .exclude(status__in=(ClaimStatus.REJECTED, ClaimStatus.CLOSED, ClaimStatus.WRITTEN_OFF))
            .values_list("filing_id", flat=True)
        )
        for chunk in self._chunks(CLAIMS):
            self._loan_ref(
                {
                    (r["institution_code"], r["contract_no"])
                    for r in chunk
                    if r["institution_code"] and r["contract_no"]
                }
            )
            refs = {row["reference"] for row in chunk if row["reference"]}
            existing = {
                c.reference: c
                for c in self._with_returns(Claim.objects.filter(reference__in=refs)).select_related(
                    "institution", "filing", "filing__policy_version"
                )
            }
            for row in chunk:
                ref = row["reference"]
                if ref is None:
                    continue
                if ref in self.claims:
                    self.error(
                        CLAIMS,
                        row,
                        "reference",
                        BooksError.DUPLICATE_ROW,
                        _("申请编号 %(reference)s 在本表中重复") % {"reference": ref},
                    )
                    continue
                claim = existing.get(ref)
                if claim is not None:
                    if claim.fund_id != self.fund.pk:
                        self.error(
                            CLAIMS,
                            row,
                            "reference",
                            BooksError.IN_OTHER_FUND,
                            _("申请编号 %(reference)s 属于其他资金") % {"reference": ref},
                        )
                    self._same(
                        CLAIMS,
                        row,
                        selectors.claim_row(
                            claim,
                            institution_code=claim.institution.code,
                            contract_no=claim.filing.contract_no,
                        ),
                        _("补偿申请"),
                    )
                    self.claims[ref] = self._claim_facts(claim, row.number, bad=row.failed)
                    self._classify(CLAIMS, row, "unchanged")
                    continue
                self._claim_new(row, open_claims)
                self._classify(CLAIMS, row, "new")

    @staticmethod
    def _claim_facts(claim: Claim, row: int | None, *, bad: bool) -> ClaimFacts:
        return ClaimFacts(
            claim.pk, False, bad, claim.status, claim.paid_amount, claim.paid_on, claim.filing.policy_version,
            claim.outstanding_principal, claim.recovered_before_claim, claim.filing.principal, row,
            returns_due=claim.returns_due, returned=claim.returned,
        )  # fmt: skip

    def _claim_new(self, row: Row, open_claims: Counter) -> None:
        key = (row["institution_code"], row["contract_no"])
        loan = self.loans.get(key) if None not in key else None
        status = row["status"]
        ref = row["reference"]
        if status is not None and status not in loan_imports.IMPORTABLE_CLAIM_STATUSES:
            self.error(
                CLAIMS,
                row,
                "status",
                BooksError.STATUS_NOT_IMPORTABLE,
                _(
                    "新补偿申请须为已代偿的申请（追偿中、已结案、已核销）；进行中的申请请由合作机构通过接口提交"
                ),
            )
        for required in ("approved_amount", "approved_on", "paid_amount", "paid_on"):
            if row[required] is None and required not in row.bad:
                self.error(
                    CLAIMS,
                    row,
                    required,
                    FieldError.REQUIRED,
                    _("已代偿的申请须填写“%(column)s”") % {"column": CLAIMS.col(required).header},
                )
        if row["meeting_ref"] is None and "meeting_ref" not in row.bad:
            self.error(
                CLAIMS, row, "meeting_ref", LoansError.MEETING_REF_REQUIRED, _("请填写决策委员会会议纪要编号")
            )
        for earlier, later in (
            ("trigger_date", "submitted_on"),
            ("submitted_on", "approved_on"),
            ("approved_on", "paid_on"),
        ):
            self._order(CLAIMS, row, earlier, later)
        self._future(CLAIMS, row, "submitted_on", "approved_on", "paid_on")
        facts = ClaimFacts(
            None, True, True, status or "", row["paid_amount"], row["paid_on"], None, row=row.number
        )
        self.claims[ref] = facts
        if loan is None:
            if None not in key:
                self._unknown_loan(CLAIMS, row, key)
            return
        expected = {
            ClaimStatus.IN_RECOVERY: LoanStatus.COMPENSATED,
            ClaimStatus.CLOSED: LoanStatus.CLOSED,
            ClaimStatus.WRITTEN_OFF: LoanStatus.CLOSED,
        }
        if status in expected and loan.loan_status != expected[status]:
            col = LOANS.col("loan_status")
            self.error(
                CLAIMS,
                row,
                "status",
                BooksError.LOAN_STATE_INCONSISTENT,
                _(
                    "贷款 %(loan)s 的状态为“%(loan_status)s”，与“%(status)s”的补偿申请不符（应为“%(expected)s”）"
                )
                % {
                    "loan": loan.reference or key[1],
                    "loan_status": col.label_of(loan.loan_status),
                    "status": CLAIMS.col("status").label_of(status),
                    "expected": col.label_of(expected[status]),
                },
            )
        if status == ClaimStatus.IN_RECOVERY:
            open_claims[loan.pk or key] += 1
            if open_claims[loan.pk or key] > 1:
                self.error(
                    CLAIMS, row, "contract_no", LoansError.CLAIM_EXISTS, _("该贷款已有进行中的补偿申请")
                )
        if loan.bad or loan.terms is None or row.failed:
            return
        terms, policy = loan.terms, loan.policy
        if row["trigger_date"] < terms.disbursed_on:
            self.error(
                CLAIMS,
                row,
                "trigger_date",
                BooksError.DATE_ORDER,
                _("触发日不能早于贷款放款日（%(date)s）") % {"date": terms.disbursed_on},
            )
        outstanding, recovered = row["outstanding_principal"], row["recovered_before_claim"] or ZERO
        self.violations(
            CLAIMS,
            row,
            claim_rules.check_claim_figures(
                principal=terms.principal,
                outstanding=outstanding,
                recovered_before=recovered,
                trigger_date=row["trigger_date"],
                today=self.today,
            ),
        )
        window = claim_rules.check_claim_window(
            trigger_date=row["trigger_date"],
            filed_on=row["submitted_on"],
            window_days=policy.claim_window_days,
        )
        if window is not None:
            self.violations(CLAIMS, row, [window], {"trigger_date": "submitted_on"})
        approved, paid = row["approved_amount"], row["paid_amount"]
        if approved <= ZERO:
            # What the loan alone would allow (its per-loan caps) says why nothing can be approved.
            alone = claim_rules.compute_claim(
                principal=terms.principal,
                covered_principal=terms.covered_principal,
                outstanding_principal=outstanding,
                recovered_before_claim=recovered,
                fund_share=loan.fund_share,
                **claim_rules.cap_rooms(policy=policy, used=claim_rules.CapsUsed(), reserve_deposit=None),
            )
            self.violations(
                CLAIMS,
                row,
                [claim_rules.check_approved_amount(amount=approved, claimable=alone.claimable_amount)],
            )
        elif paid <= ZERO or paid > approved:
            self.error(
                CLAIMS, row, "paid_amount", FieldError.MAX_VALUE, _("已付金额须大于零且不超过批准金额")
            )
        if row.failed:
            return
        facts.bad, facts.policy, facts.loan_key = False, policy, key
        facts.outstanding, facts.recovered_before, facts.loan_principal = (
            outstanding,
            recovered,
            terms.principal,
        )
        self._note_date(row["paid_on"])
        facts.values = {
            "fund": self.fund,
            "reference": ref,
            "status": status,
            "trigger_date": row["trigger_date"],
            "outstanding_principal": outstanding,
            "recovered_before_claim": recovered,
            "approved_amount": approved,
            "approved_on": row["approved_on"],
            "meeting_ref": row["meeting_ref"],
            "paid_amount": paid,
            "paid_on": row["paid_on"],
            "submitted_on": row["submitted_on"],
        }

    def _claim_ref(self, refs: set[str]) -> None:
        missing = [r for r in refs if r not in self.claims]
        if not missing:
            return
        qs = self._with_returns(Claim.objects.filter(reference__in=missing, fund=self.fund)).select_related(
            "filing__policy_version"
        )
        for claim in qs:
            self.claims[claim.reference] = self._claim_facts(claim, None, bad=False)

    def _claim_caps(self) -> None:
        """Each new claim's amount as the claim rules compute it on its approval day: the loss
        base and the loan's frozen share under every cap of the loan's policy (per loan, per
        enterprise, per year, the institution's reserve, the fund's balance then), counting the
        claims approved before it, in the system and in the workbook. The computation is kept
        with the claim, as the committee's approval keeps it."""
        new = sorted(
            (c for c in self.claims.values() if c.new and not c.bad and c.values is not None),
            key=lambda c: (c.values["approved_on"], c.row),
        )
        if not new:
            return
        counted: list[CapsClaim] = [
            CapsClaim(
                (c["approved_on"], 0, c["id"]),
                c["reference"],
                c["filing__enterprise__uscc"],
                c["institution__code"],
                c["approved_on"],
                c["paid_on"],
                c["loss_base"],
                c["approved_amount"] or ZERO,
                c["paid_amount"] or ZERO,
            )  # fmt: skip
            for c in Claim.objects.filter(
                fund=self.fund,
                status__in=(*COMMITTED_CLAIM_STATUSES, *PAID_CLAIM_STATUSES),
                approved_on__isnull=False,
            ).values(
                "id",
                "reference",
                "filing__enterprise__uscc",
                "institution__code",
                "approved_on",
                "paid_on",
                "loss_base",
                "approved_amount",
                "paid_amount",
            )  # fmt: skip
        ]
        moves = sorted((m.value_date, m.amount) for m in self._ledger_after())
        days = [d for d, _a in moves]
        totals = [ZERO]
        for _d, amount in moves:
            totals.append(totals[-1] + amount)
        payouts = sorted((m.value_date, -m.amount) for m in self._ledger_after() if self._is_payout(m))
        payout_days = [d for d, _a in payouts]
        payout_totals = [ZERO]
        for _d, amount in payouts:
            payout_totals.append(payout_totals[-1] + amount)

        def before(day_list, sums, day):
            return sums[bisect.bisect_left(day_list, day)]

        for c in new:
            loan = self.loans[c.loan_key]
            values = c.values
            day, approved = values["approved_on"], values["approved_amount"]
            me = CapsClaim(
                (day, 1, c.row), values["reference"], loan.enterprise_uscc, loan.institution_code, day,
                values["paid_on"], ZERO, approved, values["paid_amount"],
            )  # fmt: skip
            earlier = [x for x in counted if x.order < me.order]
            unpaid = sum((x.approved_amount for x in earlier if x.paid_on is None or x.paid_on >= day), ZERO)

            def taken(x: CapsClaim, day: dt.date = day) -> Decimal:
                """Paid before the day: what was paid; otherwise what was approved."""
                return x.paid_amount if x.paid_on is not None and x.paid_on < day else x.approved_amount

            same_ent = [x for x in earlier if x.enterprise == me.enterprise]
            agreement = self._agreement_on(loan.institution_code, day)
            year_start = day.replace(month=1, day=1)
            used = claim_rules.CapsUsed(
                enterprise_loss_base=sum((x.loss_base for x in same_ent), ZERO),
                enterprise_amount=sum((taken(x) for x in same_ent), ZERO),
                year_amount=before(payout_days, payout_totals, day)
                - before(payout_days, payout_totals, year_start)
                + unpaid,
                institution_amount=sum((taken(x) for x in earlier if x.institution == me.institution), ZERO),
                available_balance=before(days, totals, day) - unpaid,
            )
            computation = claim_rules.compute_claim(
                principal=loan.terms.principal,
                covered_principal=loan.terms.covered_principal,
                outstanding_principal=values["outstanding_principal"],
                recovered_before_claim=values["recovered_before_claim"],
                fund_share=loan.fund_share,
                **claim_rules.cap_rooms(
                    policy=loan.policy,
                    used=used,
                    reserve_deposit=agreement.reserve_deposit if agreement else None,
                ),
            )
            values.update(
                computation=computation.as_dict(),
                loss_base=computation.loss_base,
                fund_share=computation.fund_share,
                computed_amount=computation.computed_amount,
                claimable_amount=computation.claimable_amount,
            )
            me.loss_base = computation.loss_base
            counted.append(me)
            refused = claim_rules.check_approved_amount(
                amount=approved, claimable=computation.claimable_amount
            )
            if refused is not None:
                caps = "、".join(str(cap.label) for cap in computation.caps_applied) or _("无")
                self.error(
                    CLAIMS,
                    c.row,
                    "approved_amount",
                    refused.code,
                    _(
                        "%(message)s（%(date)s 批准时：损失基数 %(base)s 元 × 资金分担比例 %(share)s%%，适用上限：%(caps)s）"
                    )
                    % {
                        "message": refused.message,
                        "date": day,
                        "base": _yuan(computation.loss_base),
                        "share": computation.fund_share,
                        "caps": caps,
                    },
                )
                c.bad = True

    # --- 追偿回收 ----------------------------------------------------------------------------------

    def _recoveries(self) -> None:
        seen: set[tuple] = set()
        for chunk in self._chunks(RECOVERIES):
            self._claim_ref({row["claim_reference"] for row in chunk if row["claim_reference"]})
            claim_ids = {
                self.claims[r["claim_reference"]].pk for r in chunk if r["claim_reference"] in self.claims
            }
            existing = {
                (r.claim.reference, r.received_on, r.gross_amount, r.source): r
                for r in Recovery.objects.filter(claim_id__in=[i for i in claim_ids if i]).select_related(
                    "claim"
                )
            }
            for row in chunk:
                ref = row["claim_reference"]
                key = (ref, row["received_on"], row["gross_amount"], row["source"])
                if None in key:
                    continue
                if key in seen:
                    self.error(
                        RECOVERIES,
                        row,
                        "received_on",
                        BooksError.DUPLICATE_ROW,
                        _("同一申请、回收日期、金额和来源的回收在本表中重复"),
                    )
                    continue
                seen.add(key)
                claim = self.claims.get(ref)
                if claim is None:
                    self._unknown_claim(RECOVERIES, row, "claim_reference", ref)
                    continue
                recovery = existing.get(key)
                if recovery is not None:
                    self._same(
                        RECOVERIES, row, selectors.recovery_row(recovery, claim_reference=ref), _("追偿回收")
                    )
                    self._classify(RECOVERIES, row, "unchanged")
                    continue
                values = self._recovery_new(row, claim)
                if values is not None and not row.failed:
                    self.new_recoveries.append(values)
                self._classify(RECOVERIES, row, "new")

    def _unknown_claim(self, spec: Sheet, row: Row, key: str, ref: str) -> None:
        self.error(
            spec,
            row,
            key,
            BooksError.UNKNOWN_REFERENCE,
            _("补偿申请 %(reference)s 不在“补偿申请”表中，也不是本资金的申请") % {"reference": ref},
        )

    def _recovery_new(self, row: Row, claim: ClaimFacts) -> dict[str, Any] | None:
        status = row["status"]
        if status is not None and status not in loan_imports.IMPORTABLE_RECOVERY_STATUSES:
            self.error(
                RECOVERIES,
                row,
                "status",
                BooksError.STATUS_NOT_IMPORTABLE,
                _("新回收记录可为“待返还”或“已返还”"),
            )
        if claim.status not in loan_imports.IMPORTABLE_CLAIM_STATUSES and not claim.bad:
            self.error(
                RECOVERIES,
                row,
                "claim_reference",
                BooksError.LOAN_STATE_INCONSISTENT,
                _("只有已代偿的补偿申请可以有追偿回收"),
            )
        if status == RecoveryStatus.RETURNED and row["returned_on"] is None and "returned_on" not in row.bad:
            self.error(RECOVERIES, row, "returned_on", FieldError.REQUIRED, _("已返还的回收须填写返还日期"))
        if status == RecoveryStatus.RETURN_DUE and row["returned_on"] is not None:
            self.error(
                RECOVERIES,
                row,
                "returned_on",
                BooksError.LOAN_STATE_INCONSISTENT,
                _("待返还的回收不应有返还日期"),
            )
        self._order(RECOVERIES, row, "received_on", "returned_on")
        self._future(RECOVERIES, row, "returned_on")
        gross, costs, amount = row["gross_amount"], row["costs"] or ZERO, row["fund_amount"]
        if gross is not None and row["received_on"] is not None:
            self.violations(
                RECOVERIES,
                row,
                claim_rules.check_recovery(
                    gross=gross,
                    costs=costs,
                    received_on=row["received_on"],
                    paid_on=claim.paid_on,
                    today=self.today,
                ),
            )
        if claim.bad or row.failed or amount is None:
            return None
        # The fund gets back in the proportion in which it bore the loss (domain-rules §9).
        bank_loss = claim.outstanding - claim.recovered_before
        expected = claim_rules.recovery_fund_amount(
            gross=gross,
            costs=costs,
            paid_amount=claim.paid_amount,
            bank_loss=bank_loss,
            already_returned=claim.returns_due,
        )
        if amount != expected:
            self.error(
                RECOVERIES,
                row,
                "fund_amount",
                BooksError.RECOVERY_SHARE_MISMATCH,
                _(
                    "应返还资金应为 %(expected)s 元：回收净额 %(net)s 元 × 已代偿 %(paid)s 元 ÷ 银行损失 %(loss)s 元"
                    "（资金按承担损失的比例分享回收，返还合计不超过已代偿金额）"
                )
                % {
                    "expected": _yuan(expected),
                    "net": _yuan(gross - costs),
                    "paid": _yuan(claim.paid_amount),
                    "loss": _yuan(bank_loss),
                },
            )
            return None
        claim.returns_due += amount
        if status == RecoveryStatus.RETURNED:
            claim.returned += amount
        due_on = row["due_on"] or loan_imports.recovery_due_on(
            received_on=row["received_on"], policy=claim.policy
        )
        return {
            "_claim": row["claim_reference"],
            "received_on": row["received_on"],
            "gross_amount": gross,
            "costs": costs,
            "source": row["source"],
            "fund_amount": amount,
            "due_on": due_on,
            "status": status,
            "returned_on": row["returned_on"],
        }

    # --- 资金台账 ----------------------------------------------------------------------------------

    def _ledger(self) -> None:
        def key_of(value_date, entry_type, level, amount, reference, claim_ref):
            return (value_date, entry_type, level or None, amount, reference or None, claim_ref or None)

        in_system: Counter = Counter()
        by_reference: Counter = Counter()
        entries = LedgerEntry.objects.filter(fund=self.fund).values_list(
            "value_date", "entry_type", "government_level", "amount", "reference", "claim__reference"
        )
        for value_date, entry_type, level, amount, reference, claim_ref in entries:
            in_system[key_of(value_date, entry_type, level, amount, reference, claim_ref)] += 1
            self.movements.append(Movement(value_date, amount, (entry_type, None)))
        unmatched_rows: list[tuple[Row, tuple]] = []
        for chunk in self._chunks(LEDGER):
            self._claim_ref({row["claim_reference"] for row in chunk if row["claim_reference"]})
            for row in chunk:
                values = row.values
                if row.failed or None in (values["value_date"], values["entry_type"], values["amount"]):
                    self.ledger_failed = True
                    continue
                key = key_of(values["value_date"], values["entry_type"], values["government_level"], values["amount"],
                             values["reference"], values["claim_reference"])  # fmt: skip
                if in_system[key] > 0:
                    in_system[key] -= 1
                    self._classify(LEDGER, row, "unchanged")
                    continue
                unmatched_rows.append((row, key))
        # An entry is never changed: a row with the date, type and business reference of an entry
        # the workbook otherwise leaves unmatched is that entry edited, not a new one.
        for (value_date, entry_type, _l, _a, reference, _c), n in in_system.items():
            if n > 0 and reference:
                by_reference[(value_date, entry_type, reference)] += n
        for row, key in unmatched_rows:
            if key[4] and by_reference[(key[0], key[1], key[4])] > 0:
                by_reference[(key[0], key[1], key[4])] -= 1
                self.error(
                    LEDGER,
                    row,
                    "amount",
                    BooksError.LEDGER_ENTRY_DIFFERS,
                    _("业务编号 %(reference)s 的%(type)s分录与系统中的记录不一致；台账只能追加，不能修改")
                    % {"reference": key[4], "type": LEDGER.col("entry_type").label_of(key[1])},
                )
                self.ledger_failed = True
                continue
            self._ledger_new(row)
            self._classify(LEDGER, row, "new")
        self._ledger_balance()

    def _ledger_new(self, row: Row) -> None:
        entry_type, amount, level, claim_ref = (
            row["entry_type"],
            row["amount"],
            row["government_level"],
            row["claim_reference"],
        )
        label = LEDGER.col("entry_type").label_of(entry_type)
        if entry_type in INFLOW_TYPES and amount < 0:
            self.error(
                LEDGER,
                row,
                "amount",
                BooksError.LEDGER_SIGN_MISMATCH,
                _("%(type)s是流入，金额应为正数") % {"type": label},
            )
        elif entry_type in OUTFLOW_TYPES and amount > 0:
            self.error(
                LEDGER,
                row,
                "amount",
                BooksError.LEDGER_SIGN_MISMATCH,
                _("%(type)s是流出，金额应为负数") % {"type": label},
            )
        magnitude = amount if entry_type == EntryType.ADJUSTMENT else abs(amount)
        self.violations(
            LEDGER,
            row,
            entry_violations(entry_type=entry_type, amount=magnitude, government_level=level or ""),
        )
        self._future(LEDGER, row, "value_date")
        if entry_type in (EntryType.COMPENSATION_PAID, EntryType.RECOVERY_RETURNED):
            if claim_ref is None:
                self.error(
                    LEDGER,
                    row,
                    "claim_reference",
                    FieldError.REQUIRED,
                    _("代偿支出和追偿返还须填写补偿申请编号"),
                )
            elif claim_ref not in self.claims:
                self._unknown_claim(LEDGER, row, "claim_reference", claim_ref)
            else:
                self.ledger_claims[claim_ref].append(row)
        elif claim_ref is not None:
            self.error(
                LEDGER,
                row,
                "claim_reference",
                FieldError.INVALID,
                _("只有代偿支出和追偿返还填写补偿申请编号"),
            )
        self._note_date(row["value_date"])
        if row.failed:
            self.ledger_failed = True
            return
        self.new_ledger.append(
            (
                row,
                ImportedEntry(
                    entry_type=entry_type,
                    amount=amount,
                    value_date=row["value_date"],
                    government_level=level or "",
                    description=row["description"] or "",
                    reference=row["reference"] or "",
                ),
            )
        )

    def _ledger_after(self) -> list[Movement]:
        """The ledger after the import: the system's entries, tagged (type, None), and the new
        rows, tagged (type, row)."""
        return self.movements + [
            Movement(entry.value_date, entry.amount, (entry.entry_type, row))
            for row, entry in self.new_ledger
        ]

    @staticmethod
    def _is_payout(movement: Movement) -> bool:
        return movement.tag[0] == EntryType.COMPENSATION_PAID

    def _ledger_balance(self) -> None:
        """The balance in date order never below zero; the stated balance met, to the fen."""
        movements = self._ledger_after()
        negative = first_negative(movements)
        if negative is not None:
            moved, balance = negative
            blame = moved.tag[1]
            if blame is None:  # an entry in the system: blame the last new outflow on or before its day
                outflows = [
                    r for r, e in self.new_ledger if e.amount < 0 and e.value_date <= moved.value_date
                ]
                blame = outflows[-1] if outflows else None
            if blame is not None:
                self.error(
                    LEDGER,
                    blame,
                    "amount",
                    FundsError.FUND_BALANCE_INSUFFICIENT,
                    _("按记账日期顺序，%(date)s 资金余额为 %(balance)s 元，不能为负")
                    % {"date": moved.value_date, "balance": _yuan(balance)},
                )
        total = sum((m.amount for m in movements), ZERO)
        self.report.balance_after = f"{total:.2f}"
        if self.control_balance is not None and quantize(total) != self.control_balance:
            self.error(
                FUND,
                self.control_row,
                "balance",
                BooksError.LEDGER_TOTAL_MISMATCH,
                _("导入后台账余额为 %(total)s 元，与填写的台账余额 %(stated)s 元不符")
                % {"total": _yuan(total), "stated": _yuan(self.control_balance)},
            )

    def _claim_money(self) -> None:
        """A claim paid here has its payout in the ledger; its returned recoveries too."""
        touched = {ref for ref, c in self.claims.items() if c.new and not c.bad} | set(self.ledger_claims)
        if not touched:
            return
        ids = [self.claims[r].pk for r in touched if self.claims[r].pk]
        posted: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
        for claim_id, entry_type, amount in LedgerEntry.objects.filter(claim_id__in=ids).values_list(
            "claim_id", "entry_type", "amount"
        ):
            posted[(claim_id, entry_type)] += amount
        for ref in sorted(touched):
            claim = self.claims[ref]
            if claim.bad:
                continue
            rows = [r for r in self.ledger_claims.get(ref, []) if not r.failed]
            paid = -posted[(claim.pk, EntryType.COMPENSATION_PAID)] if claim.pk else ZERO
            paid -= sum((r["amount"] for r in rows if r["entry_type"] == EntryType.COMPENSATION_PAID), ZERO)
            returned = posted[(claim.pk, EntryType.RECOVERY_RETURNED)] if claim.pk else ZERO
            returned += sum(
                (r["amount"] for r in rows if r["entry_type"] == EntryType.RECOVERY_RETURNED), ZERO
            )
            all_rows = self.ledger_claims.get(ref, [])
            where = (
                (CLAIMS, claim.row, "paid_amount")
                if claim.new and claim.row
                else (LEDGER, all_rows[0] if all_rows else None, "amount")
            )
            if claim.paid_amount is not None and paid != claim.paid_amount:
                self.error(
                    where[0],
                    where[1],
                    where[2],
                    BooksError.CLAIM_LEDGER_MISMATCH,
                    _("申请 %(reference)s 的已付金额为 %(paid)s 元，资金台账中的代偿支出合计为 %(posted)s 元")
                    % {"reference": ref, "paid": _yuan(claim.paid_amount), "posted": _yuan(paid)},
                )
            if returned != claim.returned:
                spot = (LEDGER, all_rows[-1], "amount") if all_rows else where
                self.error(
                    spot[0],
                    spot[1],
                    spot[2],
                    BooksError.RECOVERY_LEDGER_MISMATCH,
                    _(
                        "申请 %(reference)s 已返还的回收合计 %(returned)s 元，资金台账中的追偿返还合计为 %(posted)s 元"
                    )
                    % {"reference": ref, "returned": _yuan(claim.returned), "posted": _yuan(returned)},
                )

    # --- the book as a whole, then the end ------------------------------------------------------------

    def _book_limits(self) -> None:
        """What only the whole book shows, on the book after the import (the balances between
        old monthly reports are not in the books): the fund's covered balance within its
        capital × leverage, and each enterprise's live loans within the per-enterprise limit,
        both under the policy in force today. The loan that crosses a limit, taking the new
        loans in the order they were accepted, is blamed. (The ledger never below zero in date
        order is checked with the ledger.)"""
        policy = self.policy_on(self.today)
        new_live = sorted(
            (loan for loan in self.loans.values() if loan.new and not loan.bad and loan.live and loan.row),
            key=lambda loan: (loan.accepted_on, loan.row),
        )
        if policy is None or not new_live:
            return
        if not self.ledger_failed and LEDGER.key not in self.skip:
            new_capital = sum(
                (
                    e.amount
                    for _r, e in self.new_ledger
                    if e.entry_type in (EntryType.CONTRIBUTION, EntryType.REFUND)
                ),
                ZERO,
            )
            capacity = quantize((self.before.capital + new_capital) * policy.leverage)
            covered = self.before.covered_outstanding
            for loan in new_live:
                covered += loan.covered_outstanding
                check = check_fund_capacity(total=covered, capacity=capacity)
                if not check.passed:
                    self.error(LOANS, loan.row, "covered_principal", check.code, check.message)
                    break
        if policy.max_enterprise_exposure is None:
            return
        by_enterprise: dict[str, list[Loan]] = defaultdict(list)
        for loan in new_live:
            by_enterprise[loan.enterprise_uscc].append(loan)
        in_system = loan_imports.live_exposure_by_enterprise(
            [self.ent[u].pk for u in by_enterprise if self.ent.get(u) and self.ent[u].pk],
            exclude=[loan.pk for loan in new_live if loan.pk],
        )
        for uscc, loans in by_enterprise.items():
            ent = self.ent.get(uscc)
            total = in_system.get(ent.pk, ZERO) if ent and ent.pk else ZERO
            for loan in loans:
                total += loan.outstanding
                check = check_enterprise_exposure(total=total, limit=policy.max_enterprise_exposure)
                if not check.passed:
                    self.error(
                        LOANS,
                        loan.row,
                        "principal",
                        check.code,
                        _("企业 %(uscc)s：%(message)s") % {"uscc": uscc, "message": check.message},
                    )
                    break

    def _write_money(self) -> None:
        """Claims, their recoveries and the new ledger entries, once every check has passed."""
        new_claims = [c for c in self.claims.values() if c.new and c.values is not None]
        rows = []
        for c in new_claims:
            loan = self.loans[c.loan_key]
            rows.append(
                {**c.values, "filing_id": loan.pk, "institution_id": self.inst[loan.institution_code].pk}
            )
        for claim in loan_imports.claims_import_create(rows=rows, by=self.by, comment=self.comment):
            self.claims[claim.reference].pk = claim.pk
        for r in self.new_recoveries:
            r["claim_id"] = self.claims[r.pop("_claim")].pk
        loan_imports.recoveries_import_create(
            rows=self.new_recoveries, by=self.by, comment=self.comment, today=self.today
        )
        entries = [
            replace(
                entry, claim_id=self.claims[row["claim_reference"]].pk if row["claim_reference"] else None
            )
            for row, entry in self.new_ledger
        ]
        ledger_import(fund=self.fund, entries=entries, by=self.by)

    def _finish(self) -> None:
        loans_added = any(loan.new for loan in self.loans.values())
        loan_imports.book_import_finish(fund=self.fund, since=self.earliest, loans_added=loans_added)
        self.report.balance_after = f"{fund_balance(fund=self.fund):.2f}"
