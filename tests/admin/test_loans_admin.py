"""Loan filings in the admin: queues count, buttons follow role, state and four-eyes, the
checklist is saved through the service, panels show what staff review."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.urls import reverse

from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import Fund
from loans.models import DueDiligence, EarlyWarning, FilingDocument, LoanFiling, StatusReport
from loans.services import filings as services
from tests.factories import filing_body, make_filing

pytestmark = pytest.mark.django_db

OTHER_PATENT = "201912754910.4"  # a second patent of the same demo enterprise
ALL_CONFIRMED = {item: True for item in DueDiligence.REQUIRED_ITEMS}


@pytest.fixture
def file_loan(personas, business_date):
    """Bank A files a loan through the API; the first uses the default patent."""
    business_date("2026-11-21")
    patents = iter(["201613031399.8", OTHER_PATENT])

    def post() -> LoanFiling:
        pledge = {**filing_body()["pledges"][0], "number": next(patents)}
        response = personas.client("bank_a").post(
            "/api/v1/filings/", filing_body(pledges=[pledge]), format="json"
        )
        assert response.status_code == 201, response.json()
        return LoanFiling.objects.get(pk=response.json()["id"])

    return post


def user(username: str) -> User:
    return User.objects.get(username=username)


def page(client, username: str, filing: LoanFiling) -> str:
    client.force_login(user(username))
    response = client.get(reverse("admin:loans_loanfiling_change", args=[filing.pk]))
    assert response.status_code == 200
    return response.content.decode()


def start_due_diligence(filing: LoanFiling, username: str = "officer") -> None:
    services.filing_transition(filing_id=filing.pk, name="start_due_diligence", user=user(username))


def checklist_post(filing: LoanFiling, **items) -> dict:
    """What the change form posts: the (empty) filing form and the one checklist row."""
    record = DueDiligence.objects.get(filing=filing)
    data = {
        "due_diligence-TOTAL_FORMS": "1",
        "due_diligence-INITIAL_FORMS": "1",
        "due_diligence-MIN_NUM_FORMS": "0",
        "due_diligence-MAX_NUM_FORMS": "1",
        "due_diligence-0-id": str(record.pk),
        "due_diligence-0-filing": str(filing.pk),
        "_save": "保存",
    }
    for name, value in items.items():
        data[f"due_diligence-0-{name}"] = {True: "true", False: "false"}.get(value, value)
    return data


def transition(client, username: str, filing: LoanFiling, name: str, comment: str = ""):
    client.force_login(user(username))
    url = reverse(
        "admin:loans_loanfiling_transition", kwargs={"object_id": filing.pk, "transition_name": name}
    )
    return client.post(url, {"comment": comment}, follow=True)


def test_changelist_shows_queue_counts(client, file_loan, business_date):
    first, second = file_loan(), file_loan()
    client.force_login(user("officer"))
    url = reverse("admin:loans_loanfiling_changelist")
    text = client.get(url + "?queue=submitted").content.decode()
    assert "待尽调（2）" in text and "尽调中/待受理（0）" in text
    assert first.reference in text and second.reference in text
    assert "1,000,000.00" in text and "借款企业所在区县" in text
    found = client.get(url + "?q=9144120252133505XP&enterprise__region_code=441202").content.decode()
    assert first.reference in found and second.reference in found

    start_due_diligence(first)
    business_date("2026-12-03")  # due diligence is due on 2026-12-04
    text = client.get(url + "?queue=due_soon").content.decode()
    assert "待尽调（1）" in text and "尽调即将超期（1）" in text
    assert first.reference in text and second.reference not in text


def test_buttons_follow_state_role_and_four_eyes(client, file_loan):
    filing = file_loan()
    officer_view = page(client, "officer", filing)
    assert 'value="start_due_diligence"' in officer_view
    assert 'name="due_diligence-0-enterprise_eligible"' not in officer_view  # not under review yet
    assert 'value="start_due_diligence"' not in page(client, "finance", filing)

    start_due_diligence(filing, "officer")
    officer_view = page(client, "officer", filing)
    assert 'value="accept"' not in officer_view and 'value="return_for_supplement"' in officer_view
    assert 'value="accept"' in page(client, "approver", filing)


def test_checklist_is_saved_through_the_service(client, file_loan, monkeypatch):
    filing = file_loan()
    start_due_diligence(filing, "officer")
    calls = []
    record_service = services.due_diligence_record

    def spy(**kwargs):
        calls.append(kwargs["items"])
        return record_service(**kwargs)

    monkeypatch.setattr(services, "due_diligence_record", spy)
    text = page(client, "officer2", filing)
    assert "尽调清单" in text and 'name="due_diligence-0-enterprise_eligible"' in text and "待核实" in text

    url = reverse("admin:loans_loanfiling_change", args=[filing.pk])
    response = client.post(url, checklist_post(filing, enterprise_eligible=True, notes="已走访企业"))
    assert response.status_code == 302
    assert calls == [{"enterprise_eligible": True, "notes": "已走访企业"}]
    record = DueDiligence.objects.get(filing=filing)
    assert record.enterprise_eligible is True and record.notes == "已走访企业"
    assert record.officer.username == "officer2"
    assert record.ip_status_checked is None


def test_checklist_is_read_only_when_not_under_review(client, file_loan):
    filing = file_loan()
    start_due_diligence(filing, "officer")
    services.filing_transition(
        filing_id=filing.pk, name="return_for_supplement", user=user("officer"), comment="补充评估报告"
    )
    text = page(client, "officer", filing)
    assert "尽调清单" in text and 'name="due_diligence-0-enterprise_eligible"' not in text

    url = reverse("admin:loans_loanfiling_change", args=[filing.pk])
    response = client.post(url, checklist_post(filing, **ALL_CONFIRMED))
    assert response.status_code == 302
    record = DueDiligence.objects.get(filing=filing)
    assert record.enterprise_eligible is None and not record.complete


def test_finance_sees_the_checklist_read_only(client, file_loan):
    filing = file_loan()
    start_due_diligence(filing, "officer")
    text = page(client, "finance", filing)
    assert "尽调清单" in text and 'name="due_diligence-0-enterprise_eligible"' not in text


def test_panels_are_shown_on_the_change_page(client, file_loan):
    filing = file_loan()
    text = page(client, "officer", filing)
    for label in ("自动校验结果", "✔ 通过", "资金处于运行期", "质押物", "201613031399.8"):
        assert label in text, label
    assert "Y2026440000123" in text and "3,000,000.00" in text and "2036-06-30" in text
    assert "状态变更记录" in text and "提交备案" in text and "提交贷款备案" in text


def test_servicing_warnings_and_documents_panels(client, demo):
    filing = make_filing(fund=Fund.objects.get(code="zhaoqing"), loan_status="overdue")
    report = {"outstanding_principal": "900000.00", "overdue_interest": "0.00", "risk_class": "normal"}
    StatusReport.objects.create(
        filing=filing,
        as_of=dt.date(2026, 9, 30),
        overdue_principal="0.00",
        days_overdue=0,
        loan_status_after="performing",
        is_current=False,
        **report,
    )
    StatusReport.objects.create(
        filing=filing,
        as_of=dt.date(2026, 10, 31),
        overdue_principal="50000.00",
        days_overdue=31,
        loan_status_after="overdue",
        **{**report, "risk_class": "special_mention"},
    )
    EarlyWarning.objects.create(
        filing=filing,
        kind=EarlyWarning.Kind.MONTHLY_REPORT_MISSING,
        subject="2026-11",
        message="未报送2026年11月月度报告",
        raised_on=dt.date(2026, 12, 11),
    )
    FilingDocument.objects.create(
        filing=filing,
        kind="loan_contract",
        file=f"filings/{filing.pk}/{'a' * 64}.pdf",
        original_name="借款合同.pdf",
        content_type="application/pdf",
        extension="pdf",
        size=2048,
        sha256="a" * 64,
    )
    text = page(client, "officer", filing)
    assert text.index("2026-09") < text.index("2026-10")
    for label in (
        "50,000.00",
        "关注",
        "已被更正",
        "未报送2026年11月月度报告",
        "借款合同.pdf",
        "aaaaaaaaaaaa",
    ):
        assert label in text, label

    client.force_login(user("officer"))
    listing = client.get(reverse("admin:loans_loanfiling_changelist") + "?queue=overdue").content.decode()
    assert "逾期（1）" in listing and filing.reference in listing
    warnings = client.get(reverse("admin:loans_earlywarning_changelist") + "?resolved=no").content.decode()
    assert "未报送2026年11月月度报告" in warnings


def test_accept_button_refuses_until_the_checklist_is_complete(client, file_loan):
    filing = file_loan()
    start_due_diligence(filing, "officer")

    response = transition(client, "approver", filing, "accept", "同意受理")
    assert response.status_code == 200
    # the refusal names what is missing: nothing is confirmed yet
    assert (
        "尽调清单尚未全部确认（已确认 0/5），待确认：企业仍符合入库条件、已核查知识产权法律状态、"
        "已核查质押登记、贷款条件符合产品和政策、材料齐全"
    ) in response.content.decode()
    assert LoanFiling.objects.get(pk=filing.pk).status == "under_review"

    client.force_login(user("officer"))
    url = reverse("admin:loans_loanfiling_change", args=[filing.pk])
    assert client.post(url, checklist_post(filing, **ALL_CONFIRMED)).status_code == 302

    response = transition(client, "approver", filing, "accept", "材料齐全，同意受理")
    assert response.status_code == 200
    filing = LoanFiling.objects.get(pk=filing.pk)
    assert filing.status == "accepted" and filing.accepted_on.isoformat() == "2026-11-21"
    text = response.content.decode()
    assert "操作“受理入池”已完成" in text and "材料齐全，同意受理" in text


def test_every_loans_changelist_renders_for_admin(client, demo):
    client.force_login(user("admin"))
    for model in (LoanFiling, StatusReport, EarlyWarning, FilingDocument):
        assert model in admin.site._registry
        info = (model._meta.app_label, model._meta.model_name)
        response = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.status_code == 200, info
        assert client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 403, info


def test_search_answers_a_whole_key_exactly_and_a_name_by_part(client, personas, business_date):
    from tests.loans.conftest import accept_filing

    business_date("2026-11-21")
    first = accept_filing(personas)
    second = accept_filing(personas, pledges=[{**filing_body()["pledges"][0], "number": "201912754910.4"}])
    client.force_login(User.objects.get(username="officer"))
    url = reverse("admin:loans_loanfiling_changelist")

    def found(term: str) -> set[str]:
        text = client.get(url, {"q": term}).content.decode()
        return {f.reference for f in (first, second) if f.reference in text}

    assert found(first.reference) == {first.reference}
    assert found(first.reference.lower()) == {first.reference}  # typed in lower case
    assert found(second.contract_no) == {second.reference}
    assert found("9144120252133505XP") == {first.reference, second.reference}  # the borrower's USCC
    assert found("星河") == {first.reference, second.reference}  # part of the borrower's name


@pytest.mark.postgres
def test_enterprise_names_have_a_trigram_index_on_postgresql():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'enterprise_name_trgm_idx'")
        (definition,) = cursor.fetchone()
    assert "gin_trgm_ops" in definition and "upper" in definition.lower()
