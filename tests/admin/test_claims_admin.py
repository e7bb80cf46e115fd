"""Compensation claims and recoveries in the admin: queues with counts and ages, the
computation as staff read it, buttons by role, state and four-eyes, the committee's form,
payment into the ledger and recoveries confirmed by finance."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import EntryType, Fund, LedgerEntry
from fundmgr.ground.funds.services import ledger_entry_record
from loans.models import Claim, Recovery
from loans.services import claims
from tests.loans.conftest import accept_filing, make_non_performing

pytestmark = pytest.mark.django_db

OTHER_PATENT = "201912754910.4"  # a second patent of the same demo enterprise
BUTTON = re.compile(r'name="_fsm_transition_to"\s+value="[^"]*"[^>]*>\s*([^<]*?)\s*</button>')
AGE_CELL = re.compile(r'<td class="field-days_in_state">([^<]*)</td>')


def claim_body(filing) -> dict:
    return {
        "filing": filing.pk,
        "trigger_date": "2026-11-20",
        "outstanding_principal": "900000.00",
        "recovered_before_claim": "100000.00",
        "legal_action": {"kind": "lawsuit", "case_no": "(2026)粤1202民初1234号", "filed_on": "2026-11-18"},
        "notes": "借款人停止经营",
    }


@pytest.fixture
def file_claim(personas, business_date):
    """Bank A's loan is accepted, goes bad, and the bank files a claim through the API
    (400,000.00 claimable: (900,000 − 100,000) × 50 %)."""
    business_date("2026-11-21")
    patents = iter([None, OTHER_PATENT])

    def file() -> Claim:
        patent = next(patents)
        overrides = {}
        if patent:
            from tests.factories import filing_body

            overrides["pledges"] = [{**filing_body()["pledges"][0], "number": patent}]
        filing = make_non_performing(personas, accept_filing(personas, **overrides))
        response = personas.client("bank_a").post("/api/v1/claims/", claim_body(filing), format="json")
        assert response.status_code == 201, response.json()
        return Claim.objects.get(pk=response.json()["id"])

    return file


@pytest.fixture
def claim(file_claim) -> Claim:
    return file_claim()


def user(username: str) -> User:
    return User.objects.get(username=username)


def take(claim: Claim, username: str, name: str, **extra) -> Claim:
    return claims.claim_transition(claim_id=claim.pk, name=name, user=user(username), comment="同意", **extra)


def to_committee_review(claim: Claim) -> None:
    take(claim, "officer", "start_review")
    take(claim, "approver", "recommend")
    take(claim, "committee", "start_committee_review")


def page(client, username: str, obj) -> str:
    client.force_login(user(username))
    response = client.get(reverse(f"admin:loans_{obj._meta.model_name}_change", args=[obj.pk]))
    assert response.status_code == 200
    return response.content.decode()


def buttons(text: str) -> list[str]:
    return BUTTON.findall(text)


def claims_list(client, username: str, query: str = "") -> str:
    client.force_login(user(username))
    response = client.get(reverse("admin:loans_claim_changelist") + query)
    assert response.status_code == 200
    return response.content.decode()


def transition_url(obj, name: str) -> str:
    return reverse(
        f"admin:loans_{obj._meta.model_name}_transition",
        kwargs={"object_id": obj.pk, "transition_name": name},
    )


def test_claims_list_shows_queues_with_counts(client, claim):
    text = claims_list(client, "officer", "?queue=submitted")
    assert "工作队列" in text and "待初审（1）" in text and "初审中/待复核（0）" in text
    assert "待决委会（0）" in text and "待付款（0）" in text and "追偿中（0）" in text
    assert claim.reference in text and "400,000.00" in text and "当前状态停留(工作日)" in text
    assert "借款企业" in text and "肇庆市星河新材料科技有限公司" in text

    take(claim, "officer", "start_review")
    text = claims_list(client, "officer", "?queue=submitted")
    assert "待初审（0）" in text and "初审中/待复核（1）" in text and claim.reference not in text
    assert claim.reference in claims_list(client, "officer", "?queue=initial_review")
    take(claim, "approver", "recommend")
    assert "待决委会（1）" in claims_list(client, "officer")

    for search in ("9144120252133505XP", claim.filing.reference, claim.reference):
        assert claim.reference in claims_list(client, "officer", f"?q={search}"), search


def ages_on(client, days: list[str], business_date, queue: str) -> dict[str, list[str]]:
    ages = {}
    for day in days:
        business_date(day)
        ages[day] = AGE_CELL.findall(claims_list(client, "officer", f"?queue={queue}"))
    return ages


def test_age_column_counts_working_days_in_the_current_state(client, claim, personas, business_date):
    """Ages count business dates from the entry into the *current* state, whatever the wall
    clock says and however many other steps were logged (in any order of real time)."""
    # Filed on Saturday 2026-11-21 (the fixture); taken into review on Friday 2026-11-27.
    business_date("2026-11-27")
    take(claim, "officer", "start_review")
    assert ages_on(
        client,
        ["2026-11-27", "2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01"],
        business_date,
        "initial_review",
    ) == {
        "2026-11-27": ["0"],
        "2026-11-28": ["0"],  # Saturday and Sunday are not working days
        "2026-11-29": ["0"],
        "2026-11-30": ["1"],
        "2026-12-01": ["2"],
    }
    # Returned on Wednesday 12-02, resubmitted on Monday 12-07: the `submitted` age restarts
    # from the resubmission, not from the first submission on 11-21.
    business_date("2026-12-02")
    take(claim, "officer", "return_for_supplement")
    business_date("2026-12-07")
    response = personas.client("bank_a").post(
        f"/api/v1/claims/{claim.pk}/transitions/resubmit/", {"comment": "已补正"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert ages_on(client, ["2026-12-07", "2026-12-09"], business_date, "submitted") == {
        "2026-12-07": ["0"],
        "2026-12-09": ["2"],
    }
    # Back in review on 12-10: 1 working day later on 12-11, not counted from 11-27.
    business_date("2026-12-10")
    take(claim, "officer", "start_review")
    assert ages_on(client, ["2026-12-11"], business_date, "initial_review") == {"2026-12-11": ["1"]}
    text = page(client, "officer", claim)
    assert "当前状态停留(工作日)" in text and "进入当前状态日期" in text and "2026-12-10" in text


def test_ages_are_fetched_for_the_whole_page_at_once(client, file_claim):
    file_claim()
    client.force_login(user("officer"))
    url = reverse("admin:loans_claim_changelist")
    with CaptureQueriesContext(connection) as one_row:
        assert len(AGE_CELL.findall(client.get(url).content.decode())) == 1
    file_claim()
    with CaptureQueriesContext(connection) as two_rows:
        assert len(AGE_CELL.findall(client.get(url).content.decode())) == 2
    assert len(two_rows) == len(one_row)


def test_computation_panel_shows_every_step_and_the_caps(client, claim):
    text = page(client, "officer", claim)
    for label in (
        "补偿金额计算",
        "担保覆盖比例",
        "100.00%",
        "损失基数(元)",
        "800,000.00",
        "资金分担比例",
        "50.00%",
        "按比例计算金额(元)",
        "400,000.00",
        "单笔补偿上限（剩余额度）",
        "2,500,000.00",
        "资金可用余额（剩余额度）",
        "5,000,000.00",
        "未起作用",
        "可补偿金额(元)",
        "诉讼，案号 (2026)粤1202民初1234号，立案日期 2026-11-18",
        "状态变更记录",
        "提交补偿申请",
    ):
        assert label in text, label
    assert "起作用：金额降至此额度" not in text

    # The fund pays out most of its money; at the review the balance cap bites.
    ledger_entry_record(
        fund=Fund.objects.get(code="zhaoqing"), entry_type="refund", amount=Decimal("4700000")
    )
    take(claim, "officer", "start_review")
    take(claim, "approver", "recommend")
    text = page(client, "officer", claim)
    assert "起作用：金额降至此额度" in text and "300,000.00" in text


def test_buttons_follow_role_state_and_four_eyes(client, claim):
    assert buttons(page(client, "officer", claim)) == ["开始初审"]
    assert buttons(page(client, "committee", claim)) == []
    assert buttons(page(client, "finance", claim)) == []

    take(claim, "officer", "start_review")
    officer_view = page(client, "officer", claim)
    assert "复核推荐" not in buttons(officer_view) and "退回补正" in buttons(officer_view)
    assert 'name="_save"' not in officer_view  # nothing on the page is edited
    assert "复核推荐" in buttons(page(client, "approver", claim))
    assert "复核推荐" in buttons(page(client, "officer2", claim))

    take(claim, "approver", "recommend")
    assert buttons(page(client, "committee", claim)) == ["提交决委会"]
    take(claim, "committee", "start_committee_review")
    assert "批准补偿" in buttons(page(client, "committee", claim))
    assert buttons(page(client, "finance", claim)) == []
    assert "批准补偿" not in buttons(page(client, "approver", claim))

    take(claim, "committee", "approve", meeting_ref="肇决〔2026〕7号")
    assert buttons(page(client, "finance", claim)) == ["付款"]
    assert buttons(page(client, "committee", claim)) == []


def test_committee_approves_a_lower_amount_through_the_form(client, claim):
    to_committee_review(claim)
    client.force_login(user("committee"))
    # The button on the change page opens the decision form.
    change_url = reverse("admin:loans_claim_change", args=[claim.pk])
    response = client.post(change_url, {"_fsm_transition_to": "approve"})
    assert response.status_code == 302 and response["Location"] == transition_url(claim, "approve")
    form = client.get(transition_url(claim, "approve")).content.decode()
    assert "会议纪要编号" in form and "批准金额(元)" in form

    response = client.post(
        transition_url(claim, "approve"),
        {"meeting_ref": "肇决〔2026〕7号", "approved_amount": "350000.00", "comment": "按七成批准"},
        follow=True,
    )
    text = response.content.decode()
    assert response.status_code == 200 and "操作“批准补偿”已完成" in text
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.approved_amount == Decimal("350000.00")
    assert claim.meeting_ref == "肇决〔2026〕7号"
    assert "350,000.00" in text and "肇决〔2026〕7号" in text and "按七成批准" in text


def test_approved_amount_above_claimable_is_refused_with_a_message(client, claim):
    to_committee_review(claim)
    client.force_login(user("committee"))
    response = client.post(
        transition_url(claim, "approve"),
        {"meeting_ref": "肇决〔2026〕7号", "approved_amount": "400000.01", "comment": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert "批准金额不能高于可补偿金额 400,000.00 元" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == "committee_review" and claim.approved_amount is None and claim.meeting_ref == ""


def test_finance_pays_in_the_admin_and_the_ledger_names_the_claim(client, claim):
    to_committee_review(claim)
    take(claim, "committee", "approve", meeting_ref="肇决〔2026〕7号")
    client.force_login(user("finance"))
    change_url = reverse("admin:loans_claim_change", args=[claim.pk])
    assert client.post(change_url, {"_fsm_transition_to": "pay"})["Location"] == transition_url(claim, "pay")
    response = client.post(transition_url(claim, "pay"), {"comment": "已划款"}, follow=True)
    assert "操作“付款”已完成" in response.content.decode()

    claim.refresh_from_db()
    assert (claim.status, claim.paid_amount, claim.paid_on) == (
        "in_recovery",
        Decimal("400000.00"),
        dt.date(2026, 11, 21),
    )
    entry = LedgerEntry.objects.get(claim=claim, entry_type=EntryType.COMPENSATION_PAID)
    text = page(client, "finance", claim)
    assert f"#{entry.pk}" in text and "-400,000.00" in text and "代偿支出" in text

    claim_url = reverse("admin:loans_claim_change", args=[claim.pk])
    ledger = client.get(reverse("admin:funds_ledgerentry_changelist") + "?entry_type=compensation_paid")
    ledger_text = ledger.content.decode()
    assert "补偿申请" in ledger_text and f'<a href="{claim_url}">{claim.reference}</a>' in ledger_text
    fund_page = client.get(reverse("admin:funds_fund_change", args=[claim.fund_id])).content.decode()
    assert f'<a href="{claim_url}">{claim.reference}</a>' in fund_page


def test_finance_confirms_a_recovery_in_the_admin(client, personas, claim, business_date):
    to_committee_review(claim)
    take(claim, "committee", "approve", meeting_ref="M-1")
    take(claim, "finance", "pay")
    reported = personas.client("bank_a").post(
        f"/api/v1/claims/{claim.pk}/recoveries/",
        {"received_on": "2026-11-21", "gross_amount": "110000.00", "costs": "10000.00", "source": "borrower"},
        format="json",
    )
    assert reported.status_code == 201, reported.json()
    recovery = Recovery.objects.get(pk=reported.json()["id"])  # 50,000.00 due on 2026-12-07

    client.force_login(user("finance"))
    url = reverse("admin:loans_recovery_changelist")
    text = client.get(url + "?queue=return_due").content.decode()
    assert "待返还（1）" in text and "逾期未返还（0）" in text and claim.reference in text
    business_date("2026-12-08")
    text = client.get(url + "?queue=overdue").content.decode()
    assert "待返还（0）" in text and "逾期未返还（1）" in text and claim.reference in text
    assert claims.recoveries_mark_overdue() == 1
    assert "逾期未返还（1）" in client.get(url).content.decode()

    assert buttons(page(client, "officer", recovery)) == []
    assert buttons(page(client, "finance", recovery)) == ["确认已返还"]
    assert "逾期未返还" in page(client, "officer", claim)  # the claim's recoveries panel
    refused = client.post(transition_url(recovery, "confirm_returned"), {"comment": "x"}, follow=True)
    # The officer may not confirm: the refusal names the role that may, and who that is.
    assert "“确认已返还”须由财务办理，您的角色（业务专员）无权办理。可由" in refused.content.decode()
    recovery.refresh_from_db()
    assert recovery.status == "overdue"
    client.force_login(user("finance"))
    response = client.post(transition_url(recovery, "confirm_returned"), {"comment": "已到账"}, follow=True)
    text = response.content.decode()
    assert "操作“确认已返还”已完成" in text and "已到账" in text
    recovery.refresh_from_db()
    assert recovery.status == "returned" and recovery.returned_on == dt.date(2026, 12, 8)
    returned = LedgerEntry.objects.get(claim=claim, entry_type=EntryType.RECOVERY_RETURNED)
    assert returned.amount == Decimal("50000.00")
    assert "逾期未返还（0）" in client.get(url).content.decode()


def test_claims_and_recoveries_are_not_added_or_deleted_in_the_admin(client, claim):
    client.force_login(user("admin"))
    for model in ("claim", "recovery"):
        assert client.get(reverse(f"admin:loans_{model}_add")).status_code == 403
    assert client.get(reverse("admin:loans_claim_delete", args=[claim.pk])).status_code == 403
    assert client.get(reverse("admin:loans_recovery_changelist")).status_code == 200


def test_claim_page_lists_its_documents(client, personas, business_date, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from fundmgr.ground.accounts.models import User
    from loans.models import Claim
    from tests.loans.conftest import accept_filing, make_non_performing

    settings.MEDIA_ROOT = tmp_path
    business_date("2026-11-21")
    filing = make_non_performing(personas, accept_filing(personas))
    bank = personas.client("bank_a")
    claim_id = bank.post(
        "/api/v1/claims/",
        {
            "filing": filing.pk,
            "trigger_date": "2026-11-20",
            "outstanding_principal": "500000.00",
            "recovered_before_claim": "0.00",
        },
        format="json",
    ).json()["id"]
    pdf = b"%PDF-1.4\n%%EOF\n"
    bank.post(
        f"/api/v1/claims/{claim_id}/documents/",
        {"kind": "collection_records", "file": SimpleUploadedFile("催收记录.pdf", pdf)},
        format="multipart",
    )
    client.force_login(User.objects.get(username="officer"))
    page = client.get(reverse("admin:loans_claim_change", args=[claim_id])).content.decode()
    assert "申请材料" in page and "催收记录.pdf" in page
    assert Claim.objects.get(pk=claim_id).documents.count() == 1


def test_computation_panel_shows_a_principal_cap_before_the_share(client, personas, file_claim):
    from fundmgr.ground.funds.models import PolicyVersion

    PolicyVersion.objects.filter(fund__code="zhaoqing").update(per_loan_principal_cap=Decimal("600000.00"))
    text = page(client, "officer", file_claim())
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", text)
    steps = [(step, amount) for step, amount, _note in rows]
    # covered loss 800,000 → capped to 600,000 before the share → × 50 % = 300,000
    at = steps.index(("担保部分损失(元)", "800,000.00"))
    assert steps[at + 1] == ("上限：单笔不良贷款计入本金上限（剩余额度）", "600,000.00")
    assert rows[at + 1][2] == "起作用：金额降至此额度"
    assert steps[at + 2] == ("上限：单户企业累计计入本金上限", "未设置")
    assert steps[at + 3] == ("损失基数(元)", "600,000.00")
    assert ("按比例计算金额(元)", "300,000.00") in steps
