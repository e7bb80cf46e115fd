"""A need's lifecycle around the banks and staff: interest, meetings, closing, withdrawal,
expiry after the policy's working days, renewal; the banks' daily digest of new needs (exactly
once, whatever retries) and the staff's notice of needs nobody touches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from banks.models import Institution
from banks.services import institution_api_key_issue, product_file, product_submit
from fundmgr.ground.accounts.principals import principal_for
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib.errors import AppError, CommonError
from fundmgr.top.notifications import needs as notices
from fundmgr.top.notifications.delivery import email_send
from fundmgr.top.notifications.models import Notification
from fundmgr.top.notifications.tasks import needs_digest as digest_task
from fundmgr.top.notifications.tasks import needs_untouched_scan as untouched_task
from matching import services
from matching.errors import MatchingError
from matching.models import FinancingNeed, MatchingPolicy, NeedStatus
from matching.tasks import needs_expire_due as expire_task
from tests.matching.conftest import DINGTAI, JINGYE, XINGHE, ok, register

pytestmark = pytest.mark.django_db

CCB_CONTACT = "loans@ccb-zq.example.cn"


@pytest.fixture
def ccb(personas):
    """Another Zhaoqing bank (CCB), with a contact mailbox and an API client."""
    Institution.objects.filter(code="ccb-zhaoqing").update(contact_email=CCB_CONTACT)
    client = personas.client("bank_a").__class__()
    _, key = institution_api_key_issue(institution_code="ccb-zhaoqing")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def status(need_id: int) -> str:
    return FinancingNeed.objects.get(pk=need_id).status


def test_interest_moves_the_need_into_talks_once_per_bank(personas, ccb):
    need = register(personas)["id"]
    answer = ok(
        ccb.post(f"/api/v1/financing-needs/{need}/interest/", {"comment": "可提供500万额度"}, format="json"),
        201,
    )
    assert answer == {
        "institution": "ccb-zhaoqing",
        "institution_name": "中国建设银行股份有限公司肇庆市分行",
        "expressed_on": "2026-11-30",
        "comment": "可提供500万额度",
        "need": need,
        "need_status": "in_talks",
    }
    again = ok(ccb.post(f"/api/v1/financing-needs/{need}/interest/", {}, format="json"), 409)
    assert again["code"] == MatchingError.INTEREST_EXISTS
    assert ok(
        personas.client("bank_b").post(f"/api/v1/financing-needs/{need}/interest/", {}, format="json"), 404
    )
    staff = ok(
        personas.client("officer").post(f"/api/v1/financing-needs/{need}/interest/", {}, format="json"), 403
    )
    assert staff["code"] == CommonError.INSTITUTION_ONLY
    # staff see every interested bank; a bank only its own
    ok(personas.client("bank_a").post(f"/api/v1/financing-needs/{need}/interest/", {}, format="json"), 201)
    assert [
        i["institution"]
        for i in ok(personas.client("officer").get(f"/api/v1/financing-needs/{need}/"))["interests"]
    ] == [
        "ccb-zhaoqing",
        "zqrcb",
    ]
    assert [i["institution"] for i in ok(ccb.get(f"/api/v1/financing-needs/{need}/"))["interests"]] == [
        "ccb-zhaoqing"
    ]
    listed = ok(ccb.get("/api/v1/financing-needs/"))["results"][0]
    assert listed["interested"] is True and listed["interest_count"] == 2


def test_interest_in_a_need_that_has_ended_is_refused(personas):
    need = register(personas)["id"]
    services.need_transition(
        need_id=need, name="withdraw", user=personas.user("bank_a"), comment="企业已获得融资"
    )
    problem = ok(
        personas.client("bank_a").post(f"/api/v1/financing-needs/{need}/interest/", {}, format="json"), 409
    )
    assert problem["code"] == MatchingError.NEED_NOT_OPEN


def test_staff_record_meetings_and_close_or_withdraw_needs(personas):
    need = register(personas)["id"]
    officer = personas.user("officer")
    services.need_meeting_record(
        need_id=need,
        user=officer,
        data={
            "institution": Institution.objects.get(code="ccb-zhaoqing"),
            "outcome": "agreed_to_file",
            "notes": "银行同意授信",
        },
    )
    assert status(need) == NeedStatus.IN_TALKS
    with pytest.raises(AppError) as no_reason:
        services.need_transition(need_id=need, name="close", user=officer)
    assert no_reason.value.code == CommonError.COMMENT_REQUIRED
    services.need_transition(need_id=need, name="close", user=officer, comment="企业已获股东借款")
    assert status(need) == NeedStatus.CLOSED
    with pytest.raises(AppError) as ended:
        services.need_meeting_record(need_id=need, user=officer, data={})
    assert ended.value.code == MatchingError.NEED_NOT_OPEN
    # a bank withdraws only the needs it registered
    other = register(personas, enterprise_uscc=JINGYE, offered_ip=[])["id"]
    with pytest.raises(AppError) as not_theirs:
        services.need_transition(need_id=other, name="withdraw", user=personas.user("bank_b"), comment="x")
    assert not_theirs.value.status == 403
    services.need_transition(need_id=other, name="withdraw", user=personas.user("bank_a"), comment="不再需要")
    assert status(other) == NeedStatus.WITHDRAWN


def test_needs_expire_after_the_policys_working_days_and_can_be_renewed(personas, business_date):
    need = register(personas)["id"]  # 2026-11-30, valid 60 working days: to 2027-03-01
    assert FinancingNeed.objects.get(pk=need).expires_on == dt.date(2027, 3, 1)
    business_date("2027-03-01")
    assert expire_task.delay().get() == 0
    business_date("2027-03-02")
    assert expire_task.delay().get() == 1
    assert status(need) == NeedStatus.EXPIRED
    assert (
        ok(personas.client("officer").get(f"/api/v1/financing-needs/{need}/"))["history"][-1]["transition"]
        == "expire"
    )
    services.need_transition(need_id=need, name="renew", user=personas.user("officer"))
    renewed = FinancingNeed.objects.get(pk=need)
    assert renewed.status == NeedStatus.OPEN and renewed.expires_on > dt.date(2027, 5, 20)


def test_the_validity_is_policy_data_per_fund(personas):
    MatchingPolicy.objects.create(
        fund=Fund.objects.get(code="zhaoqing"), effective_from=dt.date(2026, 1, 1), need_valid_working_days=5
    )
    need = register(personas)
    assert need["expires_on"] == "2026-12-07"


def _digests() -> list[Notification]:
    return list(Notification.objects.filter(event="needs.digest").order_by("id"))


def test_the_digest_tells_each_bank_of_new_matching_needs_exactly_once(
    personas, ccb, business_date, django_capture_on_commit_callbacks
):
    need = register(personas)["id"]  # registered by zqrcb on 2026-11-30
    business_date("2026-12-01")
    with django_capture_on_commit_callbacks(execute=True):
        first = digest_task.delay().get()
    with django_capture_on_commit_callbacks(execute=True):
        retried = digest_task.delay().get()  # a retry, a second tick
    assert first == {"banks": 1, "needs": 1} and retried == {"banks": 0, "needs": 0}
    rows = _digests()
    ccb_system = personas.user("bank_a").__class__.objects.get(username="inst:ccb-zhaoqing")
    assert {r.recipient_id for r in rows} == {ccb_system.pk}  # not zqrcb (its own), not Foshan's banks
    (row,) = rows
    assert row.event_key == f"needs.digest:{Institution.objects.get(code='ccb-zhaoqing').pk}:2026-11-30"
    assert "肇庆市星河新材料科技有限公司" in row.body and f"需求编号 {need}" in row.body
    assert [m.to for m in mail.outbox] == [[CCB_CONTACT]]
    email_send.delay(row.pk).get()  # the send task run again: the row is sent, nothing goes out
    assert len(mail.outbox) == 1 and Notification.objects.get(pk=row.pk).email_status == "sent"
    # the next day's digest starts where this one ended: nothing new, nothing sent
    business_date("2026-12-02")
    assert notices.needs_digest() == {"banks": 0, "needs": 0}
    assert len(_digests()) == 1
    # the bank reads its notice through the API
    inbox = ok(ccb.get("/api/v1/notifications/"))["results"]
    assert (
        inbox[0]["event"] == "needs.digest"
        and inbox[0]["subject"] == "新增融资需求 1 项（2026-11-24 至 2026-11-30）"
    )


def test_the_digest_lists_only_needs_fitting_the_banks_products(personas, ccb, business_date):
    zhaoqing = Fund.objects.get(code="zhaoqing")
    bank = Institution.objects.get(code="ccb-zhaoqing")
    product = product_submit(
        institution=bank,
        fund=zhaoqing,
        data={
            "code": "ccb-ip-small",
            "name": "知识产权小额贷",
            "accepted_ip_kinds": ["invention_patent"],
            "max_principal": "1000000.00",
        },
        by=personas.user("officer"),
    )
    product_file(product_id=product.pk, by=personas.user("approver"))
    register(personas, amount="3000000.00")  # too big for its only product
    small = register(personas, enterprise_uscc=DINGTAI, offered_ip=["201917986905.8"], amount="800000.00")[
        "id"
    ]
    unconsented = register(
        personas, enterprise_uscc=JINGYE, offered_ip=[], amount="500000.00", consent_on=None
    )["id"]
    business_date("2026-12-01")
    notices.needs_digest()
    (row,) = _digests()
    assert f"需求编号 {small}" in row.body and XINGHE not in row.body
    assert f"需求编号 {unconsented}" not in row.body and "星河" not in row.body
    # consent given later: the need is in the digest of the days after it
    FinancingNeed.objects.filter(pk=unconsented).update(consent_on=dt.date(2026, 12, 1))
    business_date("2026-12-02")
    notices.needs_digest()
    assert f"需求编号 {unconsented}" in _digests()[-1].body and len(_digests()) == 2


def test_no_digest_on_a_day_off(personas, ccb, business_date):
    register(personas)
    business_date("2026-12-05")  # a Saturday
    assert notices.needs_digest() == {"banks": 0, "needs": 0}
    business_date("2026-12-07")
    assert notices.needs_digest() == {"banks": 1, "needs": 1}


def test_staff_are_told_of_needs_untouched_for_the_policys_working_days(personas, business_date, ccb):
    need = register(personas)["id"]  # last touched 2026-11-30; told after 10 working days
    business_date("2026-12-11")
    assert notices.needs_untouched_scan() == 0
    business_date("2026-12-14")
    assert untouched_task.delay().get() == 1
    assert notices.needs_untouched_scan() == 0  # once per quiet spell
    told = Notification.objects.filter(event="needs.untouched")
    assert set(told.values_list("recipient__username", flat=True)) == {"officer", "officer2"}
    assert "已 10 个工作日" in told.first().body and told.first().object_type == "financing_need"
    # touched again, then quiet again: told afresh
    ok(ccb.post(f"/api/v1/financing-needs/{need}/interest/", {}, format="json"), 201)
    business_date("2026-12-28")
    assert notices.needs_untouched_scan() == 1
    assert told.count() == 4


def test_staff_register_a_need_for_an_enterprise_without_a_bank(personas):
    officer = personas.user("officer")
    need = services.need_register(
        principal=principal_for(officer),
        data={
            "fund": "zhaoqing",
            "enterprise_uscc": XINGHE,
            "amount": Decimal("1000000.00"),
            "term_months": 12,
        },
    )
    assert (need.source, need.submitted_by, need.consent_on, need.created_by) == (
        "staff",
        None,
        None,
        officer,
    )
    with pytest.raises(AppError) as finance:
        services.need_register(
            principal=principal_for(personas.user("finance")),
            data={"fund": "zhaoqing", "enterprise_uscc": XINGHE, "amount": Decimal("1.00"), "term_months": 1},
        )
    assert finance.value.status == 403
