"""The fund dashboard in the admin: live figures, claims pipeline and monthly trend charts,
drawn on the server (inline SVG, no script, nothing downloaded)."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from fundmgr.ground.accounts.models import User
from tests.reports import build_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    def login(username: str = "officer"):
        client.force_login(User.objects.get(username=username))
        return client

    return login


def cards(html: str) -> dict[str, str]:
    pairs = re.findall(r'<div class="label">([^<]+)</div><div class="value">([^<]+)</div>', html)
    return dict(pairs)


def test_dashboard_shows_the_funds_figures_pipeline_and_trends(personas, business_date, staff):
    build_dataset(personas, business_date, until="2026-12-20")
    response = staff("officer").get(reverse("admin:funds_fund_dashboard", args=["foshan"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "佛山市知识产权质押融资风险补偿资金 · 资金看板" in html
    shown = cards(html)
    # Amounts in 万元 (half-up, two places), the exact yuan on hover.
    assert shown["台账余额(万元)"] == "5,905.00"  # 60,000,000 − 1,000,000 + 50,000
    assert 'title="59,050,000.00 元"' in html
    assert shown["在保余额(万元)"] == "1.24"  # 12,350.00: L5 only; L4 was compensated
    assert shown["风险敞口(万元)"] == "0.74"  # 7,410.00: × 60 %
    assert (shown["实际放大倍数"], shown["放大倍数上限"]) == ("0.00", "10.00")
    assert shown["不良率(%)"] == "0.00"
    assert shown["累计代偿(万元)"] == "100.00" and shown["累计追偿返还(万元)"] == "5.00"

    pipeline = dict(
        (label, (count, amount))
        for label, count, amount in re.findall(
            r'<tr><td>([^<]+)</td><td class="num">(\d+)</td><td class="num"[^>]*>([^<]+)</td></tr>', html
        )
    )
    assert pipeline["追偿中"] == ("1", "100.00")  # 万元
    assert pipeline["已提交"] == ("0", "0.00")

    # Three charts, inline, and the data behind them embedded as JSON.
    assert html.count('<svg class="fund-chart"') == 3
    assert "每月受理金额（万元）" in html and "月末不良率（%）" in html
    assert "<script src=" not in html.split('id="fund-dashboard"')[1]
    trend = json.loads(
        re.search(r'<script id="fund-trend" type="application/json">(.*?)</script>', html, re.S)[1]
    )
    assert [p["month"] for p in trend][-3:] == ["2026-10", "2026-11", "2026-12"]
    november = trend[-2]
    # L4 2,000,000 + L5 12,350 = 2,012,350.00 → 201.24 万元; at 30 November L4 was a reported NPL.
    assert november["accepted_wan_yuan"] == "201.24"
    assert (november["covered_outstanding_wan_yuan"], november["npl_ratio"]) == ("201.24", "99.39")
    december = trend[-1]
    assert (december["claims_paid_wan_yuan"], december["balance_wan_yuan"]) == ("100.00", "5905.00")
    assert december["npl_ratio"] == "0.00"
    assert "201.24" in html  # the November bar's tooltip


def test_zhaoqing_dashboard_npl_and_leverage_gauge(personas, business_date, staff):
    build_dataset(personas, business_date, until="2026-12-20")
    html = staff("approver").get(reverse("admin:funds_fund_dashboard", args=["zhaoqing"])).content.decode()
    shown = cards(html)
    assert shown["在保余额(万元)"] == "211.23"  # 2,112,250.00
    assert (shown["不良率(%)"], shown["不良余额(万元)"]) == ("28.99", "61.23")  # 612,250.00
    assert shown["实际放大倍数"] == "0.42"
    # 0.42 of a limit of 10: 4.2 % of the policy's room is used.
    assert "已使用政策上限的 4.2%" in html


def test_linked_from_the_fund_list_for_staff_and_the_citys_regulator(personas, staff, client):
    url = reverse("admin:funds_fund_dashboard", args=["zhaoqing"])
    assert url == "/admin/funds/fund/dashboard/zhaoqing/"
    listing = staff("finance").get(reverse("admin:funds_fund_changelist")).content.decode()
    assert f'<a href="{url}">看板</a>' in listing
    assert client.get(reverse("admin:funds_fund_dashboard", args=["nowhere"])).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the admin login
    client.force_login(User.objects.get(username="regulator-zhaoqing"))
    assert client.get(url).status_code == 200  # its own city
    assert client.get(reverse("admin:funds_fund_dashboard", args=["foshan"])).status_code == 404
    client.force_login(User.objects.get(username="regulator-foshan"))
    assert client.get(url).status_code == 404
