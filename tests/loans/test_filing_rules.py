"""The automatic checks of a loan filing, each triggered through POST /api/v1/filings/.

Every refusal is a 422 problem+json with one error per failed rule (its `code` and `field`),
and nothing is stored. Each rule test changes one thing in the valid `filing_body()` (bank A,
zqrcb, in Zhaoqing, on business date 2026-11-21) and, where the rule has a boundary, files the
value just inside it to show that the refusal comes from that boundary and nothing else.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from banks import services as bank_services
from banks.models import CooperationAgreement, Institution
from banks.services import institution_api_key_issue
from enterprises.models import Enterprise, IPAsset
from fundmgr.ground.funds.models import Fund, PolicyVersion
from fundmgr.ground.funds.services import ledger_entry_record, policy_version_create
from fundmgr.ground.lib import workdays
from loans.models import LoanFiling, Pledge
from tests.factories import filing_body, make_filing, patent_with_check

pytestmark = pytest.mark.django_db

URL = "/api/v1/filings/"
PROBLEM = "application/problem+json"
TODAY = "2026-11-21"

BORROWER = "9144120252133505XP"  # 肇庆星河新材料, admitted in Zhaoqing
PATENT = "201613031399.8"  # its invention patent, expires 2036-06-30
PATENT_2 = "201912754910.4"  # its second invention patent, expires 2039-06-30
UTILITY_2028 = "201825847362.X"  # its utility model, expires 2028-06-30
OTHER_ZQ = "91441202951617540K"  # another admitted Zhaoqing enterprise
OTHER_ZQ_PATENT = "201814411596.8"

# Every rule the 201 response reports (product_not_filed only where the policy asks for it).
RULE_CODES = {
    "fund_not_active",
    "enterprise_not_admitted",
    "institution_not_active",
    "institution_suspended",
    "filing_deadline_passed",
    "term_exceeds_limit",
    "rate_exceeds_limit",
    "covered_principal_invalid",
    "enterprise_exposure_exceeded",
    "fund_capacity_exceeded",
    "ip_kind_not_accepted",
    "ip_not_owned",
    "ip_expired",
    "ip_expires_before_maturity",
    "ip_already_pledged",
    "pledge_not_registered",
}


@pytest.fixture
def today(business_date):
    business_date(TODAY)
    return dt.date.fromisoformat(TODAY)


@pytest.fixture
def bank_a(personas, today):
    return personas.client("bank_a")


def pledge(number: str = PATENT, kind: str = "invention_patent", **overrides) -> dict:
    item = {
        "kind": kind,
        "number": number,
        "registration_no": "Y2026440000123",
        "registered_on": "2026-11-10",
        "appraised_value": "3000000.00",
    }
    item.update(overrides)
    return item


def stored() -> tuple[int, int]:
    return LoanFiling.objects.count(), Pledge.objects.count()


def file_ok(client, body: dict) -> dict:
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def refused(client, body: dict) -> list[dict]:
    """POST a filing that must be refused by the rules; nothing may be stored."""
    before = stored()
    response = client.post(URL, body, format="json")
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["status"] == 422 and problem["code"] == "filing_refused"
    assert stored() == before, "a refused filing stored something"
    return problem["errors"]


def assert_only(errors: list[dict], code: str, field: str) -> dict:
    """Exactly one error, for `code` on `field` (so no other rule fired by accident)."""
    assert [(e["code"], e["field"]) for e in errors] == [(code, field)], errors
    assert errors[0]["message"]
    return errors[0]


def withdraw(client, filing_id: int) -> None:
    response = client.post(f"{URL}{filing_id}/withdraw/", {"comment": "撤回"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"


def zhaoqing() -> Fund:
    return Fund.objects.get(code="zhaoqing")


# --- fund and enterprise ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"status": "expired"}, id="fund-expired"),
        pytest.param({"end_date": dt.date(2026, 11, 20)}, id="fund-life-ended-yesterday"),
    ],
)
def test_fund_not_active(bank_a, change):
    Fund.objects.filter(code="zhaoqing").update(**change)  # status is FSM-protected
    assert_only(refused(bank_a, filing_body()), "fund_not_active", "fund")


def _suspend_borrower() -> tuple[str, list]:
    Enterprise.objects.filter(uscc=BORROWER).update(status="suspended")
    return BORROWER, [pledge()]


def _admission_lapsed() -> tuple[str, list]:
    Enterprise.objects.filter(uscc=BORROWER).update(admitted_until=dt.date(2026, 11, 20))
    return BORROWER, [pledge()]


@pytest.mark.parametrize(
    "arrange",
    [
        # The Shaoguan applicant (still `submitted`, and in another fund), with its own right.
        pytest.param(
            lambda: ("91440205644436061W", [pledge("202026018116.7", kind="utility_model")]),
            id="shaoguan-applicant",
        ),
        # A Foshan enterprise admitted in Foshan is not admitted in Zhaoqing.
        pytest.param(lambda: ("91440605453878334M", [pledge("202110735671.2")]), id="other-fund"),
        pytest.param(_suspend_borrower, id="zhaoqing-enterprise-suspended"),
        pytest.param(_admission_lapsed, id="admission-lapsed-yesterday"),
    ],
)
def test_enterprise_not_admitted(bank_a, arrange):
    uscc, pledges = arrange()
    errors = refused(bank_a, filing_body(enterprise_uscc=uscc, pledges=pledges))
    assert_only(errors, "enterprise_not_admitted", "enterprise_uscc")


def test_enterprise_admitted_until_today_may_still_file(bank_a):
    Enterprise.objects.filter(uscc=BORROWER).update(admitted_until=dt.date(2026, 11, 21))
    file_ok(bank_a, filing_body())


# --- the institution and its agreement ----------------------------------------------------


@pytest.mark.parametrize("status", ["terminated", "under_review", "applied"])
def test_institution_not_active(bank_a, status):
    Institution.objects.filter(code="zqrcb").update(status=status)  # FSM-protected field
    assert_only(refused(bank_a, filing_body()), "institution_not_active", "fund")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"valid_until": dt.date(2026, 11, 20)}, id="agreement-ended-yesterday"),
        pytest.param({"valid_from": dt.date(2026, 12, 1)}, id="agreement-not-yet-started"),
    ],
)
def test_institution_without_an_agreement_in_force_is_not_active(bank_a, change):
    CooperationAgreement.objects.filter(institution__code="zqrcb", fund__code="zhaoqing").update(**change)
    assert_only(refused(bank_a, filing_body()), "institution_not_active", "fund")


def test_agreement_ending_today_is_still_in_force(bank_a):
    CooperationAgreement.objects.filter(institution__code="zqrcb").update(valid_until=dt.date(2026, 11, 21))
    file_ok(bank_a, filing_body())


def test_institution_suspended(bank_a):
    Institution.objects.filter(code="zqrcb").update(status="suspended")
    assert_only(refused(bank_a, filing_body()), "institution_suspended", "fund")


def test_filings_suspended_in_the_fund_by_the_agreement(bank_a, today):
    agreement = CooperationAgreement.objects.get(institution__code="zqrcb", fund__code="zhaoqing")
    assert bank_services.agreement_suspend_filings(agreement_id=agreement.pk, reason="不良率超过5%", on=today)
    error = assert_only(refused(bank_a, filing_body()), "institution_suspended", "fund")
    assert "不良率超过5%" in error["message"]  # the bank is told why


# --- product filing -------------------------------------------------------------------------


def _require_product_filing(today: dt.date) -> None:
    """A new policy version, in force today, that asks for a filed product. Created before any
    filing exists in the fund (the service refuses backdating past filings)."""
    current = zhaoqing().policy_in_force(today)
    skip = {"id", "fund", "effective_from", "created_by", "created_at", "document_ref"}
    values = {
        f.name: getattr(current, f.name)
        for f in PolicyVersion._meta.concrete_fields
        if f.name not in skip and not f.auto_created
    }
    values["requires_product_filing"] = True
    policy_version_create(fund=zhaoqing(), effective_from=today, **values)


def _product(personas, status: str) -> str:
    officer = personas.user("officer")
    product = bank_services.product_submit(
        institution=Institution.objects.get(code="zqrcb"),
        fund=zhaoqing(),
        data={"code": "zq-ip-loan", "name": "知识产权质押贷", "accepted_ip_kinds": ["invention_patent"]},
        by=officer,
    )
    if status in ("filed", "withdrawn"):
        bank_services.product_file(product_id=product.pk, by=officer)
    if status == "withdrawn":
        bank_services.product_withdraw(product_id=product.pk, by=officer)
    return product.code


@pytest.mark.parametrize("product_status", [None, "submitted", "withdrawn"])
def test_product_not_filed(personas, bank_a, today, product_status):
    _require_product_filing(today)
    body = filing_body()
    if product_status is not None:
        body["product"] = _product(personas, product_status)
    assert_only(refused(bank_a, body), "product_not_filed", "product")


def test_a_filed_product_passes_when_the_policy_requires_one(personas, bank_a, today):
    _require_product_filing(today)
    body = file_ok(bank_a, filing_body(product=_product(personas, "filed")))
    assert body["product"] == "zq-ip-loan"
    checks = {c["code"]: c["passed"] for c in body["checks"]}
    assert checks["product_not_filed"] is True


def test_without_the_policy_requirement_no_product_check_is_listed(bank_a):
    body = file_ok(bank_a, filing_body())
    assert "product_not_filed" not in {c["code"] for c in body["checks"]}


# --- deadline, term, rate ---------------------------------------------------------------------


def test_filing_deadline_counts_prc_working_days():
    # Disbursed Fri 2026-09-25 (Mid-Autumn Festival, itself a day off). Ten working days after:
    # Sep 28, 29, 30 (3) · Oct 1–7 National Day off · Oct 8, 9 (5) · Sat Oct 10 make-up working
    # day (6) · Oct 12, 13, 14, 15 (10). Sun Sep 20 is also a make-up day but lies before.
    assert workdays.is_working_day(dt.date(2026, 9, 20)) and workdays.is_working_day(dt.date(2026, 10, 10))
    assert not workdays.is_working_day(dt.date(2026, 10, 7))
    assert workdays.add_working_days(dt.date(2026, 9, 25), 10) == dt.date(2026, 10, 15)


def _late_filing(business_date, filed_on: str) -> dict:
    business_date(filed_on)
    return filing_body(
        disbursed_on="2026-09-25",
        matures_on="2027-09-24",
        pledges=[pledge(registered_on="2026-09-25")],
    )


def test_filing_on_the_deadline_day_passes(personas, business_date):
    # Without the National Day holiday the deadline would be 2026-10-09: this proves it counts.
    body = file_ok(personas.client("bank_a"), _late_filing(business_date, "2026-10-15"))
    assert body["submitted_on"] == "2026-10-15"


@pytest.mark.parametrize("filed_on", ["2026-10-16", "2026-10-19"])
def test_filing_after_the_deadline_is_refused(personas, business_date, filed_on):
    # 2026-10-16 is the next working day: had the make-up Saturday Oct 10 not counted, it
    # would still be inside the deadline.
    errors = refused(personas.client("bank_a"), _late_filing(business_date, filed_on))
    error = assert_only(errors, "filing_deadline_passed", "disbursed_on")
    assert "2026-10-15" in error["message"]


@pytest.mark.parametrize(
    ("matures_on", "ok"),
    [
        ("2029-11-16", True),  # exactly 36 months after 2026-11-16
        ("2029-11-17", False),  # one day more
        ("2029-12-16", False),  # 37 months
    ],
)
def test_term_limit(bank_a, matures_on, ok):
    body = filing_body(matures_on=matures_on)
    if ok:
        assert file_ok(bank_a, body)["matures_on"] == matures_on
    else:
        error = assert_only(refused(bank_a, body), "term_exceeds_limit", "matures_on")
        assert "36" in error["message"]


@pytest.mark.parametrize(("rate", "ok"), [("6.0000", True), ("6", True), ("6.0001", False), ("7.5", False)])
def test_rate_limit(bank_a, rate, ok):
    body = filing_body(annual_rate=rate)
    if ok:
        assert file_ok(bank_a, body)["annual_rate"] == "6.0000"
    else:
        assert_only(refused(bank_a, body), "rate_exceeds_limit", "annual_rate")


# --- exposure and capacity ------------------------------------------------------------------


@pytest.mark.parametrize(("principal", "ok"), [("2000000.00", True), ("2000000.01", False)])
def test_enterprise_exposure_counts_live_filings(bank_a, principal, ok):
    file_ok(bank_a, filing_body(principal="3000000.00", covered_principal="3000000.00"))
    body = filing_body(principal=principal, covered_principal=principal, pledges=[pledge(PATENT_2)])
    if ok:
        file_ok(bank_a, body)
    else:
        error = assert_only(refused(bank_a, body), "enterprise_exposure_exceeded", "principal")
        assert "5,000,000.01" in error["message"] and "5,000,000.00" in error["message"]


def test_a_withdrawn_filing_no_longer_counts_against_exposure(bank_a):
    first = file_ok(bank_a, filing_body(principal="3000000.00", covered_principal="3000000.00"))
    full = filing_body(principal="5000000.00", covered_principal="5000000.00", pledges=[pledge(PATENT_2)])
    assert_only(refused(bank_a, full), "enterprise_exposure_exceeded", "principal")
    withdraw(bank_a, first["id"])
    file_ok(bank_a, full)


@pytest.mark.parametrize(
    ("loan_status", "counted"),
    [("performing", Decimal("1000000.00")), ("non_performing", Decimal("1000000.00")), ("settled", 0)],
)
def test_accepted_loans_count_at_their_outstanding_balance(bank_a, loan_status, counted):
    # 4,000,000 lent, 1,000,000 still outstanding; a settled loan no longer counts.
    make_filing(
        fund=zhaoqing(),
        institution=Institution.objects.get(code="ccb-zhaoqing"),
        enterprise=Enterprise.objects.get(uscc=BORROWER),
        principal=Decimal("4000000.00"),
        outstanding=Decimal("1000000.00"),
        loan_status=loan_status,
    )
    room = Decimal("5000000.00") - counted
    over = f"{room + Decimal('0.01'):.2f}"
    assert_only(
        refused(bank_a, filing_body(principal=over, covered_principal=over)),
        "enterprise_exposure_exceeded",
        "principal",
    )
    file_ok(bank_a, filing_body(principal=f"{room:.2f}", covered_principal=f"{room:.2f}"))


@pytest.mark.parametrize(("principal", "ok"), [("1000000.00", True), ("1000000.01", False)])
def test_fund_capacity_after_a_capital_refund(bank_a, principal, ok):
    # Capital 5,000,000 − refund 4,900,000 = 100,000 × leverage 10 → capacity 1,000,000.
    ledger_entry_record(fund=zhaoqing(), entry_type="refund", amount=Decimal("4900000.00"))
    body = filing_body(principal=principal, covered_principal=principal)
    if ok:
        file_ok(bank_a, body)
    else:
        error = assert_only(refused(bank_a, body), "fund_capacity_exceeded", "covered_principal")
        assert "1,000,000.00" in error["message"]


def _fill_capacity(outstanding: str) -> None:
    """Accepted loans of another enterprise take up part of the 50,000,000 capacity."""
    make_filing(
        fund=zhaoqing(),
        institution=Institution.objects.get(code="ccb-zhaoqing"),
        enterprise=Enterprise.objects.get(uscc=OTHER_ZQ),
        principal=Decimal(outstanding),
    )


@pytest.mark.parametrize(("principal", "ok"), [("500000.00", True), ("500000.01", False)])
def test_fund_capacity_counts_accepted_covered_loans(bank_a, principal, ok):
    _fill_capacity("49500000.00")
    body = filing_body(principal=principal, covered_principal=principal)
    if ok:
        file_ok(bank_a, body)
    else:
        assert_only(refused(bank_a, body), "fund_capacity_exceeded", "covered_principal")


def test_fund_capacity_counts_only_the_ip_covered_part_of_a_combined_pledge(bank_a):
    _fill_capacity("49500000.00")
    body = filing_body(principal="2000000.00", pledge_type="combined", covered_principal="500000.00")
    assert file_ok(bank_a, body)["covered_principal"] == "500000.00"


# --- the pledged rights -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(OTHER_ZQ_PATENT, id="another-enterprises-patent"),
        pytest.param(patent_with_check("202210000001"), id="patent-not-in-any-portfolio"),
    ],
)
def test_ip_not_owned(bank_a, number):
    assert_only(refused(bank_a, filing_body(pledges=[pledge(number)])), "ip_not_owned", "pledges[0].number")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"status": "lapsed"}, id="lapsed"),
        pytest.param({"status": "invalidated"}, id="invalidated"),
        pytest.param({"status": "transferred"}, id="transferred"),
        pytest.param({"expires_on": dt.date(2026, 11, 1)}, id="expired-in-the-past"),
        pytest.param({"expires_on": dt.date(2026, 11, 21)}, id="expires-today"),
    ],
)
def test_ip_expired(bank_a, change):
    IPAsset.objects.filter(kind="invention_patent", number=PATENT).update(**change)
    # An expired right is reported as expired only, not also as expiring before maturity.
    assert_only(refused(bank_a, filing_body()), "ip_expired", "pledges[0].number")


@pytest.mark.parametrize(("matures_on", "ok"), [("2028-06-30", True), ("2028-07-01", False)])
def test_ip_expires_before_maturity(bank_a, matures_on, ok):
    # The utility model expires 2028-06-30: a loan may mature that day, not after.
    body = filing_body(matures_on=matures_on, pledges=[pledge(UTILITY_2028, kind="utility_model")])
    if ok:
        file_ok(bank_a, body)
    else:
        error = assert_only(refused(bank_a, body), "ip_expires_before_maturity", "pledges[0].number")
        assert "2028-06-30" in error["message"]


def test_ip_already_pledged_until_that_filing_is_withdrawn(bank_a):
    first = file_ok(bank_a, filing_body())
    second = filing_body(pledges=[pledge(PATENT_2), pledge(PATENT)])
    error = assert_only(refused(bank_a, second), "ip_already_pledged", "pledges[1].number")
    assert first["reference"] in error["message"]  # the bank is told which filing holds it
    withdraw(bank_a, first["id"])
    body = file_ok(bank_a, second)
    assert {p["number"] for p in body["pledges"]} == {PATENT, PATENT_2}


def test_ip_pledged_by_another_bank_is_already_pledged(personas, bank_a):
    # The same patent in a live filing of another bank (ccb-zhaoqing) counts too.
    _, raw = institution_api_key_issue(institution_code="ccb-zhaoqing")
    ccb = APIClient()
    ccb.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    file_ok(ccb, filing_body())
    assert_only(refused(bank_a, filing_body()), "ip_already_pledged", "pledges[0].number")


@pytest.mark.parametrize(
    ("kind", "number"),
    [("copyright", "国作登字-2021-F-00123456"), ("software_copyright", "2021SR0123456")],
)
def test_ip_kind_not_accepted(bank_a, kind, number):
    # Zhaoqing accepts invention/utility/design patents and trademarks only.
    IPAsset.objects.create(
        enterprise=Enterprise.objects.get(uscc=BORROWER),
        kind=kind,
        number=number,
        title="软件作品",
        expires_on=dt.date(2071, 12, 31),
    )
    errors = refused(bank_a, filing_body(pledges=[pledge(number, kind=kind)]))
    assert_only(errors, "ip_kind_not_accepted", "pledges[0].kind")


def test_the_same_kind_is_accepted_where_the_fund_takes_it(personas, today):
    # Foshan accepts software copyright: the refusal above is the fund's list, not the kind.
    IPAsset.objects.create(
        enterprise=Enterprise.objects.get(uscc="91440605453878334M"),
        kind="software_copyright",
        number="2021SR0654321",
        title="软件作品",
        expires_on=dt.date(2071, 12, 31),
    )
    body = filing_body(
        fund="foshan",
        enterprise_uscc="91440605453878334M",
        contract_no="ICBC-FS-0001",
        pledges=[pledge("2021SR0654321", kind="software_copyright")],
    )
    file_ok(personas.client("bank_b"), body)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"registration_no": ""}, id="blank"),
        pytest.param({"registration_no": "ABC-123"}, id="malformed"),
        pytest.param({"registration_no": "Y20264400001"}, id="too-short"),
        pytest.param({"registered_on": "2026-11-22"}, id="registered-tomorrow"),
        pytest.param({"registered_on": None}, id="no-registration-date"),
    ],
)
def test_pledge_not_registered(bank_a, change):
    errors = refused(bank_a, filing_body(pledges=[pledge(**change)]))
    assert_only(errors, "pledge_not_registered", "pledges[0].registration_no")


def test_pledge_registered_today_with_lowercase_prefix_passes(bank_a):
    body = file_ok(
        bank_a, filing_body(pledges=[pledge(registration_no="y2026440000123", registered_on=TODAY)])
    )
    assert body["pledges"][0]["registration_no"] == "Y2026440000123"


# --- covered principal --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "terms",
    [
        pytest.param({"pledge_type": "ip_only", "covered_principal": "900000.00"}, id="ip-only-covers-less"),
        pytest.param({"pledge_type": "combined", "covered_principal": None}, id="combined-null"),
        pytest.param({"pledge_type": "combined", "covered_principal": "1000000.01"}, id="combined-over"),
        pytest.param({"pledge_type": "combined", "covered_principal": "0.00"}, id="combined-zero"),
    ],
)
def test_covered_principal_invalid(bank_a, terms):
    errors = refused(bank_a, filing_body(**terms))
    assert_only(errors, "covered_principal_invalid", "covered_principal")


def test_combined_without_covered_principal_is_refused(bank_a):
    body = filing_body(pledge_type="combined")
    del body["covered_principal"]
    assert_only(refused(bank_a, body), "covered_principal_invalid", "covered_principal")


def test_valid_combined_and_ip_only_without_covered(bank_a):
    combined = file_ok(bank_a, filing_body(pledge_type="combined", covered_principal="600000.00"))
    assert (combined["pledge_type"], combined["covered_principal"]) == ("combined", "600000.00")
    body = filing_body(pledges=[pledge(PATENT_2)])
    del body["covered_principal"]
    assert file_ok(bank_a, body)["covered_principal"] == "1000000.00"  # ip_only covers it all


def _shantou_client(personas):
    _, raw = institution_api_key_issue(institution_code="boc-shantou")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def _shantou_body(**overrides) -> dict:
    # The Shantou enterprise's design patent expires 2028-06-30.
    return filing_body(
        fund="shantou",
        enterprise_uscc="914405155976498219",
        contract_no="BOC-ST-0001",
        pledges=[pledge("201830555042.0", kind="design_patent")],
        **overrides,
    )


def test_combined_pledge_refused_where_the_fund_does_not_allow_it(personas, today):
    client = _shantou_client(personas)
    errors = refused(client, _shantou_body(pledge_type="combined", covered_principal="600000.00"))
    assert_only(errors, "covered_principal_invalid", "covered_principal")
    file_ok(client, _shantou_body())  # the same loan as a pure IP pledge is fine


# --- several rules at once ------------------------------------------------------------------------


def test_several_failed_rules_give_one_error_each(bank_a):
    body = filing_body(
        annual_rate="6.5000",
        matures_on="2030-01-31",
        covered_principal="900000.00",
        pledges=[pledge(registration_no="bogus"), pledge(OTHER_ZQ_PATENT)],
    )
    errors = refused(bank_a, body)
    assert sorted((e["code"], e["field"]) for e in errors) == sorted(
        [
            ("rate_exceeds_limit", "annual_rate"),
            ("term_exceeds_limit", "matures_on"),
            ("covered_principal_invalid", "covered_principal"),
            ("pledge_not_registered", "pledges[0].registration_no"),
            ("ip_not_owned", "pledges[1].number"),
        ]
    )
    assert all(e["message"] for e in errors)


def test_every_rule_is_reported_as_passed_on_success(bank_a):
    body = file_ok(bank_a, filing_body())
    assert {c["code"] for c in body["checks"]} == RULE_CODES
    assert all(c["passed"] is True and c["message"] for c in body["checks"])
