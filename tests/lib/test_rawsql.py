"""`rawsql.insert_new` writes what `save()` writes (every column, the same defaults and
`auto_now_add` stamps) and leaves the instances as `save()` does; rows linked to earlier ones get
their keys, a list of rows keeps its order; one statement on PostgreSQL, one per row elsewhere; a
failed write leaves nothing; what it cannot write as `save()` would, it refuses. On both backends.
(tests/loans/test_filing_writes.py compares a whole filing written this way with the ORM's way.)"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django_fsm_log.models import StateLog

from fundmgr.ground.accounts.models import ApiToken, TransitionDate, User
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.models import IdempotencyRecord
from fundmgr.ground.lib.rawsql import insert_new

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 11, 21, 9, 15, tzinfo=clock.SHANGHAI)


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user(username="alice", password="x")


def token(user: User, key: str, **fields) -> ApiToken:
    return ApiToken(user=user, name=f"令牌 {key}", prefix=key[:8], hashed_key=key, **fields)


def columns(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def stored(obj) -> dict:
    return type(obj)._base_manager.filter(pk=obj.pk).values().get()


@pytest.mark.parametrize(
    "fields",
    [{}, {"last_used_at": AT, "revoked_at": AT + dt.timedelta(days=1)}],
    ids=["defaults", "every field"],
)
def test_a_row_is_written_as_save_writes_it(alice, fields):
    with time_machine.travel(AT, tick=False):
        saved, inserted = token(alice, "saved-key", **fields), token(alice, "inserted-key", **fields)
        saved.save()
        insert_new(inserted)
    assert inserted.pk is not None and inserted.pk != saved.pk
    assert (
        (inserted._state.adding, inserted._state.db)
        == (saved._state.adding, saved._state.db)
        == (
            False,
            "default",
        )
    )
    assert inserted.user is alice  # the related instance kept, as assigned
    mine = {"id", "name", "prefix", "hashed_key"}
    assert {k: v for k, v in columns(inserted).items() if k not in mine} == {
        k: v for k, v in columns(saved).items() if k not in mine
    }
    assert {k: v for k, v in stored(inserted).items() if k not in mine} == {
        k: v for k, v in stored(saved).items() if k not in mine
    }
    assert stored(inserted)["created_at"] == inserted.created_at == AT  # stamped as save() stamps it


def test_rows_linked_to_earlier_rows_are_written_in_one_go(alice):
    first, several = token(alice, "first"), [token(alice, f"several-{i}") for i in range(3)]
    entry = StateLog(
        content_type=ContentType.objects.get_for_model(ApiToken),
        source_state=None,
        state="answered",
        transition="answer",
        by=None,
        description="一条记录",
    )
    date = TransitionDate(log=entry, on=dt.date(2026, 11, 21))
    with CaptureQueriesContext(connection) as queries:
        insert_new(first, (entry, {"object_id": first}), (date, {"log_id": entry}), several)
    assert len(queries) == (1 if connection.vendor == "postgresql" else 6)
    # the links, on the instances as assigning them does, and in the rows
    assert entry.object_id == first.pk and date.log_id == entry.pk == date.pk
    assert date.log is entry and entry.business is date
    assert stored(entry)["object_id"] == first.pk
    assert stored(date) == {"log_id": entry.pk, "on": dt.date(2026, 11, 21)}
    # a list keeps its order: its keys ascend as given, each row read back by its own key
    keys = [r.pk for r in several]
    assert keys == sorted(keys) and len(set(keys)) == 3
    assert [stored(r)["hashed_key"] for r in several] == ["several-0", "several-1", "several-2"]
    assert all(not r._state.adding for r in [first, entry, date, *several])


def test_a_failed_write_leaves_nothing(alice):
    token(alice, "taken").save()
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_new(token(alice, "first"), [token(alice, "free"), token(alice, "taken")])
    assert list(ApiToken.objects.values_list("hashed_key", flat=True)) == ["taken"]


def test_what_it_cannot_write_as_save_would_is_refused(alice):
    existing = token(alice, "existing")
    existing.save()
    with pytest.raises(ValueError, match="not a new"):
        insert_new(existing)
    with pytest.raises(ValueError, match="not a new"):
        insert_new([token(alice, "a"), StateLog(state="x", transition="y")])
    entry = StateLog(content_type=ContentType.objects.get_for_model(ApiToken), state="x", transition="y")
    with pytest.raises(ValueError, match="earlier step"):
        insert_new((entry, {"object_id": token(alice, "later")}))  # not written here at all
    with pytest.raises(ValueError, match="earlier step"):
        insert_new([token(alice, "b"), token(alice, "c")], (entry, {"object_id": token(alice, "d")}))
    dates = [
        TransitionDate(log=entry, on=dt.date(2026, 11, 21)),
        TransitionDate(log=entry, on=dt.date(2026, 11, 22)),
    ]
    with pytest.raises(ValueError, match="automatic key"):
        insert_new(entry, dates)
    # a binary column has a placeholder of its own: save() is asked to write such rows
    with pytest.raises(ValueError, match="more than one plain INSERT"):
        insert_new(IdempotencyRecord(scope="inst:1", key="k", method="POST", path="/", request_hash="ab"))
    assert list(ApiToken.objects.values_list("hashed_key", flat=True)) == ["existing"]
    assert not StateLog.objects.exists() and not IdempotencyRecord.objects.exists()
