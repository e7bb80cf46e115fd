"""Rows in every work queue, made through the real paths (the bank's API and the services), on
known business dates, so that each queue's count and each deadline's countdown is known.

`build(personas, business_date)` leaves the business date on 2026-11-30 (a Monday) and
returns the rows. Bank A (zqrcb, Zhaoqing) files for the demo borrower 肇庆市星河新材料, each
loan pledging a patent of its own:

| row | state | who acted | deadline |
|---|---|---|---|
| `to_start` | filing submitted on Sat 2026-11-21 | — | due diligence by Fri 12-04 |
| `mine` | under due diligence, checklist open | officer started | 12-04 |
| `later` | filing submitted on Mon 2026-11-23 | — | 12-07 |
| `checked` | under due diligence, checklist complete | officer2 started | 12-04 |
| `own_check` | under due diligence, checklist complete | approver started | 12-04 |
| `claim_new` | claim submitted (11-21) | — | initial review by 12-04 |
| `claim_review` | claim in initial review | officer started | 12-04 |
| `claim_recommended` | claim recommended | officer, approver | committee by 12-11 |
| `claim_approved` | claim approved, 4,321.00 | …, committee | payment by 12-04 |
| `claim_paid` | claim paid, recovery reported on 11-21 | …, finance | return by 12-04 |
| `applicant` | enterprise application submitted by bank A | — | (no deadline) |
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal

from enterprises.models import Enterprise, IPAsset
from fundmgr.ground.accounts.principals import principal_for
from loans.models import Claim, DueDiligence, LoanFiling, Recovery
from loans.services.claims import claim_submit, claim_transition, recovery_report
from loans.services.filings import due_diligence_record, filing_transition
from tests.factories import application_body, filing_body, patent_with_check
from tests.loans.conftest import make_non_performing

BORROWER = "9144120252133505XP"  # 肇庆市星河新材料科技有限公司, admitted in Zhaoqing
FILED_ON = "2026-11-21"  # a Saturday: filing_body's loans (disbursed on the 16th) are in time
TODAY = "2026-11-30"  # a Monday
ALL_CHECKED = {item: True for item in DueDiligence.REQUIRED_ITEMS}
SMALL = "10000.00"

_seq = itertools.count(1)


@dataclass
class World:
    to_start: LoanFiling
    mine: LoanFiling
    later: LoanFiling
    checked: LoanFiling
    own_check: LoanFiling
    claim_new: Claim
    claim_review: Claim
    claim_recommended: Claim
    claim_approved: Claim
    claim_paid: Claim
    recovery: Recovery
    applicant: Enterprise


def patent(enterprise: Enterprise) -> IPAsset:
    n = next(_seq)
    return IPAsset.objects.create(
        enterprise=enterprise,
        kind="invention_patent",
        number=patent_with_check(f"20251{7000000 + n:07d}"),
        title=f"一种工作台测试装置{n}",
        owner_name=enterprise.name,
        expires_on=dt.date(2044, 1, 1),
    )


def file_loan(personas, *, principal: str = "300000.00") -> LoanFiling:
    borrower = Enterprise.objects.get(uscc=BORROWER)
    body = filing_body(
        enterprise_uscc=BORROWER,
        principal=principal,
        covered_principal=principal,
        pledges=[
            {
                "kind": "invention_patent",
                "number": patent(borrower).number,
                "registration_no": f"Y2026450{next(_seq):06d}",
                "registered_on": "2026-11-10",
            }
        ],
    )
    response = personas.client("bank_a").post("/api/v1/filings/", body, format="json")
    assert response.status_code == 201, response.json()
    return LoanFiling.objects.get(pk=response.json()["id"])


def start_due_diligence(personas, filing: LoanFiling, who: str, *, complete: bool) -> LoanFiling:
    user = personas.user(who)
    filing_transition(filing_id=filing.pk, name="start_due_diligence", user=user)
    if complete:
        due_diligence_record(filing_id=filing.pk, user=user, items=ALL_CHECKED)
    return LoanFiling.objects.get(pk=filing.pk)


def bad_loan(personas) -> LoanFiling:
    filing = start_due_diligence(personas, file_loan(personas, principal=SMALL), "officer", complete=True)
    filing_transition(filing_id=filing.pk, name="accept", user=personas.user("approver"))
    return make_non_performing(personas, filing)


def claim_on(personas, filing: LoanFiling) -> Claim:
    return claim_submit(
        principal=principal_for(personas.user("bank_a")),
        data={
            "filing": filing.pk,
            "trigger_date": dt.date(2026, 11, 20),
            "outstanding_principal": Decimal(SMALL),
            "recovered_before_claim": Decimal("0.00"),
        },
    )


def claim_steps(personas, claim: Claim, steps) -> Claim:
    for who, name, extra in steps:
        claim_transition(claim_id=claim.pk, name=name, user=personas.user(who), comment="同意", **extra)
    return Claim.objects.get(pk=claim.pk)


REVIEW = [("officer", "start_review", {})]
RECOMMEND = [*REVIEW, ("approver", "recommend", {})]
APPROVE = [
    *RECOMMEND,
    ("committee", "start_committee_review", {}),
    ("committee", "approve", {"meeting_ref": "肇决〔2026〕9号", "approved_amount": Decimal("4321.00")}),
]
PAY = [*APPROVE, ("finance", "pay", {})]


def apply_enterprise(personas) -> Enterprise:
    body = application_body()
    response = personas.client("bank_a").post("/api/v1/enterprises/", body, format="json")
    assert response.status_code == 201, response.json()
    return Enterprise.objects.get(uscc=body["uscc"])


def build(personas, business_date) -> World:
    business_date(FILED_ON)
    to_start = file_loan(personas)
    mine = start_due_diligence(personas, file_loan(personas), "officer", complete=False)
    checked = start_due_diligence(personas, file_loan(personas), "officer2", complete=True)
    own_check = start_due_diligence(personas, file_loan(personas), "approver", complete=True)

    claim_new = claim_on(personas, bad_loan(personas))
    claim_review = claim_steps(personas, claim_on(personas, bad_loan(personas)), REVIEW)
    claim_recommended = claim_steps(personas, claim_on(personas, bad_loan(personas)), RECOMMEND)
    claim_approved = claim_steps(personas, claim_on(personas, bad_loan(personas)), APPROVE)
    claim_paid = claim_steps(personas, claim_on(personas, bad_loan(personas)), PAY)
    recovery = recovery_report(
        principal=principal_for(personas.user("bank_a")),
        claim_id=claim_paid.pk,
        data={
            "received_on": dt.date.fromisoformat(FILED_ON),
            "gross_amount": Decimal("1000.00"),
            "costs": Decimal("0.00"),
            "source": "borrower",
        },
    )
    applicant = apply_enterprise(personas)

    business_date("2026-11-23")
    later = file_loan(personas)

    business_date(TODAY)
    return World(
        to_start=to_start,
        mine=mine,
        later=later,
        checked=checked,
        own_check=own_check,
        claim_new=claim_new,
        claim_review=claim_review,
        claim_recommended=claim_recommended,
        claim_approved=claim_approved,
        claim_paid=claim_paid,
        recovery=recovery,
        applicant=applicant,
    )
