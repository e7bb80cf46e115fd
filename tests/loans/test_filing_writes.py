"""A new filing is written in one statement where the database allows (`_write_submitted`, through
`lib.rawsql.insert_new`), and that stores and answers exactly what the ORM's way did:
`filing.save()`, `log_created` (whose entry the transition log's `post_save` receiver dates) and
`Pledge.objects.bulk_create`.

Both ways file the same request, each in a savepoint rolled back afterwards, at one frozen instant
(so the reference numbers and timestamps repeat; the keys do not, and are compared as links): every
column of the filing, of its pledges (in the order given), of every history entry written (the
filing's, and the financing need's when the filing names one) and of their business dates, the
rows added to every table, and the API's answer byte for byte but the filing's id."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.utils.translation import gettext_noop
from django_fsm_log.models import StateLog

from fundmgr.ground.accounts.apps import _date_transition
from fundmgr.ground.accounts.models import TransitionDate
from fundmgr.ground.accounts.principals import principal_for
from fundmgr.ground.accounts.workflow import log_created
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.i18n import recorded
from loans.api.filings import FilingInputSerializer
from loans.models import FilingStatus, LoanFiling, Pledge
from loans.services import filings as services
from tests.factories import filing_body
from tests.matching.conftest import register

pytestmark = pytest.mark.django_db

URL = "/api/v1/filings/"
PATENT, PATENT_2 = "201613031399.8", "201912754910.4"  # two of the borrower's (XINGHE's) patents


def orm_write(filing: LoanFiling, pledges: list[Pledge], *, user) -> StateLog:
    """The ORM's way, as `filing_submit` wrote a filing before."""
    filing.save()
    entry = log_created(
        filing, state=FilingStatus.SUBMITTED, user=user, comment=recorded(gettext_noop("提交贷款备案"))
    )
    Pledge.objects.bulk_create(pledges)
    return entry


def counts() -> dict[str, int]:
    return {m._meta.label: m._base_manager.count() for m in apps.get_models() if not m._meta.proxy}


def written(filing_id: int, logs_after: int) -> dict:
    """Every column of what was stored, the keys replaced by what they link."""
    filing = LoanFiling.objects.filter(pk=filing_id).values().get()
    pledges = list(Pledge.objects.filter(filing_id=filing_id).order_by("id").values())
    assert [p["filing_id"] for p in pledges] == [filing_id] * len(pledges)
    logs = list(StateLog.objects.filter(id__gt=logs_after).order_by("id").values())
    log_ids = [row["id"] for row in logs]
    dates = list(TransitionDate.objects.filter(log_id__in=log_ids).order_by("log_id").values())
    assert [d["log_id"] for d in dates] == log_ids  # every entry dated, in order
    for row in logs:
        if row["object_id"] == filing_id and row["content_type_id"] == _filing_type():
            row["object_id"] = "the filing"
    return {
        "filing": {k: v for k, v in filing.items() if k != "id"},
        "pledges": [{k: v for k, v in p.items() if k not in ("id", "filing_id")} for p in pledges],
        "logs": [{k: v for k, v in row.items() if k != "id"} for row in logs],
        "dates": [d["on"] for d in dates],
    }


def _filing_type() -> int:
    return ContentType.objects.get_for_model(LoanFiling).pk


def both_ways(monkeypatch, file) -> list[dict]:
    """`file()` once written each way, in a savepoint rolled back afterwards, at one instant."""
    results = []
    for write in (services._write_submitted, orm_write):
        monkeypatch.setattr(services, "_write_submitted", write)
        before, last_log = (
            counts(),
            StateLog.objects.order_by("-id").values_list("id", flat=True).first() or 0,
        )
        savepoint = transaction.savepoint()
        with time_machine.travel(dt.datetime(2026, 11, 21, 10, 30, tzinfo=clock.SHANGHAI), tick=False):
            answer, filing_id = file()
        after = counts()
        results.append(
            {
                "answer": answer,
                "stored": written(filing_id, last_log),
                "added": {k: after[k] - before[k] for k in after if after[k] != before[k]},
            }
        )
        transaction.savepoint_rollback(savepoint)
    return results


def api(personas, body: dict):
    client = personas.client("bank_a")  # its key is issued now, not while counting rows

    def file():
        response = client.post(URL, body, format="json")
        assert response.status_code == 201, response.content
        filing_id = response.json()["id"]
        return re.sub(rb'^\{"id":\d+,', b"{", response.content), filing_id

    return file


BODIES = {
    "one pledge": {},
    "two pledges, one without a value, no purpose": {
        "pledges": [
            {"kind": "invention_patent", "number": PATENT_2, "registration_no": "Y2026440000124",
             "registered_on": "2026-11-11"},
            {"kind": "invention_patent", "number": PATENT, "registration_no": "Y2026440000123",
             "registered_on": "2026-11-10", "appraised_value": "3000000.00"},
        ],
        "purpose": None,
    },
    "combined pledge": {"pledge_type": "combined", "principal": "2000000.00", "covered_principal": "1500000.00"},
}  # fmt: skip


@pytest.mark.parametrize("overrides", BODIES.values(), ids=BODIES.keys())
def test_the_api_answers_and_stores_the_same_both_ways(personas, business_date, monkeypatch, overrides):
    business_date("2026-11-21")
    body = filing_body(**overrides)
    if body["purpose"] is None:
        del body["purpose"]
    new, orm = both_ways(monkeypatch, api(personas, body))
    assert new["answer"] == orm["answer"]
    assert json.loads(new["answer"])["pledges"]  # a real answer
    assert new["stored"] == orm["stored"]
    assert len(new["stored"]["pledges"]) == len(body["pledges"])
    assert [p["registration_no"] for p in new["stored"]["pledges"]] == [
        p["registration_no"] for p in body["pledges"]
    ]  # in the order given
    assert new["added"] == orm["added"]
    assert new["added"] == {
        "loans.LoanFiling": 1,
        "loans.Pledge": len(body["pledges"]),
        "django_fsm_log.StateLog": 1,
        "accounts.TransitionDate": 1,
        "loans.ReferenceCounter": 1,  # the fund's first filing of the year
    }


def test_a_filing_naming_a_financing_need_stores_the_same_both_ways(personas, business_date, monkeypatch):
    business_date("2026-11-21")
    need = register(personas)["id"]
    new, orm = both_ways(monkeypatch, api(personas, filing_body(financing_need=need)))
    assert new == orm
    # the need's own step is logged (and dated) after the filing's entry, both ways
    assert [row["transition"] for row in new["stored"]["logs"]] == ["submit", "mark_filed"]
    assert new["added"]["matching.NeedInterest"] == 1


def test_the_service_returns_the_filing_as_the_orm_left_it(personas, business_date, monkeypatch):
    """What `filing_submit` hands back (rendered by the API without a second read): the same
    fields, keys, states, caches of its pledges, documents and history, both ways."""
    business_date("2026-11-21")
    principal = principal_for(personas.user("bank_a"))

    def submit():
        pledges = BODIES["two pledges, one without a value, no purpose"]["pledges"]
        body = FilingInputSerializer(data=filing_body(contract_no="RETURNED-1", pledges=pledges))
        body.is_valid(raise_exception=True)
        filing = services.filing_submit(principal=principal, data=body.validated_data)
        pledges = list(filing.pledges.all())
        [entry] = filing.__dict__["_preloaded_state_log"]
        for row in (filing, *pledges, entry, entry.business):  # each instance is its own row
            assert type(row)._base_manager.filter(pk=row.pk).values().get() == {
                f.attname: getattr(row, f.attname) for f in type(row)._meta.concrete_fields
            }
        shape = {
            "fields": {f.attname: getattr(filing, f.attname) for f in LoanFiling._meta.concrete_fields},
            "state": (filing._state.adding, filing._state.db),
            "fsm": filing._ConcurrentTransitionMixin__initial_states,
            "pledges": [
                ({f.attname: getattr(p, f.attname) for f in Pledge._meta.concrete_fields}, p._state.adding,
                 p.filing is filing, p.ip_asset.number)
                for p in pledges
            ],
            "documents": list(filing.documents.all()),
            "entry": (
                {f.attname: getattr(entry, f.attname) for f in StateLog._meta.concrete_fields},
                entry._state.adding, entry.by.username, entry.business.on, entry.business.log is entry,
            ),
            "in_state_since": filing.__dict__["state_entered_on"],
        }  # fmt: skip
        return shape, filing.pk

    new, orm = both_ways(monkeypatch, submit)
    for shape in (new["answer"], orm["answer"]):
        shape["fields"].pop("id")
        for fields, *_ in shape["pledges"]:
            fields.pop("id"), fields.pop("filing_id")
        shape["entry"][0].pop("id"), shape["entry"][0].pop("object_id")
    assert new["answer"] == orm["answer"]
    assert new["answer"]["state"] == (False, "default")
    assert [p[1:] for p in new["answer"]["pledges"]] == [(False, True, PATENT_2), (False, True, PATENT)]


def test_a_refused_filing_writes_nothing(personas, business_date):
    business_date("2026-11-21")
    client = personas.client("bank_a")
    before = counts()
    response = client.post(URL, filing_body(annual_rate="9.0000"), format="json")
    assert response.status_code == 422
    assert counts() == before


def test_the_receivers_a_filings_write_stands_for():
    """`_write_submitted` sends no save signals (as `bulk_create`): it does itself the work of the
    receivers of the models it writes. Those are exactly these; a new receiver of a filing, a
    pledge or a history entry needs a place in `_write_submitted` (or the ORM's way back)."""

    def receivers(signal, model) -> set:
        sync, asynchronous = signal._live_receivers(model)
        return {*sync, *asynchronous}

    assert receivers(post_save, StateLog) == {_date_transition}  # TransitionDate, written beside it
    for signal, model in [(pre_save, StateLog), (pre_save, TransitionDate), (post_save, TransitionDate),
                          (pre_save, LoanFiling), (post_save, LoanFiling), (pre_save, Pledge), (post_save, Pledge)]:  # fmt: skip
        assert receivers(signal, model) == set(), (signal, model)
