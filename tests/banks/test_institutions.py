"""The cooperation lifecycle of a partner institution, through the services and the admin."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from banks import services
from banks.models import Institution
from banks.services import institution_api_key_issue
from fundmgr.ground.accounts.models import InstitutionAPIKey, Organization, User
from fundmgr.ground.accounts.workflow import history
from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib.errors import AppError

pytestmark = pytest.mark.django_db


def user(name: str) -> User:
    return User.objects.get(username=name)


def new_institution(code: str = "gdnx-test", **extra) -> Institution:
    data = {"code": code, "name": "广东测试农村商业银行", "kind": "bank", "region_code": "441200", **extra}
    return services.institution_create(data=data, by=user("officer"))


def move(institution: Institution, name: str, by: str, comment: str = "") -> Institution:
    return services.institution_transition(
        institution_id=institution.pk, name=name, user=user(by), comment=comment
    )


def activated(code: str = "gdnx-test") -> Institution:
    institution = new_institution(code)
    move(institution, "start_review", "officer")
    return move(institution, "activate", "approver", "材料齐全")


def refusal(call) -> AppError:
    with pytest.raises(AppError) as info:
        call()
    return info.value


# --- registration ------------------------------------------------------------------------


def test_registration_creates_an_applicant_with_its_organisation(demo):
    institution = new_institution(uscc="")
    assert institution.status == "applied"
    org = Organization.objects.get(institution=institution)
    assert org.kind == "institution" and org.name == "广东测试农村商业银行"


def test_registration_refuses_a_taken_code_and_a_bad_uscc(demo):
    taken = refusal(lambda: new_institution("zqrcb"))
    assert (taken.status, taken.code) == (409, "institution_exists")
    bad = refusal(lambda: new_institution("another-bank", uscc="91441200MA00000000"))
    assert (bad.status, bad.field) == (400, "uscc")
    assert not Institution.objects.filter(code="another-bank").exists()


def test_only_officers_and_approvers_register_institutions(demo):
    error = refusal(
        lambda: services.institution_create(data={"code": "x-bank", "name": "某银行"}, by=user("committee"))
    )
    assert (error.status, error.code) == (403, "permission_denied")


# --- lifecycle -----------------------------------------------------------------------------


def test_full_lifecycle_with_reasons_kept_and_cleared(demo):
    institution = activated()
    assert institution.status == "active"

    suspended = move(institution, "suspend", "officer", "不良率超过阈值")
    assert suspended.status == "suspended" and suspended.suspension_reason == "不良率超过阈值"

    reinstated = move(institution, "reinstate", "approver", "整改完成")
    assert reinstated.status == "active" and reinstated.suspension_reason == ""

    terminated = move(institution, "terminate", "approver", "合作协议到期不再续签")
    assert terminated.status == "terminated"

    steps = [(row["transition"], row["from"], row["to"], row["by"]) for row in history(terminated)]
    assert steps == [
        ("start_review", "applied", "under_review", "officer"),
        ("activate", "under_review", "active", "approver"),
        ("suspend", "active", "suspended", "officer"),
        ("reinstate", "suspended", "active", "approver"),
        ("terminate", "active", "terminated", "approver"),
    ]
    assert history(terminated)[2]["comment"] == "不良率超过阈值"


@pytest.mark.parametrize("before", ["under_review", "suspended"])
def test_terminate_from_review_or_suspension(demo, before):
    institution = new_institution()
    move(institution, "start_review", "officer")
    if before == "suspended":
        move(institution, "activate", "approver")
        move(institution, "suspend", "officer", "违规备案")
    assert move(institution, "terminate", "approver", "终止").status == "terminated"


def test_activation_needs_a_second_person(demo):
    institution = new_institution()
    move(institution, "start_review", "officer")
    error = refusal(lambda: move(institution, "activate", "officer"))
    assert (error.status, error.code) == (403, "four_eyes_required")
    assert move(institution, "activate", "officer2").status == "active"


@pytest.mark.parametrize("name", ["suspend", "terminate"])
def test_suspend_and_terminate_need_a_reason(demo, name):
    institution = activated()
    error = refusal(lambda: move(institution, name, "approver", "   "))
    assert (error.status, error.code) == (400, "comment_required")
    assert Institution.objects.get(pk=institution.pk).status == "active"


def test_only_an_approver_terminates(demo):
    institution = activated()
    error = refusal(lambda: move(institution, "terminate", "officer", "终止"))
    assert (error.status, error.code) == (403, "transition_forbidden")


@pytest.mark.parametrize(
    ("setup", "name"),
    [([], "activate"), ([], "suspend"), (["start_review", "activate"], "reinstate"), ([], "terminate")],
)
def test_steps_out_of_order_are_conflicts(demo, setup, name):
    institution = new_institution()
    for step, by in zip(setup, ["officer", "approver"], strict=False):
        move(institution, step, by)
    error = refusal(lambda: move(institution, name, "approver", "原因"))
    assert (error.status, error.code) == (409, "transition_not_allowed")


def test_nothing_follows_termination(demo):
    institution = activated()
    move(institution, "terminate", "approver", "终止")
    for name in ("reinstate", "activate", "suspend", "start_review"):
        assert (
            refusal(lambda name=name: move(institution, name, "approver", "x")).code
            == "transition_not_allowed"
        )


def test_terminating_revokes_every_api_key(demo):
    institution = activated()
    institution_api_key_issue(institution_code=institution.code)
    institution_api_key_issue(institution_code=institution.code)
    move(institution, "terminate", "approver", "终止合作")
    assert InstitutionAPIKey.objects.filter(institution=institution, revoked=False).count() == 0
    assert InstitutionAPIKey.objects.filter(institution=institution).count() == 2


def test_a_refused_termination_keeps_the_keys(demo):
    institution = activated()
    institution_api_key_issue(institution_code=institution.code)
    refusal(lambda: move(institution, "terminate", "approver", ""))
    assert InstitutionAPIKey.objects.filter(institution=institution, revoked=False).count() == 1


# --- may the institution file loans? ---------------------------------------------------------


def codes(institution: Institution, fund_code: str = "zhaoqing", on: str = "2026-11-21") -> list[str]:
    fund = Fund.objects.get(code=fund_code)
    return [
        v.code
        for v in services.institution_can_file(
            institution=institution, fund=fund, on=dt.date.fromisoformat(on)
        )
    ]


def sign(institution: Institution, **terms):
    data = {
        "fund_share": "50.00",
        "bank_share": "50.00",
        "signed_on": "2026-01-01",
        "valid_from": "2026-01-01",
        **terms,
    }
    return services.agreement_sign(
        institution=institution, fund=Fund.objects.get(code="zhaoqing"), data=data, by=user("officer")
    )


def test_demo_partner_may_file_in_its_own_fund_only(demo):
    zqrcb = Institution.objects.get(code="zqrcb")
    assert codes(zqrcb) == []
    assert codes(zqrcb, "foshan") == ["no_agreement_in_force"]


def test_filing_refusal_codes_follow_the_lifecycle(demo):
    institution = new_institution()
    sign(institution)
    assert codes(institution) == ["institution_not_active"]
    institution = move(institution, "start_review", "officer")
    assert codes(institution) == ["institution_not_active"]
    institution = move(institution, "activate", "approver")
    assert codes(institution) == []
    institution = move(institution, "suspend", "officer", "不良率超标")
    assert codes(institution) == ["institution_suspended"]
    institution = move(institution, "terminate", "approver", "终止")
    assert codes(institution) == ["institution_not_active"]


def test_filing_needs_an_agreement_in_force_on_the_day(demo):
    institution = activated()
    assert codes(institution) == ["no_agreement_in_force"]
    sign(institution, valid_from="2026-01-01", valid_until="2026-06-30")
    assert codes(institution, on="2025-12-31") == ["no_agreement_in_force"]
    assert codes(institution, on="2026-06-30") == []
    assert codes(institution, on="2026-07-01") == ["no_agreement_in_force"]


# --- the admin -------------------------------------------------------------------------------


def change_page(client, username: str, institution: Institution) -> str:
    client.force_login(user(username))
    response = client.get(reverse("admin:banks_institution_change", args=[institution.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_admin_buttons_follow_role_state_and_four_eyes(client, demo):
    institution = new_institution()
    assert 'value="start_review"' in change_page(client, "officer", institution)
    assert 'value="start_review"' not in change_page(client, "committee", institution)
    move(institution, "start_review", "officer")
    assert 'value="activate"' not in change_page(client, "officer", institution)
    approver_view = change_page(client, "approver", institution)
    assert 'value="activate"' in approver_view and 'value="terminate"' in approver_view


def test_admin_transition_runs_the_service_and_shows_history(client, demo):
    institution = new_institution()
    move(institution, "start_review", "officer")
    client.force_login(user("approver"))
    url = reverse(
        "admin:banks_institution_transition",
        kwargs={"object_id": institution.pk, "transition_name": "activate"},
    )
    response = client.post(url, {"comment": "尽调通过，准予合作"})
    assert response.status_code == 302
    assert Institution.objects.get(pk=institution.pk).status == "active"
    assert [row["transition"] for row in history(institution)] == ["start_review", "activate"]
    page = change_page(client, "approver", institution)
    assert "状态变更记录" in page and "尽调通过，准予合作" in page and "准予合作" in page


def test_admin_refusal_is_a_message_not_an_error_page(client, demo):
    institution = activated()
    client.force_login(user("approver"))
    url = reverse(
        "admin:banks_institution_transition",
        kwargs={"object_id": institution.pk, "transition_name": "suspend"},
    )
    response = client.post(url, {"comment": ""}, follow=True)
    # The form requires the reason the service requires (banks.rules), so it says so first.
    assert response.status_code == 200 and "该字段是必填项" in response.content.decode()
    assert Institution.objects.get(pk=institution.pk).status == "active"


def test_admin_registration_goes_through_the_service(client, demo):
    client.force_login(user("officer"))
    response = client.post(
        reverse("admin:banks_institution_add"),
        {
            "code": "admin-bank",
            "name": "后台登记银行",
            "kind": "bank",
            "region_code": "441200",
            "uscc": "",
            "contact_name": "",
            "contact_phone": "",
            "contact_email": "",
            **empty_inlines(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    institution = Institution.objects.get(code="admin-bank")
    assert institution.status == "applied" and Organization.objects.filter(institution=institution).exists()
    assert institution.history.first().history_user.username == "officer"


def empty_inlines(agreements: int = 0, products: int = 0) -> dict:
    return {
        "agreements-TOTAL_FORMS": "0",
        "agreements-INITIAL_FORMS": str(agreements),
        "products-TOTAL_FORMS": "0",
        "products-INITIAL_FORMS": str(products),
    }


def test_admin_change_list_filters_by_status(client, demo):
    new_institution()
    client.force_login(user("officer"))
    text = client.get(
        reverse("admin:banks_institution_changelist") + "?status__exact=applied"
    ).content.decode()
    assert "gdnx-test" in text and "zqrcb" not in text


def test_signed_agreements_are_shown_read_only_on_the_institution_page(client, demo):
    page = change_page(client, "officer", Institution.objects.get(code="shunde-rcb"))
    assert "54.00" in page and "16.00" in page
    assert 'name="agreements-0-fund_share"' not in page  # no input: signed terms are not edited
