"""Pages at 1280 × 900: the key columns of every queue are on screen without scrolling
sideways, in Chinese and in English (whose headers and labels are longer), and the filing page
is short enough to read.

Measured, not eyeballed: the bounding box of each key column's header cell (and of the
first row's cell) against what the user can see of it, i.e. the viewport and the changelist's
own scrolling box (Django's admin lets a too-wide table scroll inside `.results`). Every list
holds at least one real row, made through the bank's API and the services
(tests/admin/queues.py). A failing test leaves its pages' screenshots and HTML in
var/browser-failures/ (tests/browser/conftest.py).
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.utils import translation

from enterprises.models import IPAsset
from loans.models import LoanFiling
from loans.services.filings import due_diligence_record, filing_transition
from tests.admin.queues import BUSINESS_DATE, queue_rows
from tests.factories import filing_body
from tests.loans.conftest import ALL_CHECKED
from tests.matching.conftest import YUNFAN, need_body

from .conftest import FAILURES_DIR, VIEWPORT
from .helpers import read_in

LANGUAGES = ["zh-hans", "en"]

# column (list_display name) -> a word its header must contain: what the user looks for
FILING_KEY_COLUMNS = {
    "reference": "编号",
    "enterprise_name": "企业",
    "principal_yuan": "本金",
    "status": "状态",
    "due_on": "尽调截止日",
}

# Every queue, and the lists of agreements and SME thresholds: its list, and its key columns
# (the record, the party, the amount, the status and the deadline where there is one).
QUEUES = {
    "filings": ("/admin/loans/loanfiling/", FILING_KEY_COLUMNS),
    "claims": (
        "/admin/loans/claim/",
        {
            "reference": "编号",
            "enterprise": "企业",
            "institution_name": "机构",
            "claimable_yuan": "可补偿金额",
            "status": "状态",
            "days_in_state": "停留",
        },
    ),
    "recoveries": (
        "/admin/loans/recovery/",
        {
            "claim": "补偿申请",
            "enterprise": "企业",
            "fund_yuan": "应返还",
            "status": "状态",
            "due": "返还截止日",
        },
    ),
    "status_reports": (
        "/admin/loans/statusreport/",
        {
            "filing": "贷款",
            "enterprise": "企业",
            "outstanding_yuan": "余额",
            "risk_class": "五级分类",
            "reported": "报送",
        },
    ),
    "early_warnings": (
        "/admin/loans/earlywarning/",
        {"raised": "预警日期", "kind": "类型", "filing": "贷款", "enterprise": "企业", "resolved": "解除"},
    ),
    "enterprises": (
        "/admin/enterprises/enterprise/",
        {
            "enterprise_name": "企业名称",
            "fund_name": "资金",
            "district": "区县",
            "status": "状态",
            "admitted_until_on": "有效期",
            "applied_by": "申请机构",
        },
    ),
    "ledger": (
        "/admin/funds/ledgerentry/",
        {
            "value_on": "记账日期",
            "fund_name": "资金",
            "entry_kind": "类型",
            "amount_yuan": "金额",
            "claim_link": "补偿申请",
        },
    ),
    "funds": (
        "/admin/funds/fund/",
        {"name": "名称", "balance_yuan": "余额", "exposure_yuan": "敞口", "dashboard_link": "看板"},
    ),
    "stored_reports": (
        "/admin/reports/storedreport/",
        {"kind": "类型", "fund_name": "资金", "period": "期间", "downloads": "下载"},
    ),
    "financing_needs": (
        "/admin/matching/financingneed/",
        {
            "enterprise_name": "企业",
            "district": "区县",
            "amount_yuan": "融资金额",
            "status": "状态",
            "registered": "登记日期",
            "expires": "有效期至",
        },
    ),
    "agreements": (
        "/admin/banks/cooperationagreement/",
        {
            "institution_name": "合作机构",
            "fund_name": "资金",
            "quota_yuan": "额度",
            "effective": "生效日期",
            "filings_state": "备案状态",
        },
    ),
    "sme_thresholds": (
        "/admin/enterprises/smethreshold/",
        {"standard": "划型标准", "industry": "行业标识", "name": "行业名称", "effective": "施行日期"},
    ),
}

# The filing page, read top to bottom at 1280 × 900, in CSS pixels (issue 13 measured ~3,700).
FILING_PAGE_MAX_HEIGHT = 1800


def in_language(url: str, columns: dict[str, str], language: str) -> dict[str, str]:
    """The key columns of the list at `url` with the words their headers must contain in
    `language`: the Chinese words above, or in English each column's own label, translated."""
    if language == "zh-hans":
        return columns
    app_label, model_name = url.strip("/").split("/")[1:3]
    model = apps.get_model(app_label, model_name)
    model_admin = admin.site._registry[model]
    named = {getattr(f, "__name__", f): f for f in model_admin.list_display}
    with translation.override(language):
        return {name: str(label_for_field(named.get(name, name), model, model_admin)) for name in columns}


def clipped_columns(page, columns: dict[str, str]) -> dict[str, str]:
    """{column: what is wrong} for each key column not fully visible on the list page."""
    box = page.locator("#changelist-form .results").bounding_box()
    visible_left = max(0.0, box["x"])
    visible_right = min(float(page.viewport_size["width"]), box["x"] + box["width"])
    problems = {}
    for name, label in columns.items():
        # A renamed or removed column is a plain failure: update the map.
        header = page.locator(f"#result_list thead th.column-{name}")
        assert header.count() == 1, f"the list has no column {name!r} ({label})"
        shown = " ".join(header.inner_text().split())
        assert label.lower() in shown.lower(), f"column {name} is headed {shown!r}, not {label!r}"
        label = shown
        cells = [
            header.bounding_box(),
            page.locator(f"#result_list tbody tr .field-{name}").first.bounding_box(),
        ]
        left = min(c["x"] for c in cells)
        right = max(c["x"] + c["width"] for c in cells)
        if left < visible_left - 0.5 or right > visible_right + 0.5:
            problems[name] = (
                f"{label}: x {left:.0f}–{right:.0f} px, visible {visible_left:.0f}–{visible_right:.0f} px "
                f"(clipped by {max(right - visible_right, visible_left - left):.0f} px)"
            )
    return problems


def list_overflow(page) -> int:
    """How many pixels of the list are hidden to the right (0: the whole table shows)."""
    return page.evaluate(
        "() => { const r = document.querySelector('#changelist-form .results');"
        " return Math.max(0, r.scrollWidth - r.clientWidth); }"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_filings_list_shows_key_columns_at_1280(as_persona, personas, business_date, language):
    business_date("2026-11-21")
    response = personas.client("bank_a").post("/api/v1/filings/", filing_body(), format="json")
    assert response.status_code == 201, response.json()
    filing = LoanFiling.objects.get(pk=response.json()["id"])

    officer = as_persona("officer")
    read_in(officer, language)
    columns = in_language("/admin/loans/loanfiling/", FILING_KEY_COLUMNS, language)
    # The measurement itself first: on a screen wide enough, nothing is clipped.
    officer.set_viewport_size({"width": 2560, "height": VIEWPORT["height"]})
    officer.goto("/admin/loans/loanfiling/")
    assert officer.locator("#result_list").get_by_role("link", name=filing.reference).is_visible()
    assert clipped_columns(officer, columns) == {}

    officer.set_viewport_size(VIEWPORT)
    officer.reload()
    assert clipped_columns(officer, columns) == {}
    assert list_overflow(officer) == 0
    # The reference reads on one line (issue 13 saw `ZQ-/2026-/000001`).
    cell = officer.locator("#result_list tbody tr .field-reference").first
    assert cell.inner_text().strip() == filing.reference
    line_height = officer.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)", cell.element_handle())
    assert cell.locator("a").bounding_box()["height"] < 1.5 * line_height


def foshan_rows(personas, business_date) -> None:
    """Bank B (中国工商银行佛山分行, the demo's longest bank name) lends 5,000,000.00 to a Foshan
    enterprise, reports the loan for November and registers a financing need for it: names and
    amounts as wide as the demo's, which made the English status reports too wide (40 px on the
    demo data, 16 px with these rows, before the bank column wrapped)."""
    bank_b = personas.client("bank_b")
    business_date("2026-11-21")
    patent = IPAsset.objects.filter(enterprise__uscc=YUNFAN).exclude(kind="trademark").first()
    body = filing_body(
        fund="foshan",
        enterprise_uscc=YUNFAN,
        contract_no="ICBC-FS-2026-001",
        principal="5000000.00",
        covered_principal="5000000.00",
        matures_on=min("2027-11-15", patent.expires_on.isoformat()),
        pledges=[{**filing_body()["pledges"][0], "kind": patent.kind, "number": patent.number}],
    )
    filed = bank_b.post("/api/v1/filings/", body, format="json")
    assert filed.status_code == 201, filed.json()
    filing_id = filed.json()["id"]
    filing_transition(filing_id=filing_id, name="start_due_diligence", user=personas.user("officer"))
    due_diligence_record(filing_id=filing_id, user=personas.user("officer"), items=ALL_CHECKED)
    filing_transition(filing_id=filing_id, name="accept", user=personas.user("approver"))
    business_date(BUSINESS_DATE)
    report = {
        "as_of": "2026-11-30",
        "outstanding_principal": "5000000.00",
        "overdue_principal": "0.00",
        "overdue_interest": "0.00",
        "days_overdue": 0,
        "risk_class": "normal",
    }
    reported = bank_b.post(f"/api/v1/filings/{filing_id}/status-reports/", report, format="json")
    assert reported.status_code == 201, reported.json()
    need = bank_b.post(
        "/api/v1/financing-needs/",
        need_body(enterprise_uscc=YUNFAN, fund="foshan", offered_ip=[]),
        format="json",
    )
    assert need.status_code == 201, need.json()


@pytest.fixture
def rows(personas, business_date):
    made = queue_rows(personas, business_date)
    foshan_rows(personas, business_date)
    return made


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_queue_shows_its_key_columns_at_1280(as_persona, rows, language):
    officer = as_persona("officer")
    read_in(officer, language)
    problems = {}
    for queue, (url, columns) in QUEUES.items():
        officer.goto(url)
        assert officer.locator("#result_list tbody tr").count() >= 1, f"{queue}: the list is empty"
        clipped = clipped_columns(officer, in_language(url, columns, language))
        overflow = list_overflow(officer)
        if clipped or overflow:
            FAILURES_DIR.mkdir(parents=True, exist_ok=True)
            # the list as it was
            officer.screenshot(path=str(FAILURES_DIR / f"layout-{language}-{queue}.png"))
            problems[queue] = {"clipped": clipped, "hidden to the right (px)": overflow}
    assert problems == {}, f"at {VIEWPORT['width']} px, in {language}: {problems}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_regulators_lists_fit_at_1280(as_persona, rows, language):
    regulator = as_persona("regulator-zhaoqing")
    read_in(regulator, language)
    for queue in ("ledger", "funds", "stored_reports"):
        url, columns = QUEUES[queue]
        regulator.goto(url)
        assert clipped_columns(regulator, in_language(url, columns, language)) == {}, queue
        assert list_overflow(regulator) == 0, queue


def test_the_filing_page_is_short_with_its_actions_on_top(as_persona, rows):
    officer = as_persona("officer")
    heights = {}
    for name, filing in (
        ("waiting", rows.waiting),
        ("accepted", rows.accepted),
        ("in claim", rows.open_claim.filing),
    ):
        officer.goto(f"/admin/loans/loanfiling/{filing.pk}/change/")
        heights[name] = officer.evaluate("document.body.scrollHeight")
    assert max(heights.values()) <= FILING_PAGE_MAX_HEIGHT, heights

    # The steps the officer may take are the first thing on the page, above the fold.
    officer.goto(f"/admin/loans/loanfiling/{rows.waiting.pk}/change/")
    button = officer.get_by_role("button", name="开始尽调", exact=True)
    assert button.count() == 1
    assert button.bounding_box()["y"] + button.bounding_box()["height"] <= VIEWPORT["height"]
    # A page where nothing can be saved offers no save button.
    officer.goto(f"/admin/loans/loanfiling/{rows.accepted.pk}/change/")
    assert officer.locator("input[name=_save], input[name=_continue]").count() == 0
    assert officer.get_by_role("link", name="关闭").count() == 1
