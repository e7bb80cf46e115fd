"""/api/v1/institutions/: scope per tenant, the detail shape, and staff transitions."""

from __future__ import annotations

import pytest

from banks import services
from banks.models import Institution
from fundmgr.ground.accounts.models import User

pytestmark = pytest.mark.django_db

BASE = "/api/v1/institutions/"
PROBLEM = "application/problem+json"


def applicant(code: str = "api-bank") -> Institution:
    return services.institution_create(
        data={"code": code, "name": "接口测试银行", "region_code": "441200"},
        by=User.objects.get(username="officer"),
    )


def transition(personas, who: str, code: str, name: str, comment: str = ""):
    return personas.client(who).post(f"{BASE}{code}/transitions/{name}/", {"comment": comment}, format="json")


def codes_listed(personas, who: str) -> list[str]:
    response = personas.client(who).get(BASE)
    assert response.status_code == 200
    return [row["code"] for row in response.json()["results"]]


# --- scope ---------------------------------------------------------------------------------------


def test_staff_list_every_institution_paginated(personas):
    body = personas.client("officer").get(BASE).json()
    assert body["count"] == 8 and {"next", "previous", "results"} <= set(body)
    assert "liancheng-valuation" in [row["code"] for row in body["results"]]


def test_a_bank_sees_only_itself(personas):
    assert codes_listed(personas, "bank_a") == ["zqrcb"]
    assert codes_listed(personas, "bank_b") == ["icbc-foshan"]


def test_a_bank_reading_another_bank_gets_404(personas):
    response = personas.client("bank_a").get(f"{BASE}icbc-foshan/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith(PROBLEM) and response.json()["code"] == "not_found"


def test_a_regulator_sees_the_partners_of_its_own_funds(personas):
    assert codes_listed(personas, "regulator_x") == ["ccb-zhaoqing", "zqrcb"]
    assert codes_listed(personas, "regulator_y") == ["icbc-foshan", "nanhai-rcb", "shunde-rcb"]
    assert personas.client("regulator_x").get(f"{BASE}icbc-foshan/").status_code == 404


def test_list_filters_by_status(personas):
    applicant()
    response = personas.client("officer").get(BASE, {"status": "applied"})
    assert [row["code"] for row in response.json()["results"]] == ["api-bank"]


def test_a_bank_reads_its_own_detail_with_agreements_as_strings(personas):
    body = personas.client("bank_a").get(f"{BASE}zqrcb/").json()
    assert {k: body[k] for k in ("code", "kind", "status", "region_code")} == {
        "code": "zqrcb",
        "kind": "bank",
        "status": "active",
        "region_code": "441200",
    }
    assert body["agreements"] == [
        {
            "fund": "zhaoqing",
            "fund_share": "50.00",
            "bank_share": "50.00",
            "insurer_share": "0.00",
            "valuer_share": "0.00",
            "quota": "25000000.00",
            "signed_on": "2020-12-01",
            "valid_from": "2020-12-01",
            "valid_until": None,
            "filings_status": "open",
            "filings_suspended_on": None,
            "filings_suspension_reason": "",
        }
    ]
    assert body["available_transitions"] == [] and body["history"] == []


def test_four_party_shares_are_shown_as_agreed(personas):
    body = personas.client("regulator_y").get(f"{BASE}shunde-rcb/").json()
    (agreement,) = body["agreements"]
    assert [agreement[k] for k in ("fund_share", "bank_share", "insurer_share", "valuer_share")] == [
        "54.00",
        "26.00",
        "16.00",
        "4.00",
    ]


# --- transitions ---------------------------------------------------------------------------------


def test_activation_is_four_eyes(personas):
    applicant()
    started = transition(personas, "officer", "api-bank", "start_review", "开始尽调")
    assert started.status_code == 200 and started.json()["status"] == "under_review"
    assert "activate" not in started.json()["available_transitions"]

    own = transition(personas, "officer", "api-bank", "activate")
    assert own.status_code == 403 and own["Content-Type"].startswith(PROBLEM)
    assert own.json()["code"] == "four_eyes_required"

    other = transition(personas, "approver", "api-bank", "activate", "同意合作")
    assert other.status_code == 200
    body = other.json()
    assert body["status"] == "active"
    assert [(h["transition"], h["from"], h["to"], h["by"], h["comment"]) for h in body["history"]] == [
        ("start_review", "applied", "under_review", "officer", "开始尽调"),
        ("activate", "under_review", "active", "approver", "同意合作"),
    ]
    assert set(body["available_transitions"]) == {"suspend", "terminate"}


def test_available_transitions_follow_the_caller(personas):
    applicant()
    assert personas.client("officer").get(f"{BASE}api-bank/").json()["available_transitions"] == [
        "start_review"
    ]
    assert personas.client("committee").get(f"{BASE}api-bank/").json()["available_transitions"] == []


def test_a_step_not_allowed_from_the_state_is_409(personas):
    response = transition(personas, "officer", "zqrcb", "reinstate", "恢复")
    assert response.status_code == 409 and response.json()["code"] == "transition_not_allowed"


@pytest.mark.parametrize("who", ["committee", "finance"])
def test_roles_without_the_step_get_403(personas, who):
    applicant()
    response = transition(personas, who, "api-bank", "start_review")
    assert response.status_code == 403 and response.json()["code"] == "transition_forbidden"
    assert Institution.objects.get(code="api-bank").status == "applied"


def test_regulators_cannot_write(personas):
    response = transition(personas, "regulator_x", "zqrcb", "suspend", "监管要求")
    assert response.status_code == 403
    assert Institution.objects.get(code="zqrcb").status == "active"


def test_a_bank_cannot_move_itself_nor_see_others(personas):
    own = transition(personas, "bank_a", "zqrcb", "suspend", "自行暂停")
    assert own.status_code == 403 and own.json()["code"] == "transition_forbidden"
    assert transition(personas, "bank_a", "icbc-foshan", "suspend", "x").status_code == 404


def test_unknown_transition_is_404(personas):
    response = transition(personas, "officer", "zqrcb", "explode")
    assert response.status_code == 404 and response.json()["code"] == "unknown_transition"


def test_suspension_needs_a_reason_and_shows_it(personas):
    missing = transition(personas, "officer", "zqrcb", "suspend")
    assert missing.status_code == 400 and missing.json()["code"] == "comment_required"
    done = transition(personas, "officer", "zqrcb", "suspend", "不良率 6.2% 超过阈值 5%")
    assert done.status_code == 200
    assert done.json()["status"] == "suspended"
    assert done.json()["suspension_reason"] == "不良率 6.2% 超过阈值 5%"
    assert (
        personas.client("bank_a").get(f"{BASE}zqrcb/").json()["suspension_reason"]
        == "不良率 6.2% 超过阈值 5%"
    )
    back = transition(personas, "approver", "zqrcb", "reinstate", "整改完成")
    assert back.json()["status"] == "active" and back.json()["suspension_reason"] == ""


def test_a_terminated_bank_is_locked_out(personas):
    bank = personas.client("bank_a")
    assert bank.get(f"{BASE}zqrcb/").status_code == 200
    response = transition(personas, "approver", "zqrcb", "terminate", "严重违约，终止合作")
    assert response.status_code == 200 and response.json()["status"] == "terminated"
    after = bank.get(f"{BASE}zqrcb/")
    assert after.status_code == 401 and after.json()["code"] == "invalid_credentials"
    assert bank.get("/api/v1/funds/").status_code == 401
    # Other banks keep working.
    assert personas.client("bank_b").get(f"{BASE}icbc-foshan/").status_code == 200


def test_anonymous_callers_get_401(personas):
    assert personas.client("anonymous").get(BASE).status_code == 401


def test_reinstating_is_an_approvers_second_signature_with_a_reason(personas):
    """The API's `reinstate` follows the same rule as lifting a filing suspension: four eyes
    (not whoever suspended), the approving role, and a reason; refusals say who may sign."""
    assert transition(personas, "approver", "zqrcb", "suspend", "违规备案").status_code == 200
    assert personas.client("approver").get(f"{BASE}zqrcb/").json()["available_transitions"] == ["terminate"]

    own = transition(personas, "approver", "zqrcb", "reinstate", "整改完成")
    assert own.status_code == 403 and own["Content-Type"].startswith(PROBLEM)
    assert own.json()["code"] == "four_eyes_required"
    assert "四眼原则" in own.json()["detail"] and "复核负责人" in own.json()["detail"]

    officer = transition(personas, "officer", "zqrcb", "reinstate", "整改完成")
    assert officer.status_code == 403 and officer.json()["code"] == "transition_forbidden"
    assert "须由复核负责人办理" in officer.json()["detail"]

    User.objects.create_user(username="approver2", password="x", role="approver")
    assert personas.client("approver2").get(f"{BASE}zqrcb/").json()["available_transitions"] == [
        "reinstate",
        "terminate",
    ]
    missing = transition(personas, "approver2", "zqrcb", "reinstate")
    assert missing.status_code == 400 and missing.json()["code"] == "comment_required"
    done = transition(personas, "approver2", "zqrcb", "reinstate", "整改完成")
    assert done.status_code == 200 and done.json()["status"] == "active"
    assert done.json()["history"][-1]["comment"] == "整改完成"


def test_agreements_show_a_filing_suspension_to_the_bank(personas, business_date):
    from tests.banks.suspension import suspend_zqrcb

    suspend_zqrcb(business_date)
    [agreement] = personas.client("bank_a").get(f"{BASE}zqrcb/").json()["agreements"]
    assert agreement["filings_status"] == "suspended"
    assert agreement["filings_suspended_on"] == "2026-12-03"
    assert "6.25%" in agreement["filings_suspension_reason"]
