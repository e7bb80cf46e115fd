"""Compensation claims end to end: refusals, the approval chain with four-eyes, payout into
the ledger in one transaction, recoveries returned, write-off and close."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fundmgr.ground.funds.models import EntryType, Fund, LedgerEntry
from fundmgr.ground.funds.selectors import fund_balance
from loans.models import Claim, LoanFiling

pytestmark = pytest.mark.django_db
D = Decimal


def claim_body(filing, **overrides) -> dict:
    body = {
        "filing": filing.pk,
        "trigger_date": "2026-11-20",
        "outstanding_principal": "900000.00",
        "recovered_before_claim": "100000.00",
        "legal_action": {"kind": "lawsuit", "case_no": "(2026)粤1202民初1234号", "filed_on": "2026-11-18"},
        "notes": "借款人停止经营",
    }
    body.update(overrides)
    return body


def act(personas, who, claim_id, name, **body):
    body.setdefault("comment", "ok")
    return personas.client(who).post(f"/api/v1/claims/{claim_id}/transitions/{name}/", body, format="json")


@pytest.fixture
def submitted(personas, npl_loan):
    response = personas.client("bank_a").post("/api/v1/claims/", claim_body(npl_loan), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_submission_shows_every_step_of_the_computation(submitted):
    # (900,000 − 100,000) × 100 % covered = 800,000; × 50 % = 400,000; Zhaoqing per-loan cap 2,500,000
    assert submitted["status"] == "submitted"
    assert (submitted["loss_base"], submitted["fund_share"], submitted["computed_amount"]) == (
        "800000.00",
        "50.00",
        "400000.00",
    )
    assert submitted["claimable_amount"] == "400000.00" and submitted["caps_applied"] == []
    caps = {c["cap"]: c for c in submitted["computation"]["caps"]}
    assert caps["per_loan"]["limit"] == "2500000.00" and not caps["per_loan"]["applied"]
    assert caps["fund_balance"]["limit"] == "5000000.00"
    assert LoanFiling.objects.get(pk=submitted["filing"]).loan_status == "in_claim"


def test_refusals(personas, accepted, business_date):
    bank = personas.client("bank_a")
    not_met = bank.post("/api/v1/claims/", claim_body(accepted), format="json")
    assert not_met.status_code == 422 and [e["code"] for e in not_met.json()["errors"]] == ["trigger_not_met"]
    from tests.loans.conftest import make_non_performing

    make_non_performing(personas, accepted)
    late = bank.post("/api/v1/claims/", claim_body(accepted, trigger_date="2026-05-01"), format="json")
    assert [e["code"] for e in late.json()["errors"]] == ["claim_window_closed"]  # 180 days
    assert bank.post("/api/v1/claims/", claim_body(accepted), format="json").status_code == 201
    again = bank.post("/api/v1/claims/", claim_body(accepted), format="json")
    assert again.status_code == 422 and [e["code"] for e in again.json()["errors"]] == ["claim_exists"]
    assert (
        personas.client("bank_b").post("/api/v1/claims/", claim_body(accepted), format="json").status_code
        == 404
    )


def test_claim_on_a_loan_not_covered(personas, business_date):
    from tests.loans.conftest import accept_filing

    business_date("2026-11-21")
    filing = accept_filing(personas)
    LoanFiling.objects.filter(pk=filing.pk).update(status="voided")
    response = personas.client("bank_a").post("/api/v1/claims/", claim_body(filing), format="json")
    assert [e["code"] for e in response.json()["errors"]] == ["loan_not_covered"]


def test_whole_chain_with_four_eyes_and_payout_into_the_ledger(personas, submitted):
    cid = submitted["id"]
    fund = Fund.objects.get(code="zhaoqing")
    assert act(personas, "officer", cid, "start_review").json()["status"] == "initial_review"
    refused = act(personas, "officer", cid, "recommend")
    assert refused.status_code == 403 and refused.json()["code"] == "four_eyes_required"
    assert act(personas, "approver", cid, "recommend").json()["status"] == "recommended"
    assert act(personas, "approver", cid, "start_committee_review").status_code == 403  # committee only
    assert act(personas, "committee", cid, "start_committee_review").json()["status"] == "committee_review"
    no_minutes = act(personas, "committee", cid, "approve")
    assert no_minutes.status_code == 400 and no_minutes.json()["code"] == "meeting_ref_required"
    too_much = act(
        personas, "committee", cid, "approve", meeting_ref="肇决〔2026〕7号", approved_amount="400000.01"
    )
    assert too_much.status_code == 422 and too_much.json()["code"] == "approved_amount_exceeds_claimable"
    approved = act(
        personas, "committee", cid, "approve", meeting_ref="肇决〔2026〕7号", approved_amount="350000.00"
    )
    assert approved.json()["status"] == "approved" and approved.json()["approved_amount"] == "350000.00"
    assert approved.json()["approved_on"] == "2026-11-21"  # the business date, not the wall clock
    assert act(personas, "committee", cid, "pay").status_code == 403  # only finance pays
    paid = act(personas, "finance", cid, "pay").json()
    assert (paid["status"], paid["paid_amount"], paid["paid_on"]) == (
        "in_recovery",
        "350000.00",
        "2026-11-21",
    )
    entry = LedgerEntry.objects.get(claim_id=cid)
    assert (entry.entry_type, entry.amount) == (EntryType.COMPENSATION_PAID, D("-350000.00"))
    assert fund_balance(fund=fund) == D("4650000.00")
    assert LoanFiling.objects.get(pk=submitted["filing"]).loan_status == "compensated"
    assert [h["transition"] for h in paid["history"]] == [
        "submit",
        "start_review",
        "recommend",
        "start_committee_review",
        "approve",
        "pay",
        "start_recovery",
    ]


def _to_approved(personas, cid, amount=None):
    act(personas, "officer", cid, "start_review")
    act(personas, "approver", cid, "recommend")
    act(personas, "committee", cid, "start_committee_review")
    body = {"meeting_ref": "M-1"}
    if amount:
        body["approved_amount"] = amount
    assert act(personas, "committee", cid, "approve", **body).status_code == 200


def test_pay_refused_when_balance_is_short_and_nothing_moves(personas, submitted):
    from fundmgr.ground.funds.services import ledger_entry_record

    cid = submitted["id"]
    _to_approved(personas, cid)
    fund = Fund.objects.get(code="zhaoqing")
    ledger_entry_record(fund=fund, entry_type="refund", amount=D("4700000.00"))  # 300,000 left
    response = act(personas, "finance", cid, "pay")
    assert response.status_code == 409 and response.json()["code"] == "fund_balance_insufficient"
    assert Claim.objects.get(pk=cid).status == "approved"
    assert not LedgerEntry.objects.filter(claim_id=cid).exists()
    assert fund_balance(fund=fund) == D("300000.00")


def test_failure_after_posting_leaves_nothing(personas, submitted, monkeypatch):
    cid = submitted["id"]
    _to_approved(personas, cid)

    def boom(self, **kwargs):
        raise RuntimeError("simulated crash after the ledger entry was written")

    monkeypatch.setattr(LoanFiling, "compensate", boom)
    with pytest.raises(RuntimeError):
        act(personas, "finance", cid, "pay")
    assert Claim.objects.get(pk=cid).status == "approved"
    assert not LedgerEntry.objects.filter(claim_id=cid).exists()


def test_return_and_reject_put_the_loan_back(personas, submitted):
    cid = submitted["id"]
    act(personas, "officer", cid, "start_review")
    assert (
        act(personas, "officer", cid, "return_for_supplement", comment="").json()["code"]
        == "comment_required"
    )
    assert (
        act(personas, "officer", cid, "return_for_supplement", comment="补充诉讼材料").json()["status"]
        == "returned"
    )
    assert act(personas, "bank_a", cid, "resubmit").json()["status"] == "submitted"
    act(personas, "officer", cid, "start_review")
    assert act(personas, "approver", cid, "reject", comment="不符合条件").json()["status"] == "rejected"
    assert LoanFiling.objects.get(pk=submitted["filing"]).loan_status == "non_performing"


def test_recoveries_share_due_date_return_and_cap(personas, submitted, business_date):
    cid = submitted["id"]
    _to_approved(personas, cid, amount="320000.00")  # the fund pays 40 % of the 800,000 loss base
    act(personas, "finance", cid, "pay")
    bank = personas.client("bank_a")
    business_date("2026-12-01")
    r = bank.post(
        f"/api/v1/claims/{cid}/recoveries/",
        {
            "received_on": "2026-11-30",
            "gross_amount": "110000.00",
            "costs": "10000.00",
            "source": "ip_disposal",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    rec = r.json()
    assert (rec["fund_amount"], rec["status"]) == ("40000.00", "return_due")  # 100,000 × 40 %
    assert rec["due_on"] == "2026-12-14"  # 10 working days after 2026-11-30
    assert (
        personas.client("officer")
        .post(f"/api/v1/recoveries/{rec['id']}/transitions/confirm_returned/", {}, format="json")
        .status_code
        == 403
    )
    done = personas.client("finance").post(
        f"/api/v1/recoveries/{rec['id']}/transitions/confirm_returned/", {}, format="json"
    )
    assert done.json()["status"] == "returned"
    assert LedgerEntry.objects.get(claim_id=cid, entry_type="recovery_returned").amount == D("40000.00")
    # a huge recovery returns at most what is left of what the fund paid
    big = bank.post(
        f"/api/v1/claims/{cid}/recoveries/",
        {"received_on": "2026-12-01", "gross_amount": "5000000.00", "costs": "0.00", "source": "borrower"},
        format="json",
    ).json()
    assert big["fund_amount"] == "280000.00"
    assert personas.client("bank_b").get(f"/api/v1/claims/{cid}/recoveries/").status_code == 404


def test_overdue_return_and_write_off(personas, submitted, business_date):
    from loans.services.claims import recoveries_mark_overdue

    cid = submitted["id"]
    _to_approved(personas, cid)
    act(personas, "finance", cid, "pay")
    personas.client("bank_a").post(
        f"/api/v1/claims/{cid}/recoveries/",
        {"received_on": "2026-11-21", "gross_amount": "1000.00", "costs": "0.00", "source": "borrower"},
        format="json",
    )
    business_date("2026-12-08")
    assert recoveries_mark_overdue() == 1
    assert (
        personas.client("officer").get(f"/api/v1/claims/{cid}/recoveries/").json()[0]["status"] == "overdue"
    )
    assert act(personas, "officer", cid, "write_off", comment="x").status_code == 403
    done = act(personas, "approver", cid, "write_off", comment="诉讼终结，无可执行财产")
    assert done.json()["status"] == "written_off"
    assert LoanFiling.objects.get(pk=submitted["filing"]).loan_status == "closed"


def test_close_after_full_recovery(personas, submitted):
    cid = submitted["id"]
    _to_approved(personas, cid)
    act(personas, "finance", cid, "pay")
    assert act(personas, "officer", cid, "close").json()["status"] == "closed"


def test_scope_of_claims(personas, submitted):
    cid = submitted["id"]
    assert personas.client("bank_b").get(f"/api/v1/claims/{cid}/").status_code == 404
    assert personas.client("regulator_y").get(f"/api/v1/claims/{cid}/").status_code == 404
    assert personas.client("regulator_x").get(f"/api/v1/claims/{cid}/").status_code == 200
    assert act(personas, "regulator_x", cid, "start_review").status_code == 403
    assert personas.client("bank_a").get("/api/v1/claims/").json()["count"] == 1


def test_claim_documents_are_filed_with_the_claim_and_its_loan(personas, submitted, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = personas.client("bank_a").post(
        f"/api/v1/claims/{submitted['id']}/documents/",
        {
            "kind": "legal_documents",
            "file": SimpleUploadedFile("judgment.pdf", pdf, content_type="application/pdf"),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    claim = Claim.objects.get(pk=submitted["id"])
    assert [d.kind for d in claim.documents.all()] == ["legal_documents"]
    assert claim.filing.documents.filter(claim=claim).count() == 1
    other = personas.client("bank_b").post(
        f"/api/v1/claims/{submitted['id']}/documents/",
        {"kind": "other", "file": SimpleUploadedFile("x.pdf", pdf, content_type="application/pdf")},
        format="multipart",
    )
    assert other.status_code == 404


# --- principal caps and the combined-pledge recovery, end to end (domain-rules §5.4, §8.4, §9)

OTHER_PATENT = "201912754910.4"  # a second patent of the same demo enterprise


def _zhaoqing_policy(**fields) -> None:
    """Set policy numbers on Zhaoqing's policy in force (data, as staff would enter them)."""
    from fundmgr.ground.funds.models import PolicyVersion

    updated = PolicyVersion.objects.filter(fund__code="zhaoqing").update(**fields)
    assert updated >= 1


def _claim(personas, filing, **overrides) -> dict:
    response = personas.client("bank_a").post(
        "/api/v1/claims/", claim_body(filing, **overrides), format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_principal_caps_limit_the_loss_base_before_the_share(personas, business_date):
    from tests.loans.conftest import accept_filing, make_non_performing

    _zhaoqing_policy(per_loan_principal_cap=D("700000.00"), per_enterprise_principal_cap=D("1000000.00"))
    business_date("2026-11-21")
    first = make_non_performing(personas, accept_filing(personas))
    second_body = {"number": OTHER_PATENT}
    from tests.factories import filing_body

    second = make_non_performing(
        personas, accept_filing(personas, pledges=[{**filing_body()["pledges"][0], **second_body}])
    )
    # First loan: (900,000 − 100,000) = 800,000 covered loss → 700,000 per loan → × 50 %.
    one = _claim(personas, first)
    assert (one["computation"]["covered_loss"], one["loss_base"], one["claimable_amount"]) == (
        "800000.00",
        "700000.00",
        "350000.00",
    )
    assert [(c["cap"], c["stage"]) for c in one["caps_applied"]] == [("per_loan_principal", "loss_base")]
    _to_approved(personas, one["id"])
    assert act(personas, "finance", one["id"], "pay").json()["status"] == "in_recovery"
    # Second loan of the same enterprise: 1,000,000 → 700,000 per loan → 300,000 left of the
    # enterprise's 1,000,000 (700,000 counted for the first claim) → × 50 % = 150,000.
    two = _claim(personas, second, outstanding_principal="1000000.00", recovered_before_claim="0.00")
    assert (two["loss_base"], two["computed_amount"], two["claimable_amount"]) == (
        "300000.00",
        "150000.00",
        "150000.00",
    )
    caps = {c["cap"]: c for c in two["computation"]["caps"]}
    assert (
        caps["per_enterprise_principal"]["limit"] == "300000.00"
        and caps["per_enterprise_principal"]["applied"]
    )
    assert [c["cap"] for c in two["caps_applied"]] == ["per_loan_principal", "per_enterprise_principal"]


def test_recovery_after_payment_on_a_combined_pledge(personas, business_date):
    """Outstanding 1,000,000, 60 % covered by the IP pledge, fund share 50 % → paid 300,000;
    a later gross 200,000 with 20,000 costs returns 54,000.00 to the fund."""
    from tests.loans.conftest import accept_filing, make_non_performing

    business_date("2026-11-21")
    filing = make_non_performing(
        personas, accept_filing(personas, pledge_type="combined", covered_principal="600000.00")
    )
    claim = _claim(personas, filing, outstanding_principal="1000000.00", recovered_before_claim="0.00")
    assert (claim["loss_base"], claim["claimable_amount"]) == ("600000.00", "300000.00")
    _to_approved(personas, claim["id"])
    assert act(personas, "finance", claim["id"], "pay").json()["paid_amount"] == "300000.00"
    business_date("2026-12-01")
    recovery = personas.client("bank_a").post(
        f"/api/v1/claims/{claim['id']}/recoveries/",
        {
            "received_on": "2026-11-30",
            "gross_amount": "200000.00",
            "costs": "20000.00",
            "source": "ip_disposal",
        },
        format="json",
    )
    assert recovery.status_code == 201, recovery.json()
    assert recovery.json()["fund_amount"] == "54000.00"  # 180,000 × 300,000 ÷ 1,000,000
    assert recovery.json()["reported_on"] == "2026-12-01"
