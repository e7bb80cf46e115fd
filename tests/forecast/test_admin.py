"""The forecast page in the admin and the saved scenarios: staff, the city's regulators, nobody else."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from fundmgr.ground.funds.models import Fund
from fundmgr.top.forecast import services
from fundmgr.top.forecast.models import StressScenario
from loans.models import LoanFiling

pytestmark = pytest.mark.django_db
PAGE = "/admin/funds/fund/forecast/{}/"


@pytest.fixture
def some_loans(book):
    for e in book.enterprises("zhaoqing"):
        book.loan(principal="700000.00", enterprise=e)
    return book


def login(client, personas, who: str):
    client.force_login(personas.user(who))
    return client


@pytest.mark.parametrize(("who", "status"), [("officer", 200), ("regulator_x", 200), ("regulator_y", 404)])
def test_the_page_renders_for_staff_and_the_citys_regulator(client, personas, some_loans, who, status):
    response = login(client, personas, who).get(PAGE.format("zhaoqing") + "?paths=300")
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        for expected in (
            'id="fan-chart"',
            "逐月预期补偿支出",
            "P95 需补充资金",
            "P99 余额首次低于零",
            'id="roll-rates"',
            "集中度",
        ):
            assert expected in page
        assert ("保存为命名情景" in page) is False  # the baseline: nothing to save


def test_the_fund_list_links_to_the_page(client, personas, some_loans):
    page = login(client, personas, "regulator_x").get(reverse("admin:funds_fund_changelist")).content.decode()
    assert PAGE.format("zhaoqing") in page


def test_a_stress_on_the_page_its_workbook_and_saving_it(client, personas, some_loans):
    login(client, personas, "officer")
    query = "?months=12&paths=300&seed=1&default_rate=25&default_within=3&largest_enterprises=1"
    page = client.get(PAGE.format("zhaoqing") + query).content.decode()
    assert "25% 的未触发贷款在 3 个月内违约" in page and 'id="save-scenario"' in page
    xlsx = client.get(PAGE.format("zhaoqing") + query + "&download=xlsx")
    assert xlsx.status_code == 200 and "forecast-zhaoqing" in xlsx["Content-Disposition"]
    assert "结论" in load_workbook(io.BytesIO(xlsx.content)).sheetnames

    fund = Fund.objects.get(code="zhaoqing")
    add = reverse("admin:forecast_stressscenario_add")
    response = client.post(
        add,
        {
            "fund": fund.pk,
            "name": "季度压力",
            "default_rate": "25",
            "default_within": "3",
            "largest_enterprises": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = StressScenario.objects.get(name="季度压力")
    assert saved.created_by == personas.user("officer")
    # the saved scenario is offered on the page and gives the same figures
    by_name = client.get(
        PAGE.format("zhaoqing") + f"?months=12&paths=300&seed=1&scenario={saved.pk}"
    ).content.decode()
    assert "季度压力" in by_name


def test_the_scenario_form_refuses_what_the_rules_refuse(client, personas, some_loans):
    login(client, personas, "officer")
    fund = Fund.objects.get(code="zhaoqing")
    add = reverse("admin:forecast_stressscenario_add")
    half = client.post(add, {"fund": fund.pk, "name": "只有比例", "default_rate": "10"})
    assert half.status_code == 200 and "集中违约比例与期限须同时填写" in half.content.decode()
    foshan_bank = Fund.objects.get(code="foshan").agreements.first().institution
    elsewhere = client.post(add, {"fund": fund.pk, "name": "外地机构", "institution": foshan_bank.pk})
    assert "该机构与本资金没有合作协议" in elsewhere.content.decode()
    assert not StressScenario.objects.exists()


def test_regulators_read_their_citys_scenarios_and_change_nothing(client, personas, some_loans):
    zhaoqing, foshan = Fund.objects.get(code="zhaoqing"), Fund.objects.get(code="foshan")
    mine = StressScenario.objects.create(fund=zhaoqing, name="肇庆情景", roll_multiplier=2)
    theirs = StressScenario.objects.create(fund=foshan, name="佛山情景", roll_multiplier=2)
    login(client, personas, "regulator_x")
    listing = client.get(reverse("admin:forecast_stressscenario_changelist")).content.decode()
    assert "肇庆情景" in listing and "佛山情景" not in listing
    assert client.get(reverse("admin:forecast_stressscenario_change", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("admin:forecast_stressscenario_add")).status_code == 403
    client.post(reverse("admin:forecast_stressscenario_change", args=[mine.pk]), {"name": "改名"})
    mine.refresh_from_db()
    assert mine.name == "肇庆情景"
    # finance reads scenarios but does not make them
    login(client, personas, "finance")
    assert client.get(reverse("admin:forecast_stressscenario_changelist")).status_code == 200
    assert client.get(reverse("admin:forecast_stressscenario_add")).status_code == 403


def test_the_page_in_english_speaks_english(client, personas, some_loans):
    from tests.test_translations import CJK, _Chrome

    login(client, personas, "officer")
    client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    page = client.get(PAGE.format("zhaoqing") + "?paths=200&roll_multiplier=2").content.decode()
    parser = _Chrome()
    parser.feed(page)
    title = f"{Fund.objects.get(code='zhaoqing').name} · Fund adequacy forecast"  # the fund's name is data
    assert sorted({t for t in parser.texts if CJK.search(t) and t != title}) == []
    assert title in parser.texts and "Month by month" in page


def test_the_fund_dashboard_links_to_the_forecast_page(client, personas, some_loans):
    page = login(client, personas, "regulator_x").get(
        reverse("admin:funds_fund_dashboard", args=["zhaoqing"])
    )
    assert page.status_code == 200
    assert f'href="{PAGE.format("zhaoqing")}" id="forecast-link"' in page.content.decode()


def test_the_fan_chart_shows_the_three_percentiles_and_the_zero_line(client, personas, some_loans):
    page = login(client, personas, "officer").get(
        PAGE.format("zhaoqing") + "?paths=200&default_rate=100&default_within=1"
    )
    chart = page.content.decode().split('id="fan-chart"')[1].split("</svg>")[0]
    assert all(f'data-series="{p}"' in chart for p in ("P50", "P95", "P99"))
    assert 'class="zero-line"' in chart and 'class="fan-band"' in chart


def test_the_demo_leaves_stress_scenarios_on_every_fund(client, personas, some_loans):
    """What seed_demo's history does at its end (fundmgr.top.demo.history): the officer saves
    the demo's stresses on every fund through the service — and again, nothing more."""
    from fundmgr.top.demo.history import save_stress_scenarios

    officer = personas.user("officer")
    saved = save_stress_scenarios(officer)
    funds = list(Fund.objects.all())
    assert saved == 2 * len(funds) + 1 and save_stress_scenarios(officer) == 0
    for fund in funds:
        assert StressScenario.objects.filter(fund=fund, name="经济下行", created_by=officer).exists()
    bank = StressScenario.objects.get(fund__code="zhaoqing", institution__isnull=False)
    assert bank.institution.code == "zqrcb"
    # the forecast page offers them, and runs one
    page = login(client, personas, "regulator_x").get(PAGE.format("zhaoqing") + "?paths=200")
    assert page.content.decode().count("经济下行") >= 1
    stressed = client.get(PAGE.format("zhaoqing") + f"?paths=200&scenario={bank.pk}").content.decode()
    assert '<strong id="scenario-label">合作机构整体违约</strong>' in stressed
    # and it stresses what it says: every loan of that bank in the fund defaults now
    some_loans.loan(institution=bank.institution)
    of_the_bank = LoanFiling.objects.filter(fund=bank.fund, institution=bank.institution).count()
    scenario = services.scenario_build(fund=bank.fund, saved=str(bank.pk))
    assert services.forecast_run(fund=bank.fund, paths=100, scenario=scenario).book["forced"] == of_the_bank
