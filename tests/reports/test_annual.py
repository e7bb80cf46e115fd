"""The annual regulator table (GET /api/v1/reports/annual/) and the patent and trademark
tables every regulator table carries, laid out like the regulators' own (Henan 2020): a loan
counts in the patent table when it pledges any patent, in the trademark table when it
pledges any trademark, once in the total amount; ranked by amount, then projects, then
rights; funds with nothing unranked, last."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from fundmgr.top.reports.services import rank_order
from tests.reports import build_dataset

pytestmark = pytest.mark.django_db
D = Decimal
URL = "/api/v1/reports/annual/"

# Hand-computed for 2026 on the data set of tests/reports/__init__.py (as at 2026-12-20):
#   Zhaoqing: L1 utility model 500,000.00 (Q3); L2 patent + trademark 1,012,345.00 and L3 patent
#     612,250.00 (Q4). Patent table: 2,124,595.00 → 212.46, 3 projects, 3 patents. Trademark
#     table: L2 alone, 1,012,345.00 → 101.23, 1 project, 1 trademark. Total amount counts L2
#     once: 212.46.
#   Foshan: L4 patent 2,000,000.00; L5 trademark + software copyright 12,350.00 → 1.24.
#   Shantou, Shaoguan: nothing.
FLOW_KEYS = (
    "amount_wan_yuan",
    "projects",
    "rights",
    "patent_amount_wan_yuan",
    "patent_projects",
    "trademark_amount_wan_yuan",
    "trademark_projects",
    "patents",
    "trademarks",
    "other_ip",
    "compensations",
    "compensation_paid_wan_yuan",
    "recoveries_returned_wan_yuan",
)


@pytest.fixture
def dataset(personas, business_date):
    return build_dataset(personas, business_date, until="2026-12-20")


def annual(personas, who: str = "gdee-viewer", **params):
    query = "&".join(f"{k}={v}" for k, v in {"year": 2026, **params}.items())
    return personas.client(who).get(f"{URL}?{query}")


def quarter(personas, q: int):
    return personas.client("gdee-viewer").get(f"/api/v1/reports/quarterly/?year=2026&quarter={q}").json()


def test_rank_by_amount_then_projects_then_rights_with_zero_amounts_last():
    # (code, amount, projects, rights), some rows of the Henan 2020 patent table and more.
    rows = [
        ("xinxiang", D("3400"), 2, 5),
        ("zhoukou", D("3400"), 4, 25),  # same amount as xinxiang, more projects: ranks first
        ("sanmenxia", D("50000"), 1, 25),
        ("kaifeng", D("0"), 0, 0),
        ("anyang", D("2900"), 3, 21),
        ("jiyuan", D("2900"), 3, 30),  # same amount and projects as anyang, more rights
        ("pingdingshan", D("0"), 0, 0),
        ("twin", D("2900"), 3, 30),  # equal to jiyuan on all three: the same rank
    ]
    ranked = rank_order(
        rows,
        amount=lambda r: r[1],
        projects=lambda r: r[2],
        rights=lambda r: r[3],
        tiebreak=lambda r: r[0],
    )
    assert [(rank, row[0]) for rank, row in ranked] == [
        (1, "sanmenxia"),
        (2, "zhoukou"),
        (3, "xinxiang"),
        (4, "jiyuan"),
        (4, "twin"),
        (6, "anyang"),
        (None, "kaifeng"),
        (None, "pingdingshan"),
    ]


def test_patent_and_trademark_tables_count_a_loan_pledging_both_in_both(personas, dataset):
    response = annual(personas)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["period"] == {"year": 2026, "from": "2026-01-01", "to": "2026-12-31"}
    assert body["as_of"] == "2026-12-20"
    rows = {r["fund"]: r for r in body["rows"]}
    zq = rows["zhaoqing"]
    assert (zq["amount_wan_yuan"], zq["projects"], zq["rights"]) == ("212.46", 3, 4)
    assert (zq["patent_amount_wan_yuan"], zq["patent_projects"], zq["patents"]) == ("212.46", 3, 3)
    assert (zq["trademark_amount_wan_yuan"], zq["trademark_projects"], zq["trademarks"]) == ("101.23", 1, 1)
    fs = rows["foshan"]
    assert (fs["patent_amount_wan_yuan"], fs["patent_projects"]) == ("200.00", 1)
    assert (fs["trademark_amount_wan_yuan"], fs["trademark_projects"]) == ("1.24", 1)

    patent = body["patent_table"]
    assert [
        (r["rank"], r["fund"], r["city"], r["amount_wan_yuan"], r["projects"], r["rights"])
        for r in patent["rows"]
    ] == [
        (1, "zhaoqing", "肇庆市", "212.46", 3, 3),
        (2, "foshan", "佛山市", "200.00", 1, 1),
        (None, "shantou", "汕头市", "0.00", 0, 0),
        (None, "shaoguan", "韶关市", "0.00", 0, 0),
    ]
    assert (patent["total"]["city"], patent["total"]["amount_wan_yuan"], patent["total"]["projects"]) == (
        "合计",
        "412.46",
        4,
    )
    trademark = body["trademark_table"]
    assert [
        (r["rank"], r["fund"], r["amount_wan_yuan"], r["projects"], r["rights"]) for r in trademark["rows"]
    ][:2] == [(1, "zhaoqing", "101.23", 1, 1), (2, "foshan", "1.24", 1, 1)]
    assert trademark["total"]["amount_wan_yuan"] == "102.47" and trademark["total"]["rights"] == 2
    # Both kinds pledged by L2: in both tables, once in the total amount.
    assert D(body["total"]["amount_wan_yuan"]) < D(patent["total"]["amount_wan_yuan"]) + D(
        trademark["total"]["amount_wan_yuan"]
    )
    # Every row of every table carries the four figures, the totals too.
    for table in ("rows", "by_district", "by_institution"):
        for row in body[table]:
            assert {
                "patent_amount_wan_yuan",
                "patent_projects",
                "trademark_amount_wan_yuan",
                "trademark_projects",
            } <= set(row)
    assert body["by_district_total"]["trademark_projects"] == 2


def test_annual_flows_are_the_sum_of_the_four_quarters(personas, dataset):
    year = annual(personas).json()
    quarters = [quarter(personas, q) for q in (1, 2, 3, 4)]
    for code in ("zhaoqing", "foshan", "shantou", "shaoguan"):
        row = next(r for r in year["rows"] if r["fund"] == code)
        for key in FLOW_KEYS:
            parts = [next(r for r in q["rows"] if r["fund"] == code)[key] for q in quarters]
            if isinstance(row[key], int):
                assert row[key] == sum(parts), (code, key)
            else:
                assert D(row[key]) == sum(D(p) for p in parts), (code, key)
    for key in FLOW_KEYS:
        parts = [q["total"][key] for q in quarters]
        total = year["total"][key]
        assert (total == sum(parts)) if isinstance(total, int) else D(total) == sum(D(p) for p in parts), key
    # Stocks are as at the year's end (today while it runs), the same as the running quarter's.
    assert year["total"]["outstanding_wan_yuan"] == quarters[3]["total"]["outstanding_wan_yuan"]


def test_annual_xlsx_has_henan_style_patent_and_trademark_sheets(personas, dataset):
    response = annual(personas, "regulator_x", fund="zhaoqing", format="xlsx")
    assert response.status_code == 200
    assert 'filename="annual-zhaoqing-2026.xlsx"' in response["Content-Disposition"]
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
    assert book["按资金"]["A2"].value.startswith("统计期间：2026年度（2026-01-01 至 2026-12-31）")
    sheet = book["专利质押融资"]
    assert [c.value for c in sheet[4]] == [
        "排名",
        "城市",
        "资金",
        "专利质押融资金额(万元)",
        "项目数(笔)",
        "专利数(件)",
    ]
    assert [c.value for c in sheet[5]][:2] == ["1", "肇庆市"]
    assert D(str(sheet["D5"].value)) == D("212.46") and sheet["D5"].number_format == "#,##0.00"
    assert (sheet["E5"].value, sheet["F5"].value) == (3, 3)
    assert (sheet["A6"].value, D(str(sheet["D6"].value))) == ("合计", D("212.46"))
    trademarks = book["商标质押融资"]
    assert [c.value for c in trademarks[4]][3:] == ["商标质押融资金额(万元)", "项目数(笔)", "商标数(件)"]
    assert D(str(trademarks["D5"].value)) == D("101.23")


def test_annual_csv_puts_the_ip_tables_under_the_same_header(personas, dataset):
    response = annual(personas, format="csv")
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    patents = [r for r in rows if r["报表"] == "专利质押融资"]
    assert [(r["排名"], r["资金代码"]) for r in patents] == [
        ("1", "zhaoqing"),
        ("2", "foshan"),
        ("", "shantou"),
        ("", "shaoguan"),
        ("合计", ""),
    ]
    assert (
        patents[0]["其中：专利质押融资金额(万元)"],
        patents[0]["专利质押项目数(笔)"],
        patents[0]["质押专利(件)"],
    ) == (
        "212.46",
        "3",
        "3",
    )
    trademarks = [r for r in rows if r["报表"] == "商标质押融资"]
    assert trademarks[-1]["其中：商标质押融资金额(万元)"] == "102.47"


@pytest.mark.parametrize(
    ("who", "params", "status"),
    [
        ("regulator_x", {"fund": "zhaoqing"}, 200),
        ("regulator_x", {"fund": "foshan"}, 404),  # another city's fund
        ("bank_a", {}, 403),
        ("officer", {}, 200),
        ("anonymous", {}, 401),
        ("gdee-viewer", {"year": 1999}, 400),
        ("gdee-viewer", {"year": 2027}, 400),  # the year has not begun
    ],
)
def test_annual_scope(personas, business_date, who, params, status):
    business_date("2026-12-20")
    response = annual(personas, who, **params)
    assert response.status_code == status, response.content
    if status == 200 and who == "regulator_x":
        assert response.json()["funds"] == ["zhaoqing"]


def test_admin_generates_a_table_for_a_chosen_period_with_downloads(client, personas, dataset):
    from django.urls import reverse

    from fundmgr.ground.accounts.models import User

    client.force_login(User.objects.get(username="officer"))
    url = reverse("admin:reports_tables")
    page = client.get(url)
    assert page.status_code == 200 and "统计报表（按期间生成）" in page.content.decode()
    text = client.get(url, {"kind": "annual", "year": 2026, "fund": ""}).content.decode()
    assert "2026年度（2026-01-01 至 2026-12-31）" in text
    assert "专利质押融资" in text and "商标质押融资" in text and "肇庆市" in text
    assert '<td class="num">212.46</td>' in text  # Zhaoqing's patent amount in 万元
    xlsx = client.get(url, {"kind": "annual", "year": 2026, "fund": "zhaoqing", "download": "xlsx"})
    assert xlsx.status_code == 200 and 'filename="annual-zhaoqing-2026.xlsx"' in xlsx["Content-Disposition"]
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames[3:5] == ["专利质押融资", "商标质押融资"]
    quarterly = client.get(url, {"kind": "quarterly", "year": 2026, "quarter": 4, "download": "csv"})
    assert (
        quarterly.status_code == 200
        and 'filename="quarterly-all-2026Q4.csv"' in quarterly["Content-Disposition"]
    )
    refused = client.get(url, {"kind": "quarterly", "year": 2027, "quarter": 1}).content.decode()
    assert "统计期间尚未开始" in refused
    assert "季度统计表须选择季度" in client.get(url, {"kind": "quarterly", "year": 2026}).content.decode()
