"""seed_demo loads the shared demo data and is idempotent. (Its history, the loans, claims and
reports replayed through the services, is tested in tests/demo/test_history.py; here
`--no-history` keeps to the static data.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from banks.models import CooperationAgreement, Institution
from enterprises.models import Enterprise, IPAsset
from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import Fund, LedgerEntry, PolicyVersion
from fundmgr.top.demo.history import EARLIEST_END, build_history, history_present
from loans.models import LoanFiling

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    return {
        "funds": sorted(Fund.objects.values_list("code", "status", "start_date", "reference_prefix")),
        "policies": sorted(
            PolicyVersion.objects.values_list("fund__code", "effective_from", "max_fund_share", "leverage")
        ),
        "ledger": sorted(
            LedgerEntry.objects.values_list(
                "fund__code", "entry_type", "government_level", "amount", "value_date"
            )
        ),
        "institutions": sorted(Institution.objects.values_list("code", "kind", "status")),
        "agreements": sorted(
            CooperationAgreement.objects.values_list(
                "institution__code", "fund__code", "fund_share", "bank_share"
            )
        ),
        "enterprises": sorted(
            Enterprise.objects.values_list("uscc", "status", "size_class", "admitted_until")
        ),
        "ip": sorted(IPAsset.objects.values_list("kind", "number", "enterprise__uscc")),
        "users": sorted(User.objects.values_list("username", "role", "is_staff")),
    }


def test_seed_twice_gives_the_same_data():
    out = StringIO()
    call_command("seed_demo", "--no-history", stdout=out)
    first = snapshot()
    call_command("seed_demo", "--no-history", stdout=out)
    assert snapshot() == first
    assert "nothing new" in out.getvalue()


def test_seed_content_matches_the_shared_demo_file():
    call_command("seed_demo", "--no-history", stdout=StringIO())
    assert Fund.objects.count() == 4
    assert Institution.objects.count() == 8
    assert CooperationAgreement.objects.count() == 7
    assert Enterprise.objects.count() == 12
    assert Enterprise.objects.filter(status="admitted").count() == 10
    assert IPAsset.objects.count() == 47
    foshan = Fund.objects.get(code="foshan")
    by_level = {
        level: sum(e.amount for e in LedgerEntry.objects.filter(fund=foshan, government_level=level))
        for level in ("province", "city", "district", "town")
    }
    assert by_level == {
        "province": Decimal("5000000.00"),
        "city": Decimal("35000000.00"),
        "district": Decimal("17500000.00"),
        "town": Decimal("2500000.00"),
    }
    # every demo enterprise is an SME under the 2011 standard, and admission lasts 36 months
    assert set(Enterprise.objects.values_list("size_class", flat=True)) <= {"medium", "small", "micro"}
    e = Enterprise.objects.get(uscc="9144120252133505XP")
    assert (e.admitted_on.isoformat(), e.admitted_until.isoformat()) == ("2024-12-01", "2027-11-30")
    regulator = User.objects.get(username="gdee-viewer")
    assert regulator.funds.count() == 4 and not regulator.is_staff
    assert User.objects.get(username="officer").check_password("fundmgr-demo-2026")


def test_no_history_before_the_story_can_end():
    call_command("seed_demo", "--no-history", stdout=StringIO())
    assert history_present() == ""
    report = build_history(end=EARLIEST_END - dt.timedelta(days=1))
    assert "too early" in report.skipped
    assert not LoanFiling.objects.exists()


def test_no_history_over_loans_someone_filed(personas):
    from tests.loans.conftest import accept_filing

    filing = accept_filing(personas)
    report = build_history()
    assert report.skipped == "the database already holds 1 loan filings"
    assert list(LoanFiling.objects.values_list("pk", flat=True)) == [filing.pk]
