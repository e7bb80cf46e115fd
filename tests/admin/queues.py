"""A row in every admin queue, made through the real paths (the bank's API, the services):
used by the list tests (exports, layout at 1280 px) and the browser tests.

`queue_rows(personas, business_date)` works on 2026-11-21, then leaves the business date on
2026-12-02 and returns the rows by queue. Bank A (zqrcb, Zhaoqing) files four loans: one
waits for due diligence (an early warning says its deadline is near), one is accepted and
reported for November, one goes bad and its claim is paid with a recovery reported, one goes
bad and its claim waits for review. The Zhaoqing fund's November report is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from enterprises.models import Enterprise, IPAsset
from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import Fund, LedgerEntry
from fundmgr.top.reports import services as reports
from fundmgr.top.reports.models import StoredReport
from loans.models import Claim, EarlyWarning, LoanFiling, Recovery, StatusReport
from loans.services import claims, servicing
from tests.factories import filing_body
from tests.loans.conftest import accept_filing, make_non_performing

# Patents of the demo enterprise 肇庆市星河新材料科技有限公司, one per loan.
PATENTS = ("201613031399.8", "201912754910.4", "201921935950.8", "201825847362.X")
BUSINESS_DATE = "2026-12-02"


@dataclass
class QueueRows:
    waiting: LoanFiling  # submitted, waits for due diligence
    accepted: LoanFiling  # accepted and reported monthly
    claim: Claim  # paid, in recovery
    open_claim: Claim  # waits for the officer's review
    recovery: Recovery
    status_report: StatusReport
    warning: EarlyWarning
    enterprise: Enterprise
    ledger_entry: LedgerEntry
    stored_report: StoredReport


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _claim(personas, filing: LoanFiling) -> Claim:
    response = personas.client("bank_a").post(
        "/api/v1/claims/",
        {
            "filing": filing.pk,
            "trigger_date": "2026-11-20",
            "outstanding_principal": "900000.00",
            "recovered_before_claim": "100000.00",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return Claim.objects.get(pk=response.json()["id"])


def _pledge(number: str) -> list[dict]:
    kind = IPAsset.objects.get(number=number).kind
    return [{**filing_body()["pledges"][0], "kind": kind, "number": number}]


def queue_rows(personas, business_date) -> QueueRows:
    business_date("2026-11-21")
    bank = personas.client("bank_a")
    accepted = accept_filing(
        personas, pledges=_pledge(PATENTS[0]), principal="2500000.00", covered_principal="2500000.00"
    )
    paid = _claim(
        personas, make_non_performing(personas, accept_filing(personas, pledges=_pledge(PATENTS[1])))
    )
    for who, step, extra in (
        ("officer", "start_review", {}),
        ("approver", "recommend", {}),
        ("committee", "start_committee_review", {}),
        ("committee", "approve", {"meeting_ref": "肇决〔2026〕7号"}),
        ("finance", "pay", {}),
    ):
        claims.claim_transition(claim_id=paid.pk, name=step, user=_user(who), comment="同意", **extra)
    reported = bank.post(
        f"/api/v1/claims/{paid.pk}/recoveries/",
        {"received_on": "2026-11-21", "gross_amount": "110000.00", "costs": "10000.00", "source": "borrower"},
        format="json",
    )
    assert reported.status_code == 201, reported.json()
    open_claim = _claim(
        personas, make_non_performing(personas, accept_filing(personas, pledges=_pledge(PATENTS[2])))
    )
    waiting = bank.post("/api/v1/filings/", filing_body(pledges=_pledge(PATENTS[3])), format="json")
    assert waiting.status_code == 201, waiting.json()

    business_date(BUSINESS_DATE)
    report = bank.post(
        f"/api/v1/filings/{accepted.pk}/status-reports/",
        {
            "as_of": "2026-11-30",
            "outstanding_principal": "2400000.00",
            "overdue_principal": "0.00",
            "overdue_interest": "0.00",
            "days_overdue": 0,
            "risk_class": "normal",
        },
        format="json",
    )
    assert report.status_code == 201, report.json()
    servicing.warnings_scan()  # the waiting filing's due diligence ends on 2026-12-04
    zhaoqing = Fund.objects.get(code="zhaoqing")
    stored = reports.monthly_report_generate(fund=zhaoqing, year=2026, month=11)[0]
    return QueueRows(
        waiting=LoanFiling.objects.get(pk=waiting.json()["id"]),
        accepted=LoanFiling.objects.get(pk=accepted.pk),
        claim=Claim.objects.get(pk=paid.pk),
        open_claim=open_claim,
        recovery=Recovery.objects.get(pk=reported.json()["id"]),
        status_report=StatusReport.objects.get(pk=report.json()["id"]),
        warning=EarlyWarning.objects.get(filing_id=waiting.json()["id"]),
        enterprise=accepted.enterprise,
        ledger_entry=LedgerEntry.objects.filter(fund=zhaoqing).order_by("id").first(),
        stored_report=stored,
    )
