"""Notices are stored rows, read later by people and systems in any language: their subject,
body and e-mail are written in Chinese (the default language) even when the event happens
during an English request, while the notice's own words are in the English catalogue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from banks.models import Institution
from fundmgr.ground.funds.models import Fund
from fundmgr.top.notifications import delivery
from fundmgr.top.notifications.deadlines import deadline_scan
from fundmgr.top.notifications.models import Notification
from loans.models import ClaimStatus, FilingStatus, LoanFiling, LoanStatus
from loans.services.filings import due_diligence_record, filing_transition
from tests.factories import filing_body, make_filing
from tests.loans.conftest import ALL_CHECKED
from tests.notifications.test_deadlines import log_entry, make_claim

pytestmark = pytest.mark.django_db


def test_an_acceptance_during_an_english_request_is_told_in_chinese(personas, business_date):
    business_date("2026-11-21")
    response = personas.client("bank_a").post("/api/v1/filings/", filing_body(), format="json")
    filing_id = response.json()["id"]
    officer, approver = personas.user("officer"), personas.user("approver")
    filing_transition(filing_id=filing_id, name="start_due_diligence", user=officer)
    due_diligence_record(filing_id=filing_id, user=officer, items=ALL_CHECKED)
    with translation.override("en"):  # the approver reads the admin in English
        filing = filing_transition(filing_id=filing_id, name="accept", user=approver)
        notice = Notification.objects.get(event="filing.accepted", recipient__username="inst:zqrcb")
        assert notice.subject == f"贷款备案 {filing.reference} 已受理入池"
        assert notice.body.startswith(f"贵机构报送的贷款备案 {filing.reference}（借款企业：")
        assert "受理日期：2026-11-21；资金分担比例 " in notice.body
        assert "%，该笔贷款已纳入风险补偿范围" in notice.body
        mail = delivery.email_text(notice)
        assert "本邮件由知识产权质押融资风险补偿资金管理系统自动发送" in mail
        # The admin's label of the event follows the reader's language, and the words of the
        # notice are in the English catalogue.
        assert notice.event_label == "Filing accepted into the pool"
        assert translation.gettext("已受理入池") == "Accepted into the pool"
    assert notice.event_label == "备案已受理入池"


def test_deadline_notices_scanned_in_english_are_written_in_chinese(personas):
    zhaoqing, bank_a = Fund.objects.get(code="zhaoqing"), Institution.objects.get(code="zqrcb")
    filing = make_filing(fund=zhaoqing, institution=bank_a, accepted=False)
    LoanFiling.objects.filter(pk=filing.pk).update(
        status=FilingStatus.UNDER_REVIEW, due_diligence_due_on=dt.date(2026, 10, 9)
    )
    loan = make_filing(fund=zhaoqing, institution=bank_a, loan_status=LoanStatus.IN_CLAIM)
    review = make_claim(loan, status=ClaimStatus.INITIAL_REVIEW)
    log_entry(review, ClaimStatus.SUBMITTED, dt.date(2026, 9, 24), "submit")  # review due Thu 15 Oct
    with translation.override("en"):
        deadline_scan(today=dt.date(2026, 10, 10))
        deadline_scan(today=dt.date(2026, 10, 16))
    diligence = Notification.objects.filter(event="deadline.due_diligence.breached").first()
    assert diligence.subject == f"尽调已超期：贷款备案 {filing.reference}"
    assert "尽调期限已于 2026-10-09 到期，超期 1 个工作日。请及时完成尽调" in diligence.body
    claim = Notification.objects.filter(event="deadline.claim_review.breached").first()
    assert claim.subject == f"补偿初审已超期：补偿申请 {review.reference}"
    # The claim's status, a translated label, is recorded in Chinese too.
    assert claim.body.endswith(
        "（当前状态：初审中）自 2026-09-24 起计的补偿初审期限（10 个工作日）已于 2026-10-15 到期，超期 1 个工作日。"
    )
