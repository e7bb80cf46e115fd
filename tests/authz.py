"""What the two authorisation matrices share: the personas, bank A's world, and the API's
routes enumerated from the URL conf (so a new endpoint fails a matrix until it has its row).

Bank A (zqrcb) lends in Zhaoqing, bank B (icbc-foshan) in Foshan; regulator X oversees Zhaoqing,
regulator Y Foshan; staff by role.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import application_body, filing_body

PERSONAS = (
    "anonymous",
    "bank_a",
    "bank_b",
    "regulator_x",
    "regulator_y",
    "officer",
    "approver",
    "committee",
    "finance",
    "admin",
)
STAFF = ("officer", "approver", "committee", "finance", "admin")

# --- bank A's world --------------------------------------------------------------------------

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
    need: int  # a financing need bank A registered for Xinghe (Zhaoqing), shared with partner banks


def pledge(kind: str, number: str, registered_on: str = "2026-11-10") -> list[dict]:
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


def need_body(uscc: str = XINGHE, **overrides) -> dict:
    """A financing need in Zhaoqing that bank A registers on the enterprise's behalf."""
    return {
        "enterprise_uscc": uscc,
        "fund": "zhaoqing",
        "amount": "2000000.00",
        "term_months": 12,
        "purpose": "流动资金",
        "offered_ip": [],
        "consent_on": "2026-11-20",
        "consent_scope": "basic",
        **overrides,
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
        body = filing_body(enterprise_uscc=uscc, pledges=pledge("invention_patent", number))
        return _ok(bank.post("/api/v1/filings/", body, format="json"), 201)["id"]

    def accepted(uscc: str, number: str, registered_on: str = "2026-11-10", **overrides):
        pledges = pledge("invention_patent", number, registered_on)
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
    need = _ok(bank.post("/api/v1/financing-needs/", need_body(), format="json"), 201)["id"]

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
        need=need,
    )


# --- the routes of the URL conf -----------------------------------------------------------


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


def endpoints(methods) -> set[tuple[str, str]]:
    """Every (method, route) under /api/ that accepts one of `methods`."""
    found = set()
    for route, callback in _routes(get_resolver().url_patterns):
        if not route.startswith("/api/"):
            continue
        if getattr(callback, "actions", None) is not None:  # a viewset route: its method map
            allowed = {method.upper() for method in callback.actions}
        elif (view := getattr(callback, "cls", None) or getattr(callback, "view_class", None)) is not None:
            allowed = {m.upper() for m in view.http_method_names if hasattr(view, m)}
        else:  # a plain function view: it might take anything, so it must be in the matrix
            allowed = set(methods)
        found |= {(method, route) for method in allowed & set(methods)}
    return found


def route_of(match) -> str:
    """The route template (as `endpoints` spells it) of a resolved URL (`django.urls.resolve`)."""
    for route, callback in _routes(get_resolver().url_patterns):
        if callback is match.func:
            return route
    raise LookupError(f"no route for {match.route}")
