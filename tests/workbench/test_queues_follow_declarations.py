"""A queue holds exactly the records its user may act on: the same answer, record by record, as
the transition buttons give (`workflow.available_transitions`: state, role and four-eyes from
the step declarations on the models)."""

from __future__ import annotations

import pytest

from enterprises import selectors as enterprise_queues
from enterprises.models import Enterprise
from fundmgr.ground.accounts.workflow import available_transitions
from fundmgr.ground.lib import clock
from loans.models import Claim, LoanFiling
from loans.selectors import queues as loan_queues
from tests.factories import application_body

from .world import build

pytestmark = pytest.mark.django_db

ALL = 1000  # list every item, not only the first few


def listed(summary) -> set[int]:
    assert summary.count == len(summary.items)
    return {item.obj.pk for item in summary.items}


def may_act(queryset, steps, user) -> set[int]:
    return {obj.pk for obj in queryset if set(steps) & set(available_transitions(obj, user))}


CLAIM_QUEUES = [
    ("officer", loan_queues.claims_awaiting_review, ["start_review"]),
    ("approver", loan_queues.claims_awaiting_recommendation, ["recommend"]),
    ("committee", loan_queues.claims_awaiting_committee, ["start_committee_review", "approve"]),
    ("finance", loan_queues.claims_awaiting_payment, ["pay"]),
]


def test_claim_queues_hold_what_the_buttons_offer(personas, business_date):
    build(personas, business_date)
    for name in ("officer", "officer2", "approver", "committee", "finance"):
        user = personas.user(name)
        for _owner, select, steps in CLAIM_QUEUES:
            queue = listed(select(user=user, today=clock.today(), limit=ALL))
            assert queue == may_act(Claim.objects.all(), steps, user), (name, steps)


def test_acceptance_holds_checked_filings_this_approver_may_accept(personas, business_date):
    world = build(personas, business_date)
    for name in ("approver", "officer", "officer2"):
        user = personas.user(name)
        queue = listed(loan_queues.filings_awaiting_acceptance(user=user, today=clock.today(), limit=ALL))
        checked = LoanFiling.objects.filter(pk__in=[world.checked.pk, world.own_check.pk, world.mine.pk])
        complete = {f.pk for f in checked if f.due_diligence.complete}
        assert queue == may_act(checked, ["accept"], user) & complete, name
    # The approver checked `own_check` themself: four-eyes leaves it to someone else.
    approver_queue = loan_queues.filings_awaiting_acceptance(user=personas.user("approver"), limit=ALL)
    assert (approver_queue.count, approver_queue.blocked) == (1, 1)


def test_admissions_follow_four_eyes(personas, business_date):
    build(personas, business_date)
    started = []
    for who in ("officer", "approver"):
        body = application_body()
        assert personas.client("bank_a").post("/api/v1/enterprises/", body, format="json").status_code == 201
        response = personas.client(who).post(
            f"/api/v1/enterprises/{body['uscc']}/transitions/start_review/", {"comment": "ok"}, format="json"
        )
        assert response.status_code == 200, response.json()
        started.append(Enterprise.objects.get(uscc=body["uscc"]).pk)
    for name in ("approver", "officer", "officer2"):
        user = personas.user(name)
        queue = listed(
            enterprise_queues.enterprises_awaiting_admission(user=user, today=clock.today(), limit=ALL)
        )
        assert queue == may_act(Enterprise.objects.filter(pk__in=started), ["admit"], user), name
    # The approver started one review: only the officer's is theirs to admit.
    assert listed(
        enterprise_queues.enterprises_awaiting_admission(user=personas.user("approver"), limit=ALL)
    ) == {started[0]}
