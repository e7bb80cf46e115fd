"""Query counts do not grow with the number of rows (issue 11): every API read under /api/v1/,
every admin changelist, the fund, institution, enterprise, filing and claim change pages, the
report builders and the fund dashboard issue as many SQL queries over a small world as over
one with three times the rows.

Method: the demo data plus one "unit" of rows of every kind (loans filed with pledges and
documents, accepted, reported on, gone bad with claims in review and paid with recoveries;
enterprise applications, institutions, funds, ledger entries, notifications; for the admin a
row of every other table it lists); count the queries of each request; add two more units;
count again. The counts must be equal: no difference is allowed, not even a constant one.
Each request is made once before it is counted, in both worlds, so that per-process caches
(content types, the working-day calendar, a token's last use) are in the same state.

The routes and changelists are enumerated from the URL conf and the admin registry, so a new
read endpoint or admin page fails here until it is measured. The nested rows of one record
(a loan's pledges, documents, history and status reports; a claim's history and recoveries)
are compared between two records in the same state, one with few and one with many of them.

A failure names each request whose count changed and lists the SQL it repeats (literals
folded to `?`, the column list left out).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from rest_framework_api_key.models import APIKey

from banks.models import Institution
from banks.services import (
    agreement_sign,
    institution_api_key_issue,
    institution_create,
    product_file,
    product_submit,
)
from enterprises.models import Enterprise, IPAsset
from enterprises.sme import SMEThreshold
from fundmgr.ground.accounts import authentication
from fundmgr.ground.accounts.models import User
from fundmgr.ground.accounts.services import institution_system_user, token_issue
from fundmgr.ground.accounts.workflow import run_transition
from fundmgr.ground.funds.models import Fund, PolicyVersion
from fundmgr.ground.funds.services import ledger_entry_record
from fundmgr.ground.lib import clock
from fundmgr.ground.lib.models import WorkdayOverride
from fundmgr.top.books.models import ImportRun
from fundmgr.top.forecast.models import StressScenario
from fundmgr.top.notifications.services import notify
from fundmgr.top.reports import services as reports
from fundmgr.top.reports.dashboard import dashboard_context
from loans.models import Claim, DueDiligence, EarlyWarning, LoanFiling
from loans.services.book import book_keep, contribution
from loans.services.filings import due_diligence_record, filing_transition
from matching import services as matching
from matching.models import EnterpriseHonour, FinancingNeed, MatchingPolicy, OutreachEvent, PriorityClass
from tests.conftest import Personas
from tests.factories import application_body, filing_body, patent_with_check, uscc_with_check

pytestmark = pytest.mark.django_db

# Everyone who calls the API, as tests/conftest.py names them ("gdee-viewer": a regulator of
# all four demo funds). Each route is measured as every persona it answers 200.
PERSONAS = (
    "bank_a",
    "bank_b",
    "regulator_x",
    "regulator_y",
    "gdee-viewer",
    "officer",
    "approver",
    "committee",
    "finance",
    "admin",
)

# The business dates the world is built on: filed and accepted on the 21st (filing_body's
# loans are disbursed on the 16th), reported on at the month's end, read on 1 December.
FILED_ON = "2026-11-21"
Q3_FILED_ON = "2026-09-15"  # a loan of a closed quarter
REPORTED_ON = "2026-12-01"
MONTH_END = "2026-11-30"
# Loans that go bad are small beside the performing ones, so that no bank's NPL ratio reaches
# the policy's 5 % and its filings get suspended as the world grows.
SMALL_LOAN = "10000.00"
LOAN = "600000.00"
PAGE_ALL = 200  # the API's max_page_size: every row of the large world fits one page

_seq = itertools.count(1)


# --- counting ----------------------------------------------------------------------------------

_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_IN_LIST = re.compile(r"IN \((?:\?(?:, )?)+\)")
_COLUMNS = re.compile(r"^(SELECT(?: DISTINCT)?) .*? FROM ")


def shape(sql: str) -> str:
    """The query with its literals folded, so that the same query for another row is equal."""
    sql = _NUMBER.sub("?", _STRING.sub("?", sql))
    return _IN_LIST.sub("IN (...)", sql)


def _brief(sql: str) -> str:
    """A query as a failure shows it: without the column list, which would hide the WHERE."""
    return _COLUMNS.sub(r"\1 … FROM ", sql, count=1)[:600]


# A request to measure: makes it and returns the HTTP status (a builder returns None).
Call = Callable[[], int | None]


def counted(call: Call) -> list[str] | None:
    """The SQL of `call`, made once first so that per-process caches are warm; None when the
    first answer is not 200 (a caller refused before any row is read is not measured)."""
    if call() not in (None, 200):
        return None
    with CaptureQueriesContext(connection) as captured:
        status = call()
    assert status in (None, 200)
    return [q["sql"] for q in captured.captured_queries]


def measure(calls: dict[str, Call], *, only: Iterable[str] | None = None) -> dict[str, list[str]]:
    """{key: SQL} of the calls answered 200 (`only`: these keys, which must all answer)."""
    if only is None:
        found = {key: counted(call) for key, call in calls.items()}
        return {key: sql for key, sql in found.items() if sql is not None}
    found = {key: counted(calls[key]) for key in only}
    assert not [key for key, sql in found.items() if sql is None], "no longer answered 200"
    return found


def growth(small: dict[str, list[str]], large: dict[str, list[str]]) -> str:
    """'' when every request took as many queries in both worlds; otherwise, per request,
    the counts and the queries made more (+) or fewer (-) times over the larger world."""
    lines = []
    for key, few in small.items():
        many = large[key]
        if len(many) == len(few):
            continue
        lines.append(f"{key}: {len(few)} queries over the small world, {len(many)} over the large")
        more = Counter(map(shape, many)) - Counter(map(shape, few))
        fewer = Counter(map(shape, few)) - Counter(map(shape, many))
        lines.extend(f"    +{times}× {_brief(sql)}" for sql, times in more.most_common())
        lines.extend(f"    -{times}× {_brief(sql)}" for sql, times in fewer.most_common())
    return "\n".join(lines)


def assert_constant(small: dict[str, list[str]], large: dict[str, list[str]]) -> None:
    assert small.keys() == large.keys()
    report = growth(small, large)
    assert not report, "query counts grow with the rows:\n" + report


# --- the world -----------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\ntrailer <</Root 1 0 R>>\n"


def pdf(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        f"{text}.pdf", PDF + f"% {text}\n%%EOF\n".encode(), content_type="application/pdf"
    )


@dataclass(frozen=True)
class Bank:
    persona: str
    code: str
    fund: str
    borrower: str  # an admitted demo enterprise of the fund
    region: str  # a district of the fund's city, for new enterprises


BANKS = (
    Bank("bank_a", "zqrcb", "zhaoqing", "9144120252133505XP", "441202"),
    Bank("bank_b", "icbc-foshan", "foshan", "91440605453878334M", "440605"),
)


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content[:600]
    return response.json()


@dataclass
class World:
    """The demo world, and what the tests add to it, one unit at a time."""

    personas: Personas
    business_date: Callable[[str], None]
    extra_rows: bool = False  # also a row of every table only the admin lists
    filings: dict[str, list[int]] = field(default_factory=dict)
    products: dict[str, str] = field(default_factory=dict)  # a filed product of each bank

    def user(self, name: str) -> User:
        return self.personas.user(name)

    # -- rows made through the real paths ------------------------------------------------------

    def patent(self, enterprise: Enterprise) -> IPAsset:
        n = next(_seq)
        return IPAsset.objects.create(
            enterprise=enterprise,
            kind="invention_patent",
            number=patent_with_check(f"20241{5000000 + n:07d}"),
            title=f"一种测试装置{n}",
            owner_name=enterprise.name,
            expires_on=dt.date(2044, 1, 1),
        )

    def file(
        self,
        bank: Bank,
        *,
        principal: str = "200000.00",
        pledges: int = 2,
        product: bool = False,
        idempotency: bool = False,
        registered_on: str = "2026-11-10",
        **dates: str,
    ) -> int:
        """The bank files a loan for its borrower, pledging `pledges` new patents registered
        on `registered_on`, under its filed product if `product` (`dates`: disbursed_on and
        matures_on, if not filing_body's)."""
        borrower = Enterprise.objects.get(uscc=bank.borrower)
        body = filing_body(
            fund=bank.fund,
            enterprise_uscc=bank.borrower,
            principal=principal,
            covered_principal=principal,
            pledges=[
                {
                    "kind": "invention_patent",
                    "number": self.patent(borrower).number,
                    "registration_no": f"Y2026440{next(_seq):06d}",
                    "registered_on": registered_on,
                    "appraised_value": "800000.00",
                }
                for _ in range(pledges)
            ],
            product=self.product(bank) if product else None,
            **dates,
        )
        headers = {"HTTP_IDEMPOTENCY_KEY": f"qc-{next(_seq)}"} if idempotency else {}
        response = self.personas.client(bank.persona).post("/api/v1/filings/", body, format="json", **headers)
        filing_id = _ok(response, 201)["id"]
        self.filings.setdefault(bank.persona, []).append(filing_id)
        return filing_id

    def product(self, bank: Bank) -> str:
        """The bank's filed loan product in its fund (made the first time)."""
        if bank.persona not in self.products:
            code = f"ip-loan-{next(_seq)}"
            product = product_submit(
                institution=Institution.objects.get(code=bank.code),
                fund=Fund.objects.get(code=bank.fund),
                data={"code": code, "name": "知识产权质押贷", "accepted_ip_kinds": ["invention_patent"]},
                by=self.user("officer"),
            )
            product_file(product_id=product.pk, by=self.user("approver"))
            self.products[bank.persona] = code
        return self.products[bank.persona]

    def upload(self, bank: Bank, filing_id: int) -> None:
        response = self.personas.client(bank.persona).post(
            f"/api/v1/filings/{filing_id}/documents/",
            {"kind": "loan_contract", "file": pdf(f"contract-{next(_seq)}")},
            format="multipart",
        )
        _ok(response, 201)

    def review(self, filing_id: int) -> None:
        officer = self.user("officer")
        filing_transition(filing_id=filing_id, name="start_due_diligence", user=officer)
        due_diligence_record(
            filing_id=filing_id, user=officer, items={item: True for item in DueDiligence.REQUIRED_ITEMS}
        )

    def accept(self, filing_id: int) -> None:
        self.review(filing_id)
        filing_transition(filing_id=filing_id, name="accept", user=self.user("approver"))

    def non_performing(self, bank: Bank, filing_id: int) -> None:
        """As the bank's monthly report would (see tests/loans/conftest.py)."""
        before = []
        run_transition(
            model=LoanFiling,
            pk=filing_id,
            name="mark_non_performing",
            user=self.user(bank.persona),
            comment="逾期95天",
            prepare=lambda f: before.append(contribution(f)),
            then=lambda f: book_keep(f, before[0]),
        )

    def claim(self, bank: Bank, filing_id: int) -> int:
        body = {
            "filing": filing_id,
            "trigger_date": "2026-11-20",
            "outstanding_principal": SMALL_LOAN,
            "recovered_before_claim": "0.00",
            "legal_action": None,
            "notes": "",
        }
        return _ok(self.personas.client(bank.persona).post("/api/v1/claims/", body, format="json"), 201)["id"]

    def claim_step(self, who: str, claim_id: int, name: str, **body) -> None:
        body.setdefault("comment", "同意")
        response = self.personas.client(who).post(
            f"/api/v1/claims/{claim_id}/transitions/{name}/", body, format="json"
        )
        _ok(response)

    def pay(self, claim_id: int) -> None:
        self.claim_step("officer", claim_id, "start_review")
        self.claim_step("approver", claim_id, "recommend")
        self.claim_step("committee", claim_id, "start_committee_review")
        self.claim_step(
            "committee", claim_id, "approve", meeting_ref="决〔2026〕1号", approved_amount="4000.00"
        )
        self.claim_step("finance", claim_id, "pay")

    def recovery(self, bank: Bank, claim_id: int) -> int:
        body = {"received_on": FILED_ON, "gross_amount": "1000.00", "costs": "100.00", "source": "borrower"}
        response = self.personas.client(bank.persona).post(
            f"/api/v1/claims/{claim_id}/recoveries/", body, format="json"
        )
        return _ok(response, 201)["id"]

    def status_report(self, bank: Bank, filing_id: int, supersedes: int | None = None) -> int:
        body = {
            "as_of": MONTH_END,
            "outstanding_principal": LOAN,
            "overdue_principal": "0.00",
            "overdue_interest": "0.00",
            "days_overdue": 0,
            "risk_class": "normal",
            "supersedes": supersedes,
        }
        response = self.personas.client(bank.persona).post(
            f"/api/v1/filings/{filing_id}/status-reports/", body, format="json"
        )
        return _ok(response, 201)["id"]

    def apply(self, bank: Bank) -> None:
        """The bank applies for a new enterprise in its fund; an officer starts the review."""
        n = next(_seq)
        body = application_body(
            fund=bank.fund,
            region_code=bank.region,
            uscc=uscc_with_check(f"91{bank.region}MA{n:07d}"[:17]),
        )
        _ok(self.personas.client(bank.persona).post("/api/v1/enterprises/", body, format="json"), 201)
        response = self.personas.client("officer").post(
            f"/api/v1/enterprises/{body['uscc']}/transitions/start_review/", {"comment": "ok"}, format="json"
        )
        _ok(response)

    def match(self, bank: Bank) -> None:
        """投融对接: the bank registers a need for its borrower and says it is interested; an
        officer records a meeting and an honour of the borrower; an event in the bank's city
        with the bank's signing."""
        client = self.personas.client(bank.persona)
        body = {
            "enterprise_uscc": bank.borrower,
            "fund": bank.fund,
            "amount": "1500000.00",
            "term_months": 12,
            "consent_on": "2026-11-20",
            "consent_scope": "full",
            "offered_ip": [self.patent(Enterprise.objects.get(uscc=bank.borrower)).number],
        }
        need = _ok(client.post("/api/v1/financing-needs/", body, format="json"), 201)["id"]
        _ok(client.post(f"/api/v1/financing-needs/{need}/interest/", {}, format="json"), 201)
        officer = self.user("officer")
        matching.need_meeting_record(need_id=need, user=officer, data={"notes": "面谈"})
        borrower = Enterprise.objects.get(uscc=bank.borrower)
        honour = EnterpriseHonour(
            enterprise=borrower, kind="tech_sme", title="科技型中小企业", granted_on=dt.date(2026, 5, 1)
        )
        matching.honour_save(honour=honour, by=officer)
        n = next(_seq)
        event = matching.event_save(
            event=OutreachEvent(
                fund=Fund.objects.get(code=bank.fund),
                kind="matchmaking",
                title=f"银企对接会{n}",
                held_on=dt.date(2026, 11, 20),
                place="会议中心",
                organisers="市场监督管理局",
                attendance=50,
            ),
            by=officer,
        )
        matching.signing_record(
            event=event,
            institution=Institution.objects.get(code=bank.code),
            enterprise=borrower,
            intended_amount=Decimal("1000000.00"),
            by=officer,
        )

    def new_fund(self) -> Fund:
        """A city fund like the demo's, cooperating with both banks, in both regulators' scope."""
        n = next(_seq)
        zhaoqing = Fund.objects.get(code="zhaoqing")
        fund = Fund.objects.create(
            code=f"city-{n}",
            name=f"测试市{n}知识产权质押融资风险补偿资金",
            reference_prefix=f"T{n}",
            region_code=f"44{n % 90 + 10:02d}00",
            manager=zhaoqing.manager,
            start_date=zhaoqing.start_date,
            status=Fund.Status.ACTIVE,
        )
        policy = PolicyVersion.objects.filter(fund=zhaoqing).order_by("effective_from").first()
        policy.pk, policy._state.adding, policy.fund = None, True, fund
        policy.save()
        ledger_entry_record(
            fund=fund,
            entry_type="contribution",
            government_level="city",
            amount=Decimal("3000000.00"),
            value_date=zhaoqing.start_date,
            by=self.user("finance"),
        )
        for bank in BANKS:
            agreement_sign(
                institution=Institution.objects.get(code=bank.code),
                fund=fund,
                data={"fund_share": "50.00", "bank_share": "50.00", "signed_on": zhaoqing.start_date},
                by=self.user("admin"),
            )
        for regulator in ("regulator-zhaoqing", "regulator-foshan", "gdee-viewer"):
            User.objects.get(username=regulator).funds.add(fund)
        return fund

    def new_institution(self) -> Institution:
        n = next(_seq)
        institution = institution_create(
            data={"code": f"bank-{n}", "name": f"测试银行{n}", "region_code": "441200"}, by=self.user("admin")
        )
        for code in ("zhaoqing", "foshan"):
            agreement_sign(
                institution=institution,
                fund=Fund.objects.get(code=code),
                data={"fund_share": "50.00", "bank_share": "50.00", "signed_on": "2026-01-01"},
                by=self.user("admin"),
            )
        return institution

    def notify_everyone(self) -> None:
        recipients = [self.user(name) for name in PERSONAS]
        n = next(_seq)
        notify(
            event="filing.accepted", event_key=f"qc:{n}", recipients=recipients, subject=f"通知{n}", body=""
        )

    # -- one unit -------------------------------------------------------------------------------

    def grow(self, units: int = 1) -> None:
        for _ in range(units):
            self._unit()

    def _unit(self) -> None:
        """Per bank: a loan accepted in the third quarter (so closed periods grow too) under
        the bank's product, with a document and a month-end report; a loan left for due
        diligence; two gone bad, one with a claim in review and one with a claim paid and a
        recovery; an enterprise application in review. And a fund and an institution that
        cooperate with both banks, an interest entry in each demo fund's ledger, a
        notification for every persona."""
        performing = {}
        self.business_date(Q3_FILED_ON)
        for bank in BANKS:
            q3 = {"registered_on": "2026-09-08", "disbursed_on": "2026-09-10", "matures_on": "2027-09-09"}
            filing_id = self.file(bank, principal=LOAN, product=True, **q3)
            self.upload(bank, filing_id)
            self.accept(filing_id)
            performing[bank.persona] = filing_id
        self.business_date(FILED_ON)
        for bank in BANKS:
            self.file(bank, idempotency=True)  # left for due diligence
            reviewed, paid = self.file(bank, principal=SMALL_LOAN), self.file(bank, principal=SMALL_LOAN)
            for loan in (reviewed, paid):
                self.accept(loan)
                self.non_performing(bank, loan)
            self.claim_step("officer", self.claim(bank, reviewed), "start_review")
            claim_id = self.claim(bank, paid)
            self.pay(claim_id)
            self.recovery(bank, claim_id)
            self.apply(bank)
            self.match(bank)
        fund = self.new_fund()
        institution = self.new_institution()
        for code in ("zhaoqing", "foshan"):
            ledger_entry_record(
                fund=Fund.objects.get(code=code),
                entry_type="interest",
                amount=Decimal("123.45"),
                value_date=dt.date(2026, 11, 20),
                by=self.user("finance"),
            )
        self.notify_everyone()
        StressScenario.objects.create(  # a saved forecast stress (fundmgr.top.forecast)
            fund=Fund.objects.get(code="zhaoqing"), name=f"情景{next(_seq)}", roll_multiplier=Decimal("2")
        )
        self.business_date(REPORTED_ON)
        for bank in BANKS:
            self.status_report(bank, performing[bank.persona])
        if self.extra_rows:
            self._admin_only_rows(fund=fund, institution=institution)

    def _admin_only_rows(self, *, fund: Fund, institution: Institution) -> None:
        """A row of each table that only the admin lists (the others grow with the unit)."""
        n = next(_seq)
        Group.objects.create(name=f"测试组{n}")
        seen = {"user_agent": "pytest", "ip_address": "127.0.0.1", "username": f"u{n}", "http_accept": "*/*"}
        AccessAttempt.objects.create(
            **seen, path_info="/admin/login/", get_data="", post_data="", failures_since_start=1
        )
        AccessLog.objects.create(**seen, path_info="/admin/login/")
        AccessFailureLog.objects.create(**seen, path_info="/admin/login/")
        APIKey.objects.create_key(name=f"key-{n}")
        institution_api_key_issue(institution_code=institution.code, name=f"key-{n}")
        interval = IntervalSchedule.objects.create(every=n, period=IntervalSchedule.DAYS)
        CrontabSchedule.objects.create(minute=str(n % 60), hour=str(n % 24))
        SolarSchedule.objects.create(event="sunrise", latitude=Decimal(n % 80), longitude=Decimal(n % 170))
        ClockedSchedule.objects.create(clocked_time=clock.now())
        PeriodicTask.objects.create(name=f"task-{n}", task="fundmgr.noop", interval=interval)
        WorkdayOverride.objects.create(date=dt.date(2030, 1, 1) + dt.timedelta(days=n), is_working_day=False)
        user = User.objects.create_user(username=f"officer-{n}", password="x", role="officer", is_staff=True)
        token_issue(username=user.username)
        institution_system_user(institution=institution)
        threshold = SMEThreshold.objects.first()  # as a row of a standard not yet in force
        threshold.pk, threshold._state.adding = None, True
        threshold.standard, threshold.effective_from = f"TEST-{n}", dt.date(2099, 1, 1)
        threshold.save()
        product_submit(
            institution=Institution.objects.get(code=BANKS[0].code),
            fund=fund,
            data={"code": f"prod-{n}", "name": f"知识产权贷{n}", "accepted_ip_kinds": ["invention_patent"]},
            by=self.user("officer"),
        )
        policy = PolicyVersion.objects.filter(fund__code=BANKS[0].fund).order_by("effective_from").first()
        policy.pk, policy._state.adding = None, True
        policy.effective_from = dt.date(2031, 1, 1) + dt.timedelta(days=n)
        policy.save()
        reports.quarterly_report_store(fund=fund, year=2026, quarter=3)
        PriorityClass.objects.create(
            fund=fund,
            order=1,
            code=f"own-{n}",
            label=f"本市分类{n}",
            rule="honour",
            parameters={"kinds": ["tech_sme"]},
        )
        MatchingPolicy.objects.create(fund=fund, effective_from=dt.date(2026, 1, 1))
        ImportRun.objects.create(
            file=f"books/test-{n}.xlsx", file_name=f"台账{n}.xlsx", fund=fund, uploaded_by=self.user("admin")
        )
        for bank in BANKS:
            EarlyWarning.objects.create(
                filing_id=self.filings[bank.persona][-1],
                kind=EarlyWarning.Kind.choices[0][0],
                subject=f"S{n}",
                message="测试预警",
                raised_on=dt.date(2026, 11, 30),
            )


@pytest.fixture
def world(personas, business_date, settings, tmp_path, monkeypatch) -> World:
    settings.MEDIA_ROOT = tmp_path  # uploaded documents
    # A token's last use is written on its first request (a warm-up call) and not again here:
    # the once-a-minute touch would otherwise land in whichever counted call crosses a minute
    # after the persona's last touch (seen on a slow machine, under the moved wall clock).
    monkeypatch.setattr(authentication, "TOKEN_TOUCH_SECONDS", 10**9)
    return World(personas=personas, business_date=business_date)


# --- the API ---------------------------------------------------------------------------------------


def api_get_routes() -> dict[str, str]:
    """Every route under /api/v1/ that answers GET: {url name: pattern}."""
    found: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if not route.lstrip("^").startswith("api/v1/"):
                    continue
                callback = p.callback
                actions = getattr(callback, "actions", None)
                view_class = getattr(callback, "cls", None)
                # a viewset route maps methods to actions; an APIView has `get`; a plain
                # function view cannot tell, so it is taken to answer GET
                answers_get = (
                    "get" in actions if actions else view_class is None or hasattr(view_class, "get")
                )
                if answers_get:
                    found[f"{namespace}{p.name}"] = route

    walk(get_resolver().url_patterns, "", "")
    return found


# Every GET route, and the paths it is measured with in the growing world. `{fund}` etc. are
# filled per persona (bank B and regulator Y see Foshan, everyone else Zhaoqing).
WORLD_PATHS: dict[str, list[str]] = {
    "v1:me": ["/api/v1/me/"],
    "v1:fund-list": ["/api/v1/funds/", f"/api/v1/funds/?page_size={PAGE_ALL}"],
    "v1:fund-detail": ["/api/v1/funds/{fund}/"],
    "v1:fund-ledger": ["/api/v1/funds/{fund}/ledger/"],
    "v1:fund-position": ["/api/v1/funds/{fund}/position/"],
    "v1:fund-forecast": ["/api/v1/funds/{fund}/forecast/?paths=100"],
    "v1:enterprise-list": ["/api/v1/enterprises/", f"/api/v1/enterprises/?page_size={PAGE_ALL}"],
    "v1:enterprise-detail": ["/api/v1/enterprises/{borrower}/"],
    "v1:institution-list": ["/api/v1/institutions/", f"/api/v1/institutions/?page_size={PAGE_ALL}"],
    "v1:institution-detail": ["/api/v1/institutions/{bank}/"],
    "v1:filing-list": ["/api/v1/filings/", f"/api/v1/filings/?page_size={PAGE_ALL}"],
    "v1:claim-list": ["/api/v1/claims/", f"/api/v1/claims/?page_size={PAGE_ALL}"],
    "v1:notification-list": ["/api/v1/notifications/", f"/api/v1/notifications/?page_size={PAGE_ALL}"],
    # every fund in the caller's scope (the builders' test measures them further)
    "v1:report-quarterly": ["/api/v1/reports/quarterly/?year=2026&quarter=4"],
    "v1:report-annual": ["/api/v1/reports/annual/?year=2026"],
    "v1:report-monthly": [
        "/api/v1/reports/monthly/?year=2026&month=11&fund={fund}",
        "/api/v1/reports/monthly/?year=2026&month=11&fund={fund}&institution={bank}",
    ],
    "v1:report-outreach": ["/api/v1/reports/outreach/?year=2026&quarter=4"],
    "v1:financing-need-list": ["/api/v1/financing-needs/", f"/api/v1/financing-needs/?page_size={PAGE_ALL}"],
    # the bank's first need (its nested rows do not grow: each unit registers a new need)
    "v1:financing-need-detail": ["/api/v1/financing-needs/{need}/"],
}
# Routes of one record whose nested rows grow on that record: measured on two records in the
# same state, one with few and one with many nested rows (test_record_reads_…).
RECORD_PATHS: dict[str, list[str]] = {
    "v1:filing-detail": ["/api/v1/filings/{filing}/"],
    "v1:filing-status-reports": ["/api/v1/filings/{filing}/status-reports/"],
    "v1:claim-detail": ["/api/v1/claims/{claim}/"],
    "v1:claim-recoveries": ["/api/v1/claims/{claim}/recoveries/"],
    "v1:recovery-detail": ["/api/v1/recoveries/{recovery}/"],
}


def scope_of(persona: str) -> dict[str, str]:
    bank = BANKS[1] if persona in ("bank_b", "regulator_y") else BANKS[0]
    need = (
        FinancingNeed.objects.filter(enterprise__uscc=bank.borrower)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return {"fund": bank.fund, "bank": bank.code, "borrower": bank.borrower, "need": need.first()}


def api_reads(world: World, paths: dict[str, list[str]], fill: Callable[[str], dict]) -> dict[str, Call]:
    """{"<persona> GET <path template> (<route>)": call} for every persona and path."""
    calls = {}
    for persona in PERSONAS:
        client = world.personas.client(persona)
        for name, templates in paths.items():
            for template in templates:
                path = template.format(**fill(persona))
                calls[f"{persona} GET {template} ({name})"] = lambda c=client, p=path: c.get(p).status_code
    return calls


def unanswered(paths: dict[str, list[str]], measured: dict[str, list[str]]) -> list[str]:
    """The paths that answered 200 to nobody (so nothing was measured for them)."""
    answered = {key.partition(" GET ")[2] for key in measured}
    return [f"{t} ({name})" for name, ts in paths.items() for t in ts if f"{t} ({name})" not in answered]


def test_every_api_read_is_measured():
    """A new GET route under /api/v1/ must be added to WORLD_PATHS or RECORD_PATHS, and a
    list is measured with its default page and with a page holding every row."""
    routes = api_get_routes()
    measured = WORLD_PATHS.keys() | RECORD_PATHS.keys()
    assert not WORLD_PATHS.keys() & RECORD_PATHS.keys()
    assert sorted(routes.keys() - measured) == [], "GET routes whose query count nobody measures"
    assert sorted(measured - routes.keys()) == [], "measured routes that no longer exist"
    lists = {name for name in routes if name.endswith("-list")}
    assert lists and lists <= WORLD_PATHS.keys()
    for name in lists:
        assert any(f"page_size={PAGE_ALL}" in t for t in WORLD_PATHS[name]), name
        assert any("page_size" not in t for t in WORLD_PATHS[name]), name


def test_api_reads_do_not_grow_with_the_rows(world):
    world.grow(1)
    for bank in BANKS:  # the stored monthly reports the monthly endpoint reads
        reports.monthly_report_generate(fund=Fund.objects.get(code=bank.fund), year=2026, month=11)
    calls = api_reads(world, WORLD_PATHS, scope_of)
    small = measure(calls)
    assert unanswered(WORLD_PATHS, small) == [], "paths that answered nobody: fix them"
    officer = world.personas.client("officer")
    filings = _ok(officer.get(f"/api/v1/filings/?page_size={PAGE_ALL}"))
    assert any(f["product"] for f in filings["results"]) and any(not f["product"] for f in filings["results"])

    world.grow(2)
    large = measure(calls, only=small)
    assert _ok(officer.get("/api/v1/filings/"))["count"] == 3 * filings["count"]
    whole_pages = [key for key in small if f"page_size={PAGE_ALL}" in key]
    for key in whole_pages:  # the page holding every row still holds every row
        persona, _, template = key.split(" (")[0].partition(" GET ")
        assert _ok(world.personas.client(persona).get(template))["next"] is None, key
    assert_constant(small, large)


# --- one record with few or many nested rows ------------------------------------------------------


@dataclass(frozen=True)
class Records:
    """Two records of each kind in the same state, the first with few nested rows, the
    second with many: (few, many)."""

    filing: tuple[int, int]
    claim: tuple[int, int]
    recovery: tuple[int, int]

    def ids(self, which: int) -> dict[str, int]:
        return {"filing": self.filing[which], "claim": self.claim[which], "recovery": self.recovery[which]}


def build_records(world: World, bank: Bank = BANKS[0]) -> Records:
    """Two accepted loans reported on (1 pledge, document, report and warning, a short
    history; 4 pledges and documents, a report corrected three times, 3 warnings, returned
    twice before acceptance) and two paid claims (1 recovery, a short history; 3 recoveries,
    returned twice)."""
    officer = world.user("officer")
    bank_client = world.personas.client(bank.persona)
    world.business_date(FILED_ON)

    few = world.file(bank, principal=LOAN, pledges=1)
    world.upload(bank, few)
    world.accept(few)
    many = world.file(bank, principal=LOAN, pledges=4)
    for _ in range(4):
        world.upload(bank, many)
    for _ in range(2):
        world.review(many)
        filing_transition(filing_id=many, name="return_for_supplement", user=officer, comment="补充材料")
        _ok(bank_client.post(f"/api/v1/filings/{many}/resubmit/", {"comment": "已补充"}, format="json"))
    world.accept(many)

    claims = []
    for returns, recoveries in ((0, 1), (2, 3)):
        loan = world.file(bank, principal=SMALL_LOAN)
        world.accept(loan)
        world.non_performing(bank, loan)
        claim_id = world.claim(bank, loan)
        for _ in range(returns):
            world.claim_step("officer", claim_id, "start_review")
            world.claim_step("officer", claim_id, "return_for_supplement", comment="补充材料")
            world.claim_step(bank.persona, claim_id, "resubmit", comment="已补充")
        world.pay(claim_id)
        claims.append((claim_id, [world.recovery(bank, claim_id) for _ in range(recoveries)]))

    world.business_date(REPORTED_ON)
    world.status_report(bank, few)
    report = world.status_report(bank, many)
    for _ in range(3):
        report = world.status_report(bank, many, supersedes=report)
    for filing_id, warnings in ((few, 1), (many, 3)):
        for i in range(warnings):
            EarlyWarning.objects.create(
                filing_id=filing_id,
                kind=EarlyWarning.Kind.choices[0][0],
                subject=f"S{i}",
                message="测试预警",
                raised_on=dt.date(2026, 11, 30),
            )
    (claim_few, recoveries_few), (claim_many, recoveries_many) = claims
    return Records(
        filing=(few, many), claim=(claim_few, claim_many), recovery=(recoveries_few[0], recoveries_many[-1])
    )


def test_record_reads_do_not_grow_with_nested_rows(world):
    records = build_records(world)
    officer = world.personas.client("officer")
    many = records.ids(1)
    detail = _ok(officer.get(f"/api/v1/filings/{many['filing']}/"))
    assert (len(detail["pledges"]), len(detail["documents"]), len(detail["history"])) == (4, 4, 10)
    assert len(_ok(officer.get(f"/api/v1/filings/{many['filing']}/status-reports/"))) == 4
    assert len(_ok(officer.get(f"/api/v1/claims/{many['claim']}/"))["history"]) == 13
    assert len(_ok(officer.get(f"/api/v1/claims/{many['claim']}/recoveries/"))) == 3

    # the same requests (keyed by their templates) for the record with few and with many rows
    small = measure(api_reads(world, RECORD_PATHS, lambda persona: records.ids(0)))
    assert unanswered(RECORD_PATHS, small) == [], "paths that answered nobody: fix them"
    large = measure(api_reads(world, RECORD_PATHS, lambda persona: records.ids(1)), only=small)
    assert_constant(small, large)


# --- the admin -------------------------------------------------------------------------------------

# The superuser; a staff member who may view the project's tables and change few of them; a
# city's regulator, who reads its own funds' pages (the others answer 403 or 404, unmeasured).
ADMIN_USERS = ("admin", "committee", "regulator-zhaoqing")


def admin_url(model, page: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


def admin_reads(pages: dict[str, str]) -> dict[str, Call]:
    """{"<user> GET <label>": call} for every page and admin user."""
    calls = {}
    for username in ADMIN_USERS:
        client = Client()
        client.force_login(User.objects.get(username=username))
        for label, url in pages.items():
            calls[f"{username} GET {label}"] = lambda c=client, u=url: c.get(u).status_code
    return calls


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in admin.site._registry}


def test_admin_changelists_do_not_grow_with_the_rows(world):
    world.extra_rows = True
    world.grow(1)
    before = row_counts()
    # Every table has rows, and fewer than a page: the larger world shows more on the page.
    assert not [label for label, n in before.items() if n == 0], "changelists measured empty"
    assert not [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if before[model._meta.label] >= model_admin.list_per_page
    ], "tables that fill the first page already"
    pages = {
        f"{model._meta.label} changelist": admin_url(model, "changelist") for model in admin.site._registry
    }
    # change pages whose panels and inlines grow with the world: the borrower's rights and
    # loans, the fund's ledger and policies, the bank's agreements and products
    for obj in (
        Enterprise.objects.get(uscc=BANKS[0].borrower),
        Fund.objects.get(code=BANKS[0].fund),
        Institution.objects.get(code=BANKS[0].code),
    ):
        pages[f"{obj._meta.label} change page"] = admin_url(obj, "change", obj.pk)
    calls = admin_reads(pages)
    small = measure(calls)
    refused = [key for key in calls.keys() - small.keys() if key.startswith("admin ")]
    assert not refused, "pages the superuser could not open"
    assert any(key.startswith("committee ") for key in small)
    assert any(key.startswith("regulator-zhaoqing ") for key in small)

    world.grow(2)
    after = row_counts()
    assert not [label for label in before if after[label] <= before[label]], "tables that did not grow"
    large = measure(calls, only=small)
    assert_constant(small, large)


def test_admin_change_pages_do_not_grow_with_nested_rows(world):
    records = build_records(world)

    def pages(which: int) -> dict[str, str]:
        return {
            "loan filing change page": admin_url(LoanFiling, "change", records.filing[which]),
            "claim change page": admin_url(Claim, "change", records.claim[which]),
        }

    small = measure(admin_reads(pages(0)))
    assert len(small) == 2 * 2  # staff pages: the regulator is refused
    large = measure(admin_reads(pages(1)), only=small)
    assert_constant(small, large)


# --- the report builders and the dashboard -------------------------------------------------------


def built(build: Callable[[], object]) -> Call:
    """A builder as a call to measure (it answers no HTTP status)."""

    def call() -> None:
        build()

    return call


def test_report_builders_do_not_grow_with_the_rows(world):
    world.grow(1)
    today = clock.today()

    def funds() -> list[Fund]:
        return list(Fund.objects.order_by("code"))

    def zhaoqing() -> Fund:
        return Fund.objects.get(code=BANKS[0].fund)

    dashboard = reverse("admin:funds_fund_dashboard", args=[BANKS[0].fund])
    pages = admin_reads({"the fund dashboard": dashboard})
    builders: dict[str, Call] = {
        "quarterly_build, the running quarter": built(
            lambda: reports.quarterly_build(funds=funds(), year=2026, quarter=4, today=today)
        ),
        "quarterly_build, a closed quarter": built(
            lambda: reports.quarterly_build(funds=funds(), year=2026, quarter=3, today=today)
        ),
        "annual_build, the running year": built(
            lambda: reports.annual_build(funds=funds(), year=2026, today=today)
        ),
        "annual_build, a closed year": built(
            lambda: reports.annual_build(funds=funds(), year=2025, today=today)
        ),
        "monthly_build": built(
            lambda: reports.monthly_build(fund=zhaoqing(), year=2026, month=11, today=today)
        ),
        "monthly_build_all": built(
            lambda: list(reports.monthly_build_all(funds=funds(), year=2026, month=11, today=today))
        ),
        "dashboard_context": built(lambda: dashboard_context(fund=zhaoqing())),
        **{key: call for key, call in pages.items() if not key.startswith("admin ")},
    }
    small = measure(builders)
    assert small.keys() == builders.keys()

    def sizes() -> tuple[int, ...]:
        running = reports.quarterly_build(funds=funds(), year=2026, quarter=4, today=today)
        closed = reports.quarterly_build(funds=funds(), year=2026, quarter=3, today=today)
        return (
            len(running["rows"]),
            len(running["by_institution"]),
            running["total"]["projects"],
            closed["total"]["projects"],
        )

    before = sizes()
    world.grow(2)
    large = measure(builders, only=small)
    assert all(grown > was for grown, was in zip(sizes(), before, strict=True)), (before, sizes())
    assert_constant(small, large)
