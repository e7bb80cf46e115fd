"""Staff work in the Django admin: every page renders, in Chinese, for the right people."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import Fund, LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client, demo):
    def as_user(username: str):
        client.force_login(User.objects.get(username=username))
        return client

    return as_user


def test_every_admin_changelist_and_add_page_renders_for_admin(login):
    client = login("admin")
    for model, _model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        response = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.status_code == 200, (info, response.status_code)
        add = client.get(reverse("admin:{}_{}_add".format(*info)))
        assert add.status_code in (200, 403), info


def test_fund_list_shows_live_balance_in_chinese(login):
    response = login("officer").get(reverse("admin:funds_fund_changelist"))
    text = response.content.decode()
    assert response.status_code == 200
    assert "余额(万元)" in text and "放大倍数" in text
    # Foshan's 60,000,000.00 in 万元 (an overview reads faster), the exact yuan on hover.
    assert '<span title="60,000,000.00 元">6,000.00</span>' in text


def test_fund_page_shows_policy_ledger_and_figures(login):
    fund = Fund.objects.get(code="zhaoqing")
    text = login("officer").get(reverse("admin:funds_fund_change", args=[fund.pk])).content.decode()
    for label in ("政策版本", "资金台账", "可用余额", "风险敞口", "5,000,000.00"):
        assert label in text, label


def test_finance_records_a_fee_in_the_admin_and_cannot_edit_it(login):
    client = login("finance")
    fund = Fund.objects.get(code="zhaoqing")
    response = client.post(
        reverse("admin:funds_ledgerentry_add"),
        {
            "fund": fund.pk,
            "entry_type": "fee",
            "government_level": "",
            "amount": "1200.00",
            "value_date": "2026-11-20",
            "description": "审计费",
            "reference": "AUD-2026",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = LedgerEntry.objects.get(reference="AUD-2026")
    assert entry.amount.to_eng_string() == "-1200.00"
    assert entry.created_by.username == "finance"
    change = client.post(reverse("admin:funds_ledgerentry_change", args=[entry.pk]), {"description": "x"})
    assert change.status_code in (200, 403)
    entry.refresh_from_db()
    assert entry.description == "审计费"
    assert client.get(reverse("admin:funds_ledgerentry_delete", args=[entry.pk])).status_code == 403


def test_overdraft_in_admin_shows_message_and_writes_nothing(login):
    client = login("finance")
    fund = Fund.objects.get(code="zhaoqing")
    before = LedgerEntry.objects.count()
    response = client.post(
        reverse("admin:funds_ledgerentry_add"),
        {"fund": fund.pk, "entry_type": "refund", "amount": "9999999.00", "value_date": "2026-11-20"},
        follow=True,
    )
    assert "不足以支付" in response.content.decode()
    assert LedgerEntry.objects.count() == before


def test_officer_cannot_add_ledger_entries(login):
    assert login("officer").get(reverse("admin:funds_ledgerentry_add")).status_code == 403


def test_regulator_reads_its_city_but_no_staff_page(login):
    client = login("regulator-zhaoqing")
    assert client.get(reverse("admin:funds_fund_changelist")).status_code == 200
    assert client.get(reverse("admin:loans_claim_changelist")).status_code == 403


def test_only_the_administrator_reads_stored_api_responses(login):
    url = reverse("admin:lib_idempotencyrecord_changelist")
    assert login("officer").get(url).status_code == 403
    assert login("admin").get(url).status_code == 200
