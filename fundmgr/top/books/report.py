"""What a dry run or an import found: every error with its sheet, row, column, code and
message, and per sheet how many rows are new, changed, unchanged or faulty."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .layout import SHEETS

# Errors kept in full; beyond this a file is mostly wrong and the count says how much.
MAX_ERRORS = 10_000


@dataclass(frozen=True)
class BookError:
    sheet: str  # sheet name as in the workbook (资金, 企业 …)
    row: int | None  # 1-based row in the sheet; None for the file or a whole sheet
    col: int | None  # 1-based column; None for a whole row or sheet
    column: str  # "C 所在区县代码": letter and header, or "" when not a cell
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SheetSummary:
    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    invalid: int = 0


@dataclass
class BooksReport:
    file_name: str = ""
    fund_code: str = ""
    fund_name: str = ""
    errors: list[BookError] = field(default_factory=list)
    error_count: int = 0
    summary: dict[str, SheetSummary] = field(default_factory=lambda: {s.key: SheetSummary() for s in SHEETS})
    imported: bool = False
    balance_after: str | None = None  # the fund's ledger balance after the import (yuan, 2 places)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def truncated(self) -> int:
        return self.error_count - len(self.errors)

    def add(self, error: BookError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "fund_code": self.fund_code,
            "fund_name": self.fund_name,
            "errors": [e.as_dict() for e in self.errors],
            "error_count": self.error_count,
            "summary": {key: asdict(s) for key, s in self.summary.items()},
            "imported": self.imported,
            "balance_after": self.balance_after,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BooksReport:
        report = cls(
            file_name=data.get("file_name", ""),
            fund_code=data.get("fund_code", ""),
            fund_name=data.get("fund_name", ""),
            errors=[BookError(**e) for e in data.get("errors", [])],
            error_count=data.get("error_count", 0),
            imported=data.get("imported", False),
            balance_after=data.get("balance_after"),
        )
        for key, values in (data.get("summary") or {}).items():
            report.summary[key] = SheetSummary(**values)
        return report

    def summary_rows(self) -> list[tuple[str, SheetSummary]]:
        """(sheet name, counts) in the workbook's order, for pages and the command."""
        return [(str(s.name), self.summary.get(s.key, SheetSummary())) for s in SHEETS]
