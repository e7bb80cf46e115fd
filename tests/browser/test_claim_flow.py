"""A claim from submitted to paid, as four different staff members do it in a real browser.

Bank A's loan went bad and the bank claims through the API. The officer starts the initial
review, the approver recommends it, the committee puts it on its agenda and approves it with
the meeting's reference, and finance pays it (the claim then goes into recovery) — each a
different person (four-eyes), each
pressing the button on the claim's page and confirming on its form. What is asserted is what
they see (buttons offered, messages, status) and what the database then holds: the payout in
the fund's ledger and who signed each step.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django_fsm_log.models import StateLog

from fundmgr.ground.funds.models import EntryType, LedgerEntry
from loans.models import Claim, ClaimStatus
from tests.loans.conftest import accept_filing, make_non_performing

from .helpers import click_and_wait, field_text, messages, transition_buttons

CLAIMED_ON = "2026-11-21"


def claim_a_bad_loan(personas) -> Claim:
    filing = make_non_performing(personas, accept_filing(personas))
    response = personas.client("bank_a").post(
        "/api/v1/claims/",
        {
            "filing": filing.pk,
            "trigger_date": "2026-11-20",
            "outstanding_principal": "900000.00",
            "recovered_before_claim": "0.00",
            "legal_action": None,
            "notes": "借款人停止经营",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return Claim.objects.get(pk=response.json()["id"])


def open_claim(page, claim: Claim) -> None:
    page.goto("/admin/loans/claim/")
    click_and_wait(page, page.locator("#result_list").get_by_role("link", name=claim.reference, exact=True))


def take_step(page, label: str, **fields: str) -> None:
    """Press a transition button, fill its form (by the fields' labels), confirm."""
    click_and_wait(page, page.get_by_role("button", name=label, exact=True))
    assert page.locator("#content h1").inner_text().strip() == label
    content = page.locator("#content").inner_text()
    assert "None" not in content and "Apply" not in content
    form = page.locator("#fsm-transition-form")
    for field_label, value in fields.items():
        form.get_by_label(field_label, exact=False).fill(value)
    click_and_wait(page, form.get_by_role("button", name=label, exact=True))


def test_four_people_take_a_claim_from_submitted_to_paid(as_persona, personas, business_date):
    business_date(CLAIMED_ON)
    claim = claim_a_bad_loan(personas)
    balance_before = sum(LedgerEntry.objects.filter(fund=claim.filing.fund).values_list("amount", flat=True))

    officer = as_persona("officer")
    open_claim(officer, claim)
    assert field_text(officer, "status") == "已提交"
    assert "开始初审" in transition_buttons(officer)
    take_step(officer, "开始初审")
    assert messages(officer) == ["操作“开始初审”已完成。"]
    assert field_text(officer, "status") == "初审中"
    # Four-eyes: who reviewed it does not also recommend it.
    assert "复核推荐" not in transition_buttons(officer)

    approver = as_persona("approver")
    open_claim(approver, claim)
    assert "复核推荐" in transition_buttons(approver)
    take_step(approver, "复核推荐", 意见="材料齐全，同意推荐。")
    assert messages(approver) == ["操作“复核推荐”已完成。"]
    assert field_text(approver, "status") == "已复核推荐"

    committee = as_persona("committee")
    open_claim(committee, claim)
    take_step(committee, "提交决委会")
    assert field_text(committee, "status") == "决委会审议中"
    # Finance has no step before the committee decides.
    finance = as_persona("finance")
    open_claim(finance, claim)
    assert transition_buttons(finance) == []

    take_step(committee, "批准补偿", 会议纪要编号="肇决〔2026〕9号")
    assert messages(committee) == ["操作“批准补偿”已完成。"]
    assert field_text(committee, "status") == "已批准"
    assert field_text(committee, "meeting_ref") == "肇决〔2026〕9号"

    open_claim(finance, claim)
    assert transition_buttons(finance) == ["付款"]
    take_step(finance, "付款")
    assert messages(finance) == ["操作“付款”已完成。"]
    # paid, and at once in recovery: the bank now reports what it recovers
    assert field_text(finance, "status") == "追偿中"

    claim.refresh_from_db()
    assert claim.status == ClaimStatus.IN_RECOVERY and claim.paid_amount == claim.approved_amount
    payout = LedgerEntry.objects.get(fund=claim.filing.fund, entry_type=EntryType.COMPENSATION_PAID)
    assert payout.amount == -claim.approved_amount and claim.approved_amount > Decimal("0")
    balance_after = sum(LedgerEntry.objects.filter(fund=claim.filing.fund).values_list("amount", flat=True))
    assert balance_after == balance_before - claim.approved_amount
    signed = dict(
        StateLog.objects.filter(
            content_type=ContentType.objects.get_for_model(Claim), object_id=claim.pk
        ).values_list("transition", "by__username")
    )
    assert signed == {
        "submit": "inst:zqrcb",  # the bank's system user, through the API
        "start_review": "officer",
        "recommend": "approver",
        "start_committee_review": "committee",
        "approve": "committee",
        "pay": "finance",
        "start_recovery": "finance",
    }
