"""The fixed data set every report test reads, built through the real API paths.

Zhaoqing (bank A = zqrcb, capital 5,000,000.00):
  L1  2026-09-15  星河 (district 441202)  500,000.00  utility model        performing, no report
  L2  2026-11-21  星河 (441202)         1,012,345.00  invention + trademark  Nov report: 1,000,000.00
  L3  2026-11-21  鼎泰 (441204)           612,250.00  invention             Nov report: substandard → NPL
  a new enterprise (441202) applied for by bank A and admitted on 2026-11-21
Foshan (bank B = icbc-foshan, fund share 60 %, capital 60,000,000.00):
  L4  2026-11-21  云帆 (440605)         2,000,000.00  invention             Nov report: loss → NPL; claim
      filed 2026-12-01, approved 1,000,000.00, paid 2026-12-03; recovery 110,000 − 10,000 costs,
      fund's part 100,000 × 1,000,000 / 2,000,000 = 50,000.00, returned 2026-12-15
  L5  2026-11-21  美澜 (440606)            12,350.00  trademark + software copyright
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from enterprises.models import Enterprise, IPAsset
from fundmgr.ground.accounts.models import User
from loans.models import Claim, DueDiligence, LoanFiling
from loans.services.filings import due_diligence_record, filing_transition
from tests.factories import application_body, filing_body

SHANGHAI = ZoneInfo("Asia/Shanghai")

XINGHE = "9144120252133505XP"  # 肇庆星河新材料, 441202
DINGTAI = "914412048288873773"  # 肇庆高要鼎泰五金, 441204
YUNFAN = "91440605453878334M"  # 佛山南海云帆智能, 440605
MEILAN = "91440606283685942D"  # 佛山顺德美澜电器, 440606


def pledge(kind: str, number: str, registered_on: str = "2026-11-10") -> dict:
    return {
        "kind": kind,
        "number": number,
        "registration_no": "Y2026440000123",
        "registered_on": registered_on,
        "appraised_value": "3000000.00",
    }


def file_and_accept(personas, *, bank: str, **overrides) -> LoanFiling:
    """The bank files, an officer does due diligence, an approver accepts (the real path)."""
    response = personas.client(bank).post("/api/v1/filings/", filing_body(**overrides), format="json")
    assert response.status_code == 201, response.json()
    filing_id = response.json()["id"]
    officer, approver = personas.user("officer"), personas.user("approver")
    filing_transition(filing_id=filing_id, name="start_due_diligence", user=officer)
    due_diligence_record(
        filing_id=filing_id, user=officer, items={item: True for item in DueDiligence.REQUIRED_ITEMS}
    )
    return filing_transition(filing_id=filing_id, name="accept", user=approver)


def loan(
    personas, *, bank: str, fund: str, uscc: str, principal: str, pledges: list[dict], **extra
) -> LoanFiling:
    return file_and_accept(
        personas,
        bank=bank,
        fund=fund,
        enterprise_uscc=uscc,
        principal=principal,
        covered_principal=principal,
        pledges=pledges,
        **extra,
    )


def monthly_report(personas, bank: str, filing: LoanFiling, **body) -> None:
    payload = {
        "as_of": "2026-11-30",
        "overdue_principal": "0.00",
        "overdue_interest": "0.00",
        "days_overdue": 0,
        "risk_class": "normal",
        **body,
    }
    response = personas.client(bank).post(
        f"/api/v1/filings/{filing.pk}/status-reports/", payload, format="json"
    )
    assert response.status_code == 201, response.json()


def claim_step(personas, who: str, claim_id: int, name: str, **body) -> dict:
    body.setdefault("comment", "同意")
    response = personas.client(who).post(
        f"/api/v1/claims/{claim_id}/transitions/{name}/", body, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()


@dataclass
class Dataset:
    l1: LoanFiling
    l2: LoanFiling
    l3: LoanFiling
    l4: LoanFiling
    l5: LoanFiling
    new_enterprise: Enterprise
    claim: Claim


def build_dataset(personas, business_date, *, until: str = "2026-12-15") -> Dataset:
    """Build the data set up to the business date `until` (the last step is 2026-12-15)."""
    business_date("2026-09-15")
    l1 = loan(
        personas,
        bank="bank_a",
        fund="zhaoqing",
        uscc=XINGHE,
        principal="500000.00",
        pledges=[pledge("utility_model", "201825847362.X", "2026-09-08")],
        disbursed_on="2026-09-10",
        matures_on="2027-09-09",
    )

    business_date("2026-11-21")
    body = application_body()
    assert personas.client("bank_a").post("/api/v1/enterprises/", body, format="json").status_code == 201
    for who, step in (("officer", "start_review"), ("approver", "admit")):
        r = personas.client(who).post(
            f"/api/v1/enterprises/{body['uscc']}/transitions/{step}/", {"comment": "ok"}, format="json"
        )
        assert r.status_code == 200, r.json()
    l2 = loan(
        personas,
        bank="bank_a",
        fund="zhaoqing",
        uscc=XINGHE,
        principal="1012345.00",
        pledges=[pledge("invention_patent", "201613031399.8"), pledge("trademark", "15217807")],
    )
    l3 = loan(
        personas,
        bank="bank_a",
        fund="zhaoqing",
        uscc=DINGTAI,
        principal="612250.00",
        pledges=[pledge("invention_patent", "201917986905.8")],
    )
    l4 = loan(
        personas,
        bank="bank_b",
        fund="foshan",
        uscc=YUNFAN,
        principal="2000000.00",
        pledges=[pledge("invention_patent", "202110735671.2")],
    )
    IPAsset.objects.create(
        enterprise=Enterprise.objects.get(uscc=MEILAN),
        kind="software_copyright",
        number="2023SR0123456",
        title="美澜智能温控软件",
        owner_name="佛山市顺德区美澜电器科技有限公司",
        expires_on=dt.date(2073, 12, 31),
    )
    l5 = loan(
        personas,
        bank="bank_b",
        fund="foshan",
        uscc=MEILAN,
        principal="12350.00",
        pledges=[pledge("trademark", "13864927"), pledge("software_copyright", "2023SR0123456")],
    )
    if until < "2026-12-01":  # before the bank's November reports and the claim
        business_date(until)
        return Dataset(l1, l2, l3, l4, l5, Enterprise.objects.get(uscc=body["uscc"]), None)

    business_date("2026-12-01")
    monthly_report(personas, "bank_a", l2, outstanding_principal="1000000.00")
    monthly_report(
        personas, "bank_a", l3, outstanding_principal="612250.00", days_overdue=10, risk_class="substandard"
    )
    monthly_report(
        personas, "bank_b", l4, outstanding_principal="2000000.00", days_overdue=14, risk_class="loss"
    )
    response = personas.client("bank_b").post(
        "/api/v1/claims/",
        {
            "filing": l4.pk,
            "trigger_date": "2026-11-30",
            "outstanding_principal": "2000000.00",
            "recovered_before_claim": "0.00",
            "legal_action": None,
            "notes": "借款人停产",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    claim_id = response.json()["id"]
    assert response.json()["claimable_amount"] == "1200000.00"  # 2,000,000 × 60 %
    claim_step(personas, "officer", claim_id, "start_review")
    claim_step(personas, "approver", claim_id, "recommend")
    claim_step(personas, "committee", claim_id, "start_committee_review")
    business_date("2026-12-02")  # the committee decides the next business day
    claim_step(
        personas,
        "committee",
        claim_id,
        "approve",
        meeting_ref="佛决〔2026〕12号",
        approved_amount="1000000.00",
    )

    business_date("2026-12-03")
    assert claim_step(personas, "finance", claim_id, "pay")["paid_on"] == "2026-12-03"

    business_date("2026-12-10")
    recovery = personas.client("bank_b").post(
        f"/api/v1/claims/{claim_id}/recoveries/",
        {"received_on": "2026-12-09", "gross_amount": "110000.00", "costs": "10000.00", "source": "borrower"},
        format="json",
    )
    assert recovery.status_code == 201, recovery.json()
    assert recovery.json()["fund_amount"] == "50000.00"

    business_date("2026-12-15")
    done = personas.client("finance").post(
        f"/api/v1/recoveries/{recovery.json()['id']}/transitions/confirm_returned/", {}, format="json"
    )
    assert done.status_code == 200, done.json()
    business_date(until)
    return Dataset(
        l1, l2, l3, l4, l5, Enterprise.objects.get(uscc=body["uscc"]), Claim.objects.get(pk=claim_id)
    )


def staff_user(username: str = "officer") -> User:
    return User.objects.get(username=username)
