"""A city's regulator in the admin: signs in with its password, reads its own city's funds,
dashboard, ledger and reports; another city's pages are 404; nothing is writable; the staff
pages are not theirs. Banks' users cannot sign in to the admin at all."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import Fund, LedgerEntry
from fundmgr.top.reports import services as reports

pytestmark = pytest.mark.django_db

PASSWORD = "regulator-pass-2026"


@pytest.fixture
def regulator(personas):
    user = personas.user("regulator_x")
    user.set_password(PASSWORD)
    user.save()
    client = Client()
    response = client.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def test_a_regulator_signs_in_and_sees_only_its_citys_pages(regulator):
    index = regulator.get(reverse("admin:index")).content.decode()
    for model in ("fund", "ledgerentry", "storedreport"):
        assert f"/admin/{'reports' if model == 'storedreport' else 'funds'}/{model}/" in index, model
    for staff_only in (
        "/admin/loans/loanfiling/",
        "/admin/loans/claim/",
        "/admin/enterprises/",
        "/admin/accounts/",
    ):
        assert staff_only not in index, staff_only
    funds = regulator.get(reverse("admin:funds_fund_changelist")).content.decode()
    assert "肇庆" in funds and "佛山" not in funds


def test_another_citys_pages_are_404_and_its_own_are_read_only(regulator):
    zhaoqing, foshan = Fund.objects.get(code="zhaoqing"), Fund.objects.get(code="foshan")
    assert regulator.get(reverse("admin:funds_fund_dashboard", args=["zhaoqing"])).status_code == 200
    assert regulator.get(reverse("admin:funds_fund_dashboard", args=["foshan"])).status_code == 404
    assert regulator.get(reverse("admin:funds_fund_change", args=[foshan.pk])).status_code == 404
    own = regulator.get(reverse("admin:funds_fund_change", args=[zhaoqing.pk]))
    assert own.status_code == 200 and 'name="_save"' not in own.content.decode()
    foshan_entry = LedgerEntry.objects.filter(fund=foshan).first()
    assert regulator.get(reverse("admin:funds_ledgerentry_change", args=[foshan_entry.pk])).status_code == 404
    ledger = regulator.get(reverse("admin:funds_ledgerentry_changelist")).content.decode()
    assert "佛山" not in ledger


def test_a_regulator_writes_nothing(regulator):
    zhaoqing = Fund.objects.get(code="zhaoqing")
    before = LedgerEntry.objects.count()
    assert regulator.get(reverse("admin:funds_ledgerentry_add")).status_code == 403
    response = regulator.post(
        reverse("admin:funds_ledgerentry_add"),
        {"fund": zhaoqing.pk, "entry_type": "fee", "amount": "1.00", "value_date": "2026-11-20"},
    )
    assert response.status_code == 403 and LedgerEntry.objects.count() == before
    change = regulator.post(reverse("admin:funds_fund_change", args=[zhaoqing.pk]), {"name": "改名"})
    assert change.status_code == 403 and Fund.objects.get(pk=zhaoqing.pk).name != "改名"
    assert regulator.get(reverse("admin:loans_loanfiling_changelist")).status_code == 403


def test_a_regulator_downloads_its_citys_reports_only(regulator, business_date):
    business_date("2026-12-02")
    zhaoqing, foshan = Fund.objects.get(code="zhaoqing"), Fund.objects.get(code="foshan")
    own = reports.quarterly_report_store(fund=zhaoqing, year=2026, quarter=3)
    other = reports.quarterly_report_store(fund=foshan, year=2026, quarter=3)
    listed = regulator.get(reverse("admin:reports_storedreport_changelist")).content.decode()
    assert own.file_stem.split("-")[1] in listed
    ok = regulator.get(reverse("admin:reports_storedreport_download", args=[own.pk, "xlsx"]))
    assert ok.status_code == 200 and ok["Content-Disposition"].endswith('.xlsx"')
    assert (
        regulator.get(reverse("admin:reports_storedreport_download", args=[other.pk, "xlsx"])).status_code
        == 404
    )
    tables = regulator.get(reverse("admin:reports_tables"), {"kind": "quarterly", "year": 2026, "quarter": 3})
    text = tables.content.decode()
    assert tables.status_code == 200 and "肇庆" in text and "佛山" not in text
    assert dt.date(2026, 9, 30) == own.period_end


def test_bank_users_cannot_sign_in_to_the_admin(personas):
    user = personas.user("bank_a")
    user.set_password(PASSWORD)
    user.save()
    client = Client()
    response = client.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index")).status_code == 302  # back to the login page
    assert not User.objects.get(pk=user.pk).is_staff


def test_ledger_amounts_read_with_thousands_separators(regulator):
    ledger = regulator.get(reverse("admin:funds_ledgerentry_changelist")).content.decode()
    assert "2,500,000.00" in ledger and "2500000.00" not in ledger
