"""The forms the transition buttons open explain themselves: the step in Chinese as the title and
on the button, the record's key figures (a filing's amounts, its fund share and checklist; a
claim's claimable amount with its computation, the approved amount, the payment; a recovery's
amounts), the comment box required exactly where the service requires a reason, and a step the
user may not take refused naming the rule (the state, the role, four-eyes and who may sign)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import Client
from django.test.html import parse_html
from django.urls import reverse

from enterprises.models import Enterprise
from fundmgr.ground.accounts.admin import WorkflowTransitionsMixin
from fundmgr.ground.lib.money import format_wan
from loans.models import Claim, DueDiligence, LoanFiling
from loans.services import claims
from loans.services import filings as services
from tests.factories import filing_body
from tests.loans.conftest import accept_filing, make_non_performing
from tests.workbench import page

pytestmark = pytest.mark.django_db

OTHER_PATENT = "201912754910.4"  # a second patent of the demo enterprise


@pytest.fixture
def filing(personas, business_date) -> LoanFiling:
    """Bank A files a 1,000,000.00 loan, all of it covered, in Zhaoqing (fund share 50 %)."""
    business_date("2026-11-21")
    response = personas.client("bank_a").post("/api/v1/filings/", filing_body(), format="json")
    assert response.status_code == 201, response.json()
    return LoanFiling.objects.get(pk=response.json()["id"])


@pytest.fixture
def claim(personas, business_date) -> Claim:
    """A claim on a bad loan: (900,000 − 100,000) × 50 % = 400,000.00 claimable."""
    business_date("2026-11-21")
    pledge = {**filing_body()["pledges"][0], "number": OTHER_PATENT}
    loan = make_non_performing(personas, accept_filing(personas, pledges=[pledge]))
    response = personas.client("bank_a").post(
        "/api/v1/claims/",
        {
            "filing": loan.pk,
            "trigger_date": "2026-11-20",
            "outstanding_principal": "900000.00",
            "recovered_before_claim": "100000.00",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return Claim.objects.get(pk=response.json()["id"])


def as_user(personas, name: str) -> Client:
    client = Client()
    client.force_login(personas.user(name))
    return client


def form_url(obj, name: str) -> str:
    info = (obj._meta.app_label, obj._meta.model_name)
    return reverse(
        "admin:{}_{}_transition".format(*info), kwargs={"object_id": obj.pk, "transition_name": name}
    )


def figures(html: str) -> dict[str, str]:
    """{label: value} of the key-figures table, as the user reads it (a value may be a table)."""
    box = page.by_id(parse_html(html), "transition-figures")
    shown = {}
    for row in page.find_all(box, lambda e: e.name == "tr" and dict(e.attributes).get("class") != "fm-head"):
        label = page.find_all(row, lambda e: e.name == "th" and dict(e.attributes).get("scope") == "row")
        value = page.find_all(
            row, lambda e: e.name == "td" and dict(e.attributes).get("class") == "fm-figure"
        )
        if label and value:
            shown[page.text(label[0])] = page.text(value[0])
    return shown


def comment_box(html: str) -> str:
    return re.search(r"<textarea[^>]*name=\"comment\"[^>]*>", html).group(0)


def refusal(response) -> str:
    messages = [str(m) for m in response.context["messages"]] if response.context else []
    return " ".join(messages)


# --- a filing --------------------------------------------------------------------------------------


def test_a_filings_form_shows_its_figures_in_chinese(personas, filing):
    response = as_user(personas, "officer").get(form_url(filing, "start_due_diligence"))
    assert response.status_code == 200
    html = response.content.decode()
    shown = figures(html)
    assert shown["借款企业"].startswith("肇庆市星河新材料科技有限公司")
    assert shown["合作机构"] == "广东肇庆农村商业银行股份有限公司"
    assert (shown["贷款本金(元)"], shown["知识产权担保本金(元)"]) == ("1,000,000.00", "1,000,000.00")
    assert shown["资金分担比例"] == "50.00%" and "按现行合作协议" in html  # frozen only on acceptance
    assert shown["资金承担的担保本金(元)"] == "500,000.00"
    # The step names the page, the title and the button; nothing reads None or Apply.
    assert f"<title>{filing.reference} | 开始尽调 | " in html and "<h1>开始尽调</h1>" in html
    assert '<input type="submit" class="default" value="开始尽调">' in html
    assert "None" not in html.split('id="content"')[1] and "Apply" not in html
    # Starting due diligence needs no reason: the box is optional and says so.
    assert "required" not in comment_box(html) and "选填" in html


def test_the_checklist_progress_names_what_is_missing_before_acceptance(personas, filing):
    officer = personas.user("officer")
    services.filing_transition(filing_id=filing.pk, name="start_due_diligence", user=officer)
    services.due_diligence_record(
        filing_id=filing.pk, user=officer, items={"enterprise_eligible": True, "ip_status_checked": True}
    )
    html = as_user(personas, "approver").get(form_url(filing, "accept")).content.decode()
    assert figures(html)["尽调清单"] == (
        "已确认 2/5 项 待确认：已核查质押登记、贷款条件符合产品和政策、材料齐全"
    )
    assert 'class="fm-warning"' in html and "全部确认后才能受理入池" in html

    services.due_diligence_record(
        filing_id=filing.pk, user=officer, items={item: True for item in DueDiligence.REQUIRED_ITEMS}
    )
    html = as_user(personas, "approver").get(form_url(filing, "accept")).content.decode()
    assert figures(html)["尽调清单"] == "已确认 5/5 项" and 'class="fm-warning"' not in html


def test_the_comment_is_required_where_the_service_requires_a_reason(personas, filing):
    services.filing_transition(filing_id=filing.pk, name="start_due_diligence", user=personas.user("officer"))
    client = as_user(personas, "officer")
    html = client.get(form_url(filing, "return_for_supplement")).content.decode()
    assert "required" in comment_box(html)  # the browser refuses an empty box before submitting
    assert re.search(r'<label[^>]*class="required"[^>]*>意见', html) and "必填" in html

    response = client.post(form_url(filing, "return_for_supplement"), {"comment": "  "})
    assert response.status_code == 200 and "该字段是必填项。" in response.content.decode()
    assert LoanFiling.objects.get(pk=filing.pk).status == "under_review"  # nothing ran

    response = client.post(form_url(filing, "return_for_supplement"), {"comment": "请补充评估报告"})
    assert response.status_code == 302
    assert LoanFiling.objects.get(pk=filing.pk).status == "returned"


def test_every_declared_required_comment_is_a_step_of_its_admin():
    """A name in an admin's comment_required_steps (the app's rule) that is not one of its
    model's admin steps would mark nothing: every one is."""
    checked = 0
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, WorkflowTransitionsMixin):
            continue
        for name in model_admin.comment_required_steps:
            meta = getattr(getattr(model, name, None), "_django_fsm", None)
            assert meta is not None, (model.__name__, name)
            transition = next(iter(meta.transitions.values()))
            assert model_admin.is_fsm_transition_visible(transition), (model.__name__, name)
            checked += 1
    assert checked >= 12


# --- refusals name the rule --------------------------------------------------------------------------


def test_a_step_in_the_wrong_state_is_refused_naming_the_state(personas, filing):
    response = as_user(personas, "approver").get(form_url(filing, "accept"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:loans_loanfiling_change", args=[filing.pk])
    assert refusal(response) == "当前状态为“已提交”，“受理入池”只能在“尽调中”状态下办理。"


def test_a_step_for_another_role_is_refused_naming_who_may(personas, filing):
    response = as_user(personas, "finance").get(form_url(filing, "start_due_diligence"), follow=True)
    assert refusal(response) == (
        "“开始尽调”须由业务专员或复核负责人办理，您的角色（财务）无权办理。可由approver、officer、officer2办理。"
    )
    assert LoanFiling.objects.get(pk=filing.pk).status == "submitted"


def test_four_eyes_is_refused_naming_the_earlier_step_and_the_other_signers(personas, filing):
    services.filing_transition(filing_id=filing.pk, name="start_due_diligence", user=personas.user("officer"))
    client = as_user(personas, "officer")
    # Posting straight to the form is refused the same way, and runs nothing.
    response = client.post(form_url(filing, "reject"), {"comment": "不符合条件"}, follow=True)
    assert refusal(response) == (
        "四眼原则：“开始尽调”由您本人办理，“不予受理”须由另一位业务专员或复核负责人办理。"
        "可由approver、officer2办理。"
    )
    assert LoanFiling.objects.get(pk=filing.pk).status == "under_review"


def test_a_step_the_system_takes_is_refused_as_such(personas, business_date):
    business_date("2026-11-21")
    enterprise = Enterprise.objects.filter(status=Enterprise.Status.ADMITTED).first()
    response = as_user(personas, "officer").get(form_url(enterprise, "expire"), follow=True)
    assert refusal(response) == "“到期”不在管理后台办理。"


def test_an_unknown_step_is_404(personas, filing):
    assert as_user(personas, "officer").get(form_url(filing, "explode")).status_code == 404


# --- a claim, its payment and its recovery --------------------------------------------------------------


def test_the_approve_form_shows_the_claimable_amount_computed_as_the_service_will(personas, claim):
    for who, name in (
        ("officer", "start_review"),
        ("approver", "recommend"),
        ("committee", "start_committee_review"),
    ):
        claims.claim_transition(claim_id=claim.pk, name=name, user=personas.user(who))
    html = as_user(personas, "committee").get(form_url(claim, "approve")).content.decode()
    shown = figures(html)
    assert shown["可补偿金额(元)"] == "400,000.00"
    assert "按今天（2026-11-21）的余额和各项上限重新计算" in html
    computation = shown["计算过程"]
    for step in ("损失基数(元) 800,000.00", "资金分担比例 50.00%", "按比例计算金额(元) 400,000.00"):
        assert step in computation, step
    # The committee's own fields are on the form; the reference is required, the comment not.
    assert "会议纪要编号" in html and "批准金额(元)" in html and "required" not in comment_box(html)


def test_the_pay_form_shows_the_approved_amount_and_the_ledger(personas, claim):
    for who, name, extra in (
        ("officer", "start_review", {}),
        ("approver", "recommend", {}),
        ("committee", "start_committee_review", {}),
        ("committee", "approve", {"meeting_ref": "肇决〔2026〕7号", "approved_amount": Decimal("350000.00")}),
    ):
        claims.claim_transition(claim_id=claim.pk, name=name, user=personas.user(who), **extra)
    html = as_user(personas, "finance").get(form_url(claim, "pay")).content.decode()
    shown = figures(html)
    assert shown["批准金额(元)"] == "350,000.00" and "肇决〔2026〕7号" in html
    assert "付款记入资金台账（代偿支出 350,000.00 元）" in html and "资金台账余额(元)" in shown
    assert '<input type="submit" class="default" value="付款">' in html


def test_a_claim_is_returned_only_with_a_reason(personas, claim):
    claims.claim_transition(claim_id=claim.pk, name="start_review", user=personas.user("officer"))
    html = as_user(personas, "officer").get(form_url(claim, "return_for_supplement")).content.decode()
    assert "required" in comment_box(html)
    assert "required" not in comment_box(
        as_user(personas, "approver").get(form_url(claim, "recommend")).content.decode()
    )


def test_the_recovery_form_shows_what_the_fund_is_owed(personas, claim):
    for who, name, extra in (
        ("officer", "start_review", {}),
        ("approver", "recommend", {}),
        ("committee", "start_committee_review", {}),
        ("committee", "approve", {"meeting_ref": "M-1"}),
        ("finance", "pay", {}),
    ):
        claims.claim_transition(claim_id=claim.pk, name=name, user=personas.user(who), **extra)
    reported = personas.client("bank_a").post(
        f"/api/v1/claims/{claim.pk}/recoveries/",
        {"received_on": "2026-11-21", "gross_amount": "110000.00", "costs": "10000.00", "source": "borrower"},
        format="json",
    )
    assert reported.status_code == 201, reported.json()
    recovery = claim.recoveries.get()
    shown = figures(as_user(personas, "finance").get(form_url(recovery, "confirm_returned")).content.decode())
    assert (shown["回收总额(元)"], shown["追偿费用(元)"], shown["应返还资金(元)"]) == (
        "110,000.00",
        "10,000.00",
        "50,000.00",
    )
    assert shown["返还截止日"] == recovery.due_on.isoformat()


def test_format_wan_reads_yuan_in_ten_thousands():
    assert format_wan(Decimal("12345678.90")) == "1,234.57"
    assert format_wan("12350.00") == "1.24"  # half-up
    assert format_wan(0) == "0.00"


# --- a financing need --------------------------------------------------------------------------


def test_a_needs_withdraw_form_shows_the_need_and_requires_the_reason(personas, business_date):
    from matching.models import FinancingNeed
    from tests.matching.conftest import need_body

    business_date("2026-11-21")
    bank = personas.client("bank_a")
    registered = bank.post("/api/v1/financing-needs/", need_body(), format="json")
    assert registered.status_code == 201, registered.json()
    need = FinancingNeed.objects.get(pk=registered.json()["id"])
    assert bank.post(
        f"/api/v1/financing-needs/{need.pk}/interest/", {"comment": "愿意对接"}, format="json"
    ).status_code in (200, 201)

    officer = as_user(personas, "officer")
    html = officer.get(form_url(need, "withdraw")).content.decode()
    shown = figures(html)
    assert shown["企业"].startswith("肇庆市星河新材料科技有限公司")
    assert shown["融资金额(元)"] == "3,000,000.00" and shown["期限(月)"] == "24"
    assert shown["表达意向的银行"] == "广东肇庆农村商业银行股份有限公司"
    assert "required" in comment_box(html)  # the service refuses a withdrawal without a reason

    # A step the need's state does not allow is refused naming the state, not the step's code.
    answered = officer.get(form_url(need, "renew"), follow=True)
    assert "当前状态为“对接中”" in refusal(answered) and "“重新发布”只能在“已过期”状态下办理" in refusal(
        answered
    )
