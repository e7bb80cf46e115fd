"""seed_scale: generated province data, on the test database at a tiny scale."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Sum

from banks.models import CooperationAgreement
from enterprises.models import Enterprise, IPAsset
from fundmgr.ground.funds.models import Fund, LedgerEntry, PolicyVersion
from fundmgr.top.demo.scale import CITIES, spare_borrower
from loans.models import (
    LIVE_LOAN_STATUSES,
    Claim,
    FundBook,
    LoanFiling,
    Pledge,
    ReferenceCounter,
)
from tests.factories import make_filing

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 21)


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_scale", "--scale=0.002", f"--date={TODAY}", *args, stdout=out)
    return out.getvalue()


def test_a_small_province_has_the_shape_of_the_big_one():
    output = seed()

    # 4 demo funds (loaded first: the database was empty) and the other 17 cities, each with a policy
    assert Fund.objects.count() == 4 + len(CITIES) == 21
    assert not Fund.objects.filter(policy_versions__isnull=True).exists()
    assert PolicyVersion.objects.filter(fund__code="guangzhou").count() == 1
    assert not Fund.objects.annotate(n=Count("agreements")).filter(n=0).exists()  # every fund has lenders

    # 40 admitted enterprises with their rights, plus the spare borrower with none
    assert Enterprise.objects.filter(name__contains="科创测试").count() == 41
    spare = spare_borrower()
    assert spare.status == "admitted" and spare.fund == Fund.objects.order_by("id").first()
    assert not spare.filings.exists() and not spare.ip_assets.exists()

    loans = LoanFiling.objects.all()
    assert 120 <= loans.count() <= 280  # 3 to 7 loans per enterprise
    assert set(loans.values_list("status", flat=True)) == {"accepted"}
    assert not loans.filter(accepted_on__gt=TODAY).exists()
    assert not loans.filter(pledges__isnull=True).exists()  # every loan pledges at least one right
    # each pledged right belongs to the borrower, and to one loan only
    assert Pledge.objects.count() == IPAsset.objects.filter(enterprise__name__contains="科创测试").count()
    assert not Pledge.objects.exclude(ip_asset__enterprise_id=F("filing__enterprise_id")).exists()
    assert Pledge.objects.values("ip_asset").distinct().count() == Pledge.objects.count()
    statuses = Counter(loans.values_list("loan_status", flat=True))
    assert statuses["performing"] > statuses["overdue"] + statuses["non_performing"]
    assert not loans.filter(loan_status="settled", settled_on__isnull=True).exists()
    assert (
        not loans.filter(loan_status__in=("settled", "compensated")).exclude(outstanding_principal=0).exists()
    )

    # references numbered per fund and year, as the service numbers them; counters carry on from there
    for counter in ReferenceCounter.objects.select_related("fund"):
        prefix = f"{counter.fund.reference_prefix}-{counter.year}-"
        assert loans.filter(reference__startswith=prefix).count() == counter.last
    # troubled loans have their last three month-end reports
    for loan in loans.filter(loan_status__in=("overdue", "non_performing")):
        assert loan.status_reports.filter(as_of__lte=TODAY).count() == 3
    # a compensated loan has a paid claim, and the fund's ledger paid it
    for claim in Claim.objects.filter(status="paid"):
        assert claim.filing.loan_status == "compensated"
        assert LedgerEntry.objects.get(claim=claim).amount == -claim.paid_amount

    # the kept per-fund figures are those of the loans, and no fund is overdrawn or over capacity
    live = loans.filter(loan_status__in=LIVE_LOAN_STATUSES)
    for fund in Fund.objects.all():
        book = FundBook.objects.get(fund=fund)
        fund_live = live.filter(fund=fund)
        assert book.live_loans == fund_live.count()
        assert book.covered_outstanding == (
            fund_live.aggregate(s=Sum("covered_outstanding"))["s"] or Decimal("0.00")
        )
        balance = LedgerEntry.objects.filter(fund=fund).aggregate(s=Sum("amount"))["s"]
        assert balance > 0
        assert book.covered_outstanding <= balance * fund.policy_in_force(TODAY).leverage

    assert "loans" in output and "pledges" in output and "Seeded" in output


def test_refuses_a_database_that_holds_loans(demo):
    fund = Fund.objects.get(code="zhaoqing")
    existing = make_filing(fund=fund)

    with pytest.raises(CommandError, match="already holds 1 loans"):
        seed()
    assert Fund.objects.count() == 4 and LoanFiling.objects.count() == 1  # nothing written

    # --force adds beside test data, and leaves it as it was
    seed("--force")
    assert Fund.objects.count() == 21
    assert LoanFiling.objects.get(pk=existing.pk).reference == existing.reference

    # never twice into the same database, --force or not
    with pytest.raises(CommandError, match="already holds generated province data"):
        seed("--force")


def test_refuses_a_scale_out_of_range():
    with pytest.raises(CommandError, match="--scale"):
        call_command("seed_scale", "--scale=0", stdout=StringIO())
    assert not Fund.objects.exists()
    assert not CooperationAgreement.objects.exists()
