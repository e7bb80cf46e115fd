"""Idempotency-Key on POST (shared/spec/api.md, Conventions): replay, conflicts, scope, purge,
and concurrent duplicates (PostgreSQL)."""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from fundmgr.ground.accounts.api import IdempotentMixin
from fundmgr.ground.lib import tasks as lib_tasks
from fundmgr.ground.lib.idempotency import idempotency_purge_expired
from fundmgr.ground.lib.models import IdempotencyRecord, WorkdayOverride
from tests.lib import idempotency_urls
from tests.lib.idempotency_urls import CALLS

pytestmark = pytest.mark.urls("tests.lib.idempotency_urls")

URL = "/idem/rows/"
OTHER_URL = "/idem/other-rows/"


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()
    yield
    CALLS.clear()


def _post(client: APIClient, body: dict, key: str | None = None, url: str = URL):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(url, body, format="json", **headers)


def _rows(note: str) -> int:
    return WorkdayOverride.objects.filter(note=note).count()


@pytest.mark.django_db
class TestReplay:
    def test_first_call_creates_and_replay_returns_identical_answer(self, personas):
        bank_a = personas.client("bank_a")
        first = _post(bank_a, {"note": "n1"}, key="k-1")
        assert first.status_code == 201
        assert "Idempotent-Replayed" not in first
        again = _post(bank_a, {"note": "n1"}, key="k-1")
        assert again.status_code == 201
        assert again.content == first.content
        assert again["Content-Type"] == first["Content-Type"]
        assert again["Idempotent-Replayed"] == "true"
        assert _rows("n1") == 1
        assert CALLS["n1"] == 1
        record = IdempotencyRecord.objects.get(key="k-1")
        assert record.status_code == 201 and record.completed_at is not None

    def test_canonical_json_ignores_key_order_and_whitespace(self, personas):
        bank_a = personas.client("bank_a")
        h = {"HTTP_IDEMPOTENCY_KEY": "k-canon"}
        first = bank_a.post(URL, '{"note": "c", "outcome": "created"}', content_type="application/json", **h)
        again = bank_a.post(URL, '{"outcome":"created","note":"c"}', content_type="application/json", **h)
        assert first.status_code == again.status_code == 201
        assert again["Idempotent-Replayed"] == "true"
        assert _rows("c") == 1

    def test_same_key_different_body_is_409(self, personas):
        bank_a = personas.client("bank_a")
        assert _post(bank_a, {"note": "a"}, key="k-2").status_code == 201
        response = _post(bank_a, {"note": "b"}, key="k-2")
        assert response.status_code == 409
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "idempotency_key_reused"
        assert _rows("b") == 0

    def test_keys_are_scoped_per_institution(self, personas):
        first = _post(personas.client("bank_a"), {"note": "shared"}, key="same-key")
        other = _post(personas.client("bank_b"), {"note": "shared"}, key="same-key")
        assert first.status_code == other.status_code == 201
        assert "Idempotent-Replayed" not in other
        assert first.json()["id"] != other.json()["id"]
        assert _rows("shared") == 2
        assert set(IdempotencyRecord.objects.values_list("scope", flat=True)) == {
            f"inst:{personas.user('bank_a').organization.institution_id}",
            f"inst:{personas.user('bank_b').organization.institution_id}",
        }

    def test_keys_are_scoped_per_path(self, personas):
        bank_a = personas.client("bank_a")
        assert _post(bank_a, {"note": "p"}, key="k-path").status_code == 201
        other = _post(bank_a, {"note": "p"}, key="k-path", url=OTHER_URL)
        assert other.status_code == 201 and "Idempotent-Replayed" not in other
        assert _rows("p") == 2

    def test_staff_callers_are_scoped_by_user(self, personas):
        officer = _post(personas.client("officer"), {"note": "s"}, key="k-staff")
        replay = _post(personas.client("officer"), {"note": "s"}, key="k-staff")
        approver = _post(personas.client("approver"), {"note": "s"}, key="k-staff")
        assert officer.status_code == replay.status_code == approver.status_code == 201
        assert replay["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in approver
        assert _rows("s") == 2
        assert IdempotencyRecord.objects.filter(scope=f"user:{personas.user('officer').pk}").exists()

    def test_without_header_every_call_runs(self, personas):
        bank_a = personas.client("bank_a")
        assert _post(bank_a, {"note": "plain"}).status_code == 201
        assert _post(bank_a, {"note": "plain"}).status_code == 201
        assert _rows("plain") == 2
        assert not IdempotencyRecord.objects.exists()

    def test_422_is_stored_and_replayed(self, personas):
        bank_a = personas.client("bank_a")
        body = {"note": "r", "outcome": "refuse"}
        first = _post(bank_a, body, key="k-422")
        assert first.status_code == 422
        assert first.json()["code"] == "test_refused"
        again = _post(bank_a, body, key="k-422")
        assert again.status_code == 422
        assert again.content == first.content
        assert again["Content-Type"] == "application/problem+json"
        assert again["Idempotent-Replayed"] == "true"
        assert CALLS["r"] == 1

    def test_500_is_not_stored_so_a_retry_runs_again(self, personas):
        bank_a = personas.client("bank_a")
        body = {"note": "x", "outcome": "crash"}
        for _ in range(2):
            with pytest.raises(RuntimeError):
                _post(bank_a, body, key="k-500")
            assert not IdempotencyRecord.objects.filter(key="k-500").exists()
        assert CALLS["x"] == 2
        # The key is free: the client's corrected retry is processed normally.
        assert _post(bank_a, {"note": "x"}, key="k-500").status_code == 201

    def test_a_failure_after_the_work_committed_keeps_the_key_and_says_so(self, personas):
        bank_a = personas.client("bank_a")
        body = {"note": "lost", "outcome": "crash_after_commit"}
        with pytest.raises(RuntimeError):
            _post(bank_a, body, key="k-lost")
        assert _rows("lost") == 1
        # the retry is told the work was done; it is not done again
        for _ in range(2):
            retried = _post(bank_a, body, key="k-lost")
            assert retried.status_code == 409
            assert retried["Content-Type"] == "application/problem+json"
            assert retried["Idempotent-Replayed"] == "true"
            assert retried.json()["code"] == "idempotency_answer_lost"
            assert "切勿换用新的幂等键" in retried.json()["detail"]
        assert CALLS["lost"] == 1 and _rows("lost") == 1

    def test_a_failure_inside_the_transaction_frees_the_key(self, personas):
        bank_a = personas.client("bank_a")
        body = {"note": "undone", "outcome": "crash_in_transaction"}
        for _ in range(2):
            with pytest.raises(RuntimeError):
                _post(bank_a, body, key="k-undone")
            assert not IdempotencyRecord.objects.filter(key="k-undone").exists()
        assert CALLS["undone"] == 2 and _rows("undone") == 0

    def test_returned_5xx_is_not_stored(self, personas):
        bank_a = personas.client("bank_a")
        body = {"note": "u", "outcome": "unavailable"}
        assert _post(bank_a, body, key="k-503").status_code == 503
        assert _post(bank_a, body, key="k-503").status_code == 503
        assert CALLS["u"] == 2
        assert not IdempotencyRecord.objects.exists()

    def test_multipart_body_hashes_file_content(self, personas):
        bank_a = personas.client("bank_a")
        h = {"HTTP_IDEMPOTENCY_KEY": "k-file"}

        def upload(content: bytes):
            f = io.BytesIO(content)
            f.name = "scan.pdf"
            return bank_a.post(URL, {"note": "f", "file": f}, format="multipart", **h)

        first = upload(b"one")
        assert first.status_code == 201 and first.json()["note"] == "f:one"
        again = upload(b"one")
        assert again["Idempotent-Replayed"] == "true" and again.content == first.content
        changed = upload(b"two")
        assert changed.status_code == 409
        assert changed.json()["code"] == "idempotency_key_reused"
        assert _rows("f:one") == 1 and _rows("f:two") == 0


@pytest.mark.django_db
class TestKeyValidation:
    def test_key_of_256_chars_is_400(self, personas):
        response = _post(personas.client("bank_a"), {"note": "v"}, key="k" * 256)
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "invalid_idempotency_key"
        assert CALLS["v"] == 0 and not IdempotencyRecord.objects.exists()

    def test_empty_key_is_400(self, personas):
        response = _post(personas.client("bank_a"), {"note": "v"}, key="")
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_idempotency_key"

    def test_key_of_255_chars_is_accepted(self, personas):
        assert _post(personas.client("bank_a"), {"note": "v"}, key="k" * 255).status_code == 201

    def test_unauthenticated_is_refused_before_any_record(self, personas):
        response = _post(personas.client("anonymous"), {"note": "v"}, key="k-anon")
        assert response.status_code == 401
        assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
class TestInProgress:
    def _pending(
        self, personas, body: dict, key: str, age: timedelta = timedelta(0), *, acted: bool = False
    ) -> IdempotencyRecord:
        # Make the hash the real way: run once, then turn the row back into "in progress".
        bank_a = personas.client("bank_a")
        assert _post(bank_a, body, key=key).status_code == 201
        IdempotencyRecord.objects.filter(key=key).update(
            status_code=None,
            response_body=b"",
            completed_at=None,
            created_at=timezone.now() - age,
            acted_at=timezone.now() if acted else None,
        )
        return IdempotencyRecord.objects.get(key=key)

    def test_waits_then_409_while_the_first_request_is_still_running(self, personas, monkeypatch):
        monkeypatch.setattr(IdempotentMixin, "idempotency_wait_seconds", 0.3)
        self._pending(personas, {"note": "w"}, "k-wait")
        response = _post(personas.client("bank_a"), {"note": "w"}, key="k-wait")
        assert response.status_code == 409
        assert response.json()["code"] == "idempotency_request_in_progress"
        assert response["Retry-After"] == "1"
        assert _rows("w") == 1

    def test_different_body_while_in_progress_is_409_reused_at_once(self, personas, monkeypatch):
        monkeypatch.setattr(IdempotentMixin, "idempotency_wait_seconds", 30)
        self._pending(personas, {"note": "w"}, "k-wait2")
        response = _post(personas.client("bank_a"), {"note": "other"}, key="k-wait2")
        assert response.json()["code"] == "idempotency_key_reused"

    def test_a_stale_in_progress_record_is_taken_over(self, personas):
        self._pending(personas, {"note": "st"}, "k-stale", age=timedelta(hours=1))
        response = _post(personas.client("bank_a"), {"note": "st"}, key="k-stale")
        assert response.status_code == 201 and "Idempotent-Replayed" not in response
        assert _rows("st") == 2
        assert IdempotencyRecord.objects.get(key="k-stale").status_code == 201

    def test_a_stale_record_whose_work_committed_is_never_run_again(self, personas):
        # its process died after the commit, before the answer was stored
        self._pending(personas, {"note": "sa"}, "k-stale-acted", age=timedelta(hours=1), acted=True)
        response = _post(personas.client("bank_a"), {"note": "sa"}, key="k-stale-acted")
        assert response.status_code == 409 and response.json()["code"] == "idempotency_answer_lost"
        assert _rows("sa") == 1


@pytest.mark.django_db
class TestPurge:
    def _record(self, key: str, age: timedelta) -> None:
        IdempotencyRecord.objects.create(
            scope="inst:1", key=key, method="POST", path=URL, request_hash="0" * 64, status_code=201
        )
        IdempotencyRecord.objects.filter(key=key).update(created_at=timezone.now() - age)

    def test_purge_removes_only_records_older_than_the_ttl(self, settings):
        settings.IDEMPOTENCY_KEY_TTL_DAYS = 7
        self._record("old", timedelta(days=7, minutes=1))
        self._record("older", timedelta(days=30))
        self._record("young", timedelta(days=6, hours=23))
        assert idempotency_purge_expired() == 2
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["young"]

    def test_ttl_setting_is_honoured_by_task_and_command(self, settings):
        settings.IDEMPOTENCY_KEY_TTL_DAYS = 10
        self._record("8d", timedelta(days=8))
        self._record("11d", timedelta(days=11))
        assert lib_tasks.idempotency_purge_expired.apply().get() == 1
        out = io.StringIO()
        call_command("purge_idempotency_keys", "--days", "7", stdout=out)
        assert "Removed 1 " in out.getvalue()
        assert not IdempotencyRecord.objects.exists()

    def test_purge_in_batches(self):
        for i in range(5):
            self._record(f"b{i}", timedelta(days=8))
        assert idempotency_purge_expired(7, batch_size=2) == 5


def test_openapi_documents_the_header():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(urlconf=idempotency_urls).get_schema(request=None, public=True)
    params = schema["paths"]["/idem/rows/"]["post"].get("parameters", [])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in params)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_one_row():
    from banks.services import institution_api_key_issue
    from fundmgr.top.demo import seed_demo

    seed_demo(password="x-123456789")
    _, raw_key = institution_api_key_issue(institution_code="zqrcb")
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    results: list[tuple[int, bytes, str | None]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
            barrier.wait(timeout=30)
            response = _post(client, {"note": "race"}, key="k-race")
            with lock:
                results.append((response.status_code, response.content, response.get("Idempotent-Replayed")))
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(results) == threads_count
    assert _rows("race") == 1
    assert CALLS["race"] == 1
    assert {status for status, _, _ in results} == {201}
    assert len({body for _, body, _ in results}) == 1
    assert sorted(replayed or "" for _, _, replayed in results) == [""] + ["true"] * (threads_count - 1)
    record = IdempotencyRecord.objects.get(key="k-race")
    assert json.loads(bytes(record.response_body))["id"] == json.loads(results[0][1])["id"]
