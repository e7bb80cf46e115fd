"""Helpers for the workbook tests: a fund new to the system and its generated books
(fundmgr.top.books.sample), and how a report's errors are read back."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fundmgr.ground.lib import clock
from fundmgr.top.books.sample import sample_books, sample_fund
from fundmgr.top.books.workbook import write_books


@pytest.fixture
def new_fund(db):
    """A fund set up with a policy (max fund share 50 %) and no books yet."""
    return sample_fund(code="smp", prefix="SP")


def sample_file(tmp_path: Path, name: str = "books.xlsx", **kwargs) -> Path:
    """The generated books of the `smp` fund as a file (small unless told otherwise)."""
    options = {"fund_code": "smp", "enterprises": 12, "loans": 8, "today": clock.today(), **kwargs}
    path = tmp_path / name
    write_books(str(path), sample_books(**options))
    return path


def edit(path: Path, changes) -> Path:
    """Open a workbook as a person would in Excel, change it, save it under the same name."""
    book = load_workbook(path)
    changes(book)
    book.save(path)
    return path


def where(report) -> set[tuple[str, int | None, str, str]]:
    """Each error as (sheet, row, column letter, code)."""
    return {(e.sheet, e.row, (e.column or "").split(" ")[0], e.code) for e in report.errors}


def codes(report) -> set[str]:
    return {e.code for e in report.errors}


def as_bytes(path: Path) -> io.BytesIO:
    return io.BytesIO(path.read_bytes())
