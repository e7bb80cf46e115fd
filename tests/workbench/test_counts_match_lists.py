"""Each start-page (工作台) card links to an admin list showing exactly the records it counts: for
every persona, every card's count is the number of rows of the list it links to, and the items
the card shows are rows of that list. Rows come from `world.build` plus, so that every queue
holds something for someone, an institution applying, one under review, an enterprise under
review, and two suspended agreements whose reinstatement was requested (one by the approver).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.test import Client

from banks.models import CooperationAgreement, Institution
from banks.services import (
    agreement_filings_transition,
    agreement_suspend_filings,
    institution_create,
    institution_transition,
)
from enterprises.services import enterprise_transition

from . import page
from .world import apply_enterprise, build

pytestmark = pytest.mark.django_db

PERSONAS = ("officer", "officer2", "approver", "committee", "finance", "admin")


def more_rows(personas) -> None:
    admin = personas.user("admin")
    for code in ("applicant-a", "applicant-b"):
        institution_create(data={"code": code, "name": f"测试银行{code}", "region_code": "441200"}, by=admin)
    institution_transition(
        institution_id=Institution.objects.get(code="applicant-b").pk,
        name="start_review",
        user=personas.user("officer"),
    )
    enterprise_transition(
        enterprise_id=apply_enterprise(personas).pk, name="start_review", user=personas.user("officer")
    )
    for code, requester in (("zqrcb", "officer"), ("icbc-foshan", "approver")):
        agreement = CooperationAgreement.objects.filter(institution__code=code).order_by("pk").first()
        agreement_suspend_filings(
            agreement_id=agreement.pk, reason="不良率超过阈值", on=dt.date(2026, 11, 30)
        )
        agreement_filings_transition(
            agreement_id=agreement.pk,
            name="request_reinstatement",
            user=personas.user(requester),
            comment="已完成整改",
        )


def test_every_cards_count_is_the_rows_of_the_list_it_opens(personas, business_date):
    build(personas, business_date)
    more_rows(personas)
    counted: dict[str, int] = {}
    mismatches = []
    for name in PERSONAS:
        client = Client()
        client.force_login(personas.user(name))
        root = page.index(client)
        keys = page.cards(root)
        assert keys, name
        for key in keys:
            card = page.card(root, key)
            assert card.href, (name, key)
            response = client.get(card.href)
            assert response.status_code == 200, (name, key, card.href)
            changelist = response.context_data["cl"]
            rows = {obj.pk for obj in changelist.result_list}
            shown = {int(urlsplit(row.href).path.rstrip("/").split("/")[-2]) for row in card.rows if row.href}
            if changelist.result_count != card.count or not shown <= rows:
                mismatches.append((name, key, card.href, card.count, changelist.result_count, shown - rows))
            if "workqueue=" in card.href:  # the apps' queues (the 工作台 filter), built up above
                counted[key] = counted.get(key, 0) + card.count
    assert mismatches == []
    # Every such queue held something for someone: no count was checked only at zero.
    assert len(counted) >= 12 and [key for key, n in counted.items() if n == 0] == []


def test_the_list_of_a_queue_not_the_users_role_shows_no_filter_for_it(personas, business_date):
    """The 工作台 filter offers a person the queues of their own role only (the overview:
    all): finance is offered payments, not the committee's decisions."""
    build(personas, business_date)
    client = Client()
    client.force_login(personas.user("finance"))
    text = client.get("/admin/loans/claim/").content.decode()
    assert "?workqueue=claims_payment" in text
    assert "?workqueue=claims_committee" not in text
    client.force_login(personas.user("admin"))
    text = client.get("/admin/loans/claim/").content.decode()
    assert "?workqueue=claims_payment" in text and "?workqueue=claims_committee" in text
