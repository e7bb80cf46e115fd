"""The admin's lists and pages as people read them (issue 13): short names, district names,
thousands separators, checks by their Chinese names, rows named by what they are, exports of
the list as shown (XLSX and CSV, read back), transition buttons on top, no save button where
nothing can be saved."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from banks.models import CooperationAgreement
from enterprises.models import Enterprise, SMEThreshold
from fundmgr.ground.accounts.models import User
from fundmgr.ground.funds.models import Fund, LedgerEntry, PolicyVersion
from loans.models import LoanFiling
from tests.admin.queues import queue_rows

pytestmark = pytest.mark.django_db

ZQ_FUND = "肇庆市知识产权质押融资风险补偿资金"
ZQRCB = "广东肇庆农村商业银行股份有限公司"


@pytest.fixture
def rows(personas, business_date):
    return queue_rows(personas, business_date)


def login(client, username: str):
    client.force_login(User.objects.get(username=username))
    return client


def text_of(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def visible_text(html: str) -> str:
    """What a reader sees: the page without its tags and attributes (titles on hover aside)."""
    return re.sub(r"<[^>]+>", " ", html)


def filter_menu(html: str) -> str:
    start = html.index('<nav id="changelist-filter"')
    return html[start : html.index("</nav>", start)]


# --- lists ----------------------------------------------------------------------------------


def test_filings_list_names_funds_and_banks_shortly_with_the_full_names_on_hover(client, rows):
    html = text_of(login(client, "officer"), reverse("admin:loans_loanfiling_changelist"))
    cells = re.findall(
        r'<td class="field-(fund_name|institution_name)"><span title="([^"]+)">([^<]+)</span>', html
    )
    assert ("fund_name", ZQ_FUND, "肇庆") in cells
    assert ("institution_name", ZQRCB, "广东肇庆农商银行") in cells
    # The amount with thousands separators, the reference on one line.
    assert '<td class="field-principal_yuan">2,500,000.00</td>' in html
    assert "white-space: nowrap" in open_static("fundmgr/admin.css")
    # The work queues are tabs above the list; the other filters sit in a menu.
    assert re.search(r'class="fm-queue[^"]*"[^>]*>待尽调（1）</a>', html)
    assert '<details class="fm-filter-menu">' in html


def test_filters_offer_short_names_and_districts_by_name(client, rows):
    html = text_of(login(client, "officer"), reverse("admin:loans_loanfiling_changelist"))
    menu = filter_menu(html)
    assert "借款企业所在区县" in menu and ">端州区</a>" in menu and ">441202</a>" not in menu
    # Funds and banks by their short names, only those the rows refer to (one fund and one
    # bank here: no filter to offer); the enterprises list has all four cities, the stored
    # reports two banks.
    assert "以 资金" not in menu and "以 合作机构" not in menu
    enterprises = text_of(client, reverse("admin:enterprises_enterprise_changelist"))
    menu = filter_menu(enterprises)
    for city in ("肇庆", "佛山", "韶关", "汕头"):
        assert f">{city}</a>" in menu and f"{city}市知识产权" not in menu, city
    assert ">浈江区</a>" in menu and ">440204</a>" not in menu
    menu = filter_menu(text_of(client, reverse("admin:reports_storedreport_changelist")))
    assert (
        ">广东肇庆农商银行</a>" in menu
        and ">中国建设银行肇庆市分行</a>" in menu
        and "股份有限公司" not in menu
    )
    # Choosing a district filters the list and shows the choice as a removable chip.
    filtered = text_of(
        client, reverse("admin:loans_loanfiling_changelist"), **{"enterprise__region_code": "441202"}
    )
    assert rows.waiting.reference in filtered
    assert re.search(r'class="fm-chip"[^>]*>借款企业所在区县：端州区', filtered)
    elsewhere = text_of(
        client, reverse("admin:loans_loanfiling_changelist"), **{"enterprise__region_code": "441204"}
    )
    assert rows.waiting.reference not in elsewhere


def test_enterprises_list_shows_districts_by_name(client, rows):
    html = text_of(login(client, "officer"), reverse("admin:enterprises_enterprise_changelist"))
    assert '<td class="field-district"><span title="441202">端州区</span></td>' in html
    assert "441202" not in visible_text(html)


def test_ledger_rows_are_named_by_what_they_are(client, rows):
    entry = LedgerEntry.objects.get(fund__code="zhaoqing", government_level="province")
    assert str(entry) == "出资（省级） · 肇庆 · 2020-11-30 · 2,500,000.00"
    paid = LedgerEntry.objects.get(claim=rows.claim)
    assert str(paid) == f"代偿支出 · 肇庆 · {rows.claim.reference} · 2026-11-21 · -400,000.00"
    policy = PolicyVersion.objects.get(fund__code="zhaoqing")
    assert str(policy) == f"肇庆 · {policy.document_ref} · 2020-11-01起施行"
    policy.document_ref = ""
    assert str(policy) == "肇庆 · 政策版本 · 2020-11-01起施行"

    login(client, "finance")
    ledger = text_of(client, reverse("admin:funds_ledgerentry_changelist"))
    assert "seed:" not in ledger and "出资（省级）" in ledger and "-400,000.00" in ledger
    fund_page = text_of(client, reverse("admin:funds_fund_change", args=[entry.fund_id]))
    assert "seed:" not in fund_page and "2,500,000.00" in fund_page
    page = text_of(client, reverse("admin:funds_ledgerentry_change", args=[entry.pk]))
    assert "出资（省级） · 肇庆 · 2020-11-30 · 2,500,000.00" in page  # the page's title
    assert "zhaoqing @" not in text_of(client, reverse("admin:funds_policyversion_changelist"))


def test_a_fund_is_named_shortly_by_its_own_short_name_or_its_city(rows):
    zhaoqing = Fund.objects.get(code="zhaoqing")
    assert zhaoqing.short_label == "肇庆"  # from its city (441200), none set
    zhaoqing.short_name = "肇庆资金"
    assert zhaoqing.short_label == "肇庆资金"
    assert Fund(name="某某资金", region_code="", short_name="").short_label == "某某资金"


# --- change pages ---------------------------------------------------------------------------


def test_filing_checks_are_named_in_chinese_with_separators(client, rows):
    html = text_of(login(client, "officer"), reverse("admin:loans_loanfiling_change", args=[rows.waiting.pk]))
    shown = visible_text(html)
    for label in ("资金运行状态", "企业入库", "备案期限", "单户企业贷款上限", "质押登记"):
        assert label in shown, label
    for code in (
        "fund_not_active",
        "enterprise_not_admitted",
        "filing_deadline_passed",
        "pledge_not_registered",
    ):
        assert code not in html, code
    assert "上限5,000,000.00元" in shown  # the check's own message, with separators
    assert "自动校验（16 项全部通过）" in shown


def test_enterprise_eligibility_is_named_in_chinese(client, rows):
    html = text_of(
        login(client, "officer"), reverse("admin:enterprises_enterprise_change", args=[rows.enterprise.pk])
    )
    shown = visible_text(html)
    assert "注册地" in shown and "✔ 符合" in shown and "注册地在本市" in shown
    for code in ("registered_in_city", "registration_age_ok", "credit_ok", "ip_ok"):
        assert code not in html, code


def test_transition_buttons_come_before_the_record(client, rows):
    html = text_of(login(client, "officer"), reverse("admin:loans_loanfiling_change", args=[rows.waiting.pk]))
    button = html.index('name="_fsm_transition_to" value="start_due_diligence"')
    assert button < html.index('<fieldset class="module aligned')
    assert html.count('value="start_due_diligence"') == 1
    claim = text_of(client, reverse("admin:loans_claim_change", args=[rows.open_claim.pk]))
    assert claim.index('value="start_review"') < claim.index('<fieldset class="module aligned')


def save_buttons(html: str) -> set[str]:
    return set(re.findall(r'name="(_save|_continue|_addanother)"', html))


def test_pages_where_nothing_can_be_saved_have_no_save_buttons(client, rows, personas):
    from loans.services import filings as services

    login(client, "officer")
    accepted = text_of(client, reverse("admin:loans_loanfiling_change", args=[rows.accepted.pk]))
    assert save_buttons(accepted) == set() and "关闭" in accepted
    # Under due diligence the checklist is a form: the officer saves it, finance only reads.
    services.filing_transition(
        filing_id=rows.waiting.pk, name="start_due_diligence", user=User.objects.get(username="officer")
    )
    under_review = reverse("admin:loans_loanfiling_change", args=[rows.waiting.pk])
    assert "_save" in save_buttons(text_of(client, under_review))
    assert save_buttons(text_of(login(client, "finance"), under_review)) == set()
    # A policy version in force is never edited; a ledger entry is never changed.
    policy = PolicyVersion.objects.get(fund__code="zhaoqing")
    assert (
        save_buttons(
            text_of(login(client, "admin"), reverse("admin:funds_policyversion_change", args=[policy.pk]))
        )
        == set()
    )
    entry = LedgerEntry.objects.filter(fund__code="zhaoqing").first()
    assert save_buttons(text_of(client, reverse("admin:funds_ledgerentry_change", args=[entry.pk]))) == set()
    # An enterprise: editable while admitted, read-only once rejected (a final state).
    enterprise = reverse("admin:enterprises_enterprise_change", args=[rows.enterprise.pk])
    assert "_save" in save_buttons(text_of(login(client, "officer"), enterprise))
    submitted = Enterprise.objects.get(uscc="91440205644436061W")
    from enterprises.services import enterprise_transition

    enterprise_transition(
        enterprise_id=submitted.pk, name="start_review", user=User.objects.get(username="officer")
    )
    enterprise_transition(
        enterprise_id=submitted.pk,
        name="reject",
        user=User.objects.get(username="approver"),
        comment="不符合",
    )
    rejected = text_of(client, reverse("admin:enterprises_enterprise_change", args=[submitted.pk]))
    assert save_buttons(rejected) == set() and 'name="name"' not in rejected


def test_the_filing_page_folds_what_is_settled(client, rows):
    html = text_of(
        login(client, "officer"), reverse("admin:loans_loanfiling_change", args=[rows.accepted.pk])
    )
    folded = re.findall(r"<details><summary>\s*<h2[^>]*>([^<]+)</h2>", html)
    assert folded == [
        "自动校验（16 项全部通过）",
        "尽调清单（已确认 5/5 项）",
        "受理与风险分担（受理时确定）",
        "状态记录",
    ]
    assert "贷后" in html and "2,400,000.00" in html  # servicing stays open once accepted


# --- exports --------------------------------------------------------------------------------


def export(client, model_url_name: str, fmt: str, **params):
    response = client.get(reverse(model_url_name, args=[fmt]), params)
    assert response.status_code == 200, response.status_code
    return response


def test_filings_export_is_the_list_as_filtered_in_xlsx_and_csv(client, rows):
    login(client, "officer")
    html = text_of(client, reverse("admin:loans_loanfiling_changelist"), queue="submitted")
    assert 'href="/admin/loans/loanfiling/export/xlsx/?queue=submitted"' in html
    assert "导出 XLSX" in html and "导出 CSV" in html

    response = export(client, "admin:loans_loanfiling_export", "xlsx", queue="submitted")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    headers = [c.value for c in sheet[1]]
    assert headers[:5] == ["备案编号", "借款企业", "合作机构", "资金", "贷款本金(元)"]
    assert sheet.max_row == 2  # the header and the one filing waiting for due diligence
    row = {h: c for h, c in zip(headers, sheet[2], strict=True)}
    assert row["备案编号"].value == rows.waiting.reference
    assert (row["资金"].value, row["合作机构"].value) == (ZQ_FUND, ZQRCB)  # full names in the file
    assert (
        Decimal(str(row["贷款本金(元)"].value)) == Decimal("1000000")
        and row["贷款本金(元)"].number_format == "#,##0.00"
    )
    assert (
        row["尽调截止日"].value == dt.datetime(2026, 12, 4)
        and row["尽调截止日"].number_format == "yyyy-mm-dd"
    )
    assert row["备案状态"].value == "已提交"

    response = export(client, "admin:loans_loanfiling_export", "csv", q=rows.accepted.reference)
    assert response["Content-Type"].startswith("text/csv") and response.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [line["备案编号"] for line in lines] == [rows.accepted.reference]  # the search, applied
    assert lines[0]["贷款本金(元)"] == "2500000.00" and lines[0]["提交日期"] == "2026-11-21"


def test_every_queue_exports_its_rows(client, rows):
    login(client, "admin")
    for name, expected in (
        ("admin:loans_loanfiling_export", LoanFiling.objects.count()),
        ("admin:loans_claim_export", 2),
        ("admin:loans_recovery_export", 1),
        ("admin:loans_statusreport_export", 1),
        ("admin:loans_earlywarning_export", 1),
        ("admin:loans_filingdocument_export", 0),
        ("admin:enterprises_enterprise_export", Enterprise.objects.count()),
        ("admin:funds_ledgerentry_export", LedgerEntry.objects.count()),
        ("admin:funds_fund_export", 4),
        ("admin:funds_policyversion_export", PolicyVersion.objects.count()),
        ("admin:reports_storedreport_export", 3),
        ("admin:banks_cooperationagreement_export", CooperationAgreement.objects.count()),
        ("admin:enterprises_smethreshold_export", SMEThreshold.objects.count()),
    ):
        sheet = load_workbook(io.BytesIO(export(client, name, "xlsx").content)).active
        assert sheet.max_row - 1 == expected, name
        lines = list(csv.reader(io.StringIO(export(client, name, "csv").content.decode("utf-8-sig"))))
        assert len(lines) - 1 == expected, name
        assert not [h for h in lines[0] if re.fullmatch(r"[a-z_]+", h)], (name, lines[0])  # no field names


def test_agreements_export_full_names_amounts_and_dates(client, rows):
    login(client, "officer")
    assert 'href="/admin/banks/cooperationagreement/export/xlsx/"' in text_of(
        client, reverse("admin:banks_cooperationagreement_changelist")
    )
    response = export(client, "admin:banks_cooperationagreement_export", "xlsx", q="zqrcb")
    sheet = load_workbook(io.BytesIO(response.content)).active
    headers = [c.value for c in sheet[1]]
    assert headers == ["合作机构", "资金", "资金分担", "额度(元)", "生效日期", "备案状态"]
    agreement = CooperationAgreement.objects.get(institution__code="zqrcb")
    row = {h: c for h, c in zip(headers, sheet[2], strict=True)}
    assert sheet.max_row == 2
    assert (row["合作机构"].value, row["资金"].value) == (ZQRCB, ZQ_FUND)  # full names in the file
    assert (
        Decimal(str(row["额度(元)"].value)) == agreement.quota and row["额度(元)"].number_format == "#,##0.00"
    )
    assert row["生效日期"].value == dt.datetime.combine(agreement.valid_from, dt.time())


def test_ledger_export_has_signed_amounts_dates_and_the_claim(client, rows):
    login(client, "finance")
    response = export(client, "admin:funds_ledgerentry_export", "xlsx", entry_type="compensation_paid")
    sheet = load_workbook(io.BytesIO(response.content)).active
    headers = [c.value for c in sheet[1]]
    row = {h: c.value for h, c in zip(headers, sheet[2], strict=True)}
    assert sheet.max_row == 2
    assert row["记账日期"] == dt.datetime(2026, 11, 21) and Decimal(str(row["金额(元)"])) == Decimal(
        "-400000"
    )
    assert (row["类型"], row["补偿申请"], row["资金"]) == ("代偿支出", rows.claim.reference, ZQ_FUND)


def test_a_regulator_exports_only_its_citys_rows_and_no_staff_list(client, rows, personas):
    regulator = personas.user("regulator_x")
    client.force_login(regulator)
    lines = list(
        csv.DictReader(
            io.StringIO(export(client, "admin:funds_ledgerentry_export", "csv").content.decode("utf-8-sig"))
        )
    )
    assert lines and {line["资金"] for line in lines} == {ZQ_FUND}
    assert client.get(reverse("admin:loans_loanfiling_export", args=["xlsx"])).status_code in (302, 403)
    client.logout()
    assert client.get(reverse("admin:funds_ledgerentry_export", args=["csv"])).status_code == 302  # to login
    login(client, "officer")
    assert client.get(reverse("admin:loans_loanfiling_export", args=["pdf"])).status_code == 404


def open_static(path: str) -> str:
    from django.contrib.staticfiles import finders

    found = finders.find(path)
    assert found, path
    with open(found, encoding="utf-8") as handle:
        return handle.read()


def test_read_only_amounts_on_pages_have_thousands_separators(client, rows):
    login(client, "admin")
    entry = LedgerEntry.objects.get(fund__code="zhaoqing", government_level="province")
    page = text_of(client, reverse("admin:funds_ledgerentry_change", args=[entry.pk]))
    values = re.findall(r'<div class="readonly">([^<]*)</div>', page)
    assert values.count("2,500,000.00") == 1 and "2500000.00" not in page  # the amount, once
    report = text_of(client, reverse("admin:loans_statusreport_change", args=[rows.status_report.pk]))
    assert "2,400,000.00" in report and "2400000.00" not in report
    policy = PolicyVersion.objects.get(fund__code="zhaoqing")  # in force: read-only
    shown = text_of(client, reverse("admin:funds_policyversion_change", args=[policy.pk]))
    assert "5,000,000.00" in shown and "5000000.00" not in shown
    # Where an amount is an input, it stays a plain number the form can read back.
    enterprise = text_of(client, reverse("admin:enterprises_enterprise_change", args=[rows.enterprise.pk]))
    assert 'name="annual_revenue" value="74230000.00"' in enterprise


def test_a_policy_in_force_shows_ip_kinds_by_name_once(client, rows):
    policy = PolicyVersion.objects.get(fund__code="zhaoqing")
    page = text_of(login(client, "admin"), reverse("admin:funds_policyversion_change", args=[policy.pk]))
    assert page.count("可质押知识产权类型") == 1
    assert "发明专利、实用新型专利、外观设计专利、商标" in page and "invention_patent" not in page


def test_the_enterprise_form_offers_districts_by_name(client, rows):
    url = reverse("admin:enterprises_enterprise_change", args=[rows.enterprise.pk])
    page = text_of(login(client, "officer"), url)
    select = page[
        page.index('<select name="region_code"') : page.index(
            "</select>", page.index('<select name="region_code"')
        )
    ]
    assert (
        '<optgroup label="肇庆市">' in select and '<option value="441202" selected>端州区</option>' in select
    )
    assert '<option value="441204">高要区</option>' in select

    e = rows.enterprise
    data = {
        "name": e.name,
        "region_code": "441204",
        "industry_code": e.industry_code,
        "registered_on": e.registered_on.isoformat(),
        "legal_representative": "",
        "contact_name": "",
        "contact_phone": "",
        "employees": e.employees,
        "annual_revenue": e.annual_revenue,
        "total_assets": e.total_assets,
        "credit_report_date": e.credit_report_date.isoformat(),
        "credit_record_clean": "true",
        "ip_assets-TOTAL_FORMS": "0",
        "ip_assets-INITIAL_FORMS": "0",
        "ip_assets-MIN_NUM_FORMS": "0",
        "ip_assets-MAX_NUM_FORMS": "1000",
        "_save": "保存",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    e.refresh_from_db()
    assert e.region_code == "441204"
    listing = text_of(client, reverse("admin:enterprises_enterprise_changelist"), q=e.uscc)
    assert '<span title="441204">高要区</span>' in listing


def test_the_submission_date_filter_counts_from_the_business_date(client, rows, business_date):
    business_date("2026-11-21")  # the filings' business date; the wall clock is elsewhere
    html = text_of(login(client, "officer"), reverse("admin:loans_loanfiling_changelist"))
    assert "submitted_on__gte=2026-11-21&amp;submitted_on__lt=2026-11-22" in html  # 今天
    assert "submitted_on__gte=2026-11-01&amp;submitted_on__lt=2026-12-01" in html  # 本月
    today = text_of(
        client,
        reverse("admin:loans_loanfiling_changelist"),
        submitted_on__gte="2026-11-21",
        submitted_on__lt="2026-11-22",
    )
    assert rows.waiting.reference in today and "今天" in today
