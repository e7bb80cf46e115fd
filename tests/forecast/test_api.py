"""GET /api/v1/funds/{code}/forecast/: who may read it, its bounds, its answer and its file."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db
URL = "/api/v1/funds/{}/forecast/"


@pytest.fixture
def zhaoqing_book(book):
    for i, e in enumerate(book.enterprises("zhaoqing") * 3):
        book.loan(principal=f"{600000 + 10000 * i}.00", enterprise=e)
    return book


@pytest.mark.parametrize(
    ("persona", "code", "status"),
    [
        ("officer", "zhaoqing", 200),
        ("finance", "foshan", 200),
        ("regulator_x", "zhaoqing", 200),
        ("regulator_x", "foshan", 404),  # another city's fund is not there for it
        ("regulator_y", "zhaoqing", 404),
        ("bank_a", "zhaoqing", 403),  # banks are refused, their own fund included
        ("bank_b", "foshan", 403),
        ("anonymous", "zhaoqing", 401),
    ],
)
def test_staff_and_the_citys_regulators_only(personas, zhaoqing_book, persona, code, status):
    response = personas.client(persona).get(URL.format(code) + "?paths=200")
    assert response.status_code == status, response.content[:300]
    if status >= 400:
        assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("months=11", "months", "min_value"),
        ("months=37", "months", "max_value"),
        ("paths=99", "paths", "min_value"),
        ("paths=10001", "paths", "max_value"),
        ("months=abc", "months", "invalid"),
        ("default_rate=20", "default_within", "scenario_invalid"),
        ("default_rate=120&default_within=3", "default_rate", "max_value"),
        ("roll_multiplier=0", "roll_multiplier", "min_value"),
        ("largest_enterprises=500", "largest_enterprises", "max_value"),
        ("institution=icbc-foshan", "institution", "scenario_institution_not_in_fund"),
        ("scenario=nothing-saved", "scenario", "scenario_not_found"),
        ("format=pdf", "format", "invalid_choice"),
    ],
)
def test_parameters_out_of_bounds_are_400(personas, zhaoqing_book, query, field, code):
    response = personas.client("officer").get(URL.format("zhaoqing") + "?" + query)
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)]


def test_the_answer_is_reproducible_and_shaped_as_documented(personas, zhaoqing_book):
    client = personas.client("regulator_x")
    first = client.get(URL.format("zhaoqing") + "?months=12&paths=500&seed=99&roll_multiplier=2").json()
    again = client.get(URL.format("zhaoqing") + "?months=12&paths=500&seed=99&roll_multiplier=2").json()
    first.pop("seconds"), again.pop("seconds")
    assert first == again
    assert (first["months"], first["paths"], first["seed"]) == (12, 500, 99)
    assert len(first["rows"]) == 12 and first["rows"][0]["month"] == "2026-11"
    assert first["scenario"]["roll_multiplier"] == "2.00" and first["scenario"]["baseline"] is False
    assert set(first["first_below_zero"]) == {"P50", "P95", "P99"} and set(first["top_up"]) == {"P95", "P99"}
    assert [r["state"] for r in first["roll_rates"]] == [
        "normal",
        "special_mention",
        "substandard",
        "doubtful",
        "loss",
    ]
    assert [r["state"] for r in first["province_roll_rates"]] == [r["state"] for r in first["roll_rates"]]
    assert set(first["concentration"]) == {"enterprises", "institutions", "districts"}
    assert first["balance"] == "5000000.00" and first["all_default_now"].endswith(".00")
    default = client.get(URL.format("zhaoqing")).json()
    assert (default["months"], default["paths"], default["seed"]) == (24, 2000, 20261121)


def test_a_saved_scenario_by_name_and_the_workbook(personas, zhaoqing_book):
    from decimal import Decimal

    from fundmgr.ground.funds.models import Fund
    from fundmgr.top.forecast.models import StressScenario

    StressScenario.objects.create(
        fund=Fund.objects.get(code="zhaoqing"),
        name="两户违约",
        largest_enterprises=2,
        roll_multiplier=Decimal("1.5"),
    )
    client = personas.client("officer")
    body = client.get(URL.format("zhaoqing") + "?scenario=两户违约&paths=200").json()
    assert body["scenario"]["name"] == "两户违约" and body["book"]["forced"] == 6
    response = client.get(URL.format("zhaoqing") + "?scenario=两户违约&paths=200&format=xlsx")
    assert response.status_code == 200
    assert 'filename="forecast-zhaoqing-2026-11-30.xlsx"' in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[:4] == ["结论", "逐月预测", "迁徙率", "全省迁徙率"]
    months = workbook["逐月预测"]
    assert months.cell(row=5, column=1).value == "月份" and months.cell(row=6, column=1).value == "2026-11"
    summary = {
        workbook["结论"].cell(row=r, column=1).value: workbook["结论"].cell(row=r, column=2).value
        for r in range(6, 30)
    }
    assert float(summary["P95 需补充资金(元)"]) == float(body["top_up"]["P95"].replace(",", ""))


def test_the_endpoint_is_in_the_openapi_document(tmp_path):
    import yaml
    from django.core.management import call_command

    out = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    document = yaml.safe_load(out.read_text())
    operation = document["paths"]["/api/v1/funds/{code}/forecast/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"code", "months", "paths", "seed", "scenario", "default_rate", "default_within"} <= names
    assert {"roll_multiplier", "largest_enterprises", "institution", "format"} <= names
    months = next(p for p in operation["parameters"] if p["name"] == "months")["schema"]
    assert (months["minimum"], months["maximum"]) == (12, 36)
    assert {"200", "400", "403", "404"} <= set(operation["responses"])
    forecast = document["components"]["schemas"]["Forecast"]["properties"]
    assert {"rows", "first_below_zero", "top_up", "concentration", "roll_rates"} <= set(forecast)
