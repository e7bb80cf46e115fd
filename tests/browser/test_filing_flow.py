"""A filing from submitted to accepted, as staff do it in a real browser.

Bank A files a loan through the API; the officer finds it in the 待尽调 queue, starts due
diligence with the button and its form, and answers the checklist; the approver (another
person: four-eyes) finds it in the 尽调中/待受理 queue and accepts it. What is asserted is
what the users see (labels, messages, buttons) and what the database then holds.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django_fsm_log.models import StateLog

from loans.models import DueDiligence, FilingStatus, LoanFiling, LoanStatus
from tests.factories import filing_body

from .helpers import click_and_wait, field_text, messages, transition_buttons

FILED_ON = "2026-11-21"  # the business date filing_body() is valid on


def file_loan(personas) -> LoanFiling:
    response = personas.client("bank_a").post("/api/v1/filings/", filing_body(), format="json")
    assert response.status_code == 201, response.json()
    return LoanFiling.objects.get(pk=response.json()["id"])


def open_from_queue(page, queue_label: str, filing: LoanFiling) -> None:
    """From the filings list, pick a work queue (the tabs above the list), then the filing."""
    page.goto("/admin/loans/loanfiling/")
    click_and_wait(page, page.locator(".fm-queues").get_by_role("link", name=queue_label, exact=True))
    click_and_wait(page, page.locator("#result_list").get_by_role("link", name=filing.reference, exact=True))
    assert page.locator("#content h2").first.inner_text().strip() == filing.reference


def take_step(page, label: str) -> None:
    """Press a transition button, then confirm on its form (the comment is optional here)."""
    click_and_wait(page, page.get_by_role("button", name=label, exact=True))
    assert page.locator("#content h1").inner_text().strip() == label
    form = page.locator("#fsm-transition-form")
    assert "None" not in page.locator("#content").inner_text()
    click_and_wait(page, form.get_by_role("button", name=label, exact=True))


def test_officer_and_approver_accept_a_filing_in_the_admin(as_persona, personas, business_date):
    business_date(FILED_ON)
    filing = file_loan(personas)

    # The officer: the new filing waits in 待尽调.
    officer = as_persona("officer")
    open_from_queue(officer, "待尽调（1）", filing)
    assert field_text(officer, "status") == "已提交"
    assert transition_buttons(officer) == ["开始尽调"]

    take_step(officer, "开始尽调")
    assert messages(officer) == ["操作“开始尽调”已完成。"]
    assert field_text(officer, "status") == "尽调中"
    # Four-eyes: whoever started due diligence may return the filing, not decide on it.
    assert "受理入池" not in transition_buttons(officer)
    assert "不予受理" not in transition_buttons(officer)

    # The checklist: every required item confirmed (是), chosen by its label as a person would.
    checklist = officer.locator("#due_diligence-0")  # the row, not the hidden blank template
    for item in DueDiligence.REQUIRED_ITEMS:
        label = str(DueDiligence._meta.get_field(item).verbose_name)
        checklist.get_by_label(label, exact=False).select_option(label="是")
    checklist.get_by_label("尽调意见").fill("材料齐全，质押登记已核实。")
    click_and_wait(officer, officer.get_by_role("button", name="保存", exact=True))
    assert messages(officer) == [f"成功修改了 贷款备案“{filing.reference}”。"]
    record = DueDiligence.objects.get(filing=filing)
    assert record.complete
    assert record.officer.username == "officer"

    # The approver: the filing waits in 尽调中/待受理, with accept and reject offered.
    approver = as_persona("approver")
    open_from_queue(approver, "尽调中/待受理（1）", filing)
    assert field_text(approver, "status") == "尽调中"
    assert {"受理入池", "不予受理", "退回补正"} <= set(transition_buttons(approver))

    take_step(approver, "受理入池")
    assert messages(approver) == ["操作“受理入池”已完成。"]
    assert field_text(approver, "status") == "已受理入池"
    assert field_text(approver, "loan_status") == "正常"
    assert field_text(approver, "accepted_on") == "2026年11月21日"
    approver.locator("summary", has_text="状态记录").click()  # the history starts folded
    history = approver.locator("table.transition-history").inner_text()
    assert "开始尽调" in history and "受理入池" in history

    filing.refresh_from_db()
    assert filing.status == FilingStatus.ACCEPTED
    assert filing.loan_status == LoanStatus.PERFORMING
    assert filing.accepted_on == dt.date(2026, 11, 21)
    signed = dict(
        StateLog.objects.filter(
            content_type=ContentType.objects.get_for_model(LoanFiling), object_id=filing.pk
        ).values_list("transition", "by__username")
    )
    assert signed["start_due_diligence"] == "officer"
    assert signed["accept"] == "approver"
