"""A filing suspension lifted with four eyes, as staff do it in a real browser.

Bank A's covered NPL ratio in Zhaoqing passes the threshold and the system suspends its new
filings. The officer sees the suspension at the top of the agreement page and requests the
reinstatement with a reason; the approver, told by a notice (the header's unread count), opens
the agreement, reads the suspension (date, ratio against threshold, reason, the request) and
approves it. What is asserted is what the users see, then what the database holds.
"""

from __future__ import annotations

from banks.models import FilingsStatus
from fundmgr.top.notifications.models import Notification
from tests.banks.suspension import suspend_zqrcb, zqrcb_agreement

from .helpers import click_and_wait, messages, transition_buttons


def unread_link(page):
    return page.locator("#user-tools a#unread-notifications")


def suspension_box(page) -> str:
    boxes = page.locator(".suspension-notice.filing-suspension")
    assert boxes.count() == 1, f"{boxes.count()} suspension boxes on {page.url}"
    return " ".join(boxes.first.inner_text().split())


def take_step(page, label: str, comment: str) -> None:
    """Press a transition button, write the reason on its form, confirm."""
    click_and_wait(page, page.get_by_role("button", name=label, exact=True))
    assert page.locator("#content h1").inner_text().strip() == label
    form = page.locator("#fsm-transition-form")
    form.get_by_label("意见").fill(comment)
    click_and_wait(page, form.get_by_role("button", name=label, exact=True))


def test_approver_sees_the_suspension_and_the_unread_count_and_lifts_it(as_persona, personas, business_date):
    agreement = suspend_zqrcb(business_date)
    url = f"/admin/banks/cooperationagreement/{agreement.pk}/change/"

    # The officer: from the institution's page to the agreement, then the request.
    officer = as_persona("officer")
    officer.goto("/admin/banks/institution/?filings=suspended")
    rows = officer.locator("#result_list tbody tr")
    assert rows.count() == 1 and "肇庆市" in rows.first.locator(".field-suspended_funds").inner_text()
    click_and_wait(officer, rows.first.get_by_role("link", name="广东肇庆农商银行"))
    click_and_wait(officer, officer.get_by_role("link", name="在合作协议页面办理"))
    assert officer.url.endswith(url)
    assert transition_buttons(officer) == ["申请恢复备案"]
    take_step(officer, "申请恢复备案", "不良贷款已核销压降，整改报告已提交")
    assert messages(officer) == ["操作“申请恢复备案”已完成。"]
    assert transition_buttons(officer) == []  # four eyes: the requester decides nothing

    # The approver: two unread notices (the suspension, the request) in the header.
    approver = as_persona("approver")
    assert unread_link(approver).inner_text().strip() == "通知 (2)"
    approver.goto(url)
    box = suspension_box(approver)
    assert "新增备案已暂停（恢复待审批）" in box
    assert "暂停日期：2026-12-03" in box
    assert "暂停时在保贷款不良率：6.25%（暂停阈值 5.00%）" in box
    assert "原因：在保贷款不良率 6.25%" in box
    assert (
        "恢复备案申请：officer（业务专员）于 2026-12-03 提出，理由：不良贷款已核销压降，整改报告已提交" in box
    )
    # The box is the first thing in the form, above the agreement's fields.
    box_top = approver.locator(".suspension-notice").bounding_box()["y"]
    assert box_top < approver.locator("fieldset.module").first.bounding_box()["y"]
    assert transition_buttons(approver) == ["批准恢复备案", "驳回恢复申请"]

    take_step(approver, "批准恢复备案", "同意恢复（决委会会议纪要 2026-12）")
    assert messages(approver) == ["操作“批准恢复备案”已完成。"]
    assert approver.locator(".suspension-notice").count() == 0
    assert transition_buttons(approver) == []
    history = approver.locator(".field-transition_history").inner_text()
    assert "不良贷款已核销压降" in history and "同意恢复（决委会会议纪要 2026-12）" in history

    # The header's link leads to the approver's unread notices; opening one reads it.
    click_and_wait(approver, unread_link(approver))
    listed = approver.locator("#result_list tbody tr")
    assert listed.count() == 2
    click_and_wait(approver, listed.first.locator("th a, td a").first)
    assert unread_link(approver).inner_text().strip() == "通知 (1)"

    fresh = zqrcb_agreement()
    assert fresh.filings_status == FilingsStatus.OPEN and fresh.filings_suspended_on is None
    assert Notification.objects.filter(recipient__username="approver", read_at__isnull=True).count() == 1


def test_the_institution_and_agreement_lists_fit_1280(as_persona, personas, business_date):
    """Every column of both lists is on screen at 1280 px, beside the navigation and the
    filters, without scrolling sideways (measured: the table against its scrolling box)."""
    suspend_zqrcb(business_date)
    officer = as_persona("officer")
    assert officer.viewport_size["width"] == 1280
    for url, suspended_cell in (
        ("/admin/banks/institution/", ".field-suspended_funds"),
        ("/admin/banks/cooperationagreement/", ".field-filings_state"),
    ):
        officer.goto(url)
        results = officer.locator("#changelist-form .results")
        box = results.bounding_box()
        table = officer.locator("#result_list").bounding_box()
        assert table["x"] + table["width"] <= min(box["x"] + box["width"], 1280) + 0.5, url
        assert results.evaluate("el => el.scrollWidth <= el.clientWidth"), url
        # The suspension is among what is seen.
        flagged = officer.locator(f"#result_list tbody {suspended_cell} .filings-suspended")
        assert flagged.count() == 1, url
        cell = flagged.first.bounding_box()
        assert cell["x"] + cell["width"] <= box["x"] + box["width"] + 0.5, url
