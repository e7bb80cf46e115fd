"""Monthly reports: generated on the 1st for the month before, stored as sent (JSON and
XLSX), idempotent per period, read through the API and downloaded in the admin."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from fundmgr.ground.funds.models import Fund
from fundmgr.ground.lib.errors import AppError
from fundmgr.top.reports import services
from fundmgr.top.reports.models import StoredReport
from fundmgr.top.reports.tasks import monthly_reports_generate_all
from tests.reports import build_dataset, monthly_report

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/monthly/"

# 4 funds + 7 cooperation agreements (one statement per bank and fund).
REPORTS_PER_MONTH = 4 + 7


def monthly(personas, who: str, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return personas.client(who).get(f"{URL}?{query}")


def test_generated_on_the_first_kept_as_sent_and_regenerated_on_request(personas, business_date):
    ds = build_dataset(personas, business_date, until="2026-11-30")
    business_date("2026-12-01")
    # Beat's run on 1 December, before the banks' November reports arrived.
    assert monthly_reports_generate_all.delay().get() == REPORTS_PER_MONTH
    assert StoredReport.objects.count() == REPORTS_PER_MONTH
    body = monthly(personas, "regulator_x", fund="zhaoqing", year=2026, month=11).json()
    assert (body["kind"], body["fund"]["code"], body["institution"]) == ("monthly_fund", "zhaoqing", None)
    assert body["period"] == {"year": 2026, "month": 11, "from": "2026-11-01", "to": "2026-11-30"}
    s = body["summary"]
    # Received and accepted in November: L2 1,012,345.00 + L3 612,250.00 = 1,624,595.00.
    assert (s["filings_received"], s["filings_received_amount"]) == (2, "1624595.00")
    assert (s["filings_accepted"], s["filings_accepted_amount"]) == (2, "1624595.00")
    # The book at 30 November: no report yet, every loan at its covered principal, performing.
    assert (s["covered_loans"], s["covered_outstanding"]) == (3, "2124595.00")
    assert (s["non_performing_loans"], s["non_performing_amount"], s["npl_ratio"]) == (0, "0.00", "0.00")
    # Exposure 2,124,595.00 × 50 % = 1,062,297.50; leverage 2,124,595 / 5,000,000 = 0.4249 → 0.42.
    assert (s["exposure"], s["capital"], s["leverage"], s["leverage_limit"], s["capacity"]) == (
        "1062297.50",
        "5000000.00",
        "0.42",
        "10.00",
        "50000000.00",
    )
    assert body["ledger"] == {
        "opening_balance": "5000000.00",
        "movements": [],
        "inflows": "0.00",
        "outflows": "0.00",
        "closing_balance": "5000000.00",
    }
    assert [r["institution"] for r in body["by_institution"]] == ["ccb-zhaoqing", "zqrcb"]
    assert body["by_institution"][1]["filings_accepted"] == 2
    stored = StoredReport.objects.get(kind="monthly_fund", fund__code="zhaoqing")
    first_generated_at, first_data = stored.generated_at, stored.data

    # The reports arrive (L3 substandard); beat fires again: nothing is stored twice or changed.
    monthly_report(personas, "bank_a", ds.l2, outstanding_principal="1000000.00")
    monthly_report(
        personas,
        "bank_a",
        ds.l3,
        outstanding_principal="612250.00",
        days_overdue=10,
        risk_class="substandard",
    )
    assert monthly_reports_generate_all.delay(2026, 11).get() == REPORTS_PER_MONTH
    assert StoredReport.objects.count() == REPORTS_PER_MONTH
    stored.refresh_from_db()
    assert (stored.generated_at, stored.data) == (first_generated_at, first_data)

    # Staff regenerate: the book now follows the reports as of 30 November.
    services.monthly_report_generate(
        fund=Fund.objects.get(code="zhaoqing"), year=2026, month=11, regenerate=True
    )
    assert StoredReport.objects.count() == REPORTS_PER_MONTH
    s = monthly(personas, "regulator_x", fund="zhaoqing", year=2026, month=11).json()["summary"]
    # 500,000 + 1,000,000 + 612,250 = 2,112,250.00; NPL 612,250 / 2,112,250 = 28.99 %.
    assert (
        s["covered_outstanding"],
        s["non_performing_loans"],
        s["non_performing_amount"],
        s["npl_ratio"],
    ) == (
        "2112250.00",
        1,
        "612250.00",
        "28.99",
    )
    assert s["exposure"] == "1056125.00"


def test_december_fund_report_and_bank_statement(personas, business_date):
    build_dataset(personas, business_date)
    business_date("2027-01-01")
    assert monthly_reports_generate_all.delay().get() == REPORTS_PER_MONTH
    body = monthly(personas, "regulator_y", fund="foshan", year=2026, month=12).json()
    s = body["summary"]
    assert (s["filings_received"], s["filings_accepted"]) == (0, 0)
    assert (s["covered_loans"], s["covered_outstanding"]) == (1, "12350.00")  # L4 left the book when paid
    assert (s["claims_filed"], s["claims_filed_amount"]) == (1, "1200000.00")
    assert (s["claims_approved"], s["claims_approved_amount"]) == (1, "1000000.00")
    assert (s["claims_paid"], s["claims_paid_amount"]) == (1, "1000000.00")
    assert (s["recoveries_returned"], s["recoveries_returned_amount"]) == (1, "50000.00")
    # Exposure 12,350.00 × 60 % = 7,410.00; capacity 60,000,000 × 10.
    assert (s["exposure"], s["capacity"], s["leverage"]) == ("7410.00", "600000000.00", "0.00")
    assert body["ledger"] == {
        "opening_balance": "60000000.00",
        "movements": [
            {"entry_type": "compensation_paid", "label": "代偿支出", "amount": "-1000000.00"},
            {"entry_type": "recovery_returned", "label": "追偿返还", "amount": "50000.00"},
        ],
        "inflows": "50000.00",
        "outflows": "-1000000.00",
        "closing_balance": "59050000.00",
    }
    assert [r["institution"] for r in body["by_institution"]] == ["icbc-foshan", "nanhai-rcb", "shunde-rcb"]

    statement = monthly(
        personas, "bank_b", fund="foshan", year=2026, month=12, institution="icbc-foshan"
    ).json()
    assert (statement["kind"], statement["institution"]["code"]) == ("monthly_institution", "icbc-foshan")
    assert "ledger" not in statement and "capital" not in statement["summary"]
    assert statement["summary"]["exposure"] == "7410.00"  # the bank's loans: 12,350.00 × 60 %
    assert statement["summary"]["claims_paid_amount"] == "1000000.00"
    assert [
        (loan["principal"], loan["covered_outstanding"], loan["loan_class"]) for loan in statement["loans"]
    ] == [("12350.00", "12350.00", "正常")]
    statement_xlsx = monthly(
        personas, "bank_b", fund="foshan", year=2026, month=12, institution="icbc-foshan", format="xlsx"
    )
    book = load_workbook(io.BytesIO(statement_xlsx.content))
    assert book.sheetnames == ["月报", "在保贷款明细"]
    assert book["月报"]["A1"].value.startswith(
        "合作机构月度对账单：佛山市知识产权质押融资风险补偿资金 · 中国工商银行"
    )
    loans = book["在保贷款明细"]
    assert [c.value for c in loans[4]][4:] == ["贷款本金(元)", "月末在保余额(元)", "月末状态"]
    assert (loans["E5"].value, loans["E5"].number_format, loans["G5"].value) == (12350, "#,##0.00", "正常")
    assert (
        isinstance(loans["D5"].value, dt.datetime) and loans["D5"].number_format == "yyyy-mm-dd"
    )  # 受理日期
    zhaoqing = monthly(personas, "officer", fund="zhaoqing", year=2026, month=12).json()["summary"]
    assert (zhaoqing["covered_outstanding"], zhaoqing["npl_ratio"]) == ("2112250.00", "28.99")

    response = monthly(personas, "regulator_y", fund="foshan", year=2026, month=12, format="xlsx")
    assert response.status_code == 200
    assert 'filename="monthly-foshan-2026-12.xlsx"' in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["月报", "资金台账", "分机构"]
    sheet = book["月报"]
    assert sheet["A1"].value == "风险补偿资金月度报告：佛山市知识产权质押融资风险补偿资金"
    assert sheet["A2"].value == "报告期间：2026年12月（2026-12-01 至 2026-12-31）"
    lines = {
        sheet.cell(row=r, column=1).value: sheet.cell(row=r, column=2) for r in range(5, sheet.max_row + 1)
    }
    assert (
        lines["本月代偿金额(元)"].value == 1000000 and lines["本月代偿金额(元)"].number_format == "#,##0.00"
    )
    assert lines["本月代偿(笔)"].value == 1 and lines["本月代偿(笔)"].number_format == "#,##0"
    ledger = book["资金台账"]
    assert [ledger.cell(row=r, column=1).value for r in range(5, 9)] == [
        "期初余额",
        "代偿支出",
        "追偿返还",
        "期末余额",
    ]


@pytest.fixture
def november(personas, business_date):
    build_dataset(personas, business_date, until="2026-11-30")
    business_date("2026-12-01")
    monthly_reports_generate_all()


@pytest.mark.parametrize(
    ("who", "params", "status", "code"),
    [
        ("regulator_x", {"fund": "zhaoqing"}, 200, None),
        ("gdee-viewer", {"fund": "zhaoqing", "institution": "zqrcb"}, 200, None),
        ("regulator_y", {"fund": "zhaoqing"}, 404, "not_found"),
        ("regulator_x", {"fund": "zhaoqing", "month": 10}, 404, "report_not_generated"),
        ("bank_a", {"fund": "zhaoqing"}, 403, "statement_only"),
        ("bank_a", {"fund": "zhaoqing", "institution": "zqrcb"}, 200, None),
        ("bank_a", {"fund": "zhaoqing", "institution": "ccb-zhaoqing"}, 404, "not_found"),
        ("bank_b", {"fund": "zhaoqing", "institution": "icbc-foshan"}, 404, "not_found"),
        ("anonymous", {"fund": "zhaoqing"}, 401, "not_authenticated"),
        ("officer", {"fund": "zhaoqing", "month": 13}, 400, "max_value"),
        ("officer", {"fund": "zhaoqing", "format": "csv"}, 400, "invalid_choice"),
    ],
)
def test_who_reads_which_monthly_report(personas, november, who, params, status, code):
    response = monthly(personas, who, **{"year": 2026, "month": 11, **params})
    assert response.status_code == status, response.content
    if code:
        assert response.json()["code"] == code
    else:
        expected = "monthly_institution" if "institution" in params else "monthly_fund"
        assert response.json()["kind"] == expected


def test_a_month_not_over_is_not_generated(personas, business_date):
    business_date("2026-12-20")
    with pytest.raises(AppError) as caught:
        services.monthly_report_generate(fund=Fund.objects.get(code="zhaoqing"), year=2026, month=12)
    assert caught.value.code == "period_not_ended"
    assert not StoredReport.objects.exists()


def test_downloads_in_the_admin(client, personas, november):
    from fundmgr.ground.accounts.models import User

    client.force_login(User.objects.get(username="officer"))
    page = client.get(reverse("admin:reports_storedreport_changelist")).content.decode()
    report = StoredReport.objects.get(kind="monthly_fund", fund__code="zhaoqing")
    xlsx_url = reverse("admin:reports_storedreport_download", args=[report.pk, "xlsx"])
    assert "资金月报" in page and xlsx_url in page
    response = client.get(xlsx_url)
    assert response.status_code == 200
    assert 'filename="monthly-zhaoqing-2026-11.xlsx"' in response["Content-Disposition"]
    assert load_workbook(io.BytesIO(response.content))["月报"]["A1"].value.startswith("风险补偿资金月度报告")
    data = client.get(reverse("admin:reports_storedreport_download", args=[report.pk, "json"])).json()
    assert data["summary"]["filings_accepted_amount"] == "1624595.00"
    # Only the system administrator may replace a report that was sent.
    assert 'value="regenerate"' not in page
    client.force_login(User.objects.get(username="admin"))
    listing = reverse("admin:reports_storedreport_changelist")
    assert 'value="regenerate"' in client.get(listing).content.decode()
    response = client.post(listing, {"action": "regenerate", "_selected_action": [report.pk]}, follow=True)
    assert "已重新生成 1 份报表" in response.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_store_each_report_once(demo, business_date):
    """Two beat ticks (or a retry) racing on the same month: one set of reports, no error."""
    import threading

    from django.db import connection

    business_date("2026-12-01")
    fund = Fund.objects.get(code="zhaoqing")
    barrier = threading.Barrier(4)
    results: list[list[int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            pks = [r.pk for r in services.monthly_report_generate(fund=fund, year=2026, month=11)]
            with lock:
                results.append(pks)
        except BaseException as exc:  # reported by the assertion below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(results) == 4 and all(pks == results[0] for pks in results)
    assert StoredReport.objects.filter(fund=fund).count() == 1 + 2  # the fund and its two banks


def _cells(content: bytes) -> dict:
    """Every sheet's cells: value and number format, by coordinate."""
    book = load_workbook(io.BytesIO(content))
    return {
        (sheet.title, cell.coordinate): (cell.value, cell.number_format)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    }


def test_the_workbook_is_rendered_from_the_kept_figures_at_the_first_download(personas, november):
    """The monthly job keeps the figures only; the first download renders the workbook, the
    same cells as one written from the figures when they were built, and keeps it: a second
    download is the same file, byte for byte."""
    from fundmgr.ground.lib import clock
    from fundmgr.top.reports import exporters

    assert not StoredReport.objects.filter(xlsx__isnull=False).exists()
    zhaoqing = Fund.objects.get(code="zhaoqing")
    [(_fund, built)] = list(
        services.monthly_build_all(funds=[zhaoqing], year=2026, month=11, today=clock.today())
    )
    for who, params, institution in (
        ("regulator_x", {}, None),
        ("bank_a", {"institution": "zqrcb"}, "zqrcb"),
    ):
        first = monthly(personas, who, fund="zhaoqing", year=2026, month=11, format="xlsx", **params)
        assert first.status_code == 200, first.content
        [data] = [d for inst, d in built if (inst.code if inst else None) == institution]
        assert _cells(first.content) == _cells(exporters.monthly_xlsx(data))
        assert any(kind == "#,##0.00" for _value, kind in _cells(first.content).values())  # numbers, not text
        again = monthly(personas, who, fund="zhaoqing", year=2026, month=11, format="xlsx", **params)
        assert again.content == first.content
    kept = StoredReport.objects.filter(xlsx__isnull=False)
    assert (
        kept.count() == 2 and StoredReport.objects.filter(xlsx__isnull=True).count() == REPORTS_PER_MONTH - 2
    )


def test_a_regenerated_report_renders_its_new_figures(personas, november):
    report = StoredReport.objects.get(kind="monthly_fund", fund__code="zhaoqing")
    before = services.stored_report_workbook(report=report)
    regenerated = services.stored_report_regenerate(report=report)
    assert regenerated.xlsx is None  # the old workbook went with the old figures
    after = services.stored_report_workbook(report=regenerated)
    assert _cells(after) == _cells(before)  # nothing changed in between: the same cells
    assert bytes(StoredReport.objects.get(pk=report.pk).xlsx) == after
