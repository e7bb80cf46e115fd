"""The dry run and the import issue as many SQL queries for a small fund's books as for one
three times its size (issue 14, and tests/test_query_counts.py for the rest of the system):
every sheet is read in chunks and matched, checked and written with a fixed number of queries
per chunk, whatever the number of rows in it. The sizes stay within one chunk and within one
SQLite bulk-insert batch, so that the counts compare the code, not the batching; a first run
warms the per-process caches (content types, the working-day calendar) for both.

A failure lists the queries whose count changed, literals folded to `?`.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from fundmgr.ground.accounts.models import User
from fundmgr.ground.lib import clock
from fundmgr.top.books.sample import sample_books, sample_fund
from fundmgr.top.books.services import books_import, books_validate
from fundmgr.top.books.workbook import write_books

pytestmark = pytest.mark.django_db

SIZES = ((6, 8), (18, 24))  # (enterprises, loans): a small fund's books, and three times them


def _shape(sql: str) -> str:
    sql = re.sub(r'"(s\d+_x\d+|_django_curs_[^"]*)"', '"?"', sql)  # savepoint and cursor names
    sql = re.sub(r"'[^']*'|\b\d+(\.\d+)?\b", "?", sql)
    sql = " ".join(sql.split())
    if sql.startswith("INSERT INTO "):  # one statement, whether VALUES or UNNEST carries the rows
        return " ".join(sql.split()[:3]) + " …"
    sql = re.sub(r"\((\?, )+\?\)", "(…)", sql)
    return re.sub(r"^SELECT .*? FROM", "SELECT … FROM", sql)[:160]


def _count(action) -> Counter:
    with CaptureQueriesContext(connection) as queries:
        action()
    return Counter(_shape(str(q["sql"])) for q in queries.captured_queries)


def _differences(small: Counter, large: Counter) -> dict[str, tuple[int, int]]:
    return {sql: (small[sql], large[sql]) for sql in set(small) | set(large) if small[sql] != large[sql]}


def _run(code: str, enterprises: int, loans: int, tmp_path, admin) -> dict[str, Counter]:
    sample_fund(code=code, prefix=code.upper())
    path = tmp_path / f"{code}.xlsx"
    write_books(
        str(path), sample_books(fund_code=code, enterprises=enterprises, loans=loans, today=clock.today())
    )
    counts = {
        "dry run": _count(lambda: books_validate(file=str(path))),
        "import": _count(lambda: books_import(file=str(path), by=admin)),
        "dry run, every row unchanged": _count(lambda: books_validate(file=str(path))),
    }
    # Every enterprise, right and institution corrected: the updates go out in bulk too.
    book = load_workbook(path)
    for row in book["企业"].iter_rows(min_row=2):
        row[5].value += 1  # 从业人员(人)
        row[2].value = row[2].value[:4] + "03"  # 所在区县代码: another district of the city
    for row in book["知识产权"].iter_rows(min_row=2):
        row[3].value = f"{row[3].value}（更正）"  # 名称
    for row in book["合作机构"].iter_rows(min_row=2):
        row[1].value = f"{row[1].value}（更名）"  # 名称
    book.save(path)
    counts["import of corrections"] = _count(lambda: books_import(file=str(path), by=admin))
    return counts


def test_the_queries_do_not_grow_with_the_rows(new_fund, tmp_path, settings):
    admin = User.objects.create_user(username="books-admin", password="x", role="admin", is_staff=True)
    _run("qw", *SIZES[0], tmp_path, admin)  # once first: per-process caches (content types, calendar) warm
    small = _run("qa", *SIZES[0], tmp_path, admin)
    large = _run("qb", *SIZES[1], tmp_path, admin)

    changed = {what: _differences(small[what], large[what]) for what in small}
    assert changed == {what: {} for what in small}
    assert sum(large["import"].values()) < 150  # and the count is small


def test_the_sizes_compared_hold_claims_and_corrections(new_fund, tmp_path):
    """The larger books do hold more of everything the counts cover (claims and recoveries too)."""
    counts = {}
    for enterprises, loans in SIZES:
        rows = sample_books(fund_code="x", enterprises=enterprises, loans=loans, today=clock.today())
        counts[loans] = {key: sum(1 for _ in value) for key, value in rows.items()}
    small, large = counts[SIZES[0][1]], counts[SIZES[1][1]]
    for key in ("enterprises", "ip", "loans", "pledges", "claims", "recoveries", "ledger"):
        assert large[key] > small[key], key
    assert Decimal(small["claims"]) > 0
