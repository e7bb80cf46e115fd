"""Database faults under the API: a lost connection, a database refusing connections, recovery.

On PostgreSQL the faults are real: the test's own backend is ended with `pg_terminate_backend`
from a second connection, and the outage points the connection at a port nothing listens on
(nothing on the shared server is touched, and the settings are restored whatever happens).
Such tests run with `transaction=True`: there is no test transaction around them to break.

The decision logic itself (a lost read runs once more, a write never, an error on a healthy
connection is not repeated) is also checked on any database by making a query fail as a lost
connection would (`fundmgr.ground.lib.dbfaults.is_lost` is the one place that tells).
"""

from __future__ import annotations

import logging
import socket
import time
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.db import OperationalError, connection

from tests.factories import filing_body

pytestmark = pytest.mark.django_db

RETRY_LOG = "running it once more"


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "service_unavailable"


def row_counts() -> dict[str, int]:
    """Rows in every table of the project (API tokens excluded: reads touch `last_used_at`)."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.label != "accounts.ApiToken"
    }


# --- PostgreSQL: real faults ---------------------------------------------------------------


def backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


def terminate(pid: int) -> None:
    """End backend `pid` from a connection of its own, as a failover or an operator would,
    and wait until it is gone."""
    import psycopg

    params = connection.get_connection_params()
    with psycopg.connect(
        host=params.get("host"),
        port=params.get("port"),
        user=params.get("user"),
        password=params.get("password"),
        dbname=params["dbname"],
        autocommit=True,
    ) as admin:
        (ended,) = admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone()
    assert ended, f"backend {pid} did not end"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free again once closed: nothing listens there


@contextmanager
def database_refusing_connections():
    """The database's address leads nowhere until `restore()` is called (or the block ends)."""
    settings_dict = connection.settings_dict
    saved = settings_dict["HOST"], settings_dict["PORT"]
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", str(closed_port())

    def restore() -> None:
        settings_dict["HOST"], settings_dict["PORT"] = saved

    try:
        yield restore
    finally:
        restore()
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_read_whose_backend_was_terminated_runs_once_more_and_succeeds(personas, caplog):
    bank, officer = personas.client("bank_a"), personas.client("officer")
    assert bank.get("/api/v1/funds/").status_code == 200
    before = backend_pid()
    terminate(before)

    with caplog.at_level(logging.WARNING, logger="fundmgr.ground.lib.api"):
        response = bank.get("/api/v1/funds/")
    assert response.status_code == 200, response.content[:300]
    assert [r for r in caplog.records if RETRY_LOG in r.getMessage()], "answered without the retry"
    assert backend_pid() != before
    # and the requests after it work on the new connection, whoever sends them
    for client, path in (
        (bank, "/api/v1/me/"),
        (bank, "/api/v1/filings/"),
        (officer, "/api/v1/claims/"),
        (officer, "/api/v1/enterprises/"),
    ):
        assert client.get(path).status_code == 200, path


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_read_whose_backend_is_terminated_twice_gets_503(personas, monkeypatch):
    from fundmgr.ground.funds import selectors

    real = selectors.funds_visible_to
    runs = []

    def dies_under_every_run(principal):
        runs.append(1)
        terminate(backend_pid())
        return real(principal)

    monkeypatch.setattr(selectors, "funds_visible_to", dies_under_every_run)
    assert_unavailable(personas.client("officer").get("/api/v1/funds/"))
    assert len(runs) == 2  # the request, and once more
    monkeypatch.undo()
    assert personas.client("officer").get("/api/v1/funds/").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_write_after_its_backend_was_terminated_gets_503_and_is_not_run(personas, business_date):
    business_date("2026-11-21")
    bank = personas.client("bank_a")
    assert bank.get("/api/v1/me/").status_code == 200
    body = filing_body()
    before = row_counts()
    terminate(backend_pid())

    response = bank.post("/api/v1/filings/", body, format="json", HTTP_IDEMPOTENCY_KEY="after-kill-1")
    assert_unavailable(response)
    assert row_counts() == before
    # the client's retry with the same key files it, once
    retried = bank.post("/api/v1/filings/", body, format="json", HTTP_IDEMPOTENCY_KEY="after-kill-1")
    assert retried.status_code == 201, retried.json()
    replayed = bank.post("/api/v1/filings/", body, format="json", HTTP_IDEMPOTENCY_KEY="after-kill-1")
    assert replayed.status_code == 201 and replayed["Idempotent-Replayed"] == "true"
    assert replayed.json()["id"] == retried.json()["id"]


def _after_the_filing_row_is_inserted(sql: str, in_transaction: bool, seen: list[str]) -> bool:
    from loans.models import LoanFiling

    # (the filing, its history entry and its pledges are one statement on PostgreSQL: a WITH)
    return f'INSERT INTO "{LoanFiling._meta.db_table}"' in sql


def _after_the_key_is_claimed(sql: str, in_transaction: bool, seen: list[str]) -> bool:
    # the first query outside a transaction once the key's row is committed
    claimed = any(s.startswith('INSERT INTO "lib_idempotencyrecord"') for s in seen)
    return claimed and not in_transaction and not sql.startswith('INSERT INTO "lib_idempotencyrecord"')


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "when", [_after_the_filing_row_is_inserted, _after_the_key_is_claimed], ids=["in-transaction", "between"]
)
def test_a_write_whose_backend_is_terminated_midway_leaves_nothing_and_frees_its_key(
    personas, business_date, when
):
    from loans.models import LoanFiling

    business_date("2026-11-21")
    bank = personas.client("bank_a")
    assert bank.get("/api/v1/me/").status_code == 200
    body = filing_body()
    before = row_counts()
    seen: list[str] = []
    injected: list[str] = []

    def end_the_backend(execute, sql, params, many, context):
        seen.append(sql)
        if not injected and when(sql, connection.in_atomic_block, seen[:-1]):
            injected.append(sql)
            if when is _after_the_filing_row_is_inserted:
                result = execute(sql, params, many, context)  # the row is written, uncommitted
                terminate(backend_pid())
                return result
            terminate(backend_pid())
        return execute(sql, params, many, context)

    with connection.execute_wrapper(end_the_backend):
        response = bank.post("/api/v1/filings/", body, format="json", HTTP_IDEMPOTENCY_KEY="midway-1")
    assert injected, "the fault was never injected"
    assert_unavailable(response)
    assert row_counts() == before  # nothing of the filing, and its key is free again

    started = time.monotonic()
    retried = bank.post("/api/v1/filings/", body, format="json", HTTP_IDEMPOTENCY_KEY="midway-1")
    assert retried.status_code == 201, retried.json()  # not 409 "still in progress"
    assert time.monotonic() - started < 5
    assert LoanFiling.objects.filter(contract_no=body["contract_no"]).count() == 1


def _terminate_after_the_commit_of(table: str, seen: list[str], injected: list[str]):
    """An execute wrapper that ends the backend at the first statement after the transaction
    that wrote to `table` has committed."""

    def wrapper(execute, sql, params, many, context):
        written = any(f'INSERT INTO "{table}"' in s or f'UPDATE "{table}"' in s for s in seen)
        seen.append(sql)
        if not injected and written and not connection.in_atomic_block:
            injected.append(sql)
            terminate(backend_pid())
        return execute(sql, params, many, context)

    return wrapper


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_write_whose_backend_is_terminated_after_its_commit_is_never_done_twice(personas, business_date):
    """A staff step is committed, then the connection dies before the answer is made: the
    client gets a 503, and its retry with the same key is told the work was done (409
    idempotency_answer_lost) instead of taking the step a second time. A filing is answered
    from what its service wrote: the connection dying after its commit loses only the stored
    copy of the answer, and the retry is still never filed twice."""
    from fundmgr.ground.accounts.workflow import history
    from loans.models import LoanFiling

    business_date("2026-11-21")
    bank, officer = personas.client("bank_a"), personas.client("officer")
    assert bank.get("/api/v1/me/").status_code == 200
    body = filing_body()
    seen: list[str] = []
    injected: list[str] = []
    with connection.execute_wrapper(
        _terminate_after_the_commit_of(LoanFiling._meta.db_table, seen, injected)
    ):
        response = bank.post("/api/v1/filings/", body, format="json", HTTP_IDEMPOTENCY_KEY="after-commit-1")
    assert injected, "the fault was never injected"
    assert response.status_code == 201, response.content[:300]
    assert LoanFiling.objects.filter(contract_no=body["contract_no"]).count() == 1
    retried = bank.post("/api/v1/filings/", body, format="json", HTTP_IDEMPOTENCY_KEY="after-commit-1")
    assert retried.status_code == 409, retried.json()
    assert retried.json()["code"] == "idempotency_answer_lost"
    assert LoanFiling.objects.filter(contract_no=body["contract_no"]).count() == 1

    filing = LoanFiling.objects.get(contract_no=body["contract_no"])
    step = f"/api/v1/filings/{filing.pk}/transitions/start_due_diligence/"
    assert officer.get("/api/v1/me/").status_code == 200
    seen.clear(), injected.clear()
    with connection.execute_wrapper(
        _terminate_after_the_commit_of(LoanFiling._meta.db_table, seen, injected)
    ):
        response = officer.post(
            step, {"comment": "开始尽调"}, format="json", HTTP_IDEMPOTENCY_KEY="after-commit-2"
        )
    assert injected, "the fault was never injected"
    assert_unavailable(response)
    filing.refresh_from_db()
    assert filing.status == "under_review"
    retried = officer.post(
        step, {"comment": "开始尽调"}, format="json", HTTP_IDEMPOTENCY_KEY="after-commit-2"
    )
    assert retried.status_code == 409, retried.json()
    assert retried.json()["code"] == "idempotency_answer_lost"
    assert [h["transition"] for h in history(filing)] == ["submit", "start_due_diligence"]
    # what the bank then does: read the filing it sent
    listed = bank.get("/api/v1/filings/", {"contract_no": body["contract_no"]})
    assert [f["contract_no"] for f in listed.json()["results"]] == [body["contract_no"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_refusing_connections_gets_503_everywhere_and_recovery_is_immediate(
    personas, business_date, client
):
    business_date("2026-11-21")
    bank, officer, regulator = (personas.client(p) for p in ("bank_a", "officer", "regulator_x"))
    anonymous = personas.client("anonymous")
    reads = [
        lambda: bank.get("/api/v1/me/"),
        lambda: bank.get("/api/v1/funds/"),
        lambda: bank.get("/api/v1/filings/"),
        lambda: officer.get("/api/v1/claims/"),
        lambda: regulator.get("/api/v1/reports/annual/?year=2026"),
        lambda: regulator.get("/api/v1/funds/zhaoqing/ledger/"),
    ]
    writes = [
        lambda: bank.post("/api/v1/filings/", filing_body(), format="json", HTTP_IDEMPOTENCY_KEY="down-1"),
        lambda: officer.post(
            "/api/v1/enterprises/9144120252133505XP/transitions/suspend/", {"comment": "x"}, format="json"
        ),
    ]
    for read in reads:
        assert read().status_code == 200  # all fine before the outage
    before = row_counts()

    with database_refusing_connections() as restore:
        for make in reads + writes:
            assert_unavailable(make())
        # what needs no database is still answered as before
        assert anonymous.get("/api/v1/me/").status_code == 401
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready["Retry-After"] == "5"
        assert ready.json()["checks"]["database"] == "unavailable"
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}

        restore()
        started = time.perf_counter()
        first = bank.get("/api/v1/funds/")
        elapsed = time.perf_counter() - started
    assert first.status_code == 200, first.content[:300]
    assert elapsed < 1.0, f"first answer {elapsed:.3f} s after the database returned"
    assert client.get("/readyz").status_code == 200
    for read in reads:
        assert read().status_code == 200
    assert row_counts() == before


# --- any database: the decision, with the loss simulated ----------------------------------


def simulate_loss(monkeypatch, state: dict) -> None:
    """The connection counts as lost while `state["lost"]`; closing it replaces it."""
    from fundmgr.ground.lib import dbfaults

    monkeypatch.setattr(dbfaults, "is_lost", lambda db: state["lost"])
    monkeypatch.setattr(dbfaults, "in_transaction", lambda: False)  # the test's own is not the request's
    monkeypatch.setattr(dbfaults, "close_lost_connections", lambda: state.update(lost=False) or True)


@pytest.fixture
def flaky_funds(monkeypatch):
    """The funds list fails `failures` times, as a lost connection (`as_lost`) or as an error
    on a healthy one would; `runs` counts how often it ran."""
    from fundmgr.ground.funds import selectors

    real = selectors.funds_visible_to
    state = {"runs": 0, "failures": 1, "lost": False, "as_lost": True, "error": OperationalError}

    def funds_visible_to(principal):
        state["runs"] += 1
        if state["runs"] <= state["failures"]:
            state["lost"] = state["as_lost"]
            raise state["error"]("terminating connection due to administrator command")
        return real(principal)

    monkeypatch.setattr(selectors, "funds_visible_to", funds_visible_to)
    simulate_loss(monkeypatch, state)
    return state


def test_a_lost_read_is_run_once_more(personas, flaky_funds):
    response = personas.client("officer").get("/api/v1/funds/")
    assert response.status_code == 200 and flaky_funds["runs"] == 2


def test_a_read_lost_twice_is_503(personas, flaky_funds):
    flaky_funds["failures"] = 2
    assert_unavailable(personas.client("officer").get("/api/v1/funds/"))
    assert flaky_funds["runs"] == 2


def test_an_error_on_a_healthy_connection_is_not_repeated(personas, flaky_funds):
    flaky_funds["as_lost"] = False  # e.g. a statement timeout: the connection lives on
    assert_unavailable(personas.client("officer").get("/api/v1/funds/"))
    assert flaky_funds["runs"] == 1


def test_a_lost_connection_behind_another_error_is_a_503_not_a_500(personas, flaky_funds):
    # e.g. a library that wraps the driver's error in its own: no exception handler knows it
    flaky_funds.update(failures=2, error=RuntimeError)
    client = personas.client("officer")
    client.raise_request_exception = False  # answer as the server would, not re-raise here
    assert_unavailable(client.get("/api/v1/funds/"))
    assert flaky_funds["runs"] == 2


def test_a_lost_write_is_never_run_twice(personas, monkeypatch, business_date):
    from loans.services import filings

    business_date("2026-11-21")
    state = {"runs": 0, "lost": False}

    def filing_submit(**kwargs):
        state["runs"] += 1
        state["lost"] = True
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(filings, "filing_submit", filing_submit)
    simulate_loss(monkeypatch, state)
    assert_unavailable(personas.client("bank_a").post("/api/v1/filings/", filing_body(), format="json"))
    assert state["runs"] == 1
