"""The quarterly regulator table (GET /api/v1/reports/quarterly/): figures checked against
hand-computed expectations on the fixed data set of tests/reports/__init__.py, the XLSX and
CSV exports read back, and who may read what."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from fundmgr.ground.funds.models import Fund
from loans.models import LoanFiling
from tests.factories import make_filing
from tests.reports import build_dataset

pytestmark = pytest.mark.django_db
D = Decimal
URL = "/api/v1/reports/quarterly/"

ZQ_NAME = "肇庆市知识产权质押融资风险补偿资金"
FS_NAME = "佛山市知识产权质押融资风险补偿资金"

# Hand-computed, Q4 2026 (see the data set's docstring):
#   Zhaoqing accepted  1,012,345.00 + 612,250.00 = 1,624,595.00 yuan = 162.4595 万元 → 162.46
#   Foshan accepted    2,000,000.00 + 12,350.00 = 2,012,350.00 yuan = 201.2350 万元 → 201.24
#   Zhaoqing covered outstanding at 31 Dec: 500,000 + 1,000,000 (Nov report) + 612,250 (NPL)
#     = 2,112,250.00 → 211.225 → 211.23 (half-up; banker's rounding would give 211.22)
#   NPL 612,250.00 → 61.225 → 61.23; ratio 612,250 / 2,112,250 = 28.9857 % → 28.99
#   Foshan outstanding: L4 compensated on 3 Dec leaves the book; L5 12,350.00 → 1.235 → 1.24
#   Foshan balance 60,000,000 − 1,000,000 paid + 50,000 returned = 59,050,000.00 → 5905.00
#   Leverage Zhaoqing 2,112,250 / 5,000,000 = 0.42245 → 0.42; Foshan 12,350 / 60,000,000 → 0.00
ZHAOQING_Q4 = {
    "rank": 2,
    "fund": "zhaoqing",
    "fund_name": ZQ_NAME,
    "region_code": "441200",
    "amount_wan_yuan": "162.46",
    "projects": 2,
    "rights": 3,
    # L2 pledges a patent and a trademark, L3 a patent: both in the patent table, L2 alone in
    # the trademark table (1,012,345.00 → 101.2345 → 101.23), each once in amount_wan_yuan.
    "patent_amount_wan_yuan": "162.46",
    "patent_projects": 2,
    "trademark_amount_wan_yuan": "101.23",
    "trademark_projects": 1,
    "patents": 2,
    "invention_patents": 2,
    "utility_models": 0,
    "design_patents": 0,
    "trademarks": 1,
    "other_ip": 0,
    "enterprises": 2,
    "new_enterprises": 1,
    "outstanding_wan_yuan": "211.23",
    "non_performing_loans": 1,
    "non_performing_wan_yuan": "61.23",
    "npl_ratio": "28.99",
    "compensations": 0,
    "compensation_paid_wan_yuan": "0.00",
    "recoveries_returned_wan_yuan": "0.00",
    "fund_balance": "5000000.00",
    "fund_balance_wan_yuan": "500.00",
    "leverage": "0.42",
    "leverage_limit": "10.00",
    # 500,000 (Q3) + 1,624,595 = 2,124,595.00 → 212.4595 → 212.46
    "cumulative_amount_wan_yuan": "212.46",
    "cumulative_projects": 3,
    "cumulative_patents": 3,
    "cumulative_trademarks": 1,
    "cumulative_other_ip": 0,
    "cumulative_enterprises": 2,
    "cumulative_admitted_enterprises": 5,  # 4 demo enterprises + the one admitted in November
    "cumulative_compensations": 0,
    "cumulative_compensation_paid_wan_yuan": "0.00",
    "cumulative_recoveries_returned_wan_yuan": "0.00",
}
FOSHAN_Q4 = {
    "rank": 1,
    "fund": "foshan",
    "fund_name": FS_NAME,
    "region_code": "440600",
    "amount_wan_yuan": "201.24",
    "projects": 2,
    "rights": 3,
    # L4 a patent (200.00), L5 a trademark and a software copyright (12,350.00 → 1.24).
    "patent_amount_wan_yuan": "200.00",
    "patent_projects": 1,
    "trademark_amount_wan_yuan": "1.24",
    "trademark_projects": 1,
    "patents": 1,
    "invention_patents": 1,
    "utility_models": 0,
    "design_patents": 0,
    "trademarks": 1,
    "other_ip": 1,
    "enterprises": 2,
    "new_enterprises": 0,
    "outstanding_wan_yuan": "1.24",
    "non_performing_loans": 0,
    "non_performing_wan_yuan": "0.00",
    "npl_ratio": "0.00",
    "compensations": 1,
    "compensation_paid_wan_yuan": "100.00",
    "recoveries_returned_wan_yuan": "5.00",
    "fund_balance": "59050000.00",
    "fund_balance_wan_yuan": "5905.00",
    "leverage": "0.00",
    "leverage_limit": "10.00",
    "cumulative_amount_wan_yuan": "201.24",
    "cumulative_projects": 2,
    "cumulative_patents": 1,
    "cumulative_trademarks": 1,
    "cumulative_other_ip": 1,
    "cumulative_enterprises": 2,
    "cumulative_admitted_enterprises": 4,
    "cumulative_compensations": 1,
    "cumulative_compensation_paid_wan_yuan": "100.00",
    "cumulative_recoveries_returned_wan_yuan": "5.00",
}
# Columns a 合计 row adds up (ratios are recomputed instead).
ADDITIVE_MONEY = [k for k in ZHAOQING_Q4 if k.endswith("wan_yuan") or k == "fund_balance"]
ADDITIVE_COUNTS = [k for k, v in ZHAOQING_Q4.items() if isinstance(v, int) and k not in ("rank",)]


def get(personas, who: str, **params):
    query = "&".join(f"{k}={v}" for k, v in {"year": 2026, "quarter": 4, **params}.items())
    return personas.client(who).get(f"{URL}?{query}")


@pytest.fixture
def dataset(personas, business_date):
    return build_dataset(personas, business_date, until="2026-12-20")


def test_fund_rows_ranked_by_amount_with_an_exact_total(personas, dataset):
    response = get(personas, "gdee-viewer")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["period"] == {"year": 2026, "quarter": 4, "from": "2026-10-01", "to": "2026-12-31"}
    assert body["as_of"] == "2026-12-20"  # the quarter is still running: stocks as at today
    assert [r["fund"] for r in body["rows"]] == ["foshan", "zhaoqing", "shantou", "shaoguan"]
    # Shantou and Shaoguan accepted nothing: listed last, unranked (as the Henan tables do).
    assert [r["rank"] for r in body["rows"]] == [1, 2, None, None]
    foshan, zhaoqing, shantou, shaoguan = body["rows"]
    assert {k: foshan[k] for k in FOSHAN_Q4} == FOSHAN_Q4
    assert {k: zhaoqing[k] for k in ZHAOQING_Q4} == ZHAOQING_Q4
    # Funds with no activity are listed with zeros and their balance; no NPL ratio without a book.
    assert (shantou["amount_wan_yuan"], shantou["projects"], shantou["fund_balance_wan_yuan"]) == (
        "0.00",
        0,
        "1000.00",
    )
    assert shaoguan["npl_ratio"] is None and shaoguan["fund_balance_wan_yuan"] == "800.00"

    total = body["total"]
    assert (total["rank"], total["fund"], total["fund_name"]) == (None, None, "合计")
    for key in ADDITIVE_MONEY:
        assert D(total[key]) == sum(D(r[key]) for r in body["rows"]), key
    for key in ADDITIVE_COUNTS:
        assert total[key] == sum(r[key] for r in body["rows"]), key
    # The total is the sum of the rows as printed: 201.24 + 162.46 = 363.70, although the
    # yuan total 3,636,945.00 alone would round to 363.69. The same for the outstanding.
    assert total["amount_wan_yuan"] == "363.70"
    assert total["outstanding_wan_yuan"] == "212.47"  # 211.23 + 1.24 (2,124,600 yuan → 212.46)
    assert (total["patents"], total["trademarks"], total["other_ip"]) == (3, 2, 1)
    assert total["fund_balance"] == "82050000.00"  # 5,000,000 + 59,050,000 + 10,000,000 + 8,000,000
    # Ratios come from the summed yuan: 612,250 / 2,124,600 = 28.817 %; 2,124,600 / 83,000,000 = 0.0256
    assert (total["npl_ratio"], total["leverage"], total["leverage_limit"]) == ("28.82", "0.03", None)


def test_period_and_cumulative_columns(personas, dataset):
    q3 = get(personas, "regulator_x", quarter=3).json()
    assert q3["as_of"] == "2026-09-30"
    (row,) = q3["rows"]
    # Only L1 (500,000.00, a utility model) was accepted by the end of September.
    assert (row["amount_wan_yuan"], row["projects"], row["patents"], row["utility_models"]) == (
        "50.00",
        1,
        1,
        1,
    )
    assert (row["outstanding_wan_yuan"], row["cumulative_amount_wan_yuan"], row["cumulative_projects"]) == (
        "50.00",
        "50.00",
        1,
    )
    assert (row["new_enterprises"], row["cumulative_admitted_enterprises"]) == (0, 4)
    q4 = get(personas, "regulator_x").json()["rows"][0]
    assert (q4["projects"], q4["cumulative_projects"]) == (2, 3)
    assert (q4["patents"], q4["cumulative_patents"], q4["utility_models"]) == (2, 3, 0)


def test_a_past_quarter_is_rebuilt_from_dated_records(personas, dataset, business_date):
    """Asked in January, Q4 shows the book as at 31 December from monthly reports,
    settlement and payment dates: the same figures as live on 20 December."""
    live = get(personas, "gdee-viewer").json()
    business_date("2027-01-10")
    later = get(personas, "gdee-viewer").json()
    assert later["as_of"] == "2026-12-31"
    for key in (
        "rows",
        "total",
        "by_district",
        "by_institution",
        "by_district_total",
        "by_institution_total",
    ):
        assert later[key] == live[key], key
    business_date("2026-12-20")
    q3_in_december = get(personas, "gdee-viewer", quarter=3).json()
    business_date("2027-01-10")
    assert get(personas, "gdee-viewer", quarter=3).json()["rows"] == q3_in_december["rows"]


def test_sub_tables_by_district_and_by_bank(personas, dataset):
    body = get(personas, "gdee-viewer").json()
    districts = {(r["fund"], r["region_code"]): r for r in body["by_district"]}
    # 星河 441202: L2 1,012,345.00 → 101.2345 → 101.23; the new enterprise was admitted here.
    xinghe = districts[("zhaoqing", "441202")]
    assert (xinghe["amount_wan_yuan"], xinghe["projects"], xinghe["patents"], xinghe["trademarks"]) == (
        "101.23",
        1,
        1,
        1,
    )
    assert (xinghe["new_enterprises"], xinghe["outstanding_wan_yuan"], xinghe["npl_ratio"]) == (
        1,
        "150.00",
        "0.00",
    )
    assert (xinghe["cumulative_amount_wan_yuan"], xinghe["cumulative_projects"]) == ("151.23", 2)  # 151.2345
    # 鼎泰 441204: L3 612,250.00 → 61.225 → 61.23 half-up, all of it non-performing.
    dingtai = districts[("zhaoqing", "441204")]
    assert (dingtai["amount_wan_yuan"], dingtai["non_performing_wan_yuan"], dingtai["npl_ratio"]) == (
        "61.23",
        "61.23",
        "100.00",
    )
    # 美澜 440606: L5 12,350.00 → 1.235 → 1.24; a trademark and a software copyright.
    meilan = districts[("foshan", "440606")]
    assert (meilan["amount_wan_yuan"], meilan["trademarks"], meilan["other_ip"]) == ("1.24", 1, 1)
    yunfan = districts[("foshan", "440605")]
    assert (yunfan["compensation_paid_wan_yuan"], yunfan["recoveries_returned_wan_yuan"]) == (
        "100.00",
        "5.00",
    )
    # Ranked by amount; districts with admitted enterprises but no loans follow with zeros.
    assert [(r["region_code"], r["rank"]) for r in body["by_district"][:4]] == [
        ("440605", 1),
        ("441202", 2),
        ("441204", 3),
        ("440606", 4),
    ]
    assert districts[("zhaoqing", "441284")]["amount_wan_yuan"] == "0.00"
    assert "fund_balance" not in xinghe and "leverage" not in xinghe
    assert body["by_district_total"]["amount_wan_yuan"] == "363.70"  # 200.00 + 101.23 + 61.23 + 1.24

    banks = {r["institution"]: r for r in body["by_institution"]}
    assert set(banks) == {
        "zqrcb",
        "ccb-zhaoqing",
        "icbc-foshan",
        "nanhai-rcb",
        "shunde-rcb",
        "sgrcb",
        "boc-shantou",
    }
    assert (banks["zqrcb"]["amount_wan_yuan"], banks["zqrcb"]["non_performing_loans"]) == ("162.46", 1)
    assert banks["zqrcb"]["new_enterprises"] == 1  # the application bank A submitted
    assert (banks["icbc-foshan"]["amount_wan_yuan"], banks["icbc-foshan"]["compensations"]) == ("201.24", 1)
    assert banks["ccb-zhaoqing"]["projects"] == 0  # cooperating, nothing filed: listed with zeros
    assert banks["zqrcb"]["institution_name"] == "广东肇庆农村商业银行股份有限公司"
    for key in ("amount_wan_yuan", "outstanding_wan_yuan", "compensation_paid_wan_yuan"):
        assert D(body["by_institution_total"][key]) == sum(D(r[key]) for r in body["by_institution"]), key


def test_xlsx_has_title_period_chinese_headers_and_number_formats(personas, dataset):
    response = get(personas, "regulator_x", fund="zhaoqing", format="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="quarterly-zhaoqing-2026Q4.xlsx"' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "按资金",
        "按区县",
        "按合作机构",
        "专利质押融资",
        "商标质押融资",
        "投融对接",
        "宣传与对接活动",
    ]
    sheet = book["按资金"]
    assert sheet["A1"].value == "知识产权质押融资风险补偿资金统计表"
    assert sheet["A2"].value.startswith("统计期间：2026年第4季度（2026-10-01 至 2026-12-31）")
    assert "金额单位：万元" in sheet["A3"].value
    headers = [c.value for c in sheet[4]]
    assert headers[:5] == ["排名", "资金", "城市", "本期受理贷款金额(万元)", "本期项目数(笔)"]
    assert "期末在保余额(万元)" in headers and "不良率(%)" in headers and "累计受理贷款金额(万元)" in headers
    col = {h: i for i, h in enumerate(headers)}
    row, total = sheet[5], sheet[6]
    assert row[col["资金"]].value == ZQ_NAME
    amount = row[col["本期受理贷款金额(万元)"]]
    assert row[col["城市"]].value == "肇庆市"  # the city by its name, not 441200
    assert D(str(amount.value)) == D("162.46") and amount.number_format == "#,##0.00"
    assert row[col["本期项目数(笔)"]].value == 2 and row[col["本期项目数(笔)"]].number_format == "#,##0"
    assert D(str(row[col["不良率(%)"]].value)) == D("28.99") and row[col["不良率(%)"]].number_format == "0.00"
    assert (total[0].value, total[0].font.bold) == ("合计", True)
    assert D(str(total[col["本期受理贷款金额(万元)"]].value)) == D("162.46")
    districts = book["按区县"]
    assert [c.value for c in districts[4]][:4] == ["排名", "资金", "区县", "区县代码"]
    assert [districts.cell(row=r, column=3).value for r in (5, 6)] == ["端州区", "高要区"]
    assert [districts.cell(row=r, column=4).value for r in (5, 6)] == ["441202", "441204"]


def test_csv_has_the_same_columns_with_a_bom(personas, dataset):
    response = get(personas, "gdee-viewer", format="csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_table: dict[str, list[dict]] = {}
    for r in rows:
        by_table.setdefault(r["报表"], []).append(r)
    assert list(by_table) == [
        "按资金",
        "按区县",
        "按合作机构",
        "专利质押融资",
        "商标质押融资",
        "投融对接",
        "宣传与对接活动",
    ]
    funds = by_table["按资金"]
    assert [r["资金代码"] for r in funds] == ["foshan", "zhaoqing", "shantou", "shaoguan", ""]
    assert funds[0]["本期受理贷款金额(万元)"] == "201.24" and funds[1]["不良率(%)"] == "28.99"
    assert (funds[-1]["排名"], funds[-1]["资金"], funds[-1]["本期受理贷款金额(万元)"]) == (
        "合计",
        "合计",
        "363.70",
    )
    assert funds[2]["不良率(%)"] == ""  # no book, no ratio
    json_total = get(personas, "gdee-viewer").json()["total"]
    assert funds[-1]["期末资金余额(万元)"] == json_total["fund_balance_wan_yuan"]
    assert by_table["按区县"][0]["行政区划代码"] == "440605"
    assert by_table["按合作机构"][-1]["排名"] == "合计"


@pytest.mark.parametrize(
    ("who", "params", "status", "funds"),
    [
        ("regulator_x", {}, 200, ["zhaoqing"]),
        ("regulator_x", {"fund": "zhaoqing"}, 200, ["zhaoqing"]),
        ("regulator_x", {"fund": "foshan"}, 404, None),  # another city's fund
        ("regulator_y", {}, 200, ["foshan"]),
        ("gdee-viewer", {}, 200, ["foshan", "shantou", "shaoguan", "zhaoqing"]),
        ("officer", {"fund": "shantou"}, 200, ["shantou"]),
        ("admin", {}, 200, ["foshan", "shantou", "shaoguan", "zhaoqing"]),
        ("officer", {"fund": "nowhere"}, 404, None),
        ("bank_a", {}, 403, None),
        ("bank_a", {"fund": "zhaoqing", "format": "xlsx"}, 403, None),
        ("anonymous", {}, 401, None),
    ],
)
def test_scope(personas, business_date, who, params, status, funds):
    business_date("2026-12-20")
    response = get(personas, who, **params)
    assert response.status_code == status
    if funds is None:
        assert response["Content-Type"] == "application/problem+json"
    else:
        assert sorted(r["fund"] for r in response.json()["rows"]) == funds


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ("year=2026&quarter=5", "max_value", "quarter"),
        ("year=2026&quarter=0", "min_value", "quarter"),
        ("year=abc&quarter=1", "invalid", "year"),
        ("quarter=1", "required", "year"),
        ("year=2026", "required", "quarter"),
        ("year=1999&quarter=1", "min_value", "year"),
        ("year=2026&quarter=1&format=pdf", "invalid_choice", "format"),
        ("year=2027&quarter=1", "period_not_started", "year"),
    ],
)
def test_invalid_period_is_a_400_problem(personas, business_date, query, code, field):
    business_date("2026-12-20")
    response = personas.client("regulator_x").get(f"{URL}?{query}")
    assert response.status_code == 400
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert body["code"] == code and [e["field"] for e in body["errors"]] == [field]


def test_query_count_does_not_grow_with_the_data(personas, dataset):
    client = personas.client("gdee-viewer")
    client.get(f"{URL}?year=2026&quarter=4")  # warm the caches (authentication, content types)
    with CaptureQueriesContext(connection) as before:
        client.get(f"{URL}?year=2026&quarter=4")
    for fund in Fund.objects.all():
        for _ in range(3):
            filing = make_filing(fund=fund)
            LoanFiling.objects.filter(pk=filing.pk).update(accepted_on=dt.date(2026, 12, 18))
    with CaptureQueriesContext(connection) as after:
        response = client.get(f"{URL}?year=2026&quarter=4")
    assert response.status_code == 200
    assert response.json()["total"]["projects"] == 4 + 12
    assert len(after) == len(before) <= 30, len(before)
