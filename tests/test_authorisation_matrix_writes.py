"""Who may change what: every write endpoint × every persona, with the exact status each gets,
and nothing changed in the database when the answer is a refusal.

The endpoints are enumerated from the URL conf (every POST/PUT/PATCH/DELETE route under
/api/v1/), so a new write endpoint fails `test_every_write_endpoint_is_in_the_matrix` until it
has its row here. Personas as in tests/test_authorisation_matrix.py: bank A (zqrcb) lends in
Zhaoqing, bank B (icbc-foshan) in Foshan, regulator X oversees Zhaoqing, regulator Y Foshan;
staff by role.

One world is built per test (`World`): bank A's records in every state a write needs. Each
cell runs in a savepoint that is rolled back afterwards, so every persona meets the same
world and no cell depends on another. A change of any cell is a change of who may do what.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db import transaction

from tests.authz import JINGYE, PERSONAS, RECOVERY, World, _claim_body, endpoints, need_body, pledge
from tests.factories import application_body, filing_body

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def row(anonymous, bank_a, bank_b, regulator_x, regulator_y, officer, approver, committee, finance, admin):
    return {
        "anonymous": anonymous,
        "bank_a": bank_a,
        "bank_b": bank_b,
        "regulator_x": regulator_x,
        "regulator_y": regulator_y,
        "officer": officer,
        "approver": approver,
        "committee": committee,
        "finance": finance,
        "admin": admin,
    }


# --- the world every cell starts from -------------------------------------------------------

# --- the matrix --------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
TOO_LONG = "长" * 2001  # comments are at most 2000 characters


def _document(w: World) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"kind": "loan_contract", "file": SimpleUploadedFile("合同.pdf", PDF, "application/pdf")}


def _status_report(w: World) -> dict:
    return {
        "as_of": "2026-10-31",
        "outstanding_principal": "1000000.00",
        "overdue_principal": "0.00",
        "overdue_interest": "0.00",
        "days_overdue": 0,
        "risk_class": "normal",
    }


@dataclass(frozen=True)
class Endpoint:
    """One write endpoint: how to call it in the world (the path, a body it accepts, a body it
    refuses), and the status each persona gets with either."""

    path: Callable[[World], str]
    body: Callable[[World], dict]
    invalid: Callable[[World], dict] | None  # None: the endpoint reads no body
    valid_answers: dict[str, int]
    invalid_answers: dict[str, int] | None = None
    multipart: bool = False


def _no_body(w: World) -> dict:
    return {}


# (method, route) → how to call it; then the answers with a body it accepts and with one it
# refuses, each as row(anonymous, bank_a, bank_b, regulator_x, regulator_y, officer, approver,
# committee, finance, admin)
MATRIX: dict[tuple[str, str], Endpoint] = {
    ("POST", "/api/v1/enterprises/"): Endpoint(
        lambda w: "/api/v1/enterprises/",
        lambda w: application_body(),
        lambda w: application_body(annual_revenue=32000000),  # money as a number
        row(401, 201, 422, 403, 403, 403, 403, 403, 403, 403),
        row(401, 400, 400, 403, 403, 403, 403, 403, 403, 403),
    ),
    ("POST", "/api/v1/enterprises/{uscc}/transitions/{transition}/"): Endpoint(
        lambda w: f"/api/v1/enterprises/{w.enterprise}/transitions/start_review/",
        _no_body,
        lambda w: {"comment": TOO_LONG},
        row(401, 403, 404, 403, 403, 200, 200, 403, 403, 403),
        row(401, 400, 404, 403, 403, 400, 400, 400, 400, 400),
    ),
    ("POST", "/api/v1/institutions/{code}/transitions/{transition}/"): Endpoint(
        # bank A does not suspend itself (403), bank B does not see it (404)
        lambda w: "/api/v1/institutions/zqrcb/transitions/suspend/",
        lambda w: {"comment": "暂停合作：测试"},
        lambda w: {"comment": ""},  # a suspension needs its reason: checked after the role
        row(401, 403, 404, 403, 403, 200, 200, 403, 403, 403),
        row(401, 403, 404, 403, 403, 400, 400, 403, 403, 403),
    ),
    ("POST", "/api/v1/filings/"): Endpoint(
        lambda w: "/api/v1/filings/",
        lambda w: filing_body(pledges=pledge("utility_model", "201921935950.8")),
        lambda w: filing_body(principal="１０００.００"),  # full-width digits
        row(401, 201, 422, 403, 403, 403, 403, 403, 403, 403),
        row(401, 400, 400, 403, 403, 400, 400, 400, 400, 400),
    ),
    ("PATCH", "/api/v1/filings/{pk}/"): Endpoint(
        lambda w: f"/api/v1/filings/{w.returned}/",
        lambda w: {"purpose": "补正后的贷款用途"},
        lambda w: {"annual_rate": 4.35},  # a rate as a number
        row(401, 200, 404, 403, 403, 403, 403, 403, 403, 403),
        row(401, 400, 404, 403, 403, 400, 400, 400, 400, 400),
    ),
    ("POST", "/api/v1/filings/{pk}/documents/"): Endpoint(
        # the bank and review staff add to a file (an admin counts as every staff role here)
        lambda w: f"/api/v1/filings/{w.submitted}/documents/",
        _document,
        lambda w: {"kind": "loan_contract"},  # no file
        row(401, 201, 404, 403, 403, 201, 201, 403, 403, 201),
        row(401, 400, 404, 403, 403, 400, 400, 400, 400, 400),
        multipart=True,
    ),
    ("POST", "/api/v1/filings/{pk}/resubmit/"): Endpoint(
        lambda w: f"/api/v1/filings/{w.returned}/resubmit/",
        lambda w: {"comment": "已补正"},
        lambda w: {"comment": TOO_LONG},
        row(401, 200, 404, 403, 403, 403, 403, 403, 403, 403),
        row(401, 400, 404, 403, 403, 400, 400, 400, 400, 400),
    ),
    ("POST", "/api/v1/filings/{pk}/settle/"): Endpoint(
        # the bank's own loans only: staff see the loan but this is not their step (403),
        # as for the bank's other steps (resubmit, withdraw, status reports)
        lambda w: f"/api/v1/filings/{w.accepted}/settle/",
        lambda w: {"settled_on": "2026-11-21"},
        lambda w: {"settled_on": "2026-11-31"},  # no such day
        row(401, 200, 404, 403, 403, 403, 403, 403, 403, 403),
        row(401, 400, 404, 403, 403, 400, 400, 400, 400, 400),
    ),
    ("POST", "/api/v1/filings/{pk}/status-reports/"): Endpoint(
        lambda w: f"/api/v1/filings/{w.accepted}/status-reports/",
        _status_report,
        lambda w: {**_status_report(w), "days_overdue": -1},
        row(401, 201, 404, 403, 403, 403, 403, 403, 403, 403),
        row(401, 400, 404, 403, 403, 400, 400, 400, 400, 400),
    ),
    ("POST", "/api/v1/filings/{pk}/transitions/{transition}/"): Endpoint(
        lambda w: f"/api/v1/filings/{w.submitted}/transitions/start_due_diligence/",
        _no_body,
        lambda w: {"comment": TOO_LONG},
        row(401, 403, 404, 403, 403, 200, 200, 403, 403, 403),
        row(401, 400, 404, 403, 403, 400, 400, 400, 400, 400),
    ),
    ("POST", "/api/v1/filings/{pk}/withdraw/"): Endpoint(
        lambda w: f"/api/v1/filings/{w.submitted}/withdraw/",
        lambda w: {"comment": "借款人取消贷款"},
        lambda w: {"comment": TOO_LONG},
        row(401, 200, 404, 403, 403, 403, 403, 403, 403, 403),
        row(401, 400, 404, 403, 403, 400, 400, 400, 400, 400),
    ),
    ("POST", "/api/v1/claims/"): Endpoint(
        lambda w: "/api/v1/claims/",
        lambda w: _claim_body(w.non_performing),
        lambda w: {**_claim_body(w.non_performing), "trigger_date": "2026-02-30"},
        row(401, 201, 404, 403, 403, 403, 403, 403, 403, 403),
        row(401, 400, 400, 403, 403, 400, 400, 400, 400, 400),
    ),
    ("POST", "/api/v1/claims/{pk}/documents/"): Endpoint(
        lambda w: f"/api/v1/claims/{w.claim}/documents/",
        _document,
        lambda w: {"kind": "loan_contract"},
        row(401, 201, 404, 403, 403, 201, 201, 403, 403, 201),
        row(401, 400, 404, 403, 403, 400, 400, 400, 400, 400),
        multipart=True,
    ),
    ("POST", "/api/v1/claims/{pk}/recoveries/"): Endpoint(
        lambda w: f"/api/v1/claims/{w.paid_claim}/recoveries/",
        lambda w: {**RECOVERY, "gross_amount": "5000.00", "costs": "0.00", "source": "guarantor"},
        lambda w: {**RECOVERY, "source": "lottery"},
        row(401, 201, 404, 403, 403, 403, 403, 403, 403, 403),
        row(401, 400, 404, 403, 403, 400, 400, 400, 400, 400),
    ),
    ("POST", "/api/v1/claims/{pk}/transitions/{transition}/"): Endpoint(
        lambda w: f"/api/v1/claims/{w.claim}/transitions/start_review/",
        _no_body,
        lambda w: {"comment": TOO_LONG},
        row(401, 403, 404, 403, 403, 200, 200, 403, 403, 403),
        row(401, 400, 404, 403, 403, 400, 400, 400, 400, 400),
    ),
    ("POST", "/api/v1/notifications/{pk}/read/"): Endpoint(
        # one's own notifications only (a regulator marks its own read; bank A's is not theirs)
        lambda w: f"/api/v1/notifications/{w.notification}/read/",
        _no_body,
        None,
        row(401, 200, 404, 404, 404, 404, 404, 404, 404, 404),
    ),
    ("POST", "/api/v1/financing-needs/"): Endpoint(
        # a bank on the enterprise's behalf; bank B has no agreement in Zhaoqing (422); staff
        # register needs in the admin
        lambda w: "/api/v1/financing-needs/",
        lambda w: need_body(JINGYE),
        lambda w: need_body(JINGYE, amount=2000000),  # money as a number
        row(401, 201, 422, 403, 403, 403, 403, 403, 403, 403),
        row(401, 400, 400, 403, 403, 403, 403, 403, 403, 403),
    ),
    ("POST", "/api/v1/financing-needs/{pk}/interest/"): Endpoint(
        # a bank that may see the need; bank B does not (404); staff record meetings instead
        lambda w: f"/api/v1/financing-needs/{w.need}/interest/",
        lambda w: {"comment": "可对接"},
        lambda w: {"comment": TOO_LONG},
        row(401, 201, 404, 403, 403, 403, 403, 403, 403, 403),
        row(401, 400, 404, 403, 403, 403, 403, 403, 403, 403),
    ),
    ("POST", "/api/v1/recoveries/{pk}/transitions/{transition}/"): Endpoint(
        # finance confirms the fund's part came back
        lambda w: f"/api/v1/recoveries/{w.recovery}/transitions/confirm_returned/",
        _no_body,
        lambda w: {"comment": TOO_LONG},
        row(401, 403, 404, 403, 403, 403, 403, 403, 200, 403),
        row(401, 400, 404, 403, 403, 400, 400, 400, 400, 400),
    ),
}


def write_endpoints() -> set[tuple[str, str]]:
    """Every (method, route) under /api/v1/ that accepts a write method."""
    return {(method, route) for method, route in endpoints(WRITE_METHODS) if route.startswith("/api/v1/")}


def test_every_write_endpoint_is_in_the_matrix():
    endpoints = write_endpoints()
    assert len(endpoints) >= 17  # the enumeration itself works
    assert set(MATRIX) == endpoints, {
        "missing from the matrix": sorted(endpoints - set(MATRIX)),
        "not an endpoint": sorted(set(MATRIX) - endpoints),
    }


# --- running it ----------------------------------------------------------------------------


def fingerprint() -> dict[str, str]:
    """Every row of every table, digested per table (API tokens excluded: every
    authenticated request may touch `last_used_at`)."""
    digests = {}
    for model in apps.get_models():
        if model._meta.label == "accounts.ApiToken":
            continue
        rows = model._default_manager.order_by("pk").values_list()
        digests[model._meta.label] = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
    return digests


@contextmanager
def undone() -> Iterator[None]:
    """A savepoint rolled back at the end. Marked like the test case's own atomic blocks (a
    flag of Django's test machinery), so the services' durable transactions may open inside
    it as they do inside the test's own."""
    block = transaction.atomic()
    block._from_testcase = True
    with block:
        yield
        transaction.set_rollback(True)


def answers(personas, world: World, persona: str, *, invalid: bool) -> dict[tuple[str, str], int]:
    """Every endpoint called by one persona, each in a savepoint rolled back afterwards; a
    refusal must be problem+json and leave every table as it was, a success must write."""
    client = personas.client(persona)
    if persona != "anonymous":
        assert client.get("/api/v1/me/").status_code == 200  # the caller exists before we count
    got = {}
    for (method, route), endpoint in MATRIX.items():
        make_body = endpoint.invalid if invalid else endpoint.body
        if make_body is None:
            continue
        send = getattr(client, method.lower())
        with undone():
            before = fingerprint()
            response = send(
                endpoint.path(world),
                make_body(world),
                format="multipart" if endpoint.multipart else "json",
            )
            got[(method, route)] = status = response.status_code
            if status >= 400:
                assert response["Content-Type"].startswith("application/problem+json"), route
                assert fingerprint() == before, f"{method} {route}: refused ({status}), yet data changed"
            else:
                assert fingerprint() != before, f"{method} {route}: {status}, yet nothing was written"
    return got


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_write_endpoint_answers_each_persona_exactly(personas, world, persona):
    """With a body the endpoint accepts, and with one it refuses. The second table shows
    which checks come before the body is read: authentication, the regulators' read-only rule
    and, for a record named in the path, whose it is (404) always do."""
    got = {
        "valid": answers(personas, world, persona, invalid=False),
        "invalid": answers(personas, world, persona, invalid=True),
    }
    assert got == {
        "valid": {key: endpoint.valid_answers[persona] for key, endpoint in MATRIX.items()},
        "invalid": {
            key: endpoint.invalid_answers[persona]
            for key, endpoint in MATRIX.items()
            if endpoint.invalid_answers is not None
        },
    }
