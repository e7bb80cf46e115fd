"""Report files speak the language of the request that downloads them (Chinese by default,
English when asked for), while the reports the scheduled jobs store, which are what the city
receives, are written in Chinese whatever language is active when they are built."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import translation
from openpyxl import load_workbook

from fundmgr.ground.funds.models import Fund
from fundmgr.top.reports import services
from fundmgr.top.reports.models import StoredReport
from fundmgr.top.reports.tasks import monthly_reports_generate_all
from tests.reports import build_dataset

pytestmark = pytest.mark.django_db
QUARTERLY = "/api/v1/reports/quarterly/?year=2026&quarter=4&fund=zhaoqing"
ZQ_NAME = "肇庆市知识产权质押融资风险补偿资金"


def quarterly_book(personas, fmt: str = "xlsx", **headers):
    response = personas.client("regulator_x").get(f"{QUARTERLY}&format={fmt}", **headers)
    assert response.status_code == 200, response.content
    return response


def test_the_quarterly_xlsx_is_chinese_by_default_and_english_when_asked(personas, business_date):
    build_dataset(personas, business_date, until="2026-12-20")

    chinese = load_workbook(io.BytesIO(quarterly_book(personas).content))
    assert chinese.sheetnames[:3] == ["按资金", "按区县", "按合作机构"]
    sheet = chinese["按资金"]
    assert sheet["A1"].value == "知识产权质押融资风险补偿资金统计表"
    assert sheet["A2"].value.startswith("统计期间：2026年第4季度（2026-10-01 至 2026-12-31）")
    assert [c.value for c in sheet[4]][:4] == ["排名", "资金", "城市", "本期受理贷款金额(万元)"]
    assert sheet["A6"].value == "合计"

    english = load_workbook(io.BytesIO(quarterly_book(personas, HTTP_ACCEPT_LANGUAGE="en").content))
    assert english.sheetnames == [
        "By fund",
        "By district",
        "By institution",
        "Patent pledge financing",
        "Trademark pledge financing",
        "Matchmaking",
        "Outreach and matchmaking events",
    ]
    sheet = english["By fund"]
    assert sheet["A1"].value == "IP-pledge loan risk compensation fund statistics"
    assert sheet["A2"].value.startswith("Reporting period: Q4 2026 (2026-10-01 to 2026-12-31)")
    assert sheet["A3"].value.startswith("Amounts in 10k yuan")
    headers = [c.value for c in sheet[4]]
    assert headers[:5] == [
        "Rank",
        "Fund",
        "City",
        "Loans accepted in the period (10k yuan)",
        "Projects in the period (count)",
    ]
    assert "NPL ratio (%)" in headers and "Actual leverage (×)" in headers
    # The data stays what it is: the fund's name; the total row is labelled in English.
    assert (sheet["B5"].value, sheet["A6"].value) == (ZQ_NAME, "Total")
    every_header = [c.value for ws in english.worksheets for c in ws[4] if c.value]
    assert not [h for h in every_header if any("\u4e00" <= ch <= "\u9fff" for ch in h)]


def test_the_quarterly_csv_headers_follow_the_request_language(personas, business_date):
    build_dataset(personas, business_date, until="2026-12-20")
    text = quarterly_book(personas, "csv", HTTP_ACCEPT_LANGUAGE="en").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[:4] == ["Table", "Rank", "Fund code", "Fund"]
    assert rows[0]["Table"] == "By fund" and rows[0]["Fund code"] == "zhaoqing"
    chinese = quarterly_book(personas, "csv").content.decode("utf-8-sig")
    assert chinese.splitlines()[0].startswith("报表,排名,资金代码,资金")


def test_an_english_request_reads_english_errors(personas, business_date):
    business_date("2026-12-20")
    response = personas.client("regulator_x").get(
        "/api/v1/reports/quarterly/?year=2027&quarter=1", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "period_not_started"
    assert "The reporting period has not begun" in response.content.decode()


def test_stored_reports_are_chinese_even_when_built_in_english(personas, business_date):
    build_dataset(personas, business_date, until="2026-11-30")
    business_date("2026-12-01")
    with translation.override("en"):  # e.g. the job run eagerly inside an English request
        monthly_reports_generate_all()
        quarterly = services.quarterly_report_store(
            fund=Fund.objects.get(code="zhaoqing"), year=2026, quarter=3
        )
        assert translation.get_language() == "en"  # the build's own language did not leak out

    fund_report = StoredReport.objects.get(kind="monthly_fund", fund__code="zhaoqing")
    with translation.override("en"):  # first downloaded by an English reader: still Chinese
        book = load_workbook(io.BytesIO(services.stored_report_workbook(report=fund_report)))
    assert book.sheetnames == ["月报", "资金台账", "分机构"]
    assert book["月报"]["A1"].value.startswith("风险补偿资金月度报告：")
    assert book["月报"]["A2"].value == "报告期间：2026年11月（2026-11-01 至 2026-11-30）"
    assert (book["资金台账"]["A4"].value, book["资金台账"]["A5"].value) == ("项目", "期初余额")

    statement = StoredReport.objects.get(
        kind="monthly_institution", fund__code="zhaoqing", institution__code="zqrcb"
    )
    assert {loan["loan_class"] for loan in statement.data["loans"]} == {"正常"}
    assert load_workbook(io.BytesIO(services.stored_report_workbook(report=statement))).sheetnames == [
        "月报",
        "在保贷款明细",
    ]

    assert quarterly.data["total"]["fund_name"] == "合计"
    assert load_workbook(io.BytesIO(bytes(quarterly.xlsx))).sheetnames[0] == "按资金"
