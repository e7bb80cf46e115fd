"""The start page (工作台, /admin/): each person sees their own queues with counts, the items due
soonest with the working days left or late, and their recent steps; a regulator sees its city's
pages; the technical apps are the system administrator's only; there is no "查看站点" link.

Rows come from `world.build` (the real paths, on known business dates: see its table)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from banks.models import CooperationAgreement
from banks.services import agreement_filings_transition, agreement_suspend_filings
from enterprises.models import Enterprise
from fundmgr.ground.accounts.admin_site import TECHNICAL_APPS
from fundmgr.ground.accounts.models import Role, User
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib.models import WorkdayOverride
from loans.models import LoanFiling

from . import page
from .world import build

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
BORROWER_NAME = "肇庆市星河新材料科技有限公司"
BANK_A = "广东肇庆农村商业银行股份有限公司"
STAFF_QUEUES = {
    "officer": [
        "filings_due_diligence",
        "enterprises_review",
        "institutions_review",
        "claims_review",
        "needs_interest",
        "needs_untouched",
    ],
    "approver": [
        "filings_acceptance",
        "claims_recommendation",
        "enterprises_admission",
        "institutions_activation",
        "agreements_reinstatement",
    ],
    "committee": ["claims_committee"],
    "finance": ["claims_payment", "recoveries_return"],
}


@pytest.fixture
def world(personas, business_date):
    return build(personas, business_date)


@pytest.fixture
def login(personas):
    def as_user(name: str) -> Client:
        client = Client()
        client.force_login(personas.user(name))
        return client

    return as_user


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


# --- each persona's queues -----------------------------------------------------------------------


def test_officer_sees_due_diligence_admissions_and_claims_to_review(world, login):
    client = login("officer")
    root = page.index(client)
    assert page.cards(root) == STAFF_QUEUES["officer"]

    # Filings to start due diligence on, and the one the officer started whose checklist is
    # open; not those with a complete checklist (they wait for the decision).
    due_diligence = page.card(root, "filings_due_diligence")
    assert due_diligence.title == "贷款备案待尽调"
    assert due_diligence.count == 3
    assert [(r.reference, r.date, r.countdown, r.tone) for r in due_diligence.rows] == [
        (world.to_start.reference, "2026-12-04", "剩余 4 个工作日", "ok"),
        (world.mine.reference, "2026-12-04", "剩余 4 个工作日", "ok"),
        (world.later.reference, "2026-12-07", "剩余 5 个工作日", "ok"),  # filed on Monday 11-23
    ]
    first = due_diligence.rows[0]
    assert (first.party, first.amount, first.href) == (
        BORROWER_NAME,
        "300,000.00",
        change_url(world.to_start),
    )
    assert due_diligence.late is None and due_diligence.soon is None

    claims = page.card(root, "claims_review")
    assert claims.count == 1
    assert [(r.reference, r.party, r.amount, r.date, r.countdown) for r in claims.rows] == [
        (world.claim_new.reference, BANK_A, "5,000.00", "2026-12-04", "剩余 4 个工作日")
    ]

    # Admissions have no deadline: the oldest application first, with its working days waiting
    # (submitted on Saturday 11-21: five working days that week, and Monday 11-30).
    admissions = page.card(root, "enterprises_review")
    assert admissions.count == Enterprise.objects.filter(status=Enterprise.Status.SUBMITTED).count() >= 1
    applicant = admissions.rows[0]
    assert (applicant.reference, applicant.party, applicant.amount) == (world.applicant.name, BANK_A, "")
    assert (applicant.date, applicant.countdown) == ("2026-11-21", "已等待 6 个工作日")

    summary = page.text(page.by_id(root, "workbench-summary"))
    total = sum(page.card(root, key).count for key in STAFF_QUEUES["officer"])
    assert "业务日期 2026-11-30" in summary and f"我的待办 {total} 件" in summary


def test_the_queue_links_to_its_filtered_list(world, login):
    client = login("officer")
    card = page.card(page.index(client), "filings_due_diligence")
    assert card.href == "/admin/loans/loanfiling/?workqueue=filings_due_diligence"
    listing = client.get(card.href)
    assert listing.status_code == 200
    text = listing.content.decode()
    for filing in (world.to_start, world.mine, world.later):
        assert filing.reference in text
    # Not another officer's filing under due diligence, nor one waiting for the decision.
    for filing in (world.checked, world.own_check, LoanFiling.objects.filter(status="accepted").first()):
        assert filing.reference not in text
    # The filter in force reads as the card's title.
    assert "工作台待办" in text and "贷款备案待尽调" in text


def test_a_filing_another_officer_works_on_is_not_in_my_queue(world, login):
    card = page.card(page.index(login("officer2")), "filings_due_diligence")
    # officer2 started due diligence on `checked` and completed it; `mine` is the officer's.
    assert [r.reference for r in card.rows] == [world.to_start.reference, world.later.reference]
    assert card.count == 2


def test_approver_decides_on_checked_filings_but_not_on_their_own(world, login):
    root = page.index(login("approver"))
    assert page.cards(root) == STAFF_QUEUES["approver"]

    acceptance = page.card(root, "filings_acceptance")
    # `checked` (officer2's complete checklist) waits for the approver; `own_check` was checked
    # by the approver themself (four-eyes: someone else decides); `mine` is not checked yet.
    assert [r.reference for r in acceptance.rows] == [world.checked.reference]
    assert acceptance.count == 1
    assert acceptance.rows[0].countdown == "剩余 4 个工作日"
    assert "另有 1 件由您经手，须由他人办理（四眼原则）" in acceptance.text
    assert acceptance.href == "/admin/loans/loanfiling/?workqueue=filings_acceptance"
    # The list it opens holds the one filing counted, not the approver's own check nor `mine`.
    listed = login("approver").get(acceptance.href).context_data["cl"].result_list
    assert [f.reference for f in listed] == [world.checked.reference]

    recommendation = page.card(root, "claims_recommendation")
    assert recommendation.count == 1
    assert [(r.reference, r.countdown) for r in recommendation.rows] == [
        (world.claim_review.reference, "剩余 4 个工作日")
    ]
    assert page.card(root, "enterprises_admission").count == 0
    assert "暂无待办" in page.card(root, "enterprises_admission").text


def test_committee_sees_claims_for_the_committee_with_its_deadline(world, login):
    root = page.index(login("committee"))
    assert page.cards(root) == STAFF_QUEUES["committee"]
    committee = page.card(root, "claims_committee")
    # Recommended on 11-21 (a Saturday), 15 working days: Friday 12-11; nine left on 11-30.
    assert committee.count == 1
    assert [(r.reference, r.date, r.countdown) for r in committee.rows] == [
        (world.claim_recommended.reference, "2026-12-11", "剩余 9 个工作日")
    ]


def test_finance_sees_payments_and_returns(world, login):
    root = page.index(login("finance"))
    assert page.cards(root) == STAFF_QUEUES["finance"]
    payment = page.card(root, "claims_payment")
    assert payment.count == 1
    assert [(r.reference, r.amount, r.date, r.countdown) for r in payment.rows] == [
        (world.claim_approved.reference, "4,321.00", "2026-12-04", "剩余 4 个工作日")
    ]
    returns = page.card(root, "recoveries_return")
    assert returns.count == 1
    assert [(r.reference, r.party, r.amount, r.date) for r in returns.rows] == [
        (world.claim_paid.reference, BANK_A, "432.10", "2026-12-04")  # 1,000.00 × 4,321 / 10,000
    ]
    assert returns.rows[0].href == change_url(world.recovery)


def test_the_system_administrator_sees_every_queue_as_an_overview(world, login):
    root = page.index(login("admin"))
    assert page.cards(root) == [key for keys in STAFF_QUEUES.values() for key in keys]
    # Everything waiting, whoever may act: three filings in due diligence, two checked ones.
    assert page.card(root, "filings_due_diligence").count == 3
    assert page.card(root, "filings_acceptance").count == 2
    assert "四眼原则" not in page.card(root, "filings_acceptance").text
    assert "全部待办（总览）" in page.text(page.by_id(root, "workbench-summary"))


def test_a_regulator_sees_its_citys_pages_and_no_queue(world, login):
    client = login("regulator_x")
    root = page.index(client)
    assert page.cards(root) == []
    assert page.by_id(root, "workbench-summary") is None
    funds = page.by_id(root, "workbench-funds")
    assert "肇庆" in page.text(funds) and "佛山" not in page.text(funds)
    zhaoqing = Fund.objects.get(code="zhaoqing")
    links = {page.text(a): dict(a.attributes)["href"] for a in page.find_all(funds, lambda e: e.name == "a")}
    assert links == {
        "资金看板": "/admin/funds/fund/dashboard/zhaoqing/",
        "报表": f"/admin/reports/storedreport/?fund__id__exact={zhaoqing.pk}",
        "资金台账": f"/admin/funds/ledgerentry/?fund__id__exact={zhaoqing.pk}",
    }
    for url in links.values():
        assert client.get(url).status_code == 200, url
    html = client.get("/admin/").content.decode()
    for staff_only in ("/admin/loans/", "/admin/enterprises/", "/admin/accounts/"):
        assert staff_only not in html


# --- deadlines in working days ---------------------------------------------------------------------


def rows_of(client, key: str = "filings_due_diligence") -> dict[str, tuple[str, str]]:
    return {r.reference: (r.countdown, r.tone) for r in page.card(page.index(client), key).rows}


def test_countdowns_count_working_days_across_weekends_and_holidays(world, login, business_date):
    client = login("officer")
    to_start, later = world.to_start.reference, world.later.reference  # due Fri 12-04, Mon 12-07

    assert rows_of(client)[to_start] == ("剩余 4 个工作日", "ok")  # Mon 11-30: Tue … Fri
    # A day off declared by the calendar's overrides (a holiday the library does not know).
    WorkdayOverride.objects.create(date=dt.date(2026, 12, 1), is_working_day=False, note="测试假日")
    assert rows_of(client)[to_start] == ("剩余 3 个工作日", "ok")
    WorkdayOverride.objects.all().delete()

    business_date("2026-12-03")  # Thursday: within two working days, amber
    assert rows_of(client)[to_start] == ("剩余 1 个工作日", "soon")
    assert rows_of(client)[later] == ("剩余 2 个工作日", "soon")  # Fri and Mon: the weekend skipped
    card = page.card(page.index(client), "filings_due_diligence")
    assert (card.soon, card.late) == ("即将到期 3", None)

    business_date("2026-12-04")
    assert rows_of(client)[to_start] == ("今日到期", "soon")

    business_date("2026-12-05")  # Saturday: late, but no working day missed yet
    assert rows_of(client)[to_start] == ("已逾期", "late")
    assert rows_of(client)[later] == ("剩余 1 个工作日", "soon")

    business_date("2026-12-08")  # Tuesday: Monday and Tuesday missed
    assert rows_of(client)[to_start] == ("逾期 2 个工作日", "late")
    assert rows_of(client)[later] == ("逾期 1 个工作日", "late")
    card = page.card(page.index(client), "filings_due_diligence")
    assert (card.late, card.soon) == ("逾期 3", None)
    summary = page.text(page.by_id(page.index(client), "workbench-summary"))
    assert "逾期 4 件" in summary  # and the claim to review, due on 12-04 too

    WorkdayOverride.objects.create(date=dt.date(2026, 12, 7), is_working_day=False, note="测试假日")
    assert rows_of(client)[to_start] == ("逾期 1 个工作日", "late")  # only Tuesday was a working day


def test_late_items_come_first_and_are_red_in_the_page(world, login, business_date):
    business_date("2026-12-08")
    html = login("officer").get("/admin/").content.decode()
    assert '<span class="countdown late">逾期 2 个工作日</span>' in html
    css = (ROOT / "fundmgr/top/workbench/static/workbench/workbench.css").read_text()
    assert ".countdown.late { color: #ba2121" in css and ".countdown.soon { color: #b36b00" in css


# --- my recent steps ---------------------------------------------------------------------------------


def test_recent_steps_are_mine_newest_first_with_links(world, login):
    root = page.index(login("officer"))
    steps = page.recent(root)
    assert len(steps) == 10
    # The officer's last step in the world: the initial review of the claim later paid.
    assert steps[0].startswith(f"开始初审 {world.claim_paid.reference}")
    assert "2026-11-21 · 补偿申请 · 已提交 → 初审中" in steps[0]
    assert page.recent_links(root)[0] == change_url(world.claim_paid)
    # Only steps people choose: not those the system took with them (a loan's cover starting).
    approver_steps = page.recent(page.index(login("approver")))
    assert any(step.startswith("受理入池") for step in approver_steps)
    assert not any(step.startswith("开始在保") for step in approver_steps)


def test_someone_who_took_no_step_reads_none(world, login):
    assert page.recent(page.index(login("admin"))) == []
    assert "暂无" in page.text(page.by_id(page.index(login("admin")), "recent-actions-module"))


# --- the apps listed -----------------------------------------------------------------------------------


BUSINESS_ORDER = ["loans", "enterprises", "banks", "matching", "funds", "reports", "notifications"]


@pytest.mark.parametrize("name", ["officer", "approver", "committee", "finance"])
def test_staff_see_business_apps_only_in_the_work_order(personas, login, name):
    client = login(name)
    listed = page.apps(page.index(client))
    assert listed == BUSINESS_ORDER
    # The side menu of every other page follows the same rule.
    nav = client.get("/admin/loans/loanfiling/").content.decode()
    assert 'id="nav-sidebar"' in nav
    for label in TECHNICAL_APPS:
        assert f'class="app-{label} ' not in nav and f"/admin/{label}/" not in nav, label
    # An app page of a technical app is not theirs.
    assert client.get("/admin/lib/").status_code == 404
    assert client.get("/admin/accounts/").status_code == 404


def test_a_regulator_sees_its_readable_apps_only(personas, login):
    listed = page.apps(page.index(login("regulator_x")))
    assert not set(listed) & TECHNICAL_APPS
    assert {"funds", "reports"} <= set(listed)


def test_the_system_administrator_sees_the_technical_apps_after_the_business_ones(personas, login):
    client = login("admin")
    listed = page.apps(page.index(client))
    technical = {"auth", "axes", "django_celery_beat", "lib", "accounts", "rest_framework_api_key"}
    assert technical <= set(listed)
    assert listed[: len(BUSINESS_ORDER)] == BUSINESS_ORDER
    assert client.get("/admin/lib/").status_code == 200

    # By role, not only as a superuser.
    User.objects.create_user(username="sysadmin", password="x", role=Role.ADMIN, is_staff=True)
    other = Client()
    other.force_login(User.objects.get(username="sysadmin"))
    assert technical <= set(page.apps(page.index(other)))


# --- no link to a site that does not exist ----------------------------------------------------------


@pytest.mark.parametrize("name", ["officer", "admin", "regulator_x"])
def test_there_is_no_view_site_link(personas, login, name):
    assert admin.site.site_url is None
    html = login(name).get("/admin/").content.decode()
    assert "查看站点" not in html and "View site" not in html
    assert 'href="/"' not in html


def test_approver_sees_reinstatement_requests_they_did_not_make(personas, login, business_date):
    business_date("2026-11-20")
    agreements = {
        code: CooperationAgreement.objects.filter(institution__code=code).order_by("pk").first()
        for code in ("zqrcb", "icbc-foshan")
    }
    for code, requester in (("zqrcb", "officer"), ("icbc-foshan", "approver")):
        agreement_suspend_filings(
            agreement_id=agreements[code].pk, reason="不良率超过阈值", on=dt.date(2026, 11, 20)
        )
        agreement_filings_transition(
            agreement_id=agreements[code].pk,
            name="request_reinstatement",
            user=personas.user(requester),
            comment="已完成整改",
        )
    business_date("2026-11-30")

    client = login("approver")
    card = page.card(page.index(client), "agreements_reinstatement")
    assert card.count == 1
    assert [(r.reference, r.party, r.date, r.countdown) for r in card.rows] == [
        (
            agreements["zqrcb"].institution.name,
            agreements["zqrcb"].fund.name,
            "2026-11-20",
            "已等待 6 个工作日",
        )
    ]
    assert "另有 1 件由您经手，须由他人办理（四眼原则）" in card.text  # the approver asked for Foshan's
    assert client.get(card.href).status_code == 200
    assert page.card(page.index(login("admin")), "agreements_reinstatement").count == 2
