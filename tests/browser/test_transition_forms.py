"""A step's form in a real browser: it shows what the step is about before the user confirms, it
will not send an empty reason where one is required, and a step the user may not take is
refused with the rule named, not a code."""

from __future__ import annotations

from loans.models import FilingStatus, LoanFiling
from loans.services import filings as services
from tests.factories import filing_body

from .helpers import click_and_wait, messages


def test_a_filings_forms_explain_the_step_and_require_a_reason(as_persona, personas, business_date):
    business_date("2026-11-21")
    response = personas.client("bank_a").post("/api/v1/filings/", filing_body(), format="json")
    assert response.status_code == 201, response.json()
    filing = LoanFiling.objects.get(pk=response.json()["id"])
    services.filing_transition(filing_id=filing.pk, name="start_due_diligence", user=personas.user("officer"))

    # The approver opens "受理入池" before the checklist is answered: the form says so, in red.
    approver = as_persona("approver")
    approver.goto(f"/admin/loans/loanfiling/{filing.pk}/change/")
    click_and_wait(approver, approver.get_by_role("button", name="受理入池", exact=True))
    figures = approver.locator("#transition-figures")
    assert "1,000,000.00" in figures.inner_text() and "50.00%" in figures.inner_text()
    checklist = figures.locator("tr.fm-warning")
    assert "已确认 0/5 项" in checklist.inner_text() and "全部确认后才能受理入池" in checklist.inner_text()
    assert checklist.locator("td").first.evaluate("e => getComputedStyle(e).color") == "rgb(186, 33, 33)"

    # "退回补正" needs a reason: an empty box is refused by the browser, nothing is sent.
    approver.goto(f"/admin/loans/loanfiling/{filing.pk}/change/")
    click_and_wait(approver, approver.get_by_role("button", name="退回补正", exact=True))
    form = approver.locator("#fsm-transition-form")
    assert "必填" in form.inner_text()
    url = approver.url
    form.get_by_role("button", name="退回补正", exact=True).click()
    assert approver.url == url
    assert form.locator("textarea[name=comment]").evaluate("e => e.validity.valueMissing")
    assert LoanFiling.objects.get(pk=filing.pk).status == FilingStatus.UNDER_REVIEW
    form.locator("textarea[name=comment]").fill("请补充质押登记证明")
    click_and_wait(approver, form.get_by_role("button", name="退回补正", exact=True))
    assert messages(approver) == ["操作“退回补正”已完成。"]
    assert LoanFiling.objects.get(pk=filing.pk).status == FilingStatus.RETURNED


def test_a_step_refused_by_four_eyes_says_who_may_take_it(as_persona, personas, business_date):
    business_date("2026-11-21")
    response = personas.client("bank_a").post("/api/v1/filings/", filing_body(), format="json")
    filing = LoanFiling.objects.get(pk=response.json()["id"])
    services.filing_transition(filing_id=filing.pk, name="start_due_diligence", user=personas.user("officer"))

    officer = as_persona("officer")  # who started due diligence: the decision is someone else's
    officer.goto(f"/admin/loans/loanfiling/{filing.pk}/transition/reject/")
    assert officer.url.endswith(f"/admin/loans/loanfiling/{filing.pk}/change/")
    assert messages(officer) == [
        "四眼原则：“开始尽调”由您本人办理，“不予受理”须由另一位业务专员或复核负责人办理。"
        "可由approver、officer2办理。"
    ]
