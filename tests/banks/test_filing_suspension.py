"""A bank's filing suspension in a fund: what the automatic suspension records, and lifting it
with four eyes (one person requests with a reason, another, an approver, approves or refuses),
every step logged and the people concerned told."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from banks import selectors, services
from banks.models import CooperationAgreement, FilingsStatus, Institution
from fundmgr.ground.accounts.models import Role, User
from fundmgr.ground.accounts.workflow import available_transitions, history
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib.errors import AppError
from fundmgr.top.notifications.models import Notification

from .suspension import SUSPENDED_ON, step, suspend_zqrcb, zqrcb_agreement

pytestmark = pytest.mark.django_db


def refusal(call) -> AppError:
    with pytest.raises(AppError) as info:
        call()
    return info.value


def can_file_codes() -> list[str]:
    return [
        v.code
        for v in services.institution_can_file(
            institution=Institution.objects.get(code="zqrcb"),
            fund=Fund.objects.get(code="zhaoqing"),
            on=dt.date(2026, 12, 4),
        )
    ]


def second_approver() -> User:
    return User.objects.create_user(username="approver2", password="x", role=Role.APPROVER, first_name="李审")


@pytest.fixture
def suspended(demo, business_date) -> CooperationAgreement:
    return suspend_zqrcb(business_date)


# --- what the automatic suspension records ----------------------------------------------------


def test_the_npl_check_keeps_what_it_measured_on_the_agreement(suspended):
    assert suspended.filings_status == FilingsStatus.SUSPENDED
    assert suspended.filings_suspended_on == SUSPENDED_ON
    assert suspended.filings_suspension_npl_ratio == Decimal("6.25")
    assert suspended.filings_suspension_threshold == Decimal("5.00")
    assert "6.25%" in suspended.filings_suspension_reason
    assert "5.00%" in suspended.filings_suspension_reason
    # The system's step is in the log, by nobody, on the business date.
    [row] = history(suspended)
    assert (row["transition"], row["from"], row["to"], row["by"], row["on"]) == (
        "suspend_filings",
        "open",
        "suspended",
        "system",
        SUSPENDED_ON,
    )
    assert can_file_codes() == ["institution_suspended"]


def test_the_selector_reads_the_suspension_as_staff_see_it(suspended):
    seen = selectors.filing_suspension(suspended)
    assert (seen.since, seen.npl_ratio_text, seen.threshold_text) == (SUSPENDED_ON, "6.25%", "5.00%")
    assert seen.fund_label == "肇庆市" and seen.request is None and not seen.awaiting_approval
    step(suspended, "request_reinstatement", "officer", "已压降不良贷款")
    seen = selectors.filing_suspension(zqrcb_agreement())
    assert seen.awaiting_approval
    assert (seen.request.username, seen.request.comment, seen.request.on) == (
        "officer",
        "已压降不良贷款",
        SUSPENDED_ON,
    )
    assert seen.request.who == "officer（业务专员）"
    assert (
        selectors.filing_suspension(CooperationAgreement.objects.get(institution__code="ccb-zhaoqing"))
        is None
    )


def test_a_second_check_does_not_suspend_twice(suspended):
    from loans.services.servicing import npl_suspension_check

    assert npl_suspension_check(institution_id=suspended.institution_id, fund_id=suspended.fund_id) is False
    assert [r["transition"] for r in history(zqrcb_agreement())] == ["suspend_filings"]


# --- four eyes --------------------------------------------------------------------------------


def test_request_then_approval_by_another_person_lifts_it(suspended):
    requested = step(suspended, "request_reinstatement", "officer", "已压降不良贷款，整改报告已提交")
    assert requested.filings_status == FilingsStatus.REINSTATEMENT_REQUESTED
    # Still suspended while it waits: the bank may not file yet.
    assert can_file_codes() == ["institution_suspended"]

    approved = step(suspended, "approve_reinstatement", "approver", "同意恢复（会议纪要2026-12）")
    assert approved.filings_status == FilingsStatus.OPEN
    fresh = zqrcb_agreement()
    assert fresh.filings_suspended_on is None and fresh.filings_suspension_reason == ""
    assert fresh.filings_suspension_npl_ratio is None and fresh.filings_suspension_threshold is None
    assert can_file_codes() == []


def test_both_steps_are_logged_with_who_when_and_why(suspended, business_date):
    business_date("2026-12-07")
    step(suspended, "request_reinstatement", "officer", "已压降不良贷款")
    business_date("2026-12-08")
    step(suspended, "approve_reinstatement", "approver", "同意恢复")
    rows = [
        (r["transition"], r["from"], r["to"], r["by_user"], r["on"], r["comment"])
        for r in history(zqrcb_agreement())
    ]
    assert rows[1:] == [
        (
            "request_reinstatement",
            "suspended",
            "reinstatement_requested",
            "officer",
            dt.date(2026, 12, 7),
            "已压降不良贷款",
        ),
        (
            "approve_reinstatement",
            "reinstatement_requested",
            "open",
            "approver",
            dt.date(2026, 12, 8),
            "同意恢复",
        ),
    ]


def test_the_requester_may_not_approve_and_is_told_who_may(suspended):
    step(suspended, "request_reinstatement", "approver", "整改完成")
    error = refusal(lambda: step(suspended, "approve_reinstatement", "approver", "同意"))
    assert (error.status, error.code) == (403, "four_eyes_required")
    assert "四眼原则" in error.message and "申请恢复备案" in error.message
    # Nobody else holds the approving role in the demo: the message says so.
    assert "目前没有其他可办理的复核负责人" in error.message
    assert zqrcb_agreement().filings_status == FilingsStatus.REINSTATEMENT_REQUESTED

    second_approver()
    error = refusal(lambda: step(suspended, "refuse_reinstatement", "approver", "不同意"))
    assert error.code == "four_eyes_required"
    assert "可由李审（approver2）办理" in error.message
    assert step(suspended, "approve_reinstatement", "approver2", "同意").filings_status == FilingsStatus.OPEN


@pytest.mark.parametrize(
    ("who", "name"), [("officer", "approve_reinstatement"), ("officer2", "refuse_reinstatement")]
)
def test_only_an_approver_decides(suspended, who, name):
    step(suspended, "request_reinstatement", "officer", "整改完成")
    error = refusal(lambda: step(suspended, name, who, "同意"))
    assert (error.status, error.code) == (403, "transition_forbidden")
    assert "须由复核负责人办理" in error.message and "业务专员" in error.message
    assert "可由approver办理" in error.message
    assert zqrcb_agreement().filings_status == FilingsStatus.REINSTATEMENT_REQUESTED


@pytest.mark.parametrize("who", ["committee", "finance", "regulator-zhaoqing"])
def test_other_roles_may_not_even_request(suspended, who):
    error = refusal(lambda: step(suspended, "request_reinstatement", who, "恢复"))
    assert (error.status, error.code) == (403, "transition_forbidden")
    assert zqrcb_agreement().filings_status == FilingsStatus.SUSPENDED


def test_a_bank_is_not_told_staff_names(suspended):
    bank_user = User.objects.get(username="inst:zqrcb")
    error = refusal(
        lambda: services.agreement_filings_transition(
            agreement_id=suspended.pk, name="request_reinstatement", user=bank_user, comment="请恢复"
        )
    )
    assert error.status == 403
    assert "officer" not in error.message and "approver" not in error.message


@pytest.mark.parametrize("name", ["request_reinstatement", "approve_reinstatement", "refuse_reinstatement"])
def test_every_step_needs_a_reason(suspended, name):
    if name != "request_reinstatement":
        step(suspended, "request_reinstatement", "officer", "整改完成")
    before = zqrcb_agreement().filings_status
    who = "officer" if name == "request_reinstatement" else "approver"
    error = refusal(lambda: step(suspended, name, who, "   "))
    assert (error.status, error.code, error.field) == (400, "comment_required", "comment")
    assert zqrcb_agreement().filings_status == before
    assert len(history(zqrcb_agreement())) == (1 if name == "request_reinstatement" else 2)


def test_a_refusal_keeps_the_suspension_and_a_new_request_may_follow(suspended):
    step(suspended, "request_reinstatement", "officer", "整改完成")
    refused = step(suspended, "refuse_reinstatement", "approver", "不良率仍高于阈值")
    assert refused.filings_status == FilingsStatus.SUSPENDED
    fresh = zqrcb_agreement()
    assert fresh.filings_suspended_on == SUSPENDED_ON
    assert fresh.filings_suspension_npl_ratio == Decimal("6.25")
    assert can_file_codes() == ["institution_suspended"]
    seen = selectors.filing_suspension(fresh)
    assert seen.request is None and seen.last_refusal.comment == "不良率仍高于阈值"

    # The same officer may ask again; the approver decides again.
    step(suspended, "request_reinstatement", "officer", "补充整改材料")
    assert step(suspended, "approve_reinstatement", "approver", "同意").filings_status == FilingsStatus.OPEN


@pytest.mark.parametrize(
    ("setup", "name", "code", "status"),
    [
        ([], "approve_reinstatement", "transition_not_allowed", 409),
        ([], "refuse_reinstatement", "transition_not_allowed", 409),
        (["request_reinstatement"], "request_reinstatement", "transition_not_allowed", 409),
        ([], "suspend_filings", "unknown_transition", 404),  # the system's step, not staff's
        ([], "explode", "unknown_transition", 404),
    ],
)
def test_steps_out_of_order_or_unknown(suspended, setup, name, code, status):
    for s in setup:
        step(suspended, s, "officer")
    error = refusal(lambda: step(suspended, name, "approver", "x"))
    assert (error.status, error.code) == (status, code)


def test_an_agreement_in_good_standing_has_nothing_to_lift(demo):
    agreement = zqrcb_agreement()
    error = refusal(lambda: step(agreement, "request_reinstatement", "officer", "x"))
    assert (error.status, error.code) == (409, "transition_not_allowed")


def test_the_buttons_follow_role_state_and_four_eyes(suspended):
    def offered(who: str) -> list[str]:
        return available_transitions(zqrcb_agreement(), User.objects.get(username=who))

    assert offered("officer") == ["request_reinstatement"]
    assert offered("approver") == ["request_reinstatement"]
    assert offered("committee") == []
    step(suspended, "request_reinstatement", "officer", "整改完成")
    assert offered("officer") == []
    assert offered("officer2") == []
    assert offered("approver") == ["approve_reinstatement", "refuse_reinstatement"]


# --- who is told --------------------------------------------------------------------------------


def recipients(event: str) -> list[str]:
    return sorted(Notification.objects.filter(event=event).values_list("recipient__username", flat=True))


def test_the_people_concerned_are_told_each_step(suspended):
    assert recipients("agreement.filings_suspended") == ["approver", "inst:zqrcb", "officer", "officer2"]
    second_approver()
    step(suspended, "request_reinstatement", "approver", "整改完成")
    # The approvers who may decide, never the requester.
    assert recipients("agreement.reinstatement_requested") == ["approver2"]
    step(suspended, "refuse_reinstatement", "approver2", "材料不足")
    assert recipients("agreement.reinstatement_refused") == ["approver"]
    assert "材料不足" in Notification.objects.get(event="agreement.reinstatement_refused").body

    step(suspended, "request_reinstatement", "officer", "补充材料")
    assert recipients("agreement.reinstatement_requested") == ["approver", "approver2", "approver2"]
    step(suspended, "approve_reinstatement", "approver", "同意恢复")
    assert recipients("agreement.filings_reinstated") == ["inst:zqrcb", "officer"]
    notice = Notification.objects.get(event="agreement.filings_reinstated", recipient__username="inst:zqrcb")
    assert "恢复" in notice.subject and (notice.object_type, notice.object_id) == ("institution", "zqrcb")


# --- the partnership's own suspension: same rule --------------------------------------------------


def move(name: str, who: str, comment: str = "") -> Institution:
    return services.institution_transition(
        institution_id=Institution.objects.get(code="zqrcb").pk,
        name=name,
        user=User.objects.get(username=who),
        comment=comment,
    )


def test_reinstating_a_partnership_is_four_eyes_with_a_reason(demo):
    move("suspend", "approver", "违规备案")
    same = refusal(lambda: move("reinstate", "approver", "整改完成"))
    assert (same.status, same.code) == (403, "four_eyes_required")
    assert "“暂停合作”由您本人办理" in same.message
    officer = refusal(lambda: move("reinstate", "officer", "整改完成"))
    assert (officer.status, officer.code) == (403, "transition_forbidden")
    second_approver()
    missing = refusal(lambda: move("reinstate", "approver2", "  "))
    assert (missing.status, missing.code) == (400, "comment_required")
    assert move("reinstate", "approver2", "整改完成").status == "active"
