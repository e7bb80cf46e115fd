"""Staff in the admin: register a need, see the interested banks and record meetings; record an
event with its signings; record honours; change the priority classes (approvers). Regulators
are not let in: they read aggregates (the fund dashboard, the outreach report)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from banks.models import Institution
from enterprises.models import Enterprise, IPAsset
from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import Fund
from matching.models import (
    EnterpriseHonour,
    EventSigning,
    FinancingNeed,
    NeedMeeting,
    NeedStatus,
    OutreachEvent,
    PriorityClass,
)
from tests.matching.conftest import JINGYE, XINGHE, make_enterprise, ok, register

pytestmark = pytest.mark.django_db

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)"(?: value="([^"]*)")?')


def login(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def form_data(client: Client, url: str, **fields) -> dict:
    """The page's hidden inputs (inline management forms, row ids) plus `fields`."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    data = {name: value or "" for name, value in _HIDDEN.findall(page.content.decode())}
    data.pop("csrfmiddlewaretoken", None)
    data.update({k: v for k, v in fields.items()})
    return data


def posted(response) -> None:
    assert response.status_code == 302, re.findall(
        r'class="errorlist[^"]*">(.*?)</ul>', response.content.decode(), re.S
    )[:5]


def test_officer_registers_a_need_and_records_a_meeting(personas):
    client = login("officer")
    add = reverse("admin:matching_financingneed_add")
    enterprise = Enterprise.objects.get(uscc=XINGHE)
    patent = IPAsset.objects.get(number="201912754910.4")
    data = form_data(
        client,
        add,
        enterprise=enterprise.pk,
        amount="2500000.00",
        term_months="18",
        purpose="购置设备",
        offered_ip=patent.pk,
        consent_on="2026-11-25",
        consent_scope="basic",
    )
    posted(client.post(add, data))
    need = FinancingNeed.objects.get()
    assert (need.source, need.amount, need.created_by.username) == ("staff", 2500000, "officer")
    assert list(need.offered_ip.all()) == [patent]

    change = reverse("admin:matching_financingneed_change", args=[need.pk])
    page = client.get(change).content.decode()
    for text in ("登记需求", "表达意向的银行", "对接记录", "可执行的操作"):
        assert text in page, text
    bank = Institution.objects.get(code="ccb-zhaoqing")
    data = form_data(
        client,
        change,
        purpose="购置设备",
        consent_on="2026-11-25",
        consent_scope="full",
        **{
            "meetings-TOTAL_FORMS": "1",
            "meetings-0-held_on": "2026-11-27",
            "meetings-0-institution": bank.pk,
            "meetings-0-kind": "visit",
            "meetings-0-outcome": "agreed_to_file",
            "meetings-0-notes": "实地走访，银行同意授信",
        },
    )
    posted(client.post(change, data))
    meeting = NeedMeeting.objects.get(need=need)
    assert (meeting.institution, meeting.outcome, meeting.recorded_by.username) == (
        bank,
        "agreed_to_file",
        "officer",
    )
    need.refresh_from_db()
    assert need.status == NeedStatus.IN_TALKS and need.consent_scope == "full"
    # the interested banks show on the page
    ccb_key = personas.client("bank_a").__class__()
    from banks.services import institution_api_key_issue

    _, key = institution_api_key_issue(institution_code="ccb-zhaoqing")
    ccb_key.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    ok(
        ccb_key.post(f"/api/v1/financing-needs/{need.pk}/interest/", {"comment": "愿意对接"}, format="json"),
        201,
    )
    assert "愿意对接" in client.get(change).content.decode()
    listing = client.get(reverse("admin:matching_financingneed_changelist")).content.decode()
    assert "对接中（1）" in listing and "肇庆市星河新材料科技有限公司" in listing


def test_an_event_and_its_signing_are_recorded_in_the_admin(personas):
    client = login("officer")
    add = reverse("admin:matching_outreachevent_add")
    zhaoqing = Fund.objects.get(code="zhaoqing")
    jingye = Enterprise.objects.get(uscc=JINGYE)
    bank = Institution.objects.get(code="zqrcb")
    data = form_data(
        client,
        add,
        fund=zhaoqing.pk,
        kind="matchmaking",
        title="端州区银企对接会",
        held_on="2026-11-26",
        place="端州区政府会议室",
        organisers="端州区市场监督管理局",
        enterprises=jingye.pk,
        attendance="45",
        **{
            "signings-TOTAL_FORMS": "1",
            "signings-0-institution": bank.pk,
            "signings-0-enterprise": jingye.pk,
            "signings-0-intended_amount": "2000000.00",
            "signings-0-notes": "现场签约",
        },
    )
    posted(client.post(add, data))
    event = OutreachEvent.objects.get()
    signing = EventSigning.objects.get()
    assert (signing.event, signing.institution, signing.financing_need.enterprise) == (event, bank, jingye)
    assert set(event.institutions.all()) == {bank} and event.created_by.username == "officer"
    listing = client.get(reverse("admin:matching_outreachevent_changelist")).content.decode()
    assert "端州区银企对接会" in listing and "2,000,000.00" in listing
    # an event neither somewhere nor online is refused on the form
    refused = client.post(add, {**data, "title": "无地点", "place": "", "signings-TOTAL_FORMS": "0"})
    assert refused.status_code == 200 and "请填写活动地点" in refused.content.decode()


def test_an_honour_recorded_in_the_admin_reclassifies_the_needs(personas):
    enterprise = make_enterprise()
    need = register(personas, enterprise_uscc=enterprise.uscc, offered_ip=[])["id"]
    client = login("officer")
    add = reverse("admin:matching_enterprisehonour_add")
    posted(
        client.post(
            add,
            {
                "enterprise": enterprise.pk,
                "kind": "tech_sme",
                "level": "national",
                "title": "2026年科技型中小企业入库",
                "certificate_no": "202644120300123",
                "granted_on": "2026-04-01",
                "valid_until": "2026-12-31",
                "source": "全国科技型中小企业信息服务平台",
            },
        )
    )
    assert EnterpriseHonour.objects.get().recorded_by.username == "officer"
    assert FinancingNeed.objects.get(pk=need).priority_rank == 5


def test_approvers_change_priority_classes_and_bad_parameters_are_refused(personas):
    cls = PriorityClass.objects.get(fund__isnull=True, code="tech_sme")
    url = reverse("admin:matching_priorityclass_change", args=[cls.pk])
    base = {
        "order": "5",
        "code": "tech_sme",
        "label": cls.label,
        "rule": "honour",
        "active": "on",
        "document_ref": "",
    }
    approver = login("approver")
    refused = approver.post(url, {**base, "parameters": '{"kinds": ["nobel_prize"]}'})
    assert refused.status_code == 200 and "未知的荣誉类别" in refused.content.decode()
    posted(approver.post(url, {**base, "parameters": '{"kinds": ["tech_sme", "specialised"]}'}))
    assert PriorityClass.objects.get(pk=cls.pk).parameters == {"kinds": ["tech_sme", "specialised"]}
    assert login("officer").post(url, {**base, "parameters": "{}"}).status_code == 403


def test_who_may_use_these_pages(personas):
    for page in ("financingneed", "outreachevent", "enterprisehonour", "priorityclass"):
        url = reverse(f"admin:matching_{page}_changelist")
        assert login("finance").get(url).status_code == 200  # staff read
        assert login("regulator-zhaoqing").get(url).status_code == 403, page
    assert login("finance").get(reverse("admin:matching_financingneed_add")).status_code == 403
    assert login("officer").get(reverse("admin:matching_priorityclass_add")).status_code == 403


def test_every_matching_page_renders_for_the_administrator(personas):
    from django.contrib import admin

    from matching.services import event_save, signing_record

    register(personas)
    officer = User.objects.get(username="officer")
    event = event_save(
        event=OutreachEvent(
            fund=Fund.objects.get(code="zhaoqing"),
            kind="briefing",
            title="政策宣讲",
            held_on=dt.date(2026, 11, 2),
            online=True,
            organisers="市局",
        ),
        by=officer,
    )
    signing_record(
        event=event,
        institution=Institution.objects.get(code="zqrcb"),
        enterprise=Enterprise.objects.get(uscc=JINGYE),
        intended_amount="1000000.00",
        by=officer,
    )
    make_enterprise(honours=[("high_tech", "2025-01-01", None)])
    client = login("admin")
    models = [m for m in admin.site._registry if m._meta.app_label == "matching"]
    assert len(models) == 5
    for model in models:
        info = (model._meta.app_label, model._meta.model_name)
        assert client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200, info
        assert client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200, info
        sample = model._default_manager.order_by("pk").last()
        assert sample is not None, info
        assert client.get(reverse("admin:{}_{}_change".format(*info), args=[sample.pk])).status_code == 200, (
            info
        )
