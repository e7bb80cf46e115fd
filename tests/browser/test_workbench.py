"""The start page in a real browser: the approver signs in, finds the filing the officer checked
waiting in 贷款备案待受理 with its count and deadline, and goes from there to the list and to
the filing, where the decision buttons wait."""

from __future__ import annotations

from tests.workbench.world import FILED_ON, file_loan, start_due_diligence

from .helpers import click_and_wait, transition_buttons


def test_approver_goes_from_the_queue_to_the_list_and_the_filing(as_persona, personas, business_date):
    business_date(FILED_ON)
    filing = start_due_diligence(personas, file_loan(personas), "officer", complete=True)
    business_date("2026-12-03")  # due Friday 12-04: one working day left

    approver = as_persona("approver")  # signed in: the start page
    assert approver.locator("#content h1").inner_text().strip() == "工作台"
    card = approver.locator("#queue-filings_acceptance")
    assert card.locator("h2 a").inner_text().strip() == "贷款备案待受理"
    assert card.locator(".workqueue-count").inner_text().strip() == "1"
    assert card.locator(".workqueue-badge.soon").inner_text().strip() == "即将到期 1"
    row = card.locator("tbody tr")
    assert row.count() == 1
    assert row.locator("th").inner_text().strip() == filing.reference
    assert row.locator(".amount").inner_text().strip() == "300,000.00"
    countdown = row.locator(".countdown")
    assert countdown.inner_text().strip() == "剩余 1 个工作日"
    assert "soon" in countdown.get_attribute("class")
    # Amber, not red: the colour a person sees.
    assert countdown.evaluate("e => getComputedStyle(e).color") == "rgb(179, 107, 0)"
    # No technical app and no link to a site that does not exist.
    for absent in (
        "#content-main .app-auth",
        "#content-main .app-django_celery_beat",
        "#content-main .app-lib",
    ):
        assert approver.locator(absent).count() == 0
    assert approver.get_by_role("link", name="查看站点").count() == 0

    # The queue's title opens the list of exactly the filings it counts (its 工作台 filter, shown
    # as a removable chip).
    click_and_wait(approver, card.locator("h2 a"))
    assert "/admin/loans/loanfiling/" in approver.url and "workqueue=filings_acceptance" in approver.url
    results = approver.locator("#result_list tbody tr")
    assert results.count() == 1
    assert filing.reference in results.first.inner_text()
    assert "工作台待办：贷款备案待受理" in approver.locator(".fm-chips").inner_text()

    # Back on the start page, the item opens the filing with the decision to take.
    approver.goto("/admin/")
    click_and_wait(
        approver,
        approver.locator("#queue-filings_acceptance tbody").get_by_role("link", name=filing.reference),
    )
    assert approver.locator("#content h2").first.inner_text().strip() == filing.reference
    assert "受理入池" in transition_buttons(approver)
