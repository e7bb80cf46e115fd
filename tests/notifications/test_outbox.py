"""The outbox: one row per event and recipient, e-mail only after commit, sent exactly once.

E-mail goes to Django's locmem outbox (pytest-django's test backend); Celery runs eagerly here
(tests/conftest.py). The real worker against Redis is in test_worker.py.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.db import connections, transaction

from banks.models import CooperationAgreement, Institution
from fundmgr.ground.accounts.models import Role, User
from fundmgr.ground.accounts.services import institution_organization
from fundmgr.ground.funds.models import Fund
from fundmgr.top.notifications import delivery
from fundmgr.top.notifications.delivery import email_claim, email_retry, email_send
from fundmgr.top.notifications.models import Notification
from fundmgr.top.notifications.services import (
    institution_recipients,
    notify,
    on_claim_decided,
    on_filing_decided,
    on_filings_suspended,
    on_recovery_overdue,
    staff_recipients,
)
from fundmgr.top.notifications.tasks import email_resend_stuck
from loans.models import ClaimStatus, LoanStatus
from tests.factories import make_filing
from tests.notifications.test_deadlines import log_entry, make_claim, make_recovery

CONTACT = "risk@zqrcb.example.cn"


def refuse(**kwargs):
    raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def bank_a(personas) -> Institution:
    """Bank A with a contact mailbox (the demo institutions have none)."""
    Institution.objects.filter(code="zqrcb").update(contact_email=CONTACT)
    return Institution.objects.get(code="zqrcb")


def employee(bank: Institution, username: str, email: str) -> User:
    return User.objects.create(
        username=username,
        role=Role.INSTITUTION,
        organization=institution_organization(institution=bank),
        email=email,
    )


def tell(bank: Institution, key: str = "filing.accepted:1") -> list[Notification]:
    return notify(
        event="filing.accepted",
        event_key=key,
        recipients=institution_recipients(bank),
        subject="贷款备案 ZQ-2026-000001 已受理入池",
        body="贵机构报送的贷款备案 ZQ-2026-000001 已受理入池。",
    )


def fresh(row: Notification) -> Notification:
    return Notification.objects.get(pk=row.pk)


# --- one row per recipient, one mail per mailbox ------------------------------------------------


@pytest.mark.django_db
def test_a_repeated_event_creates_nothing_new(bank_a, django_capture_on_commit_callbacks):
    employee(bank_a, "zqrcb-li", "li@zqrcb.example.cn")
    employee(bank_a, "zqrcb-risk", CONTACT.upper())  # reads the bank's contact mailbox

    with django_capture_on_commit_callbacks(execute=True):
        first = tell(bank_a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = tell(bank_a)

    assert len(first) == 3 and again == [] and callbacks == []
    rows = {n.recipient.username: n for n in Notification.objects.select_related("recipient")}
    assert set(rows) == {"inst:zqrcb", "zqrcb-li", "zqrcb-risk"}
    # The bank's API inbox carries the contact address; the shared mailbox gets one e-mail.
    assert (rows["inst:zqrcb"].email_to, rows["inst:zqrcb"].email_status) == (CONTACT, "sent")
    assert (rows["zqrcb-li"].email_to, rows["zqrcb-li"].email_status) == ("li@zqrcb.example.cn", "sent")
    assert (rows["zqrcb-risk"].email_to, rows["zqrcb-risk"].email_status) == ("", "skipped")
    assert sorted(m.to[0] for m in mail.outbox) == ["li@zqrcb.example.cn", CONTACT]
    assert mail.outbox[0].subject == "贷款备案 ZQ-2026-000001 已受理入池"
    assert "已受理入池" in mail.outbox[0].body


@pytest.mark.django_db
def test_mail_waits_for_the_commit_and_a_rollback_sends_nothing(bank_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        [row] = tell(bank_a)
        assert mail.outbox == []  # the row exists; the e-mail waits for the commit
    assert mail.outbox == [] and fresh(row).email_status == "pending"
    for callback in callbacks:  # the commit
        callback()
    assert [m.to for m in mail.outbox] == [[CONTACT]]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            tell(bank_a, key="filing.accepted:2")
            raise RuntimeError("the command failed after notifying")
    assert callbacks == []
    assert not Notification.objects.filter(event_key="filing.accepted:2").exists()
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_with_real_transactions_only_a_committed_event_is_mailed():
    finance = User.objects.create(username="finance-x", role=Role.FINANCE, email="finance@fund.example.cn")

    def approve() -> list[Notification]:
        return notify(
            event="claim.approved",
            event_key="claim.approved:7",
            recipients=[finance],
            subject="补偿申请 ZQ-CL-7 已批准",
            body="批准补偿金额 500000.00 元，待财务付款。",
        )

    with pytest.raises(RuntimeError), transaction.atomic(durable=True):
        approve()
        raise RuntimeError("rolled back")
    assert not Notification.objects.exists() and mail.outbox == []

    with transaction.atomic(durable=True):
        [row] = approve()
        assert mail.outbox == []
    assert [m.to for m in mail.outbox] == [["finance@fund.example.cn"]]
    assert fresh(row).email_status == "sent"
    assert approve() == [] and len(mail.outbox) == 1


# --- the sender -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_send_task_sends_once_however_often_it_runs(bank_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():  # the enqueue is lost: nothing runs yet
        [row] = tell(bank_a)
    results = [email_send.delay(row.pk).get() for _ in range(3)]
    assert results == ["sent", "not_claimed", "not_claimed"]
    row = fresh(row)
    assert (row.email_status, row.attempts, row.last_error) == ("sent", 1, "")
    assert row.sent_at is not None and row.claimed_at is None
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_failed_send_is_recorded_and_a_later_resend_sends_once(
    bank_a, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(delivery, "send_mail", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        [row] = tell(bank_a)
    row = fresh(row)
    assert (row.email_status, row.attempts, row.claimed_at) == ("failed", 1, None)
    assert "SMTPServerDisconnected" in row.last_error
    assert email_send.delay(row.pk).get() == "failed"
    assert fresh(row).attempts == 2 and mail.outbox == []

    monkeypatch.undo()  # the mail server is back; staff resend
    with django_capture_on_commit_callbacks(execute=True):
        assert email_retry(notification_ids=[row.pk]) == 1
    row = fresh(row)
    assert (row.email_status, row.attempts, row.last_error) == ("sent", 3, "")
    assert len(mail.outbox) == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert email_retry(notification_ids=[row.pk]) == 0  # sent rows are not resent
    assert email_send.delay(row.pk).get() == "not_claimed"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_with_a_broker_a_failure_is_retried_with_exponential_back_off(
    bank_a, monkeypatch, settings, django_capture_on_commit_callbacks
):
    """Outside eager mode the task asks Celery for a delayed retry: 60 s, doubling, capped."""
    settings.NOTIFICATION_EMAIL_RETRY_BASE_SECONDS = 60
    monkeypatch.setattr(delivery, "send_mail", refuse)
    task = email_send._get_current_object()
    requested: list[tuple[float, int]] = []

    def retry(self, *, exc, countdown, max_retries):
        requested.append((countdown, max_retries))
        return Retry(exc=exc, when=countdown)

    monkeypatch.setattr(type(task), "retry", retry)
    with django_capture_on_commit_callbacks():
        [row] = tell(bank_a)
    for retries in (0, 2, 9):
        task.push_request(id=f"delivery-{retries}", retries=retries, is_eager=False)
        try:
            with pytest.raises(Retry):
                task.run(row.pk)
        finally:
            task.pop_request()
    assert requested == [(60, 5), (240, 5), (3600, 5)]
    row = fresh(row)
    assert (row.email_status, row.attempts) == ("failed", 3) and mail.outbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_the_same_rows_send_each_once(monkeypatch):
    finance = User.objects.create(username="finance-y", role=Role.FINANCE, email="finance@fund.example.cn")
    monkeypatch.setattr(delivery, "enqueue_email", lambda pk: None)  # the rows wait for the workers
    rows = [
        notify(
            event="claim.approved",
            event_key=f"claim.approved:{n}",
            recipients=[finance],
            subject=f"补偿申请 {n} 已批准",
            body="待财务付款。",
        )[0]
        for n in range(5)
    ]
    task = email_send._get_current_object()

    def deliver(pk: int, gate: threading.Barrier) -> str:
        try:
            gate.wait(timeout=10)
            return task.apply(args=[pk]).get()
        finally:
            connections.close_all()  # this thread's connection

    with ThreadPoolExecutor(max_workers=2) as pool:
        for row in rows:
            gate = threading.Barrier(2)
            results = list(pool.map(deliver, [row.pk, row.pk], [gate, gate]))
            assert sorted(results) == ["not_claimed", "sent"]
    assert len(mail.outbox) == 5
    assert set(Notification.objects.values_list("email_status", "attempts")) == {("sent", 1)}


@pytest.mark.django_db
def test_the_sweep_requeues_lost_messages_and_flags_interrupted_sends(
    bank_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():  # no commit hook ran for any of these
        [lost] = tell(bank_a, key="filing.accepted:lost")
        [interrupted] = tell(bank_a, key="filing.accepted:interrupted")
        [recent] = tell(bank_a, key="filing.accepted:recent")
    long_ago = dt.timedelta(minutes=30)
    Notification.objects.filter(pk__in=[lost.pk, interrupted.pk]).update(
        created_at=lost.created_at - long_ago
    )
    assert email_claim(notification_id=interrupted.pk) is not None  # a worker took it, then died
    Notification.objects.filter(pk=interrupted.pk).update(claimed_at=lost.created_at - long_ago)

    assert email_resend_stuck.delay().get() == {"requeued": 1, "interrupted": 1}
    assert fresh(lost).email_status == "sent"
    interrupted = fresh(interrupted)
    # It may have left already: no automatic resend, staff decide.
    assert interrupted.email_status == "failed" and "无法确认" in interrupted.last_error
    assert fresh(recent).email_status == "pending"  # its message may still be on its way
    assert len(mail.outbox) == 1


# --- the event helpers the lifecycle services call -------------------------------------------


def recipients_of(rows: list[Notification]) -> list[str]:
    return sorted(n.recipient.username for n in rows)


@pytest.mark.django_db
def test_lifecycle_events_reach_the_right_people(bank_a):
    zhaoqing = Fund.objects.get(code="zhaoqing")
    loan = make_filing(fund=zhaoqing, institution=bank_a)
    accepted = on_filing_decided(loan, "accept")
    assert recipients_of(accepted) == ["inst:zqrcb"]
    assert (accepted[0].event, accepted[0].event_key) == ("filing.accepted", f"filing.accepted:{loan.pk}")
    assert (accepted[0].object_type, accepted[0].object_id) == ("filing", str(loan.pk))
    assert accepted[0].email_to == CONTACT
    assert on_filing_decided(loan, "accept") == []
    assert on_filing_decided(loan, "start_due_diligence") == []  # not news for the bank

    # Each return is its own occurrence and carries the reason.
    returned = make_filing(fund=zhaoqing, institution=bank_a, accepted=False)
    log_entry(returned, "returned", dt.date(2026, 9, 28), "return_for_supplement", "缺少质押登记通知书")
    [first] = on_filing_decided(returned, "return_for_supplement")
    assert "缺少质押登记通知书" in first.body
    log_entry(returned, "returned", dt.date(2026, 10, 9), "return_for_supplement", "评估报告已过期")
    [second] = on_filing_decided(returned, "return_for_supplement")
    assert "评估报告已过期" in second.body and second.event_key != first.event_key

    claim = make_claim(
        make_filing(fund=zhaoqing, institution=bank_a, loan_status=LoanStatus.IN_CLAIM),
        status=ClaimStatus.APPROVED,
    )
    approved = on_claim_decided(claim, "approve")
    assert recipients_of(approved) == ["finance", "inst:zqrcb"]
    assert "500000.00" in approved[0].body and approved[0].object_type == "claim"

    paid = make_claim(
        make_filing(fund=zhaoqing, institution=bank_a, loan_status=LoanStatus.COMPENSATED),
        status=ClaimStatus.IN_RECOVERY,
    )
    [paid_notice] = on_claim_decided(paid, "pay")
    assert paid_notice.recipient.username == "inst:zqrcb"
    assert "500000.00" in paid_notice.body and "2026-09-10" in paid_notice.body

    agreement = CooperationAgreement.objects.get(institution=bank_a, fund=zhaoqing)
    CooperationAgreement.objects.filter(pk=agreement.pk).update(
        filings_suspended_on=dt.date(2026, 10, 9),
        filings_suspension_reason="在保贷款不良率 6.20% 超过阈值 5.00%",
    )
    suspended = on_filings_suspended(CooperationAgreement.objects.get(pk=agreement.pk))
    assert recipients_of(suspended) == ["approver", "inst:zqrcb", "officer", "officer2"]
    assert (suspended[0].object_type, suspended[0].object_id) == ("institution", "zqrcb")
    assert "6.20%" in suspended[0].body

    overdue = on_recovery_overdue(make_recovery(paid, due_on=dt.date(2026, 10, 12)))
    assert recipients_of(overdue) == ["finance", "inst:zqrcb"]


# --- the API --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_caller_sees_and_reads_only_its_own_notices(personas, bank_a):
    bank_b = Institution.objects.get(code="icbc-foshan")
    [a_old] = tell(bank_a, key="filing.accepted:a1")
    [a_new] = tell(bank_a, key="filing.accepted:a2")
    [b_row] = tell(bank_b, key="filing.accepted:b1")
    notify(
        event="claim.approved",
        event_key="claim.approved:9",
        recipients=staff_recipients(Role.FINANCE),
        subject="补偿申请已批准",
        body="待财务付款。",
    )
    a, b = personas.client("bank_a"), personas.client("bank_b")

    listed = a.get("/api/v1/notifications/").json()
    assert listed["count"] == 2
    assert [n["id"] for n in listed["results"]] == [a_new.pk, a_old.pk]  # newest first
    assert set(listed["results"][0]) == {
        "id",
        "event",
        "subject",
        "body",
        "object_type",
        "object_id",
        "created_at",
        "read_at",
    }
    assert listed["results"][0]["event"] == "filing.accepted" and listed["results"][0]["read_at"] is None
    assert [n["id"] for n in b.get("/api/v1/notifications/").json()["results"]] == [b_row.pk]

    # Bank B cannot read (or mark) bank A's notice: it does not exist for B.
    refused = b.post(f"/api/v1/notifications/{a_old.pk}/read/")
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    assert fresh(a_old).read_at is None

    read = a.post(f"/api/v1/notifications/{a_old.pk}/read/")
    assert read.status_code == 200
    assert read.json()["id"] == a_old.pk and read.json()["read_at"] is not None
    assert a.post(f"/api/v1/notifications/{a_old.pk}/read/").json()["read_at"] == read.json()["read_at"]
    assert [n["id"] for n in a.get("/api/v1/notifications/?unread=true").json()["results"]] == [a_new.pk]
    assert [n["id"] for n in a.get("/api/v1/notifications/?unread=false").json()["results"]] == [a_old.pk]

    assert [
        n["event"] for n in personas.client("finance").get("/api/v1/notifications/").json()["results"]
    ] == ["claim.approved"]
    assert personas.client("officer").get("/api/v1/notifications/").json()["count"] == 0
    assert personas.client("anonymous").get("/api/v1/notifications/").status_code == 401


# --- the admin ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_administrator_sees_failed_mail_in_the_admin_and_resends_it(
    client, personas, bank_a, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(delivery, "send_mail", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        [row] = tell(bank_a)
    # Everyone else reads only their own notices (tests/notifications/test_inbox_admin.py);
    # the system administrator follows every notice's delivery.
    client.force_login(personas.user("admin"))

    page = client.get("/admin/notifications/notification/?email_status__exact=failed")
    assert page.status_code == 200
    text = page.content.decode()
    assert "贷款备案 ZQ-2026-000001 已受理入池" in text and "SMTPServerDisconnected" in text

    detail = f"/admin/notifications/notification/{row.pk}/change/"
    assert client.get(detail).status_code == 200
    assert client.post(detail, {"subject": "改过的标题"}).status_code == 403  # read-only
    assert fresh(row).subject == "贷款备案 ZQ-2026-000001 已受理入池"

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/notifications/notification/", {"action": "retry_email", "_selected_action": [row.pk]}
        )
    assert response.status_code == 302
    assert fresh(row).email_status == "sent" and [m.to for m in mail.outbox] == [[CONTACT]]

    # The administrator reads their own notices too; marking someone else's does nothing.
    [mine] = notify(
        event="deadline.due_diligence.approaching",
        event_key="deadline.due_diligence.approaching:1:2026-10-09",
        recipients=[personas.user("admin")],
        subject="尽调即将到期：贷款备案 ZQ-2026-000001",
        body="尽调期限将于 2026-10-09 到期。",
    )
    assert "尽调即将到期" in client.get("/admin/notifications/notification/?mine=1&read=no").content.decode()
    client.post(
        "/admin/notifications/notification/", {"action": "mark_read", "_selected_action": [mine.pk, row.pk]}
    )
    assert fresh(mine).read_at is not None and fresh(row).read_at is None


@pytest.mark.django_db
def test_a_regulator_marks_its_own_notices_read_and_nothing_else(personas):
    regulator = personas.user("regulator_x")
    [own] = notify(
        event="report.ready",
        event_key="report.ready:1",
        recipients=[regulator],
        subject="季度报表",
        body="已生成。",
    )
    [other] = notify(
        event="report.ready",
        event_key="report.ready:2",
        recipients=[personas.user("regulator_y")],
        subject="季度报表",
        body="已生成。",
    )
    client = personas.client("regulator_x")
    marked = client.post(f"/api/v1/notifications/{own.pk}/read/")
    assert marked.status_code == 200 and marked.json()["read_at"] is not None
    refused = client.post(f"/api/v1/notifications/{other.pk}/read/")
    assert refused.status_code == 404
    assert fresh(other).read_at is None
    # Still read-only for business data.
    assert client.post("/api/v1/filings/", {}, format="json").status_code == 403
