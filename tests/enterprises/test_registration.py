"""Enterprise registration (入库) end to end: a bank applies, staff review with four-eyes."""

from __future__ import annotations

import pytest

from enterprises.models import Enterprise
from tests.factories import application_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def applied(personas, business_date):
    business_date("2026-11-21")
    body = application_body()
    response = personas.client("bank_a").post("/api/v1/enterprises/", body, format="json")
    assert response.status_code == 201, response.json()
    return body["uscc"]


def act(personas, who: str, uscc: str, name: str, comment: str = "ok"):
    return personas.client(who).post(
        f"/api/v1/enterprises/{uscc}/transitions/{name}/", {"comment": comment}, format="json"
    )


def test_bank_application_is_submitted_with_size_class_and_history(personas, applied):
    body = personas.client("bank_a").get(f"/api/v1/enterprises/{applied}/").json()
    assert body["status"] == "submitted"
    assert body["size_class"] == "small"  # industry, 56 people, 3,200万 revenue
    assert body["fund"] == "zhaoqing"
    assert body["ip_assets"][0]["kind"] == "invention_patent"
    assert body["history"] == [
        {
            "at": body["history"][0]["at"],
            "on": "2026-11-21",  # the business date it was filed on, not the wall clock
            "from": "draft",
            "to": "submitted",
            "transition": "submit",
            "by": "institution",
            "comment": "提交入库申请",
        }
    ]


def test_full_path_review_admit_with_four_eyes(personas, applied):
    assert act(personas, "officer", applied, "start_review").status_code == 200
    refused = act(personas, "officer", applied, "admit")
    assert refused.status_code == 403
    assert refused.json()["code"] == "four_eyes_required"
    admitted = act(personas, "approver", applied, "admit")
    assert admitted.status_code == 200, admitted.json()
    body = admitted.json()
    assert body["status"] == "admitted"
    assert (body["admitted_on"], body["admitted_until"]) == ("2026-11-21", "2029-11-20")  # 36 months
    assert [h["by"] for h in body["history"]] == ["institution", "officer", "approver"]


def test_officer2_may_admit_what_officer_reviewed(personas, applied):
    act(personas, "officer", applied, "start_review")
    assert act(personas, "officer2", applied, "admit").json()["status"] == "admitted"


def test_return_for_supplement_then_resubmit_then_reject(personas, applied):
    act(personas, "officer", applied, "start_review")
    missing = act(personas, "officer", applied, "return_for_supplement", comment="")
    assert missing.status_code == 400 and missing.json()["code"] == "comment_required"
    assert (
        act(personas, "officer", applied, "return_for_supplement", "请补充财务报表").json()["status"]
        == "returned"
    )
    assert act(personas, "officer", applied, "submit").json()["status"] == "submitted"
    act(personas, "officer", applied, "start_review")
    assert act(personas, "approver", applied, "reject", "不符合产业方向").json()["status"] == "rejected"
    again = act(personas, "officer", applied, "start_review")
    assert again.status_code == 409 and again.json()["code"] == "transition_not_allowed"


def test_suspend_reinstate_remove(personas, demo):
    uscc = "9144120252133505XP"
    assert act(personas, "officer", uscc, "suspend", "征信出现逾期").json()["status"] == "suspended"
    assert act(personas, "approver", uscc, "reinstate").json()["status"] == "admitted"
    assert act(personas, "officer", uscc, "remove", "企业申请退出").json()["status"] == "removed"


def test_admit_refused_when_a_rule_fails(personas, applied):
    Enterprise.objects.filter(uscc=applied).update(credit_record_clean=False)
    act(personas, "officer", applied, "start_review")
    response = act(personas, "approver", applied, "admit")
    assert response.status_code == 422
    assert response.json()["code"] == "eligibility_failed"
    assert [e["code"] for e in response.json()["errors"]] == ["credit_record_unclean"]
    assert Enterprise.objects.get(uscc=applied).status == "under_review"


def test_expiry_and_renewal(personas, business_date, demo):
    from enterprises.services import enterprise_expire_due

    business_date("2027-12-01")  # demo admissions run to 2027-11-30
    assert enterprise_expire_due() == 10
    uscc = "9144120252133505XP"
    assert personas.client("officer").get(f"/api/v1/enterprises/{uscc}/").json()["status"] == "expired"
    renewed = act(personas, "officer", uscc, "renew").json()
    assert (renewed["status"], renewed["admitted_until"]) == ("admitted", "2030-11-30")
    assert enterprise_expire_due() == 0  # idempotent; the renewed one runs to 2030
    assert Enterprise.objects.filter(status="expired").count() == 9


def test_roles_that_may_not_review(personas, applied):
    for who in ("committee", "finance"):
        response = act(personas, who, applied, "start_review")
        assert response.status_code == 403 and response.json()["code"] == "transition_forbidden"
    assert act(personas, "regulator_x", applied, "start_review").status_code == 403
    assert act(personas, "bank_a", applied, "start_review").status_code == 403


def test_unknown_transition_is_404(personas, applied):
    assert act(personas, "officer", applied, "approve_everything").status_code == 404


@pytest.mark.parametrize(
    ("override", "status", "code", "field"),
    [
        ({"uscc": "91350100M000100Y4Z"}, 400, "invalid_uscc", "uscc"),
        ({"uscc": "914412"}, 400, "invalid_uscc", "uscc"),
        (
            {
                "ip_assets": [
                    {"kind": "invention_patent", "number": "202110123456.8", "expires_on": "2041-01-01"}
                ]
            },
            400,
            "invalid_patent_number",
            "ip_assets[0].number",
        ),
        (
            {
                "ip_assets": [
                    {"kind": "utility_model", "number": "202110123456.7", "expires_on": "2031-01-01"}
                ]
            },
            400,
            "patent_kind_mismatch",
            "ip_assets[0].number",
        ),
        ({"ip_assets": []}, 400, None, "ip_assets"),
        ({"annual_revenue": 32000000}, 400, "invalid_money", "annual_revenue"),
        ({"fund": "foshan"}, 422, "fund_not_available", "fund"),
        ({"uscc": "9144120252133505XP"}, 409, "enterprise_exists", "uscc"),
    ],
)
def test_application_refusals(personas, business_date, override, status, code, field):
    business_date("2026-11-21")
    before = Enterprise.objects.count()
    response = personas.client("bank_a").post(
        "/api/v1/enterprises/", application_body(**override), format="json"
    )
    assert response.status_code == status, response.json()
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    if code:
        assert body["code"] == code
    assert (
        field in [e["field"] for e in body["errors"]]
        or body.get("errors") == []
        and code in ("enterprise_exists",)
    )
    assert Enterprise.objects.count() == before


def test_patent_prefix_is_normalised_and_expiry_computed(personas, business_date):
    business_date("2026-11-21")
    body = application_body(
        ip_assets=[{"kind": "invention_patent", "number": "ZL201710601862.3", "filed_on": "2017-07-20"}]
    )
    response = personas.client("bank_a").post("/api/v1/enterprises/", body, format="json")
    assert response.status_code == 201, response.json()
    asset = response.json()["ip_assets"][0]
    assert (asset["number"], asset["expires_on"]) == ("201710601862.3", "2037-07-19")


def test_staff_cannot_apply_through_the_api(personas):
    response = personas.client("officer").post("/api/v1/enterprises/", application_body(), format="json")
    assert response.status_code == 403


def test_idempotent_application_replays_and_refuses_a_different_body(personas, business_date):
    business_date("2026-11-21")
    bank = personas.client("bank_a")
    body = application_body()
    first = bank.post("/api/v1/enterprises/", body, format="json", HTTP_IDEMPOTENCY_KEY="app-001")
    again = bank.post("/api/v1/enterprises/", body, format="json", HTTP_IDEMPOTENCY_KEY="app-001")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Enterprise.objects.filter(uscc=body["uscc"]).count() == 1
    other = bank.post(
        "/api/v1/enterprises/", application_body(), format="json", HTTP_IDEMPOTENCY_KEY="app-001"
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    # without a key, a retry is a duplicate application
    assert bank.post("/api/v1/enterprises/", body, format="json").json()["code"] == "enterprise_exists"


def test_list_and_detail_show_a_bank_the_same_fields(personas):
    """Another bank's (or the manager's) applicant shows a bank only the public fields, in the
    list as in the detail; its own applicants show everything."""
    bank = personas.client("bank_b")
    rows = bank.get("/api/v1/enterprises/?page_size=100").json()["results"]
    assert rows, "bank B sees the admitted enterprises of Foshan"
    for row in rows:
        detail = bank.get(f"/api/v1/enterprises/{row['uscc']}/").json()
        assert "annual_revenue" not in row and "credit_record_clean" not in row
        assert set(row) == {"uscc", "name", "fund", "status", "size_class", "admitted_until", "ip_assets"}
        assert set(row) == set(detail)
    staff_row = personas.client("officer").get("/api/v1/enterprises/?page_size=100").json()["results"][0]
    assert "annual_revenue" in staff_row and "credit_record_clean" in staff_row
