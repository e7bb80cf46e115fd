"""A city's regulator in a real browser: its own fund's dashboard, a quarterly report generated
for the period it chooses and downloaded as Excel, and another city's pages refused (404).

The regulator of Zhaoqing (regulator-zhaoqing) signs in through the admin's login form like
staff do; nothing it sees may be another city's, and nothing it sees can be saved.
"""

from __future__ import annotations

import io

import openpyxl

from fundmgr.ground.funds.models import Fund

from .helpers import click_and_wait


def test_a_regulator_reads_its_dashboard_downloads_a_quarterly_report_and_is_refused_another_city(
    as_persona, business_date
):
    business_date("2026-12-02")
    regulator = as_persona("regulator-zhaoqing")

    # Its funds: Zhaoqing only, and the dashboard from the fund list.
    regulator.goto("/admin/funds/fund/")
    rows = regulator.locator("#result_list tbody tr")
    assert rows.count() == 1 and "肇庆" in rows.first.inner_text()
    click_and_wait(regulator, rows.first.get_by_role("link", name="看板"))
    assert "/dashboard/zhaoqing/" in regulator.url
    dashboard = regulator.locator("#content").inner_text()
    assert "肇庆" in dashboard and "佛山" not in dashboard
    assert regulator.locator("svg.fund-chart").count() >= 1  # the charts are drawn

    # A quarterly report for the period it chooses: generated on screen, then as Excel.
    regulator.goto("/admin/reports/storedreport/tables/")
    form = regulator.locator("#report-tables form")
    fund_choices = form.get_by_label("资金").locator("option").all_inner_texts()
    assert not any("佛山" in choice for choice in fund_choices)
    form.get_by_label("报表").select_option(label="季度统计表")
    form.get_by_label("年份").fill("2026")
    form.get_by_label("季度").select_option(label="Q3")
    click_and_wait(regulator, form.get_by_role("button", name="生成"))
    shown = regulator.locator("#report-tables").inner_text()
    assert "肇庆" in shown and "佛山" not in shown
    with regulator.expect_download() as download_info:
        regulator.get_by_role("link", name="下载 Excel").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(open(download.path(), "rb").read()), read_only=True)
    cells = " ".join(
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
    )
    assert "肇庆" in cells and "佛山" not in cells

    # Another city's dashboard and fund page do not exist for it.
    foshan = Fund.objects.get(code="foshan")
    for path in ("/admin/funds/fund/dashboard/foshan/", f"/admin/funds/fund/{foshan.pk}/change/"):
        response = regulator.goto(path)
        assert response is not None and response.status == 404, path

    # Read-only: its own fund's page offers nothing to save.
    regulator.goto("/admin/funds/fund/")
    click_and_wait(regulator, regulator.locator("#result_list tbody tr").first.locator("th a, td a").first)
    assert regulator.locator("input[type=submit][name=_save]").count() == 0
