"""`rawsql.cursor()` runs the hot hand-written reads: on PostgreSQL each statement is prepared
once per connection (planned once, then only bound and executed, with a generic plan), answers
exactly what Django's cursor answers, and is logged with its parameters in place as Django logs
the ORM's; `DATABASE_PREPARED_STATEMENTS=false` runs them unprepared. `in_list` writes one
statement for any number of values on PostgreSQL. Elsewhere both are Django's plain ways."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from fundmgr.ground.accounts.models import User
from fundmgr.ground.lib import rawsql

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
BY_NAME = "SELECT username, is_active FROM accounts_user WHERE username = %s ORDER BY id"


@pytest.fixture
def people(db) -> list[User]:
    return [User.objects.create_user(username=name, password="x") for name in ("alice", "bob", "carol")]


def _prepared() -> list[str]:
    """The statements prepared on this connection (PostgreSQL), as the server keeps them."""
    with connection.cursor() as c:
        c.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        return [row[0] for row in c.fetchall()]


def _plain(sql: str, params) -> list[tuple]:
    with connection.cursor() as c:
        c.execute(sql, params)
        return c.fetchall()


def test_answers_what_djangos_cursor_answers(people):
    for name in ("alice", "bob", "nobody", "alice"):
        assert rawsql.rows(BY_NAME, [name]) == _plain(BY_NAME, [name])
    assert rawsql.rows(BY_NAME, ["bob"]) == [("bob", True)]


@pytest.mark.postgres
def test_a_statement_is_prepared_once_per_connection_and_reused(people):
    before = _prepared()
    for name in ("alice", "bob", "carol", "alice"):
        assert rawsql.rows(BY_NAME, [name]) == [(name, True)]
    new = [s for s in _prepared() if s not in before]
    # the server holds the statement once, in its bound form, whatever the parameters
    assert new == ["SELECT username, is_active FROM accounts_user WHERE username = $1 ORDER BY id"]


@pytest.mark.postgres
def test_the_orms_queries_are_not_prepared(people):
    before = _prepared()
    for _ in range(10):  # past psycopg's automatic threshold (5)
        assert User.objects.filter(username="alice").count() == 1
    assert _prepared() == before


@pytest.mark.postgres
def test_prepared_statements_are_planned_generically():
    """Planned once for any parameters: with custom plans PostgreSQL would plan each run again,
    which is what preparing them is meant to save (the reads are all index lookups)."""
    with connection.cursor() as c:
        c.execute("SHOW plan_cache_mode")
        assert c.fetchone() == ("force_generic_plan",)


@pytest.mark.postgres
def test_without_preparation_the_same_statement_runs_unprepared(people):
    connection.ensure_connection()
    raw = connection.connection
    threshold, raw.prepare_threshold = raw.prepare_threshold, None  # what the setting turns off
    try:
        before = _prepared()
        assert rawsql.rows(BY_NAME, ["carol"]) == [("carol", True)]
        assert rawsql.rows(BY_NAME, ["bob"]) == [("bob", True)]
        assert _prepared() == before
    finally:
        raw.prepare_threshold = threshold


def test_statements_are_logged_with_their_parameters(people):
    with CaptureQueriesContext(connection) as queries:
        rawsql.rows(BY_NAME, ["alice"])
    assert [q["sql"] for q in queries.captured_queries] == [
        "SELECT username, is_active FROM accounts_user WHERE username = 'alice' ORDER BY id"
    ]


def test_errors_come_back_as_djangos(people):
    with pytest.raises(DatabaseError):
        rawsql.rows("SELECT no_such_column FROM accounts_user WHERE username = %s", ["alice"])


@pytest.mark.parametrize("names", [["alice"], ["alice", "carol"], ["bob", "carol", "alice", "nobody"]])
def test_in_list_selects_the_rows_named(people, names):
    where, params = rawsql.in_list("username", names)
    found = rawsql.rows(f"SELECT username FROM accounts_user WHERE {where} ORDER BY username", params)
    assert [row[0] for row in found] == sorted(set(names) - {"nobody"})


@pytest.mark.postgres
def test_in_list_is_one_statement_for_any_number_of_values():
    texts = {rawsql.in_list("id", list(range(n)))[0] for n in (1, 2, 7, 300)}
    assert texts == {"id = ANY(%s)"}


def test_in_list_needs_a_value():
    with pytest.raises(ValueError):
        rawsql.in_list("id", [])


def _database_options(**env: str) -> str:
    """OPTIONS of the default database as settings.py builds them from `env` (PostgreSQL)."""
    full = {k: v for k, v in os.environ.items() if k != "DATABASE_PREPARED_STATEMENTS"}
    full.update(DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused", **env)
    code = "from django.conf import settings; print(sorted(settings.DATABASES['default']['OPTIONS'].items()))"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**full, "DJANGO_SETTINGS_MODULE": "fundmgr.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_setting_turns_preparation_on_and_off():
    on = _database_options()
    assert "('prepare_threshold', 5)" in on and "plan_cache_mode=force_generic_plan" in on
    off = _database_options(DATABASE_PREPARED_STATEMENTS="false")
    assert "prepare_threshold" not in off and "plan_cache_mode" not in off
    assert "jit=off" in off


# --- plan_afresh: kept plans sized on the tables of the moment ------------------------------------


def _plan(statement: str) -> str:
    with connection.cursor() as c:
        c.execute(f"EXPLAIN EXECUTE {statement}")
        return "\n".join(row[0] for row in c.fetchall())


@pytest.mark.postgres
@pytest.mark.parametrize("afresh", [False, True], ids=["kept plan", "planned afresh"])
def test_a_kept_plan_made_on_a_small_table_is_made_again_when_asked(afresh):
    """What a large import meets at commit: the foreign-key checks run with plans PostgreSQL
    keeps per connection (as it keeps a prepared statement's); one made while the table was
    small scans the whole table, and keeps doing so after the transaction has added thousands
    of rows, unless the transaction plans afresh."""
    with connection.cursor() as c:
        c.execute("CREATE TEMPORARY TABLE parent (id bigint PRIMARY KEY)")  # gone with the test's transaction
        c.execute("INSERT INTO parent SELECT generate_series(1, 3)")
        c.execute("ANALYZE parent")  # three rows: a sequential scan is the cheapest plan
        c.execute("PREPARE parent_exists (bigint) AS SELECT 1 FROM parent WHERE id = $1")
    try:
        assert "Seq Scan" in _plan("parent_exists (1)")
        with connection.cursor() as c:
            c.execute("INSERT INTO parent SELECT generate_series(4, 50000)")  # what an import adds
        if afresh:
            rawsql.plan_afresh()
            assert "Index" in _plan("parent_exists (1)")
        else:
            assert "Seq Scan" in _plan("parent_exists (1)")  # the hazard plan_afresh is for
    finally:
        with connection.cursor() as c:
            c.execute("DEALLOCATE parent_exists")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_planning_afresh_lasts_for_the_transaction():
    from django.db import transaction

    def mode() -> str:
        with connection.cursor() as c:
            c.execute("SHOW plan_cache_mode")
            return c.fetchone()[0]

    before = mode()
    with transaction.atomic():
        rawsql.plan_afresh()
        assert mode() == "force_custom_plan"
    assert mode() == before == "force_generic_plan"


@pytest.mark.django_db(transaction=True)
def test_planning_afresh_needs_a_transaction():
    with pytest.raises(RuntimeError):
        rawsql.plan_afresh()
