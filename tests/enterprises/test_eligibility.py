"""Every eligibility rule code (domain-rules §3.1), triggered through the real evaluation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from enterprises import rules
from enterprises.models import Enterprise, IPAsset
from enterprises.selectors import enterprise_eligibility

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)


@pytest.fixture
def enterprise(demo) -> Enterprise:
    return Enterprise.objects.get(uscc="9144120252133505XP")  # admitted, Zhaoqing, clean


def codes(e: Enterprise) -> dict[str, str]:
    return {
        f.code: f.status for f in enterprise_eligibility(Enterprise.objects.get(pk=e.pk), on=TODAY).findings
    }


def update(e: Enterprise, **fields) -> None:
    Enterprise.objects.filter(pk=e.pk).update(**fields)


def test_demo_enterprise_passes_every_check(enterprise):
    result = enterprise_eligibility(enterprise, on=TODAY)
    assert result.eligible and not result.open
    assert {f.code for f in result.findings} == {
        "registered_in_city",
        "registration_age_ok",
        "legal_person_ok",
        "sme_ok",
        "credit_ok",
        "ip_ok",
    }


def test_not_registered_in_city(enterprise):
    update(enterprise, region_code="440604")  # Foshan Chancheng
    assert codes(enterprise)["not_registered_in_city"] == "failed"


def test_registered_too_recently_at_the_boundary(enterprise):
    update(enterprise, registered_on=dt.date(2025, 11, 22))
    assert codes(enterprise)["registered_too_recently"] == "failed"
    update(enterprise, registered_on=dt.date(2025, 11, 21))  # exactly one year
    assert codes(enterprise)["registration_age_ok"] == "passed"


def test_not_legal_person(enterprise):
    assert rules.check_legal_person(uscc="92441202MA00000000", required=True).code == "not_legal_person"
    assert rules.check_legal_person(uscc="92441202MA00000000", required=False).status == "passed"


def test_large_enterprise_is_not_sme(enterprise):
    update(enterprise, employees=1500, annual_revenue=Decimal("500000000.00"))  # industry: ≥1000 and ≥40000万
    assert codes(enterprise)["not_sme"] == "failed"


def test_missing_size_figures_are_an_open_finding(enterprise):
    update(enterprise, employees=None)
    assert codes(enterprise)["sme_figures_missing"] == "open"


def test_credit_unclean_fails_and_unknown_is_open(enterprise):
    update(enterprise, credit_record_clean=False)
    assert codes(enterprise)["credit_record_unclean"] == "failed"
    update(enterprise, credit_record_clean=None, credit_report_date=None)
    assert codes(enterprise)["credit_record_unknown"] == "open"
    update(enterprise, credit_record_clean=True, credit_report_date=dt.date(2026, 12, 1))
    assert codes(enterprise)["credit_report_date_invalid"] == "failed"


def test_no_eligible_ip(enterprise):
    IPAsset.objects.filter(enterprise=enterprise, kind__in=["invention_patent", "utility_model"]).update(
        status="lapsed"
    )
    IPAsset.objects.filter(enterprise=enterprise, kind="trademark").update(expires_on=TODAY)
    assert codes(enterprise)["no_eligible_ip"] == "failed"


def test_ip_of_a_kind_the_fund_does_not_accept_does_not_count(demo):
    # Zhaoqing does not accept software copyright.
    finding = rules.check_ip(
        assets=[rules.IPFacts("software_copyright", "valid", dt.date(2030, 1, 1))],
        accepted_kinds=["invention_patent", "trademark"],
        today=TODAY,
    )
    assert finding.code == "no_eligible_ip"
