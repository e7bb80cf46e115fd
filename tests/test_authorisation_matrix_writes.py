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
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import application_body, filing_body
from tests.test_authorisation_matrix import PERSONAS

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

XINGHE = "9144120252133505XP"  # Zhaoqing enterprises of the demo, admitted
JINGYE = "91441202951617540K"
DINGTAI = "914412048288873773"
HUAYU = "914412844404710410"


@dataclass(frozen=True)
class World:
    submitted: int  # bank A's filing, as submitted
    returned: int  # bank A's filing, returned for supplement
    accepted: int  # bank A's loan, accepted and performing
    non_performing: int  # bank A's loan, non-performing, no claim yet
    claim: int  # bank A's claim, submitted
    paid_claim: int  # bank A's claim, paid and in recovery
    recovery: int  # bank A's recovery on paid_claim, fund's part due
    enterprise: str  # USCC of an enterprise bank A applied for, submitted
    notification: int  # one of bank A's notifications


def _pledge(kind: str, number: str, registered_on: str = "2026-11-10") -> list[dict]:
    return [
        {
            "kind": kind,
            "number": number,
            "registration_no": "Y2026440000123",
            "registered_on": registered_on,
            "appraised_value": "3000000.00",
        }
    ]


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content[:500]
    return response.json()


RECOVERY = {
    "received_on": "2026-11-21",
    "gross_amount": "110000.00",
    "costs": "10000.00",
    "source": "borrower",
}


def _claim_body(filing: int) -> dict:
    return {
        "filing": filing,
        "trigger_date": "2026-11-20",
        "outstanding_principal": "900000.00",
        "recovered_before_claim": "100000.00",
        "legal_action": None,
        "notes": "借款人停止经营",
    }


@pytest.fixture
def world(personas, business_date) -> World:
    """Bank A's records, each made through the API or the services as in real life."""
    from fundmgr.top.notifications.models import Notification
    from tests.loans.conftest import accept_filing, make_non_performing

    bank = personas.client("bank_a")

    def filed(uscc: str, number: str) -> int:
        body = filing_body(enterprise_uscc=uscc, pledges=_pledge("invention_patent", number))
        return _ok(bank.post("/api/v1/filings/", body, format="json"), 201)["id"]

    def accepted(uscc: str, number: str, registered_on: str = "2026-11-10", **overrides):
        pledges = _pledge("invention_patent", number, registered_on)
        return accept_filing(personas, enterprise_uscc=uscc, pledges=pledges, **overrides)

    def claimed(filing: int) -> int:
        return _ok(bank.post("/api/v1/claims/", _claim_body(filing), format="json"), 201)["id"]

    def step(who: str, kind: str, key, name: str, **body) -> None:
        body.setdefault("comment", "同意")
        _ok(personas.client(who).post(f"/api/v1/{kind}/{key}/transitions/{name}/", body, format="json"))

    # October's loan, so that its first monthly report (October's) is due now
    business_date("2026-10-20")
    performing = accepted(
        JINGYE, "201814411596.8", "2026-10-12", disbursed_on="2026-10-15", matures_on="2027-10-14"
    )
    business_date("2026-11-21")

    submitted = filed(XINGHE, "201613031399.8")
    returned = filed(XINGHE, "201912754910.4")
    step("officer", "filings", returned, "start_due_diligence")
    step("officer", "filings", returned, "return_for_supplement", comment="请补充质押登记证明")

    non_performing = make_non_performing(personas, accepted(HUAYU, "201817787737.5"))
    claim = claimed(make_non_performing(personas, accepted(DINGTAI, "201917986905.8")).pk)
    paid_claim = claimed(make_non_performing(personas, accepted(JINGYE, "201913677682.1")).pk)
    for who, name, extra in (
        ("officer", "start_review", {}),
        ("approver", "recommend", {}),
        ("committee", "start_committee_review", {}),
        ("committee", "approve", {"meeting_ref": "肇决〔2026〕7号"}),
        ("finance", "pay", {}),
    ):
        step(who, "claims", paid_claim, name, **extra)
    recovery = _ok(bank.post(f"/api/v1/claims/{paid_claim}/recoveries/", RECOVERY, format="json"), 201)["id"]

    application = application_body()
    _ok(bank.post("/api/v1/enterprises/", application, format="json"), 201)

    notification = Notification.objects.filter(recipient=personas.user("bank_a")).order_by("id").first()
    assert notification is not None, "bank A was told of nothing"
    return World(
        submitted=submitted,
        returned=returned,
        accepted=performing.pk,
        non_performing=non_performing.pk,
        claim=claim,
        paid_claim=paid_claim,
        recovery=recovery,
        enterprise=application["uscc"],
        notification=notification.pk,
    )


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
        lambda w: filing_body(pledges=_pledge("utility_model", "201921935950.8")),
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
        # the bank's own loans only: staff get 404 here and for status reports, where the
        # bank's other steps (resubmit, withdraw) say 403
        lambda w: f"/api/v1/filings/{w.accepted}/settle/",
        lambda w: {"settled_on": "2026-11-21"},
        lambda w: {"settled_on": "2026-11-31"},  # no such day
        row(401, 200, 404, 403, 403, 404, 404, 404, 404, 404),
        row(401, 400, 404, 403, 403, 400, 400, 400, 400, 400),
    ),
    ("POST", "/api/v1/filings/{pk}/status-reports/"): Endpoint(
        lambda w: f"/api/v1/filings/{w.accepted}/status-reports/",
        _status_report,
        lambda w: {**_status_report(w), "days_overdue": -1},
        row(401, 201, 404, 403, 403, 404, 404, 404, 404, 404),
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
    ("POST", "/api/v1/recoveries/{pk}/transitions/{transition}/"): Endpoint(
        # finance confirms the fund's part came back
        lambda w: f"/api/v1/recoveries/{w.recovery}/transitions/confirm_returned/",
        _no_body,
        lambda w: {"comment": TOO_LONG},
        row(401, 403, 404, 403, 403, 403, 403, 403, 200, 403),
        row(401, 400, 404, 403, 403, 400, 400, 400, 400, 400),
    ),
}


# --- the write routes of the URL conf ------------------------------------------------------


def _route(pattern) -> str:
    """A URL pattern as a route template: `filings/{pk}/transitions/{transition}/`."""
    text = str(pattern.pattern)
    if pattern.pattern.__class__.__name__ != "RegexPattern":  # path("me/"), path("<slug:code>/")
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)
    text = text.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    out, i = [], 0
    while i < len(text):
        if text.startswith("(?P<", i):  # a named group, its regex skipped up to the closing paren
            name_end = text.index(">", i)
            depth, j = 1, name_end + 1
            while depth:
                if text[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            out.append("{" + text[i + 4 : name_end] + "}")
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _routes(patterns, prefix: str = "/") -> Iterator[tuple[str, Callable]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + _route(pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + _route(pattern), pattern.callback


def write_endpoints() -> set[tuple[str, str]]:
    """Every (method, route) under /api/v1/ that accepts a write method."""
    found = set()
    for route, callback in _routes(get_resolver().url_patterns):
        if not route.startswith("/api/v1/"):
            continue
        if getattr(callback, "actions", None) is not None:  # a viewset route: its method map
            methods = {method.upper() for method in callback.actions}
        elif (view := getattr(callback, "cls", None) or getattr(callback, "view_class", None)) is not None:
            methods = {m.upper() for m in view.http_method_names if hasattr(view, m)}
        else:  # a plain function view: it might take anything, so it must be in the matrix
            methods = set(WRITE_METHODS)
        found |= {(method, route) for method in methods & set(WRITE_METHODS)}
    return found


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
