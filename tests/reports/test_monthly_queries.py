"""The monthly job reads and writes in a fixed number of queries, whatever the number of funds,
banks and loans it reports on (it made ~2,200 at province scale when it went fund by fund)."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import zipfile
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from banks.models import CooperationAgreement, Institution
from enterprises.models import Enterprise, IPAsset
from fundmgr.ground.accounts.models import Organization
from fundmgr.ground.funds.models import Fund, LedgerEntry, PolicyVersion
from fundmgr.top.reports import services
from fundmgr.top.reports.models import StoredReport
from loans.models import LoanFiling, Pledge, StatusReport
from tests.factories import make_filing, patent_with_check, uscc_with_check

pytestmark = pytest.mark.django_db

START = dt.date(2021, 1, 1)
_n = itertools.count(1)


def add_fund(code: str, prefix: str, region: str, *, banks: int, loans_per_bank: int) -> Fund:
    """A city fund like the demo's, its banks, one borrower and accepted loans (some reported on)."""
    fund = Fund.objects.create(
        code=code,
        name=f"{code}知识产权质押融资风险补偿资金",
        reference_prefix=prefix,
        region_code=region,
        manager=Organization.objects.get(code="gdee"),
        start_date=START,
        status=Fund.Status.ACTIVE,
    )
    policy = PolicyVersion.objects.filter(fund__code="zhaoqing").first()
    policy.pk, policy._state.adding, policy.fund, policy.effective_from = None, True, fund, START
    policy.save()
    LedgerEntry.objects.create(
        fund=fund,
        entry_type="contribution",
        government_level="city",
        amount=Decimal("9000000.00"),
        value_date=START,
    )
    borrower = Enterprise.objects.create(
        uscc=uscc_with_check(f"91{region[:4]}02MA{next(_n):07d}"),
        name=f"{code}测试科技有限公司",
        fund=fund,
        region_code=f"{region[:4]}02",
        industry_code="C3985",
        registered_on=dt.date(2015, 1, 1),
        status="admitted",
        admitted_on=dt.date(2025, 1, 1),
    )
    for b in range(banks):
        bank = Institution.objects.create(code=f"{code}-bank-{b}", name=f"{code}银行{b}", status="active")
        CooperationAgreement.objects.create(
            institution=bank, fund=fund, fund_share=50, bank_share=50, signed_on=START, valid_from=START
        )
        add_loans(fund, bank, borrower, loans_per_bank)
    return fund


def add_loans(fund: Fund, bank: Institution, borrower: Enterprise, count: int) -> None:
    for i in range(count):
        loan = make_filing(fund=fund, institution=bank, enterprise=borrower)
        accepted = dt.date(2026, 10, 5) if i % 2 else dt.date(2026, 6, 3)  # in the month, and before it
        LoanFiling.objects.filter(pk=loan.pk).update(accepted_on=accepted, submitted_on=accepted)
        n = next(_n)
        right = IPAsset.objects.create(
            enterprise=borrower,
            kind="invention_patent",
            number=patent_with_check(f"20201{n:07d}"),
            title=f"专利{n}",
            expires_on=dt.date(2040, 1, 1),
        )
        Pledge.objects.create(
            filing=loan, ip_asset=right, registration_no=f"Y2026440{n:06d}", registered_on=accepted
        )
        if i % 3 == 0:  # a month-end report: overdue
            StatusReport.objects.create(
                filing=loan,
                as_of=dt.date(2026, 10, 31),
                outstanding_principal=loan.outstanding_principal,
                overdue_principal=Decimal("1000.00"),
                overdue_interest=Decimal("0.00"),
                days_overdue=35,
                risk_class="special_mention",
                loan_status_after="overdue",
            )


def monthly_job() -> tuple[int, int]:
    """(reports stored, queries) of one run of the job for October, on a clean slate."""
    StoredReport.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        stored = services.monthly_reports_generate_all(year=2026, month=10)
    assert StoredReport.objects.count() == stored
    return stored, len(queries.captured_queries)


def test_the_monthly_job_queries_do_not_grow_with_funds_banks_or_loans(demo):
    add_fund("alpha", "AL", "440100", banks=1, loans_per_bank=1)
    small_reports, small_queries = monthly_job()
    assert small_reports == 4 + 7 + 1 + 1  # the demo's funds and statements, alpha's

    for code, prefix, region in (
        ("beta", "BE", "440300"),
        ("gamma", "GA", "440400"),
        ("delta", "DE", "440700"),
    ):
        add_fund(code, prefix, region, banks=3, loans_per_bank=4)
    add_loans(
        Fund.objects.get(code="alpha"),
        Institution.objects.get(code="alpha-bank-0"),
        Enterprise.objects.get(name="alpha测试科技有限公司"),
        6,
    )
    large_reports, large_queries = monthly_job()
    assert large_reports == small_reports + 3 * (1 + 3)

    assert large_queries == small_queries
    # what was stored lists every loan of the bank
    statement = StoredReport.objects.get(kind="monthly_institution", institution__code="alpha-bank-0")
    assert len(statement.data["loans"]) == 7


def test_one_funds_reports_take_as_many_queries_as_all_funds(demo):
    """monthly_report_generate (staff, one fund) goes the same way: no query per bank."""
    fund = add_fund("alpha", "AL", "440100", banks=1, loans_per_bank=1)
    with CaptureQueriesContext(connection) as one_bank:
        services.monthly_report_generate(fund=fund, year=2026, month=10)
    wide = add_fund("beta", "BE", "440300", banks=4, loans_per_bank=2)
    with CaptureQueriesContext(connection) as four_banks:
        reports = services.monthly_report_generate(fund=wide, year=2026, month=10)
    assert [r.institution_id is None for r in reports] == [True, False, False, False, False]
    assert len(four_banks.captured_queries) == len(one_bank.captured_queries)
    # a second run finds them stored: one read, nothing written
    with CaptureQueriesContext(connection) as again:
        assert [r.pk for r in services.monthly_report_generate(fund=wide, year=2026, month=10)] == [
            r.pk for r in reports
        ]
    assert len(again.captured_queries) <= 3


def stored_reports() -> dict:
    """What the job stored, without the moment it ran: figures and every part of the workbook."""
    out = {}
    for r in StoredReport.objects.all():
        parts = zipfile.ZipFile(io.BytesIO(services.stored_report_workbook(report=r)))
        out[r.kind, r.fund_id, r.institution_id] = (
            {k: v for k, v in r.data.items() if k != "generated_at"},
            {name: parts.read(name) for name in parts.namelist() if name != "docProps/core.xml"},
        )
    return out


def test_funds_taken_in_groups_store_the_same_reports(demo, monkeypatch):
    """At province scale the job takes the funds a few at a time and writes as it goes (memory):
    the reports are the same as when everything fits at once."""
    add_fund("alpha", "AL", "440100", banks=2, loans_per_bank=3)
    add_fund("beta", "BE", "440300", banks=1, loans_per_bank=2)
    _, at_once = monthly_job()
    expected = stored_reports()

    monkeypatch.setattr(services, "MONTHLY_BOOK_BUDGET", 1)  # each fund a group of its own
    monkeypatch.setattr(services, "MONTHLY_STORE_BUDGET", 1)  # written after each fund
    _, in_groups = monthly_job()
    assert stored_reports() == expected
    assert in_groups > at_once
