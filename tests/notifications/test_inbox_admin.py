"""Each reader's own inbox in the admin, and the unread count in the header of every page.

Personas: the officer and the approver (staff), the Zhaoqing regulator (reads its city in the
admin), and the system administrator (reads every notice, to follow e-mail delivery)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fundmgr.ground.accounts.models import User
from fundmgr.top.notifications.models import Notification
from fundmgr.top.notifications.selectors import unread_count
from fundmgr.top.notifications.services import notify

pytestmark = pytest.mark.django_db

LIST = "/admin/notifications/notification/"
HEADER_LINK = re.compile(r'<a id="unread-notifications" href="([^"]+)"[^>]*>\s*([^<]*?)\s*</a>')
PASSWORD = "inbox-pass-2026"


def user(name: str) -> User:
    return User.objects.get(username=name)


def tell(username: str, subject: str, key: str | None = None) -> Notification:
    [row] = notify(
        event="deadline.due_diligence.approaching",
        event_key=key or f"test:{username}:{subject}",
        recipients=[user(username)],
        subject=subject,
        body=f"{subject}（正文）",
    )
    return row


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(user(username))
    return client


def regulator_client() -> Client:
    """The regulator signs in through the real login form (as regulator tests do)."""
    regulator = user("regulator-zhaoqing")
    regulator.set_password(PASSWORD)
    regulator.save()
    client = Client()
    response = client.post(reverse("admin:login"), {"username": regulator.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def inboxes(personas) -> dict[str, list[Notification]]:
    return {
        "officer": [tell("officer", "尽调即将到期：ZQ-1"), tell("officer", "尽调即将到期：ZQ-2")],
        "approver": [tell("approver", "待复核：ZQ-3")],
        "regulator-zhaoqing": [tell("regulator-zhaoqing", "季度报告已生成：肇庆")],
        "regulator-foshan": [tell("regulator-foshan", "季度报告已生成：佛山")],
    }


def listed(client: Client, **params) -> str:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return response.content.decode()


# --- scope ----------------------------------------------------------------------------------------


def test_an_officer_sees_only_their_own_notices(inboxes):
    officer = signed_in("officer")
    page = listed(officer)
    assert "尽调即将到期：ZQ-1" in page and "尽调即将到期：ZQ-2" in page
    assert "待复核：ZQ-3" not in page and "季度报告已生成" not in page
    # Another's notice is not found, not merely hidden.
    other = inboxes["approver"][0]
    assert officer.get(reverse("admin:notifications_notification_change", args=[other.pk])).status_code == 302
    assert Notification.objects.get(pk=other.pk).read_at is None


def test_a_regulator_sees_only_its_own_notices(inboxes):
    regulator = regulator_client()
    index = regulator.get(reverse("admin:index")).content.decode()
    assert LIST in index  # the inbox is one of the regulator's pages
    page = listed(regulator)
    assert "季度报告已生成：肇庆" in page
    assert "季度报告已生成：佛山" not in page and "尽调即将到期：ZQ" not in page
    own = inboxes["regulator-zhaoqing"][0]
    assert regulator.get(reverse("admin:notifications_notification_change", args=[own.pk])).status_code == 200


def test_the_administrator_sees_everyones_and_can_narrow_to_their_own(inboxes):
    tell("admin", "系统：邮件发送失败")
    admin = signed_in("admin")
    everything = listed(admin)
    for subject in ("尽调即将到期：ZQ-1", "待复核：ZQ-3", "季度报告已生成：佛山", "系统：邮件发送失败"):
        assert subject in everything
    assert "只看我的通知" in everything
    mine = listed(admin, mine="1")
    assert "系统：邮件发送失败" in mine and "待复核：ZQ-3" not in mine


def test_opening_a_notice_marks_it_read_only_for_its_recipient(inboxes):
    first, second = inboxes["officer"]
    page = signed_in("officer").get(reverse("admin:notifications_notification_change", args=[first.pk]))
    assert page.status_code == 200 and "尽调即将到期：ZQ-1（正文）" in page.content.decode()
    assert Notification.objects.get(pk=first.pk).read_at is not None
    assert Notification.objects.get(pk=second.pk).read_at is None
    # The administrator reading someone's notice does not mark it read for them.
    signed_in("admin").get(reverse("admin:notifications_notification_change", args=[second.pk]))
    assert Notification.objects.get(pk=second.pk).read_at is None


def test_the_mark_read_action(inboxes):
    first, second = inboxes["officer"]
    officer = signed_in("officer")
    assert "标记为已读" in listed(officer)
    response = officer.post(
        LIST, {"action": "mark_read", "_selected_action": [first.pk, second.pk]}, follow=True
    )
    assert "已将 2 条通知标记为已读。" in response.content.decode()
    assert unread_count(user("officer")) == 0
    # Somebody else's notice cannot be slipped into the selection.
    theirs = inboxes["approver"][0]
    officer.post(LIST, {"action": "mark_read", "_selected_action": [theirs.pk]})
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_the_unread_filter(inboxes):
    first, _second = inboxes["officer"]
    officer = signed_in("officer")
    officer.get(reverse("admin:notifications_notification_change", args=[first.pk]))
    unread = listed(officer, read="no", mine="1")
    assert "尽调即将到期：ZQ-2" in unread and "尽调即将到期：ZQ-1" not in unread


# --- the header -----------------------------------------------------------------------------------


def header(client: Client, url: str = "/admin/") -> tuple[str, str]:
    response = client.get(url)
    assert response.status_code == 200
    match = HEADER_LINK.search(response.content.decode())
    assert match, "no unread count in the header"
    return match.group(1).replace("&amp;", "&"), match.group(2)


def test_every_admin_page_shows_the_readers_unread_count(inboxes):
    officer = signed_in("officer")
    for url in ("/admin/", "/admin/banks/institution/", "/admin/password_change/", LIST):
        assert header(officer, url)[1] == "通知 (2)", url
    assert header(signed_in("approver"))[1] == "通知 (1)"
    assert header(regulator_client())[1] == "通知 (1)"
    assert header(signed_in("finance"))[1] == "通知 (0)"


def test_the_count_follows_reading_and_links_to_the_unread_list(inboxes):
    first, _ = inboxes["officer"]
    officer = signed_in("officer")
    link, text = header(officer)
    assert text == "通知 (2)" and link == f"{LIST}?read=no&mine=1"
    # The link works for everyone (no "?e=1" for an unknown filter).
    followed = officer.get(link)
    assert followed.status_code == 200 and "尽调即将到期：ZQ-1" in followed.content.decode()
    officer.get(reverse("admin:notifications_notification_change", args=[first.pk]))
    assert header(officer)[1] == "通知 (1)"


def test_no_count_on_the_login_page(inboxes):
    html = Client().get(reverse("admin:login")).content.decode()
    assert "unread-notifications" not in html


def test_the_count_is_one_count_query_per_request(inboxes):
    officer = signed_in("officer")
    officer.get("/admin/")  # warm the session and content types
    with CaptureQueriesContext(connection) as page:
        officer.get("/admin/")
    on_notifications = [q["sql"] for q in page.captured_queries if "notifications_notification" in q["sql"]]
    assert len(on_notifications) == 1, on_notifications
    assert "COUNT(" in on_notifications[0].upper() and "read_at" in on_notifications[0]

    # Asked twice on one page (the header and, say, a dashboard), still one query.
    request = RequestFactory().get("/admin/")
    request.user = user("officer")
    template = Template("{% load notifications_tags %}{% unread_notifications %}/{% unread_notifications %}")
    with CaptureQueriesContext(connection) as tags:
        assert template.render(Context({"request": request})) == "2/2"
    assert len(tags.captured_queries) == 1


@pytest.mark.postgres
def test_the_count_is_answered_from_the_partial_unread_index(inboxes):
    officer = user("officer")
    with CaptureQueriesContext(connection) as counted:
        assert unread_count(officer) == 2
    [query] = counted.captured_queries
    with connection.cursor() as cursor:
        # A handful of rows would be read sequentially anyway; what matters is that the index
        # answers this exact query when the table is large.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {query['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "notif_recipient_unread_idx" in plan, plan
