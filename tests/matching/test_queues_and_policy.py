"""The staff's work on needs: their 工作台 queues (needs untouched for the policy's working days,
needs with a bank's interest to follow up), each linking to the needs list filtered to exactly
its rows; the matching numbers as policy data per fund, changed only by adding a row; the
admin's writes going through the services (a consent change, a withdrawal with its reason,
an event's participants); and a filing's page linking to the need it answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django_fsm_log.models import StateLog

from banks.models import Institution
from banks.services import institution_api_key_issue
from enterprises.models import Enterprise
from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.errors import FundsError
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib.errors import AppError
from matching import selectors, services
from matching.errors import MatchingError
from matching.models import EventKind, FinancingNeed, MatchingPolicy, NeedStatus, OutreachEvent
from tests.factories import filing_body
from tests.loans.conftest import accept_filing
from tests.matching.conftest import DINGTAI, JINGYE, XINGHE, need_body, ok, register
from tests.matching.test_admin import form_data
from tests.workbench import page

pytestmark = pytest.mark.django_db


def login(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def ccb(personas):
    """Another Zhaoqing bank's API client (CCB Zhaoqing)."""
    client = personas.client("bank_a").__class__()
    _, key = institution_api_key_issue(institution_code="ccb-zhaoqing")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def listed(client: Client, href: str) -> list[int]:
    """The needs the admin list at `href` shows."""
    response = client.get(href)
    assert response.status_code == 200
    return sorted(need.pk for need in response.context["cl"].result_list)


# --- the 工作台 queues ----------------------------------------------------------------------------


def test_officers_see_untouched_needs_and_bank_interest_to_follow_up(personas, business_date, ccb):
    quiet = register(personas)["id"]  # Xinghe, registered by bank A on Monday 2026-11-30
    wanted = register(personas, enterprise_uscc=JINGYE, offered_ip=[])["id"]
    ok(ccb.post(f"/api/v1/financing-needs/{wanted}/interest/", {"comment": "可对接"}, format="json"), 201)
    client = login("officer")

    root = page.index(client)
    interest = page.card(root, "needs_interest")
    assert interest.title == "融资需求：银行有意向待跟进" and interest.count == 1
    (row,) = interest.rows
    assert (row.reference, row.party, row.amount) == ("肇庆市端州精工电子有限公司", "肇庆", "3,000,000.00")
    assert (row.date, row.countdown) == ("2026-11-30", "已等待 0 个工作日")
    assert row.href == reverse("admin:matching_financingneed_change", args=[wanted])
    assert page.card(root, "needs_untouched").count == 0
    assert listed(client, interest.href) == [wanted]

    # Ten working days later both are untouched (the interest was their last step); the
    # interest still waits for staff.
    business_date("2026-12-14")
    root = page.index(client)
    untouched = page.card(root, "needs_untouched")
    assert untouched.count == 2 and untouched.href == "/admin/matching/financingneed/?queue=untouched"
    assert [(r.date, r.countdown) for r in untouched.rows] == [
        ("2026-11-30", "已等待 10 个工作日"),
        ("2026-11-30", "已等待 10 个工作日"),
    ]
    assert listed(client, untouched.href) == sorted([quiet, wanted])
    assert listed(client, page.card(root, "needs_interest").href) == [wanted]
    counts = client.get(reverse("admin:matching_financingneed_changelist")).content.decode()
    assert "长期无进展（2）" in counts and "银行有意向待跟进（1）" in counts

    # A meeting with another bank does not answer CCB; a meeting with CCB does, and touches it.
    services.need_meeting_record(
        need_id=wanted,
        user=personas.user("officer"),
        data={"institution": Institution.objects.get(code="zqrcb")},
    )
    assert selectors.needs_interest_queue(today=dt.date(2026, 12, 14), limit=5).count == 1
    services.need_meeting_record(
        need_id=wanted,
        user=personas.user("officer"),
        data={"institution": Institution.objects.get(code="ccb-zhaoqing"), "notes": "银行已约企业面谈"},
    )
    root = page.index(client)
    assert page.card(root, "needs_interest").count == 0
    assert page.card(root, "needs_untouched").count == 1 == len(listed(client, untouched.href))
    # Other roles do not have these queues; the staff's notice reads the same rule.
    assert page.card(page.index(login("approver")), "needs_untouched") is None
    assert [need.pk for need, _idle in selectors.needs_untouched(today=dt.date(2026, 12, 14))] == [quiet]


def test_a_need_ended_leaves_the_queues(personas, business_date, ccb):
    need = register(personas)["id"]
    ok(ccb.post(f"/api/v1/financing-needs/{need}/interest/", {}, format="json"), 201)
    business_date("2026-12-14")
    services.need_transition(need_id=need, name="withdraw", user=personas.user("bank_a"), comment="已获融资")
    assert selectors.needs_interest_queue(today=dt.date(2026, 12, 14), limit=5).count == 0
    assert selectors.needs_untouched_queue(today=dt.date(2026, 12, 14), limit=5).count == 0


def test_the_untouched_threshold_is_each_funds_policy(personas, business_date):
    need = register(personas)["id"]
    zhaoqing = Fund.objects.get(code="zhaoqing")
    MatchingPolicy.objects.create(
        fund=zhaoqing, effective_from=dt.date(2026, 1, 1), untouched_alert_working_days=3
    )
    business_date("2026-12-02")  # two working days
    assert FinancingNeed.objects.filter(selectors.untouched_q(today=dt.date(2026, 12, 2))).count() == 0
    business_date("2026-12-03")
    assert list(FinancingNeed.objects.filter(selectors.untouched_q(today=dt.date(2026, 12, 3)))) == [
        FinancingNeed.objects.get(pk=need)
    ]
    # another fund keeps the default (10 working days)
    assert (
        FinancingNeed.objects.filter(
            selectors.untouched_q(today=dt.date(2026, 12, 3)), fund__code="foshan"
        ).count()
        == 0
    )


def test_the_expiring_queue_reads_the_funds_warning_days(personas, business_date):
    need = register(personas)["id"]  # valid to 2027-03-01 (60 working days)
    admin_list = reverse("admin:matching_financingneed_changelist") + "?queue=expiring"
    business_date("2027-02-12")  # 2027-03-01 is more than 10 working days away (the Spring Festival)
    assert listed(login("officer"), admin_list) == []
    MatchingPolicy.objects.create(
        fund=Fund.objects.get(code="zhaoqing"),
        effective_from=dt.date(2027, 1, 1),
        expiry_warning_working_days=30,
    )
    assert listed(login("officer"), admin_list) == [need]


# --- policy numbers as data ----------------------------------------------------------------------


def test_a_need_made_from_a_signing_takes_the_policys_term(personas):
    officer = personas.user("officer")
    MatchingPolicy.objects.create(
        fund=Fund.objects.get(code="zhaoqing"),
        effective_from=dt.date(2026, 1, 1),
        signing_need_term_months=24,
    )
    event = services.event_save(
        event=OutreachEvent(
            fund=Fund.objects.get(code="zhaoqing"),
            kind=EventKind.MATCHMAKING,
            title="银企对接会",
            held_on=dt.date(2026, 11, 20),
            place="肇庆",
            organisers="市局",
        ),
        by=officer,
    )
    signing = services.signing_record(
        event=event,
        institution=Institution.objects.get(code="zqrcb"),
        enterprise=Enterprise.objects.get(uscc=DINGTAI),
        intended_amount=Decimal("1500000.00"),
        by=officer,
    )
    assert (signing.financing_need.term_months, signing.financing_need.source) == (24, "event")
    # the default row keeps the documented default
    assert MatchingPolicy.objects.get(fund__isnull=True).signing_need_term_months == 12


def test_a_policy_row_in_force_is_read_only_and_changes_start_today_or_later(personas):
    default = MatchingPolicy.objects.get(fund__isnull=True)
    administrator = personas.user("admin")
    with pytest.raises(AppError) as in_force:
        default.untouched_alert_working_days = 5
        services.matching_policy_save(policy=default, by=administrator)
    assert in_force.value.code == MatchingError.POLICY_IN_FORCE and in_force.value.status == 409
    zhaoqing = Fund.objects.get(code="zhaoqing")
    with pytest.raises(AppError) as backdated:
        services.matching_policy_save(
            policy=MatchingPolicy(fund=zhaoqing, effective_from=dt.date(2026, 11, 1)), by=administrator
        )
    assert backdated.value.code == FundsError.POLICY_BACKDATED
    for role in ("approver", "officer"):  # policy numbers are the system administrator's
        with pytest.raises(AppError) as refused:
            services.matching_policy_save(
                policy=MatchingPolicy(fund=zhaoqing, effective_from=dt.date(2026, 12, 1)),
                by=personas.user(role),
            )
        assert refused.value.status == 403
    assert login("approver").get(reverse("admin:matching_matchingpolicy_add")).status_code == 403

    # in the admin: the system administrator adds Zhaoqing's own numbers from tomorrow
    client = login("admin")
    add = reverse("admin:matching_matchingpolicy_add")
    values = {
        "need_valid_working_days": "40",
        "untouched_alert_working_days": "5",
        "expiry_warning_working_days": "5",
        "signing_need_term_months": "18",
        "document_ref": "肇庆市对接工作方案",
    }
    response = client.post(add, {"fund": zhaoqing.pk, "effective_from": "2026-12-01", **values})
    assert response.status_code == 302
    row = MatchingPolicy.objects.get(fund=zhaoqing)
    assert (row.created_by.username, row.signing_need_term_months) == ("admin", 18)
    assert selectors.policy_for(fund_id=zhaoqing.pk, on=dt.date(2026, 12, 1)) == row
    with pytest.raises(AppError) as twice:
        services.matching_policy_save(
            policy=MatchingPolicy(fund=zhaoqing, effective_from=dt.date(2026, 12, 1)), by=administrator
        )
    assert twice.value.code == FundsError.POLICY_VERSION_EXISTS
    # the default row, in force since 2000, shows read-only: no input for its numbers
    page_html = client.get(
        reverse("admin:matching_matchingpolicy_change", args=[default.pk])
    ).content.decode()
    assert 'name="untouched_alert_working_days"' not in page_html
    edited = client.post(
        reverse("admin:matching_matchingpolicy_change", args=[default.pk]),
        {"fund": "", "effective_from": "2000-01-01", **values},
        follow=True,
    )
    assert "已生效的对接政策参数不能修改" in edited.content.decode()
    assert MatchingPolicy.objects.get(pk=default.pk).untouched_alert_working_days == 10


# --- the admin writes through the services --------------------------------------------------------


def test_a_consent_changed_in_the_admin_is_logged_with_who_and_what(personas):
    need = register(personas, consent_on=None, consent_scope="basic")["id"]
    client = login("officer")
    change = reverse("admin:matching_financingneed_change", args=[need])
    response = client.post(
        change,
        form_data(client, change, purpose="研发投入", consent_on="2026-11-27", consent_scope="full"),
    )
    assert response.status_code == 302
    stored = FinancingNeed.objects.get(pk=need)
    assert (stored.consent_on, stored.consent_scope) == (dt.date(2026, 11, 27), "full")
    latest = stored.history.order_by("-history_id").first()
    assert latest.history_user.username == "officer" and latest.history_change_reason == "修改用途、同意共享"
    # the service is the rule, whoever calls it
    with pytest.raises(AppError) as future:
        services.need_update(
            need_id=need, user=personas.user("officer"), data={"consent_on": dt.date(2026, 12, 1)}
        )
    assert future.value.code == MatchingError.CONSENT_DATE_INVALID
    # a key left out keeps its value
    services.need_update(need_id=need, user=personas.user("officer"), data={"purpose": "购置设备"})
    stored = FinancingNeed.objects.get(pk=need)
    assert (stored.purpose, stored.consent_on, stored.consent_scope) == (
        "购置设备",
        dt.date(2026, 11, 27),
        "full",
    )
    with pytest.raises(AppError) as finance:
        services.need_update(need_id=need, user=personas.user("finance"), data={"purpose": "x"})
    assert finance.value.status == 403


def test_withdrawing_a_need_in_the_admin_takes_a_reason(personas):
    need = register(personas)["id"]
    client = login("officer")
    url = reverse(
        "admin:matching_financingneed_transition", kwargs={"object_id": need, "transition_name": "withdraw"}
    )
    change = reverse("admin:matching_financingneed_change", args=[need])
    unchanged = {"purpose": "研发投入和流动资金", "consent_on": "2026-11-20", "consent_scope": "full"}
    pressed = client.post(change, form_data(client, change, _fsm_transition_to="withdraw", **unchanged))
    assert pressed["Location"] == url
    refused = client.post(url, {"comment": ""}, follow=True).content.decode()
    # the form asks for the reason the service requires before anything is sent
    assert "该字段是必填项" in refused and FinancingNeed.objects.get(pk=need).status == NeedStatus.OPEN
    done = client.post(url, {"comment": "企业已通过股东借款解决"}, follow=True).content.decode()
    assert "操作“撤回需求”已完成" in done
    log = StateLog.objects.filter(object_id=need, transition="withdraw").get()
    assert (log.by.username, log.description) == ("officer", "企业已通过股东借款解决")
    assert FinancingNeed.objects.get(pk=need).status == NeedStatus.WITHDRAWN


def test_an_events_participants_are_saved_by_the_service_and_keep_its_signing_parties(personas):
    officer = personas.user("officer")
    zqrcb, ccb_bank = Institution.objects.get(code="zqrcb"), Institution.objects.get(code="ccb-zhaoqing")
    xinghe, jingye = Enterprise.objects.get(uscc=XINGHE), Enterprise.objects.get(uscc=JINGYE)
    event = services.event_save(
        event=OutreachEvent(
            fund=Fund.objects.get(code="zhaoqing"),
            kind=EventKind.BRIEFING,
            title="政策宣讲会",
            held_on=dt.date(2026, 11, 20),
            place="高新区",
            organisers="市局",
        ),
        by=officer,
        enterprises=[xinghe],
        institutions=[ccb_bank],
    )
    services.signing_record(
        event=event, institution=zqrcb, enterprise=jingye, intended_amount=Decimal("1000000.00"), by=officer
    )
    # the participants changed in the admin: the signing's parties stay
    client = login("officer")
    change = reverse("admin:matching_outreachevent_change", args=[event.pk])
    data = form_data(
        client,
        change,
        fund=event.fund_id,
        kind="briefing",
        title="政策宣讲会",
        held_on="2026-11-20",
        place="高新区",
        organisers="市局",
        enterprises=[xinghe.pk],
        attendance="60",
    )
    response = client.post(change, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event.refresh_from_db()
    assert set(event.enterprises.all()) == {xinghe, jingye} and set(event.institutions.all()) == {zqrcb}
    assert event.attendance == 60 and event.history.first().history_user.username == "officer"


# --- a filing and the need it answers -------------------------------------------------------------


def test_the_filing_page_links_to_its_need_and_the_need_page_to_its_filing(personas):
    need = register(personas, enterprise_uscc=JINGYE, offered_ip=[])["id"]
    filing = accept_filing(
        personas,
        enterprise_uscc=JINGYE,
        financing_need=need,
        pledges=[{**filing_body()["pledges"][0], "number": "201814411596.8"}],
    )
    client = login("officer")
    filing_page = client.get(reverse("admin:loans_loanfiling_change", args=[filing.pk])).content.decode()
    need_url = reverse("admin:matching_financingneed_change", args=[need])
    assert (
        "对应融资需求" in filing_page and f'<a href="{need_url}">需求 {need}：3,000,000.00 元' in filing_page
    )
    need_page = client.get(need_url).content.decode()
    filing_url = reverse("admin:loans_loanfiling_change", args=[filing.pk])
    assert f'<a href="{filing_url}">{filing.reference}</a>' in need_page
    # a filing without a need does not show the line
    other = accept_filing(personas)
    assert (
        "对应融资需求"
        not in client.get(reverse("admin:loans_loanfiling_change", args=[other.pk])).content.decode()
    )


# --- every MatchingError code is triggered ------------------------------------------------------


def test_an_honour_ending_before_it_was_granted_is_refused(personas):
    from matching.models import EnterpriseHonour

    honour = EnterpriseHonour(
        enterprise=Enterprise.objects.get(uscc=XINGHE),
        kind="high_tech",
        title="高新技术企业",
        granted_on=dt.date(2025, 1, 1),
        valid_until=dt.date(2024, 12, 31),
    )
    with pytest.raises(AppError) as refused:
        services.honour_save(honour=honour, by=personas.user("officer"))
    assert (refused.value.code, refused.value.status) == (MatchingError.HONOUR_DATES_INVALID, 400)
    assert not EnterpriseHonour.objects.exists()


def test_a_meeting_dated_after_today_is_refused(personas):
    need = register(personas)["id"]
    with pytest.raises(AppError) as refused:
        services.need_meeting_record(
            need_id=need, user=personas.user("officer"), data={"held_on": dt.date(2026, 12, 1)}
        )
    assert (refused.value.code, refused.value.field) == (MatchingError.MEETING_DATE_INVALID, "held_on")
    assert FinancingNeed.objects.get(pk=need).meetings.count() == 0


def test_offering_a_right_no_longer_valid_is_refused(personas):
    from enterprises.models import IPAsset

    IPAsset.objects.filter(number="201912754910.4").update(status=IPAsset.Status.LAPSED)
    problem = ok(personas.client("bank_a").post("/api/v1/financing-needs/", need_body(), format="json"), 422)
    assert problem["code"] == MatchingError.OFFERED_IP_NOT_VALID
    assert [e["field"] for e in problem["errors"]] == ["offered_ip[0]"] and not FinancingNeed.objects.exists()


def test_a_priority_class_with_bad_parameters_is_refused_by_the_service(personas):
    from matching.models import PriorityClass

    cls = PriorityClass.objects.get(fund__isnull=True, code="recent_patents")
    cls.parameters = {"years": 0, "any_of": [{"kinds": ["patent"], "min": 0}]}
    with pytest.raises(AppError) as refused:
        services.priority_class_save(priority_class=cls, by=personas.user("approver"))
    assert refused.value.code == MatchingError.PRIORITY_PARAMETERS_INVALID
    assert "years 应为 1–30 的整数" in refused.value.message
    assert PriorityClass.objects.get(pk=cls.pk).parameters["years"] == 5


def test_an_honour_corrected_to_another_enterprise_reclassifies_both(personas):
    from matching.models import EnterpriseHonour
    from tests.matching.conftest import make_enterprise

    officer = personas.user("officer")
    first, second = make_enterprise(), make_enterprise()
    need_a = register(personas, enterprise_uscc=first.uscc, offered_ip=[])["id"]
    need_b = register(personas, enterprise_uscc=second.uscc, offered_ip=[])["id"]

    def ranks() -> tuple:
        return tuple(FinancingNeed.objects.get(pk=pk).priority_rank for pk in (need_a, need_b))

    honour = services.honour_save(
        honour=EnterpriseHonour(
            enterprise=first, kind="tech_sme", title="科技型中小企业", granted_on=dt.date(2026, 4, 1)
        ),
        by=officer,
    )
    assert ranks() == (5, None)
    honour.enterprise = second  # recorded for the wrong firm, corrected
    services.honour_save(honour=honour, by=officer)
    assert ranks() == (None, 5)
    assert honour.history.first().history_user == officer
    # nobody deletes an honour, not even the system administrator: it ends by its validity
    deleted = login("admin").get(reverse("admin:matching_enterprisehonour_delete", args=[honour.pk]))
    assert deleted.status_code == 403
