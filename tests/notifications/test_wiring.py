"""Lifecycle changes that concern a bank reach it (in-app via the API, and by e-mail)."""

from __future__ import annotations

import pytest
from django.core import mail

from fundmgr.top.notifications.models import Notification
from loans.services.filings import filing_transition
from tests.factories import filing_body
from tests.loans.conftest import accept_filing

pytestmark = pytest.mark.django_db


def events(client) -> list[str]:
    response = client.get("/api/v1/notifications/")
    assert response.status_code == 200
    return [n["event"] for n in response.json()["results"]]


def test_filing_return_and_acceptance_reach_the_bank_once(
    personas, business_date, django_capture_on_commit_callbacks
):
    from banks.models import Institution

    Institution.objects.filter(code="zqrcb").update(contact_email="ipfinance@zqrcb.example.cn")
    business_date("2026-11-21")
    bank = personas.client("bank_a")
    filing_id = bank.post("/api/v1/filings/", filing_body(), format="json").json()["id"]
    officer = personas.user("officer")
    filing_transition(filing_id=filing_id, name="start_due_diligence", user=officer)
    with django_capture_on_commit_callbacks(execute=True):
        filing_transition(
            filing_id=filing_id, name="return_for_supplement", user=officer, comment="补充评估报告"
        )
    assert events(bank) == ["filing.returned"]
    notice = bank.get("/api/v1/notifications/").json()["results"][0]
    assert "补充评估报告" in notice["body"] and notice["object_id"] == str(filing_id)
    assert [m.to for m in mail.outbox] == [["ipfinance@zqrcb.example.cn"]]
    assert personas.client("bank_b").get("/api/v1/notifications/").json()["count"] == 0


def test_accept_and_claim_payment_notify_the_bank(personas, business_date):
    business_date("2026-11-21")
    accept_filing(personas)
    assert "filing.accepted" in events(personas.client("bank_a"))
    assert Notification.objects.filter(event="filing.accepted", recipient__username="inst:zqrcb").count() == 1


def test_automatic_suspension_tells_the_bank_and_staff(personas, business_date):
    from loans.services.servicing import npl_suspension_check
    from tests.loans.conftest import make_non_performing

    business_date("2026-11-21")
    filing = accept_filing(personas)
    make_non_performing(personas, filing)
    assert npl_suspension_check(institution_id=filing.institution_id, fund_id=filing.fund_id)
    assert "agreement.filings_suspended" in events(personas.client("bank_a"))
    assert Notification.objects.filter(
        event="agreement.filings_suspended", recipient__username="officer"
    ).exists()


def test_claim_decisions_and_overdue_recovery_notify(personas, business_date):
    import datetime as dt
    from decimal import Decimal

    from fundmgr.ground.accounts.principals import principal_for
    from loans.services.claims import claim_submit, claim_transition, recoveries_mark_overdue, recovery_report
    from tests.loans.conftest import make_non_performing

    business_date("2026-11-21")
    filing = make_non_performing(personas, accept_filing(personas))
    bank = principal_for(personas.user("bank_a"))
    claim = claim_submit(
        principal=bank,
        data={
            "filing": filing.pk,
            "trigger_date": dt.date(2026, 11, 20),
            "outstanding_principal": Decimal("500000.00"),
            "recovered_before_claim": Decimal("0.00"),
        },
    )
    for who, step in (
        ("officer", "start_review"),
        ("approver", "recommend"),
        ("committee", "start_committee_review"),
    ):
        claim_transition(claim_id=claim.pk, name=step, user=personas.user(who))
    claim_transition(claim_id=claim.pk, name="approve", user=personas.user("committee"), meeting_ref="M-9")
    claim_transition(claim_id=claim.pk, name="pay", user=personas.user("finance"))
    recovery_report(
        principal=bank,
        claim_id=claim.pk,
        data={
            "received_on": dt.date(2026, 11, 21),
            "gross_amount": Decimal("1000.00"),
            "costs": Decimal("0.00"),
            "source": "borrower",
        },
    )
    business_date("2026-12-31")
    assert recoveries_mark_overdue() == 1
    got = events(personas.client("bank_a"))
    assert {"claim.approved", "claim.paid", "recovery.overdue"} <= set(got)
    assert Notification.objects.filter(event="claim.approved", recipient__username="finance").exists()
    assert Notification.objects.filter(event="recovery.overdue", recipient__username="finance").exists()


def test_early_warning_reaches_the_bank_once(personas, business_date):
    from enterprises.models import IPAsset
    from loans.services.servicing import warnings_scan

    business_date("2026-11-21")
    filing = accept_filing(personas)
    IPAsset.objects.filter(number="201613031399.8").update(status="lapsed")
    assert warnings_scan()["ip_lapsed"] == 1
    warnings_scan()
    assert events(personas.client("bank_a")).count("warning.ip_lapsed") == 1
    assert Notification.objects.filter(event="warning.ip_lapsed", recipient__username="officer").count() == 1
    assert (
        filing.reference
        in personas.client("bank_a").get("/api/v1/notifications/").json()["results"][0]["subject"]
    )
