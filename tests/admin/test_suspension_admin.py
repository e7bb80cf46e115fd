"""A filing suspension in the admin: the box at the top of the agreement and institution pages
(since when, the NPL ratio against the threshold, the reason, the pending request), the lists'
column and filter, and the four-eyes buttons, shown only to those who may press them."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from banks.models import CooperationAgreement, FilingsStatus, Institution
from fundmgr.ground.accounts.models import User
from tests.banks.suspension import step, suspend_zqrcb, zqrcb_agreement

pytestmark = pytest.mark.django_db

BUTTON = re.compile(r'name="_fsm_transition_to"\s+value="([^"]*)"')
NOTICE = re.compile(r'<div class="suspension-notice filing-suspension".*?</div>', re.S)


@pytest.fixture
def suspended(demo, business_date) -> CooperationAgreement:
    return suspend_zqrcb(business_date)


def as_user(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def agreement_page(who: str, agreement: CooperationAgreement) -> str:
    response = as_user(who).get(reverse("admin:banks_cooperationagreement_change", args=[agreement.pk]))
    assert response.status_code == 200
    return response.content.decode()


def notices(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", box)).strip() for box in NOTICE.findall(html)]


def buttons(html: str) -> list[str]:
    return BUTTON.findall(html)


def test_the_agreement_page_shows_the_suspension_at_the_top(suspended):
    html = agreement_page("approver", suspended)
    [box] = notices(html)
    assert "新增备案已暂停" in box
    assert "暂停日期：2026-12-03" in box
    assert "暂停时在保贷款不良率：6.25%（暂停阈值 5.00%）" in box
    assert "原因：在保贷款不良率 6.25%" in box and "超过暂停阈值 5.00%" in box
    assert "下一步：申请恢复备案" in box and "可办理：approver、officer、officer2" in box
    # At the top: before the form's first fieldset.
    assert html.index("suspension-notice") < html.index('<fieldset class="module')
    # The log shows the system's step.
    assert "暂停新增备案" in html and "系统" in html


def test_the_pending_request_is_shown_with_who_when_and_why(suspended, business_date):
    business_date("2026-12-07")
    step(suspended, "request_reinstatement", "officer", "已压降不良贷款")
    [box] = notices(agreement_page("approver", suspended))
    assert "（恢复待审批）" in box
    assert "恢复备案申请：officer（业务专员）于 2026-12-07 提出，理由：已压降不良贷款" in box
    assert "下一步：批准恢复备案（须由申请人以外的复核负责人办理）" in box
    assert "可办理：approver" in box and "officer2" not in box


def test_a_refused_request_is_shown_until_the_next(suspended):
    step(suspended, "request_reinstatement", "officer", "整改完成")
    step(suspended, "refuse_reinstatement", "approver", "不良率仍高于阈值")
    [box] = notices(agreement_page("officer", suspended))
    assert "上一次恢复申请已被approver（复核负责人）于 2026-12-03 驳回，理由：不良率仍高于阈值" in box


def test_no_box_when_filings_are_open(demo):
    html = agreement_page("approver", zqrcb_agreement())
    assert notices(html) == [] and buttons(html) == []


@pytest.mark.parametrize(
    ("who", "offered"),
    [
        ("officer", ["request_reinstatement"]),
        ("approver", ["request_reinstatement"]),
        ("committee", []),
        ("finance", []),
    ],
)
def test_buttons_before_a_request(suspended, who, offered):
    assert buttons(agreement_page(who, suspended)) == offered


@pytest.mark.parametrize(
    ("who", "offered"),
    [
        ("officer", []),  # the requester: four eyes
        ("officer2", []),  # not an approver
        ("approver", ["approve_reinstatement", "refuse_reinstatement"]),
    ],
)
def test_buttons_after_a_request(suspended, who, offered):
    step(suspended, "request_reinstatement", "officer", "整改完成")
    assert buttons(agreement_page(who, suspended)) == offered


def test_the_page_saves_nothing(suspended):
    html = agreement_page("approver", suspended)
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    response = as_user("approver").post(
        reverse("admin:banks_cooperationagreement_change", args=[suspended.pk]), {"fund_share": "90.00"}
    )
    assert response.status_code in (200, 302)
    assert zqrcb_agreement().fund_share == suspended.fund_share


def test_request_and_approve_through_the_buttons_forms(suspended):
    officer, approver = as_user("officer"), as_user("approver")
    form = reverse(
        "admin:banks_cooperationagreement_transition",
        kwargs={"object_id": suspended.pk, "transition_name": "request_reinstatement"},
    )
    # The reason is required by the form (and by the service).
    empty = officer.post(form, {"comment": ""})
    assert empty.status_code == 200 and "该字段是必填项" in empty.content.decode()
    assert zqrcb_agreement().filings_status == FilingsStatus.SUSPENDED

    done = officer.post(form, {"comment": "已压降不良贷款"}, follow=True)
    assert "操作“申请恢复备案”已完成。" in done.content.decode()
    assert zqrcb_agreement().filings_status == FilingsStatus.REINSTATEMENT_REQUESTED

    approve = reverse(
        "admin:banks_cooperationagreement_transition",
        kwargs={"object_id": suspended.pk, "transition_name": "approve_reinstatement"},
    )
    # The requester has no button, and the form refuses them too.
    officer.post(approve, {"comment": "同意"})
    assert zqrcb_agreement().filings_status == FilingsStatus.REINSTATEMENT_REQUESTED

    page = approver.post(approve, {"comment": "同意恢复"}, follow=True).content.decode()
    assert "操作“批准恢复备案”已完成。" in page
    assert zqrcb_agreement().filings_status == FilingsStatus.OPEN
    assert notices(page) == []
    assert "同意恢复" in page and "已压降不良贷款" in page  # both steps in the history table


def test_the_institution_page_shows_each_suspended_fund_with_a_link(suspended):
    institution = Institution.objects.get(code="zqrcb")
    response = as_user("officer").get(reverse("admin:banks_institution_change", args=[institution.pk]))
    html = response.content.decode()
    [box] = notices(html)
    assert box.startswith("肇庆市：新增备案已暂停")
    assert "暂停日期：2026-12-03" in box and "6.25%（暂停阈值 5.00%）" in box
    assert reverse("admin:banks_cooperationagreement_change", args=[suspended.pk]) in html
    assert "在合作协议页面办理" in box
    # The agreements inline says it on the row too.
    assert "filings-suspended" in html


def test_the_institution_page_shows_the_partnerships_own_suspension(demo):
    from banks.services import institution_transition

    institution = Institution.objects.get(code="zqrcb")
    institution_transition(
        institution_id=institution.pk,
        name="suspend",
        user=User.objects.get(username="officer"),
        comment="违规备案",
    )
    html = (
        as_user("approver")
        .get(reverse("admin:banks_institution_change", args=[institution.pk]))
        .content.decode()
    )
    assert "institution-suspension" in html and "合作已暂停" in html and "违规备案" in html
    assert "恢复合作" in html  # the approver, not the suspender, has the button


def test_the_agreement_list_shows_and_filters_suspensions(suspended):
    client = as_user("officer")
    url = reverse("admin:banks_cooperationagreement_changelist")
    html = client.get(url).content.decode()
    assert html.count("filings-suspended") == 1
    assert "广东肇庆农商银行" in html  # the short name; the full one in the tooltip
    suspended_only = client.get(url, {"filings": "suspended"}).content.decode()
    assert "广东肇庆农商银行" in suspended_only and "中国建设银行肇庆市分行" not in suspended_only
    open_only = client.get(url, {"filings": "open"}).content.decode()
    assert "广东肇庆农商银行" not in open_only and "中国建设银行肇庆市分行" in open_only


def test_the_institution_list_shows_and_filters_suspended_funds(suspended):
    client = as_user("officer")
    url = reverse("admin:banks_institution_changelist")
    html = client.get(url).content.decode()
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*广东肇庆农商银行(?:(?!</tr>).)*</tr>", html, re.S).group(0)
    assert "field-suspended_funds" in row and "肇庆市" in row
    only = client.get(url, {"filings": "suspended"}).content.decode()
    assert "广东肇庆农商银行" in only and "佛山分行" not in only


def test_the_lists_cost_a_fixed_number_of_queries(suspended, django_assert_max_num_queries):
    client = as_user("officer")
    client.get(reverse("admin:banks_institution_changelist"))  # warm the session and content types
    with django_assert_max_num_queries(12):
        client.get(reverse("admin:banks_institution_changelist"))
    with django_assert_max_num_queries(12):
        client.get(reverse("admin:banks_cooperationagreement_changelist"))
