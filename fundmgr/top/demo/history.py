"""The demo's history: January 2024 to the business date, replayed through the services.

`manage.py seed_demo` runs `build_history` after the static load. It moves the business date
(`override_settings(FUNDMGR_BUSINESS_DATE=…)`) day by day through a queue of dated events and
acts as the people and systems of the fund would:

- banks (through their API-key system users) apply for enterprises, file loans, report every
  covered loan each month, settle loans at maturity, claim compensation and report
  recoveries;
- the officer, the approver, the committee secretary and finance work the queues, each step
  taken by a user the four-eyes rules allow;
- the scheduled jobs run on their days: the warnings scan and the deadline notices, the
  monthly reports on the 1st, the quarterly tables after each quarter, admission expiry.

Every write goes through a service, so every check, ledger entry, transition log, notification
and kept figure is the real one. Reads that choose what to do next (which borrower has room
and a free patent) go through the selectors.

The story. A steady flow of loans from each bank (fixed tables, so the same business date
always gives the same history) runs from 2024; a few loans miss a payment and are cured; one
bank (CCB Zhaoqing) has loans go bad, its non-performing ratio crosses the threshold and its
new filings in Zhaoqing are suspended automatically. The end of the story is anchored to the
business date the history ends on, so whenever the demo is built the queues hold work:
filings waiting in each state, claims at every step (one paid, with a recovery returned to
the fund, and closed), a payment to make, a recovery to confirm, loans overdue and
non-performing, early warnings open.

Idempotent: a database that already holds loan filings (this history, or anyone's own data)
gets no history; replaying the past over it would be wrong.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.test.utils import override_settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fundmgr.ground.lib import workdays
from fundmgr.ground.lib.i18n import recorded
from fundmgr.ground.lib.money import quantize
from fundmgr.top.demo.scale import add_months, patent_with_check, uscc_with_check
from loans.services.servicing import month_end

HISTORY_START = dt.date(2024, 1, 2)  # the first working day of 2024
# The story needs ~30 months: its first bad loan is lent ~25 months before the end.
EARLIEST_END = dt.date(2026, 6, 1)
CHECKLIST = (
    "enterprise_eligible",
    "ip_status_checked",
    "pledge_registration_checked",
    "terms_within_limits",
    "documents_complete",
)

# --- the cast -----------------------------------------------------------------------------------

# Enterprises the banks bring in January 2024, before the demo file's own borrowers are
# admitted (2024-12-01): (fund, applying bank, name, district, industry, registered,
# employees, revenue, total assets). Each gets a USCC and four IP rights (`enterprise_uscc`,
# `enterprise_ip`), numbers with valid check characters.
ENTERPRISES: tuple[tuple, ...] = (
    ("zhaoqing", "zqrcb", "肇庆市鼎湖区华粤新能源材料有限公司", "441203", "C3841", "2015-03-12", 86, "52000000", "61000000"),
    ("zhaoqing", "ccb-zhaoqing", "肇庆市端州区智汇光电科技有限公司", "441202", "C3976", "2014-08-20", 120, "88000000", "95000000"),
    ("zhaoqing", "zqrcb", "四会市宏达精密模具有限公司", "441284", "C3525", "2012-05-06", 65, "31000000", "28000000"),
    ("zhaoqing", "ccb-zhaoqing", "广宁县竹韵生物科技有限公司", "441223", "C2041", "2016-11-03", 42, "18000000", "22000000"),
    ("foshan", "icbc-foshan", "佛山市顺德区创科智能家电有限公司", "440606", "C3851", "2013-04-18", 210, "160000000", "140000000"),
    ("foshan", "nanhai-rcb", "佛山市南海区铝峰新材料有限公司", "440605", "C3252", "2011-09-09", 150, "120000000", "110000000"),
    ("foshan", "icbc-foshan", "佛山市禅城区陶研智造科技有限公司", "440604", "C3071", "2015-06-30", 95, "70000000", "66000000"),
    ("foshan", "shunde-rcb", "佛山市高明区绿能环保装备有限公司", "440608", "C3591", "2017-02-14", 58, "36000000", "40000000"),
    ("shaoguan", "sgrcb", "韶关市武江区粤北精工机械有限公司", "440203", "C3421", "2014-10-10", 70, "40000000", "45000000"),
    ("shaoguan", "sgrcb", "乐昌市岭南中药材科技有限公司", "440281", "C2740", "2016-03-22", 55, "26000000", "30000000"),
    ("shantou", "boc-shantou", "汕头市金平区潮韵文化创意有限公司", "440511", "C2439", "2013-12-01", 48, "22000000", "20000000"),
    ("shantou", "boc-shantou", "汕头市濠江区海创电子科技有限公司", "440512", "C3982", "2015-07-17", 88, "60000000", "55000000"),
)  # fmt: skip
# An application refused at review (registered too recently to be eligible).
REFUSED_ENTERPRISE = (
    "shaoguan", "sgrcb", "韶关市浈江区启航信息技术有限公司", "440204", "I6510", "2023-06-01", 12, "3000000", "2500000",
)  # fmt: skip
USCC_SERIAL_BASE = 2024100  # serials of the history's enterprises (seed_scale uses 0 … 200,000)


@dataclass(frozen=True)
class Flow:
    """A bank's steady lending: a loan every `every` months from month `offset` (0 = January
    2024), disbursed on the `day`-th working day, principals and terms taken in turn."""

    bank: str
    fund: str
    prefix: str  # the bank's contract numbers: ZQRCB-2024-0003
    every: int
    offset: int
    day: int
    principals: tuple[str, ...]
    terms: tuple[int, ...]
    combined_every: int = 0  # every n-th loan is a combined pledge, 60 % of it covered
    hiccup_every: int = 4  # every n-th loan misses one payment and is cured the month after


FLOWS: tuple[Flow, ...] = (
    Flow("zqrcb", "zhaoqing", "ZQRCB", 5, 1, 3, ("1200000", "1500000", "2000000"), (12, 12, 24)),
    Flow("ccb-zhaoqing", "zhaoqing", "CCBZQ", 8, 2, 6, ("1000000", "1500000"), (12, 24), 2),
    Flow("icbc-foshan", "foshan", "ICBCFS", 5, 1, 4, ("5000000", "4500000", "4000000"), (24, 12, 24)),
    Flow("nanhai-rcb", "foshan", "NHRCB", 6, 2, 8, ("2000000", "3000000", "1500000"), (12, 24)),
    Flow("shunde-rcb", "foshan", "SDRCB", 6, 3, 5, ("1500000", "2500000"), (12, 24), 2),
    Flow("sgrcb", "shaoguan", "SGRCB", 8, 2, 7, ("1000000", "1500000"), (12,)),
    Flow("boc-shantou", "shantou", "BOCST", 8, 3, 9, ("1000000", "2000000"), (12, 24)),
)  # fmt: skip
FLOW_BY_BANK = {f.bank: f for f in FLOWS}
RATES = (Decimal("3.4500"), Decimal("3.8500"), Decimal("4.2000"), Decimal("4.3500"))

# Filings of the steady flow that take another path: (bank, n-th loan of the bank) → path.
DETOURS = {
    ("zqrcb", 1): "returned_then_accepted",
    ("shunde-rcb", 1): "withdrawn",
    ("nanhai-rcb", 3): "rejected",
    ("sgrcb", 2): "voided",
}
# The bank that reports late now and then (a missing-report warning, resolved days later),
# and has not sent last month's reports at the end.
LATE_BANK = "boc-shantou"


@dataclass(frozen=True)
class Trouble:
    """A loan that goes bad, and its claim's steps, dated back from the end of the story.

    A step's date is given in working days before the end ("12wd") or in months before it
    ("13m", a working day; "13m+5": five working days after that). The borrower stops paying
    150 days before the claim: 90 days later the loan is non-performing, which the next
    monthly report shows, and the claim follows inside the 180-day window. Before that it
    performed for `performing_months`.
    """

    key: str
    bank: str
    principal: str
    covered: str | None  # None: a pure IP pledge
    steps: tuple[tuple[str, str], ...]
    term: int = 36
    performing_months: int = 7
    recovery: tuple[str, str, str] | None = None  # (gross, costs, source) reported after payment


# CCB Zhaoqing's loans go bad one after another: the first ("closed") trips the automatic
# suspension of its new filings in Zhaoqing ~11 months before the end, so its other bad loans
# were lent (and accepted) well before that: hence their longer performing months. ICBC
# Foshan's bad loans are small beside its book (combined pledges, 300,000 covered), so it
# stays under the threshold.
TROUBLES: tuple[Trouble, ...] = (
    Trouble(
        "closed", "ccb-zhaoqing", "1000000", None,
        (("10m", "submit"), ("10m+2", "start_review"), ("10m+5", "recommend"), ("10m+8", "start_committee_review"),
         ("10m+14", "approve"), ("10m+18", "pay"), ("6m", "recovery"), ("6m+6", "confirm_returned"), ("5m", "close")),
        recovery=("360000.00", "24000.00", "ip_disposal"),
    ),
    Trouble(
        "rejected", "ccb-zhaoqing", "800000", None,
        (("8m", "submit"), ("8m+2", "start_review"), ("8m+5", "recommend"), ("8m+8", "start_committee_review"),
         ("8m+14", "reject"), ("5m", "settle")),
    ),
    Trouble(
        "approved", "ccb-zhaoqing", "1200000", None,
        (("30wd", "submit"), ("27wd", "start_review"), ("22wd", "recommend"), ("18wd", "start_committee_review"),
         ("3wd", "approve")),
        performing_months=8,
    ),
    Trouble(
        "committee", "ccb-zhaoqing", "900000", None,
        (("25wd", "submit"), ("22wd", "start_review"), ("16wd", "recommend"), ("6wd", "start_committee_review")),
        performing_months=8,
    ),
    Trouble(
        "recommended", "ccb-zhaoqing", "1100000", None,
        (("15wd", "submit"), ("12wd", "start_review"), ("2wd", "recommend")),
        performing_months=9,
    ),
    Trouble("submitted", "ccb-zhaoqing", "700000", None, (("1wd", "submit"),), performing_months=10),
    Trouble(
        "paid", "icbc-foshan", "1200000", "300000",
        (("3m", "submit"), ("3m+2", "start_review"), ("3m+5", "recommend"), ("3m+8", "start_committee_review"),
         ("3m+14", "approve"), ("3m+18", "pay"), ("5wd", "recovery")),
        recovery=("150000.00", "10000.00", "guarantor"),
    ),
    Trouble(
        "initial_review", "icbc-foshan", "1000000", "300000", (("6wd", "submit"), ("3wd", "start_review")), term=24,
    ),
)  # fmt: skip
# Loans behind on their payments at the end, as the last monthly report shows them: two
# overdue, one non-performing whose bank has not claimed yet. (bank, principal, months
# disbursed before the end, days overdue at the last month end)
BEHIND_AT_END = (
    ("zqrcb", "1000000", 10, 35),
    ("nanhai-rcb", "1800000", 9, 62),
    ("ccb-zhaoqing", "600000", 13, 125),
)
# Filings waiting for staff at the end: (bank, principal, path, working days before the end
# it was filed).
PENDING_AT_END = (
    ("zqrcb", "1300000", "submitted", 1),
    ("shunde-rcb", "2200000", "under_review", 8),
    ("boc-shantou", "1200000", "returned", 7),
    ("icbc-foshan", "2600000", "submitted", 2),
)

# --- 投融对接与政策宣传: financing needs, honours and outreach events ---------------------------

# Honours staff record for the demo file's enterprises, which put them (and their needs) in
# priority classes: (USCC, kind, level, title, months before the end it was granted, years
# valid or None: long-term).
HONOURS: tuple[tuple, ...] = (
    ("9144120252133505XP", "high_tech", "national", "国家高新技术企业", 20, 3),
    ("91441202951617540K", "tech_sme", "national", "国家科技型中小企业（入库）", 8, 1),
    ("914412048288873773", "ip_advantage", "provincial", "广东省知识产权优势企业", 14, 3),
    ("91440605453878334M", "ip_demonstration", "provincial", "广东省知识产权示范企业", 16, 3),
    ("91440606283685942D", "well_known_trademark", "national", "驰名商标", 30, None),
)  # fmt: skip
# Needs registered by a bank on the enterprise's behalf, or by staff ("officer"): key → (who,
# fund, amount, term in months, purpose). The enterprise is the fund's first admitted one
# without a need in play.
NEEDS: dict[str, tuple] = {
    "expired": ("zqrcb", "zhaoqing", "1800000.00", 12, "采购原材料"),
    "withdrawn": ("nanhai-rcb", "foshan", "2500000.00", 24, "新建自动化生产线"),
    "untouched": ("sgrcb", "shaoguan", "800000.00", 12, "流动资金周转"),
    "talks": ("officer", "zhaoqing", "1500000.00", 18, "购置检测设备"),
    "open": ("shunde-rcb", "foshan", "1200000.00", 12, "研发投入"),
}
NEED_FILED_PURPOSE = "研发投入和流动资金周转"
NEED_WITHDRAWN_REASON = "企业已通过股东借款解决资金需求，撤回融资需求"
# Meetings staff record: need key → (bank, outcome, notes).
MEETINGS: dict[str, tuple[str, str, str]] = {
    "fair_more": ("zqrcb", "continuing", "对接会后走访企业，银行正在评估质押专利价值"),
    "talks": ("zqrcb", "agreed_to_file", "大讲堂现场签约后面谈，银行同意授信，待放款后报送备案"),
}
# Events (政策宣传), one of each kind: key → what the event form holds.
OUTREACH_EVENTS: dict[str, dict[str, Any]] = {
    "fair": {
        "fund": "zhaoqing",
        "kind": "matchmaking",
        "title": "知识产权质押融资银企对接会（肇庆专场）",
        "place": "肇庆市行政服务中心",
        "online": True,
        "online_platform": "肇庆发布视频号",
        "organisers": "肇庆市市场监督管理局（知识产权局）",
        "co_organisers": "广东股权交易中心；肇庆市金融工作局",
        "attendance": 150,
        "online_viewers": 3200,
    },
    "briefing": {
        "fund": "foshan",
        "kind": "briefing",
        "title": "佛山市知识产权质押融资风险补偿政策宣讲会",
        "place": "佛山市南海区知识产权保护中心",
        "organisers": "佛山市市场监督管理局（知识产权局）",
        "co_organisers": "广东股权交易中心",
        "attendance": 80,
    },
    "training": {
        "fund": "zhaoqing",
        "kind": "training",
        "title": "知识产权质押融资大讲堂（肇庆站）",
        "place": "肇庆高新区科技创新中心",
        "online": True,
        "online_platform": "广东股权交易中心直播间",
        "organisers": "广东股权交易中心",
        "co_organisers": "肇庆市市场监督管理局（知识产权局）",
        "attendance": 90,
        "online_viewers": 31000,
    },
}
SIGNING_NOTE = "现场签约"

STAFF = ("officer", "officer2", "approver", "committee", "finance")
PAST = {"pay": "paid", "reject": "rejected", "close": "closed"}
# The stresses the officer keeps for every fund at the end, so each fund's forecast page offers
# some out of the box: (name, description, stress); and in Zhaoqing, where CCB's loans went
# bad, the other bank's whole book going the same way.
STRESS_SCENARIOS = (
    (
        gettext_noop("经济下行"),
        gettext_noop("向更差分类的迁徙率翻倍，且 10% 的未触发贷款在 12 个月内违约"),
        {"roll_multiplier": Decimal("2"), "default_rate": Decimal("10"), "default_within": 12},
    ),
    (
        gettext_noop("最大三户违约"),
        gettext_noop("在保余额最大的 3 户企业立即违约"),
        {"largest_enterprises": 3},
    ),
)
BANK_STRESS = ("zhaoqing", "zqrcb", gettext_noop("合作机构整体违约"))


# --- small helpers -------------------------------------------------------------------------------


def nth_working_day(first: dt.date, n: int) -> dt.date:
    """The n-th working day (1-based) of the month starting on `first`."""
    return workdays.add_working_days(first - dt.timedelta(days=1), n)


def working_days_before(day: dt.date, n: int) -> dt.date:
    while n > 0:
        day -= dt.timedelta(days=1)
        if workdays.is_working_day(day):
            n -= 1
    return day


def months_iter(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """First days of the months from `start`'s to `end`'s."""
    first = start.replace(day=1)
    while first <= end:
        yield first
        first = add_months(first, 1)


def _patent(year: int, kind: str, serial: int) -> str:
    digit = {"invention_patent": "1", "utility_model": "2", "design_patent": "3"}[kind]
    return patent_with_check(f"{year}{digit}{serial:07d}")


def enterprise_uscc(index: int, district: str) -> str:
    return uscc_with_check(f"91{district}MA{USCC_SERIAL_BASE + index:07d}")


def enterprise_ip(index: int) -> list[dict[str, Any]]:
    """Four rights per enterprise: two invention patents, a utility model, a trademark."""
    base = 1_300_000 + index * 7919
    inv1, inv2, utility = 2015 + index % 5, 2017 + index % 5, 2019 + index % 4
    return [
        {"kind": "invention_patent", "number": _patent(inv1, "invention_patent", base + 11), "filed_on": dt.date(inv1, 3 + index % 8, 12)},
        {"kind": "invention_patent", "number": _patent(inv2, "invention_patent", base + 29), "filed_on": dt.date(inv2, 5 + index % 6, 20)},
        {"kind": "utility_model", "number": _patent(utility, "utility_model", base + 47), "filed_on": dt.date(utility, 2 + index % 9, 8)},
        {"kind": "trademark", "number": f"7{(5_210_000 + index * 104_729) % 10_000_000:07d}", "nice_class": 9 + index % 30, "expires_on": dt.date(2031 + index % 4, 12, 31)},
    ]  # fmt: skip


@contextmanager
def _quiet() -> Iterator[None]:
    """The services log every scan and suspension; the history prints its own short lines."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


@contextmanager
def _fast_sqlite() -> Iterator[None]:
    """On SQLite, commit without waiting for the disk while the history is written (a few
    thousand short transactions, one per service call); a crash midway means rebuilding the
    demo database anyway. Other databases are left as they are."""
    from django.db import connection

    if connection.vendor != "sqlite" or connection.in_atomic_block:  # (tests run inside one)
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        previous = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous = OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous = {int(previous)}")


@contextmanager
def _no_mail() -> Iterator[None]:
    """Notifications are written as rows, as always; their e-mails (if a demo address were
    set) stay in memory instead of filling the console, and no task waits for a broker."""
    from celery import current_app as app  # the project's app (fundmgr.celery sits above us)

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        # DEBUG off too: with it on (`make demo`), Django would keep the SQL of every query.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", DEBUG=False):
            yield
    finally:
        app.conf.task_always_eager = eager


# --- the loans of the story -----------------------------------------------------------------------


@dataclass
class Loan:
    """One loan of the story: its terms, its fate, and what the services gave it."""

    bank: str
    fund: str
    contract_no: str
    principal: Decimal
    covered: Decimal | None
    rate: Decimal
    disbursed: dt.date
    term: int
    path: str = "accepted"  # accepted | returned_then_accepted | withdrawn | rejected | voided | pending path
    hiccup: dt.date | None = None  # the month end of the one missed payment
    overdue_since: dt.date | None = None  # payments stopped (the loan goes bad)
    trouble: Trouble | None = None
    borrower: str = ""  # the USCC of the enterprise lent to, when chosen in advance (a need, a signing)
    need_key: str = ""  # the financing need the filing names (_Story.needs)
    filing_id: int | None = None
    reference: str = ""
    claim_id: int | None = None
    claim_reference: str = ""
    recovery_id: int | None = None
    reported: set[dt.date] = field(default_factory=set)

    @property
    def matures(self) -> dt.date:
        return add_months(self.disbursed, self.term)

    def report(self, as_of: dt.date) -> dict[str, Any]:
        """What the bank reports for the month ending `as_of` (bullet loans: the principal is
        outstanding until maturity)."""
        days = 0
        if self.overdue_since is not None and as_of >= self.overdue_since:
            days = (as_of - self.overdue_since).days + 1
        elif self.hiccup == as_of:
            days = 18
        if days == 0:
            risk = "normal"
        elif days < 90:
            risk = "special_mention"
        elif days < 180:
            risk = "substandard"
        elif days < 360:
            risk = "doubtful"
        else:
            risk = "loss"
        monthly_interest = quantize(self.principal * self.rate / Decimal(1200))
        return {
            "as_of": as_of,
            "outstanding_principal": self.principal,
            "overdue_principal": Decimal("0.00"),
            "overdue_interest": monthly_interest * ((days + 29) // 30),
            "days_overdue": days,
            "risk_class": risk,
        }


@dataclass
class HistoryReport:
    skipped: str = ""  # why no history was added ("" when it was built)
    end: dt.date | None = None
    seconds: float = 0.0
    counts: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        if self.skipped:
            return f"history: {self.skipped}"
        c = self.counts
        return (
            f"history to {self.end.isoformat()}: {c['filed']} filings ({c['accepted']} accepted), "
            f"{c['reports']} monthly loan reports, {c['settled']} loans settled, {c['claim_steps']} claim steps, "
            f"{c['warnings']} early warnings, {c['stored_reports']} stored reports, "
            f"{c['needs']} financing needs, {c['events']} outreach events in {self.seconds:.1f} s"
        )


# --- the story engine ------------------------------------------------------------------------------


class _Story:
    def __init__(self, *, end: dt.date, say: Callable[[str], None]) -> None:
        from banks.models import Institution
        from fundmgr.ground.accounts.models import User
        from fundmgr.ground.accounts.principals import principal_for
        from fundmgr.ground.accounts.services import institution_system_user
        from fundmgr.ground.funds.models import Fund

        self.end = end
        self.say = say
        self.queue: list[tuple[dt.date, int, int, Callable, tuple]] = []
        self.seq = itertools.count()
        self.counts: Counter = Counter()
        self.month: Counter = Counter()
        self.month_notes: list[str] = []
        self.funds = {f.code: f for f in Fund.objects.all()}
        self.staff = {u.username: u for u in User.objects.filter(username__in=STAFF)}
        self.banks = {
            i.code: principal_for(institution_system_user(institution=i))
            for i in Institution.objects.filter(code__in=[f.bank for f in FLOWS])
        }
        self.loans: dict[int, Loan] = {}  # filing id → loan
        self.needs: dict[str, int] = {}  # key → financing need id
        self.need_loans: dict[str, Loan] = {}  # need key → the loan whose filing names it
        self.rotation: Counter = Counter()
        self.pledge_seq = itertools.count(1)
        self.suspended = 0
        self.officers = itertools.cycle(("officer", "officer", "officer2"))

    # -- the queue

    def at(self, day: dt.date, priority: int, action: Callable, *args: Any) -> None:
        """Do `action(*args)` on business date `day` (dropped when past the end)."""
        if day <= self.end:
            heapq.heappush(self.queue, (day, priority, next(self.seq), action, args))

    def run(self) -> None:
        current: tuple[int, int] | None = None
        while self.queue:
            day, _priority, _n, action, args = heapq.heappop(self.queue)
            if (day.year, day.month) != current:
                self._month_line(current)
                current = (day.year, day.month)
            with override_settings(FUNDMGR_BUSINESS_DATE=day.isoformat()):
                action(*args)
        self._month_line(current)

    def _month_line(self, month: tuple[int, int] | None) -> None:
        if month is None:
            return
        m = self.month
        parts = [
            f"{label} {m[key]}"
            for key, label in (
                ("enterprises", "enterprises"),
                ("filed", "filings"),
                ("accepted", "accepted"),
                ("reports", "reports"),
                ("settled", "settled"),
                ("claim_steps", "claim steps"),
                ("warnings", "warnings"),
                ("stored_reports", "stored reports"),
                ("refused", "refused"),
                ("no_borrower", "no borrower"),
                ("needs", "financing needs"),
                ("events", "outreach events"),
                ("needs_expired", "needs expired"),
            )
            if m[key]
        ]
        self.say(f"  {month[0]}-{month[1]:02d}  " + (" · ".join(parts + self.month_notes) or "—"))
        self.counts.update(m)
        self.month = Counter()
        self.month_notes = []

    def user(self, name: str):
        return self.staff[name]

    # -- the plan

    def plan(self) -> None:
        start, end = HISTORY_START, self.end
        self._plan_enterprises()
        for first in months_iter(start, end):
            self._plan_month(first)
        self._plan_flows()
        self._plan_troubles()
        self._plan_behind_at_end()
        self._plan_pending_at_end()
        self._plan_outreach()
        self.at(end, 99, self.scans)
        self.at(end, 99, save_stress_scenarios, self.user("officer"))

    def _plan_month(self, first: dt.date) -> None:
        previous_end = first - dt.timedelta(days=1)
        if previous_end >= HISTORY_START:
            self.at(first, 10, self.monthly_jobs, previous_end)
            report_day = min(nth_working_day(first, 4), self.end)
            self.at(report_day, 20, self.bank_reports, previous_end, False)
            if first != self.end.replace(day=1):  # at the end, the late bank's report is missing
                self.at(nth_working_day(first, 12), 20, self.bank_reports, previous_end, True)
        # The daily jobs, on the day after the reporting deadline (the 10th working day): the
        # late bank's missing reports are warned about and its deadline notices go out.
        # (Scanning before the banks' reporting day would warn about every loan: a missing
        # report is warned about from the day the month ends.) Every day would only repeat.
        self.at(nth_working_day(first, 11), 90, self.scans)
        if first.month in (3, 6, 9, 12):
            self.at(first.replace(day=21), 15, self.interest)
        if first == dt.date(2025, 3, 1):
            self.at(dt.date(2025, 3, 28), 15, self.top_up)

    # -- enterprises

    def _plan_enterprises(self) -> None:
        for index, row in enumerate(ENTERPRISES):
            applied = nth_working_day(dt.date(2024, 1, 1), 3 + index)
            self.at(applied, 30, self.enterprise_apply, index, row, True)
        self.at(dt.date(2024, 3, 4), 30, self.enterprise_apply, len(ENTERPRISES), REFUSED_ENTERPRISE, False)

    def enterprise_apply(self, index: int, row: tuple, admit: bool) -> None:
        from enterprises.services import enterprise_apply

        fund, bank, name, district, industry, registered, employees, revenue, assets = row
        today = _today()
        enterprise = enterprise_apply(
            principal=self.banks[bank],
            data={
                "uscc": enterprise_uscc(index, district),
                "fund": fund,
                "name": name,
                "region_code": district,
                "industry_code": industry,
                "registered_on": dt.date.fromisoformat(registered),
                "employees": employees,
                "annual_revenue": Decimal(revenue),
                "total_assets": Decimal(assets),
                "credit_report_date": today - dt.timedelta(days=20),
                "credit_record_clean": True,
                "ip_assets": [
                    {**ip, "title": f"{name[:6]}{'商标' if ip['kind'] == 'trademark' else '核心技术'}{n + 1}"}
                    for n, ip in enumerate(enterprise_ip(index))
                ],
            },
        )
        self.month["enterprises"] += 1
        self.at(workdays.add_working_days(today, 2), 30, self.enterprise_review, enterprise.pk, admit)

    def enterprise_review(self, enterprise_id: int, admit: bool) -> None:
        from enterprises.services import enterprise_transition

        enterprise_transition(enterprise_id=enterprise_id, name="start_review", user=self.user("officer"))
        if admit:
            self.at(workdays.add_working_days(_today(), 3), 30, self.enterprise_decide, enterprise_id)
        else:
            enterprise_transition(
                enterprise_id=enterprise_id,
                name="reject",
                user=self.user("officer"),
                comment="企业成立未满1年，不符合入库条件；满1年后可重新申请",
            )

    def enterprise_decide(self, enterprise_id: int) -> None:
        from enterprises.services import enterprise_transition

        enterprise_transition(
            enterprise_id=enterprise_id,
            name="admit",
            user=self.user("approver"),
            comment="材料齐全，同意入库",
        )

    # -- loans: planning

    def _plan_flows(self) -> None:
        for flow in FLOWS:
            n = 0
            for index, first in enumerate(months_iter(HISTORY_START, self.end)):
                if index < flow.offset or (index - flow.offset) % flow.every:
                    continue
                disbursed = nth_working_day(first, flow.day)
                principal = Decimal(flow.principals[n % len(flow.principals)])
                covered = (
                    quantize(principal * Decimal("0.6"))
                    if flow.combined_every and n % flow.combined_every == flow.combined_every - 1
                    else None
                )
                loan = Loan(
                    bank=flow.bank,
                    fund=flow.fund,
                    contract_no=f"{flow.prefix}-{disbursed.year}-{n + 1:04d}",
                    principal=principal,
                    covered=covered,
                    rate=RATES[(n + index) % len(RATES)],
                    disbursed=disbursed,
                    term=flow.terms[n % len(flow.terms)],
                    path=DETOURS.get((flow.bank, n), "accepted"),
                )
                if flow.hiccup_every and n % flow.hiccup_every == 2:
                    loan.hiccup = month_end(add_months(disbursed, 5))
                n += 1
                filed = workdays.add_working_days(disbursed, 2)
                # Only loans whose review ends by the end: the open queue is planned apart.
                if workdays.add_working_days(filed, 8) < self.end:
                    self.at(filed, 40, self.file, loan)

    def _end_date(self, when: str) -> dt.date:
        """'12wd' → 12 working days before the end; '13m' → 13 months before it (a working
        day); '13m+5' → 5 working days after that."""
        if when.endswith("wd"):
            return working_days_before(self.end, int(when[:-2]))
        months, _plus, extra = when.partition("+")
        day = workdays.add_working_days(add_months(self.end, -int(months[:-1])), 0)
        return workdays.add_working_days(day, int(extra or 0))

    def _plan_troubles(self) -> None:
        for t in TROUBLES:
            flow = FLOW_BY_BANK[t.bank]
            submit = self._end_date(t.steps[0][0])
            overdue_since = submit - dt.timedelta(days=150)
            disbursed = workdays.add_working_days(add_months(overdue_since, -t.performing_months), 0)
            loan = Loan(
                bank=t.bank,
                fund=flow.fund,
                contract_no=f"{flow.prefix}-{disbursed.year}-T{TROUBLES.index(t) + 1:02d}",
                principal=Decimal(t.principal),
                covered=Decimal(t.covered) if t.covered else None,
                rate=Decimal("4.3500"),
                disbursed=disbursed,
                term=t.term,
                overdue_since=overdue_since,
                trouble=t,
            )
            self.at(workdays.add_working_days(disbursed, 2), 40, self.file, loan)

    def _plan_behind_at_end(self) -> None:
        last_end = self.end.replace(day=1) - dt.timedelta(days=1)
        for n, (bank, principal, months, days) in enumerate(BEHIND_AT_END):
            flow = FLOW_BY_BANK[bank]
            disbursed = workdays.add_working_days(add_months(self.end, -months), 0)
            loan = Loan(
                bank=bank,
                fund=flow.fund,
                contract_no=f"{flow.prefix}-{disbursed.year}-L{n + 1:02d}",
                principal=Decimal(principal),
                covered=None,
                rate=Decimal("3.8500"),
                disbursed=disbursed,
                term=24,
                overdue_since=last_end - dt.timedelta(days=days - 1),
            )
            self.at(workdays.add_working_days(disbursed, 2), 40, self.file, loan)

    def _plan_pending_at_end(self) -> None:
        for n, (bank, principal, path, filed_before) in enumerate(PENDING_AT_END):
            flow = FLOW_BY_BANK[bank]
            filed = working_days_before(self.end, filed_before)
            disbursed = working_days_before(filed, 2)
            loan = Loan(
                bank=bank,
                fund=flow.fund,
                contract_no=f"{flow.prefix}-{disbursed.year}-P{n + 1:02d}",
                need_key="filed" if (bank, path) == ("zqrcb", "submitted") else "",
                principal=Decimal(principal),
                covered=None,
                rate=Decimal("3.4500"),
                disbursed=disbursed,
                term=24,
                path=path,
            )
            if loan.need_key:  # its borrower's need is registered first (_plan_outreach)
                self.need_loans[loan.need_key] = loan
            self.at(filed, 40, self.file, loan)

    # -- loans: filing and review

    def _borrower(self, loan: Loan, today: dt.date, *, rotate: bool = True):
        """The first admitted enterprise of the fund (taken in turn) with room under the
        exposure cap and a free right that outlives the loan: (enterprise, [assets]). The one
        chosen in advance when the loan has one (`loan.borrower`); `rotate=False` looks
        without taking a turn (choosing a borrower ahead of the filing)."""
        from enterprises.models import Enterprise, IPAsset
        from loans.selectors.filings import enterprise_live_exposure, pledged_elsewhere

        fund = self.funds[loan.fund]
        policy = fund.policy_in_force(today)
        candidates = list(
            Enterprise.objects.filter(
                fund=fund,
                status=Enterprise.Status.ADMITTED,
                admitted_on__lte=today,
                admitted_until__gte=today,
            ).order_by("pk")
        )
        if loan.borrower:
            candidates = [c for c in candidates if c.uscc == loan.borrower]
        if not candidates:
            return None
        turn = self.rotation[loan.fund]
        self.rotation[loan.fund] += int(rotate)
        for enterprise in candidates[turn % len(candidates) :] + candidates[: turn % len(candidates)]:
            exposure = enterprise_live_exposure(enterprise_id=enterprise.pk)
            if exposure + loan.principal > policy.max_enterprise_exposure:
                continue
            assets = [
                a
                for a in enterprise.ip_assets.filter(status=IPAsset.Status.VALID).order_by("kind", "pk")
                if a.kind in policy.accepted_ip_kinds
                and a.expires_on >= loan.matures
                and a.expires_on > today
            ]
            held = pledged_elsewhere(asset_ids=[a.pk for a in assets])
            free = [a for a in assets if a.pk not in held]
            if free:
                wanted = 2 if loan.principal >= Decimal("3000000") and len(free) > 1 else 1
                return enterprise, free[:wanted]
        return None

    def file(self, loan: Loan) -> None:
        from banks.models import Institution
        from banks.services import institution_can_file
        from fundmgr.ground.lib.errors import AppError
        from loans.services.filings import filing_submit

        today = _today()
        fund = self.funds[loan.fund]
        institution = Institution.objects.get(code=loan.bank)
        if institution_can_file(institution=institution, fund=fund, on=today):
            self.month_notes.append(f"{loan.bank} may not file (suspended)")
            return
        found = self._borrower(loan, today)
        if found is None:
            self.month["no_borrower"] += 1
            return
        enterprise, assets = found
        registered = loan.disbursed - dt.timedelta(days=4)
        data = {
            "fund": loan.fund,
            "enterprise_uscc": enterprise.uscc,
            "contract_no": loan.contract_no,
            "principal": loan.principal,
            "pledge_type": "combined" if loan.covered else "ip_only",
            "covered_principal": loan.covered if loan.covered else loan.principal,
            "annual_rate": loan.rate,
            "disbursed_on": loan.disbursed,
            "matures_on": loan.matures,
            "purpose": "研发投入和流动资金周转",
            "pledges": [
                {
                    "kind": a.kind,
                    "number": a.number,
                    "registration_no": f"Y{registered.year}{fund.region_code}{next(self.pledge_seq) % 1000:03d}",
                    "registered_on": registered,
                    "appraised_value": quantize(loan.principal * Decimal("2.5") / len(assets)),
                }
                for a in assets
            ],
        }
        if loan.need_key in self.needs:  # the financing need the loan answers (投融对接)
            data["financing_need"] = self.needs[loan.need_key]
        try:
            filing = filing_submit(principal=self.banks[loan.bank], data=data)
        except AppError as exc:
            self.month["refused"] += 1
            self.month_notes.append(f"{loan.contract_no} refused ({exc.code})")
            return
        loan.filing_id, loan.reference = filing.pk, filing.reference
        self.loans[filing.pk] = loan
        self.month["filed"] += 1
        self._after_filing(loan, today)

    def _after_filing(self, loan: Loan, filed: dt.date) -> None:
        wd = workdays.add_working_days
        officer = next(self.officers)
        if loan.path == "submitted":
            return
        if loan.path == "withdrawn":
            self.at(wd(filed, 1), 45, self.withdraw, loan)
            return
        self.at(wd(filed, 1), 45, self.start_due_diligence, loan, officer)
        if loan.path == "under_review":
            return
        if loan.path == "returned":
            self.at(
                wd(filed, 4),
                45,
                self.filing_step,
                loan,
                "return_for_supplement",
                "officer",
                "请补充质押登记通知书扫描件，并核对评估报告编号",
            )
            return
        if loan.path == "returned_then_accepted":
            self.at(
                wd(filed, 2),
                45,
                self.filing_step,
                loan,
                "return_for_supplement",
                officer,
                "评估报告日期晚于放款日，请更正后重新提交",
            )
            self.at(wd(filed, 4), 45, self.correct_and_resubmit, loan)
            self.at(wd(filed, 5), 45, self.start_due_diligence, loan, officer)
            self.at(wd(filed, 7), 45, self.accept, loan)
            return
        if loan.path == "rejected":
            self.at(
                wd(filed, 4),
                45,
                self.filing_step,
                loan,
                "reject",
                "approver",
                "尽调发现借款企业实际经营地不在本市，且贷款用途与合同约定不符，不予受理",
            )
            return
        self.at(wd(filed, 3), 45, self.accept, loan)

    def start_due_diligence(self, loan: Loan, officer: str) -> None:
        from loans.services.filings import due_diligence_record, filing_transition

        user = self.user(officer)
        filing_transition(filing_id=loan.filing_id, name="start_due_diligence", user=user)
        items: dict[str, Any] = {item: True for item in CHECKLIST}
        if loan.path == "under_review":  # half done: the site visit is still to come
            items = {"enterprise_eligible": True, "ip_status_checked": True, "notes": "待实地走访"}
        elif loan.path == "returned":
            items.update(documents_complete=False, notes="缺质押登记通知书扫描件")
        elif loan.path == "rejected":
            items.update(
                enterprise_eligible=False,
                terms_within_limits=False,
                site_visit=True,
                notes="实地走访：企业实际经营地已迁出本市，贷款资金用于归还他行借款",
            )
        else:
            items["site_visit"] = loan.principal >= Decimal("2000000")
        due_diligence_record(filing_id=loan.filing_id, user=user, items=items)

    def filing_step(self, loan: Loan, name: str, username: str, comment: str) -> None:
        from loans.services.filings import filing_transition

        filing_transition(filing_id=loan.filing_id, name=name, user=self.user(username), comment=comment)

    def correct_and_resubmit(self, loan: Loan) -> None:
        from loans.services.filings import filing_resubmit, filing_update

        bank = self.banks[loan.bank]
        filing_update(
            principal=bank, filing_id=loan.filing_id, data={"purpose": "研发投入（已更正评估报告）"}
        )
        filing_resubmit(principal=bank, filing_id=loan.filing_id, comment="已更正评估报告日期")

    def withdraw(self, loan: Loan) -> None:
        from loans.services.filings import filing_withdraw

        filing_withdraw(
            principal=self.banks[loan.bank], filing_id=loan.filing_id, comment="借款人提前全额还款，撤回备案"
        )

    def accept(self, loan: Loan) -> None:
        from fundmgr.ground.lib.errors import AppError
        from loans.services.filings import filing_transition

        try:
            filing_transition(
                filing_id=loan.filing_id, name="accept", user=self.user("approver"), comment="同意受理入池"
            )
        except AppError as exc:  # the checks run again at acceptance and may refuse now
            filing_transition(
                filing_id=loan.filing_id,
                name="reject",
                user=self.user("approver"),
                comment=f"受理复核未通过：{exc.message}"[:300],
            )
            self.month_notes.append(f"{loan.reference} refused at acceptance ({exc.code})")
            return
        self.month["accepted"] += 1
        if loan.path == "voided":
            self.at(
                workdays.add_working_days(_today(), 40),
                45,
                self.filing_step,
                loan,
                "void",
                "approver",
                "核查发现质押登记通知书系伪造，按虚假备案作废，追回已享受的风险补偿资格",
            )
            return
        if loan.trouble is not None:
            self._plan_claim(loan)
        settle = workdays.add_working_days(loan.matures, 0)
        self.at(settle, 30, self.settle, loan)

    # -- servicing

    def bank_reports(self, as_of: dt.date, late: bool) -> None:
        from loans.models import FilingStatus, LoanFiling
        from loans.services.servicing import REPORTABLE_LOAN_STATUSES, status_report_submit

        late_month = (as_of.month + as_of.year) % 5 == 0
        rows = (
            LoanFiling.objects.filter(
                status=FilingStatus.ACCEPTED,
                loan_status__in=REPORTABLE_LOAN_STATUSES,
                disbursed_on__lt=as_of.replace(day=1),
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for pk in rows:
            loan = self.loans.get(pk)
            if loan is None or as_of in loan.reported:
                continue
            behind = loan.bank == LATE_BANK and (
                late_month or as_of >= self.end.replace(day=1) - dt.timedelta(days=1)
            )
            if behind != late:
                continue
            status_report_submit(principal=self.banks[loan.bank], filing_id=pk, data=loan.report(as_of))
            loan.reported.add(as_of)
            self.month["reports"] += 1
        self._note_suspensions()

    def _note_suspensions(self) -> None:
        from banks.models import CooperationAgreement

        suspended = CooperationAgreement.objects.filter(filings_suspended_on__isnull=False)
        if suspended.count() > self.suspended:
            for a in suspended.select_related("institution", "fund").order_by("filings_suspended_on")[
                self.suspended :
            ]:
                self.month_notes.append(f"filings of {a.institution.code} in {a.fund.code} suspended (NPL)")
            self.suspended = suspended.count()

    def settle(self, loan: Loan) -> None:
        from loans.models import LoanFiling, LoanStatus
        from loans.services.servicing import filing_settle

        status = LoanFiling.objects.filter(pk=loan.filing_id).values_list("loan_status", flat=True).first()
        if status not in (LoanStatus.PERFORMING, LoanStatus.OVERDUE):
            return
        filing_settle(principal=self.banks[loan.bank], filing_id=loan.filing_id, settled_on=loan.matures)
        self.month["settled"] += 1

    # -- claims

    def _plan_claim(self, loan: Loan) -> None:
        for when, step in loan.trouble.steps:
            self.at(self._end_date(when), 50, self.claim_step, loan, step)

    def claim_step(self, loan: Loan, step: str) -> None:
        from loans.services import claims
        from loans.services.servicing import filing_settle

        today = _today()
        if loan.filing_id is None or (step != "submit" and loan.claim_id is None):
            return  # the loan was never filed (no borrower had room): no claim either
        if step == "submit":
            claim = claims.claim_submit(
                principal=self.banks[loan.bank],
                data={
                    "filing": loan.filing_id,
                    "trigger_date": loan.overdue_since + dt.timedelta(days=89),
                    "outstanding_principal": loan.principal,
                    "recovered_before_claim": Decimal("0.00"),
                    "legal_action": {
                        "kind": "lawsuit",
                        "case_no": f"（{today.year}）粤{self.funds[loan.fund].region_code[2:4]}民初{loan.filing_id:04d}号",
                        "filed_on": today - dt.timedelta(days=20),
                    },
                    "notes": "借款人逾期超过90天，已提起诉讼并申请财产保全",
                },
            )
            loan.claim_id, loan.claim_reference = claim.pk, claim.reference
        elif step == "recovery":
            gross, costs, source = loan.trouble.recovery
            recovery = claims.recovery_report(
                principal=self.banks[loan.bank],
                claim_id=loan.claim_id,
                data={
                    "received_on": working_days_before(today, 1),
                    "gross_amount": Decimal(gross),
                    "costs": Decimal(costs),
                    "source": source,
                },
            )
            loan.recovery_id = recovery.pk
        elif step == "settle":  # after the refusal the bank recovered the loan in full by execution
            filing_settle(principal=self.banks[loan.bank], filing_id=loan.filing_id, settled_on=today)
        elif step == "confirm_returned":
            claims.recovery_confirm_returned(
                recovery_id=loan.recovery_id, user=self.user("finance"), comment="已收到银行划回追偿款"
            )
        else:
            who, comment, extra = {
                "start_review": ("officer", "", {}),
                "recommend": ("approver", "材料齐全，计算无误，建议补偿", {}),
                "start_committee_review": ("committee", "提交决策委员会审议", {}),
                "approve": (
                    "committee",
                    "决策委员会审议通过",
                    {"meeting_ref": f"决委会纪要〔{today.year}〕{today.month:02d}号"},
                ),
                "reject": ("committee", "经审议：贷款发放时质押登记尚未办结，不符合补偿条件", {}),
                "pay": ("finance", "已按批准金额划付", {}),
                "close": ("approver", "追偿结束，结案", {}),
            }[step]
            claims.claim_transition(
                claim_id=loan.claim_id, name=step, user=self.user(who), comment=comment, **extra
            )
        self.month["claim_steps"] += 1
        if step in ("pay", "reject", "close"):
            self.month_notes.append(f"claim {loan.claim_reference} {PAST[step]}")

    # -- financing needs and outreach events (投融对接、政策宣传)

    def _plan_outreach(self) -> None:
        """Honours that put enterprises in priority classes; needs in every state; an event of
        each kind with its participants and signings, one signing realised by a loan accepted
        days later. Anchored to the end, the recent needs in its quarter (once it has begun),
        so the quarter's funnel on the dashboard and in the outreach report has rows."""
        end, wd = self.end, workdays.add_working_days
        for n, (uscc, kind, level, title, months, years) in enumerate(HONOURS):
            granted = add_months(end, -months)
            recorded = max(wd(granted, 0), wd(HISTORY_START, 20))
            self.at(recorded, 35, self.honour_record, n, uscc, kind, level, title, granted, years)
        # A need nobody took up expires after the policy's working days; a bank withdraws one.
        self.at(self._end_date("6m"), 35, self.need_for, "expired")
        self.at(self._end_date("4m"), 35, self.need_for, "withdrawn")
        self.at(self._end_date("4m+12"), 35, self.need_withdraw, "withdrawn")
        # The fair: the bank signs with two firms; it lends to the first days later, and the
        # filing naming the signing's need realises it; staff follow the second up.
        fair = working_days_before(end, 35)
        loan = Loan(
            bank="zqrcb",
            fund="zhaoqing",
            contract_no=f"ZQRCB-{fair.year}-M01",
            principal=Decimal("2000000"),
            covered=None,
            rate=Decimal("3.8500"),
            disbursed=wd(fair, 3),
            term=12,
            need_key="fair",
        )
        self.need_loans["fair"] = loan
        signings = (("zqrcb", "2000000.00", loan, ""), ("zqrcb", "1000000.00", None, "fair_more"))
        self.at(fair, 35, self.event_hold, "fair", signings)
        self.at(wd(loan.disbursed, 2), 40, self.file, loan)
        self.at(wd(fair, 10), 35, self.meeting, "fair_more")
        # The briefing in Foshan: a bank signs with a firm; staff have yet to follow it up.
        briefing = working_days_before(end, 25)
        self.at(briefing, 35, self.event_hold, "briefing", (("icbc-foshan", "3000000.00", None, "briefing"),))
        # Recent needs: one the bank files a loan for (the last pending filing names it), one
        # staff register that the bank signs for at the training day, one open, one untouched.
        first = end.replace(month=3 * ((end.month - 1) // 3) + 1, day=1)
        recent = max(wd(first, 0), working_days_before(end, 8))
        filed = self.need_loans.get("filed")
        if filed is not None:
            recent = min(recent, wd(filed.disbursed, 2))
            self.at(recent, 35, self.need_for_loan, "filed", filed)
        self.at(recent, 35, self.need_for, "talks")
        self.at(min(wd(recent, 1), end), 35, self.need_for, "open")
        self.at(working_days_before(end, 12), 35, self.need_for, "untouched")
        training = max(recent, working_days_before(end, 4))
        self.at(training, 36, self.event_hold, "training", (("zqrcb", "1500000.00", None, "talks"),))
        self.at(min(wd(training, 1), end), 36, self.meeting, "talks")

    def honour_record(self, n: int, uscc: str, kind: str, level: str, title: str, granted, years) -> None:
        from enterprises.models import Enterprise
        from matching.models import EnterpriseHonour
        from matching.services import honour_save

        enterprise = Enterprise.objects.filter(uscc=uscc).first()
        if enterprise is None:  # pragma: no cover - the demo file holds it
            return
        honour = EnterpriseHonour(
            enterprise=enterprise,
            kind=kind,
            level=level,
            title=title,
            certificate_no=f"GR{granted.year}44{n + 1:06d}",
            granted_on=granted,
            valid_until=add_months(granted, 12 * years) - dt.timedelta(days=1) if years else None,
        )
        honour_save(honour=honour, by=self.user("officer"))

    def _need_enterprise(self, fund: str):
        """The fund's first admitted enterprise without a need in play, not a borrower chosen
        for another need of the story."""
        from enterprises.models import Enterprise
        from matching.models import FILEABLE_STATUSES, FinancingNeed

        in_play = FinancingNeed.objects.filter(status__in=FILEABLE_STATUSES).values("enterprise_id")
        chosen = [loan.borrower for loan in self.need_loans.values() if loan.borrower]
        return (
            Enterprise.objects.filter(
                fund__code=fund, status=Enterprise.Status.ADMITTED, admitted_until__gte=_today()
            )
            .exclude(pk__in=in_play)
            .exclude(uscc__in=chosen)
            .order_by("pk")
            .first()
        )

    def _register_need(self, key: str, principal, enterprise, data: dict[str, Any]) -> None:
        from matching.services import need_register

        today = _today()
        need = need_register(
            principal=principal,
            data={
                **data,
                "enterprise_uscc": enterprise.uscc,
                "consent_on": today,
                "consent_scope": "full",
            },
        )
        self.needs[key] = need.pk
        self.month["needs"] += 1

    def need_for(self, key: str) -> None:
        """A need registered by a bank on the enterprise's behalf, or by staff."""
        from fundmgr.ground.accounts.principals import principal_for

        who, fund, amount, term, purpose = NEEDS[key]
        enterprise = self._need_enterprise(fund)
        if enterprise is None:
            self.month_notes.append(f"no enterprise for the {key} need")
            return
        principal = principal_for(self.user(who)) if who in self.staff else self.banks[who]
        data = {"fund": fund, "amount": Decimal(amount), "term_months": term, "purpose": purpose}
        self._register_need(key, principal, enterprise, data)

    def need_for_loan(self, key: str, loan: Loan) -> None:
        """The bank registers the need of the borrower it means to lend to (chosen now, its
        free rights offered); the loan's filing will name it."""
        found = self._borrower(loan, _today(), rotate=False)
        if found is None:
            self.month_notes.append(f"no borrower for the {key} need")
            return
        enterprise, assets = found
        loan.borrower = enterprise.uscc
        data = {
            "fund": loan.fund,
            "amount": loan.principal,
            "term_months": loan.term,
            "purpose": NEED_FILED_PURPOSE,
            "offered_ip": [a.number for a in assets],
        }
        self._register_need(key, self.banks[loan.bank], enterprise, data)

    def need_withdraw(self, key: str) -> None:
        from matching.services import need_transition

        who = NEEDS[key][0]
        need_transition(
            need_id=self.needs[key], name="withdraw", user=self.banks[who].user, comment=NEED_WITHDRAWN_REASON
        )

    def meeting(self, key: str) -> None:
        from banks.models import Institution
        from matching.services import need_meeting_record

        if key not in self.needs:
            return
        bank, outcome, notes = MEETINGS[key]
        need_meeting_record(
            need_id=self.needs[key],
            user=self.user("officer"),
            data={"institution": Institution.objects.get(code=bank), "outcome": outcome, "notes": notes},
        )

    def event_hold(self, key: str, signings: tuple) -> None:
        """Staff record the event with its participants, then each signing made there:
        (bank, intended amount, the loan it leads to or None, need key). A signing for a loan
        is with the borrower chosen for it; one for a need already registered joins it; any
        other is with a firm without a need, which the signing makes."""
        from banks.models import Institution
        from enterprises.models import Enterprise
        from matching.models import FinancingNeed, OutreachEvent
        from matching.services import event_save, signing_record

        values = dict(OUTREACH_EVENTS[key])
        fund = self.funds[values.pop("fund")]
        officer = self.user("officer")
        admitted = Enterprise.objects.filter(fund=fund, status=Enterprise.Status.ADMITTED).order_by("pk")
        event = event_save(
            event=OutreachEvent(fund=fund, held_on=_today(), **values),
            by=officer,
            enterprises=list(admitted[:5]),
            institutions=list(
                Institution.objects.filter(agreements__fund=fund, status=Institution.Status.ACTIVE).distinct()
            ),
        )
        for bank, amount, loan, need_key in signings:
            if loan is not None:
                found = self._borrower(loan, _today(), rotate=False)
                enterprise = found[0] if found else None
            elif need_key in self.needs:
                enterprise = FinancingNeed.objects.get(pk=self.needs[need_key]).enterprise
            else:
                enterprise = self._need_enterprise(fund.code)
            if enterprise is None:
                self.month_notes.append(f"no enterprise to sign with at the {key}")
                continue
            signing = signing_record(
                event=event,
                institution=Institution.objects.get(code=bank),
                enterprise=enterprise,
                intended_amount=Decimal(amount),
                by=officer,
                notes=SIGNING_NOTE,
            )
            self.month["needs"] += signing.financing_need_id not in self.needs.values()  # made by it
            if loan is not None:
                loan.borrower = enterprise.uscc
                self.needs[loan.need_key] = signing.financing_need_id
            else:
                self.needs[need_key] = signing.financing_need_id
        self.month["events"] += 1

    # -- scheduled jobs

    def monthly_jobs(self, previous_end: dt.date) -> None:
        from fundmgr.top.reports import services as reports

        self.month["stored_reports"] += reports.monthly_reports_generate_all(
            year=previous_end.year, month=previous_end.month
        )
        # The quarterly tables are archived after each quarter of the last year (earlier ones
        # are computed on request like any other; archiving them all would only cost time).
        if previous_end.month % 3 == 0 and previous_end > add_months(self.end, -13):
            self.month["stored_reports"] += reports.quarterly_reports_store_all(
                year=previous_end.year, quarter=previous_end.month // 3
            )

    def scans(self) -> None:
        from enterprises.services import enterprise_expire_due
        from fundmgr.top.notifications.deadlines import deadline_scan
        from fundmgr.top.notifications.needs import needs_digest, needs_untouched_scan
        from loans.services.claims import recoveries_mark_overdue
        from loans.services.servicing import warnings_scan
        from matching.services import need_priorities_refresh, needs_expire_due

        self._renew_admissions()
        enterprise_expire_due()
        recoveries_mark_overdue()
        self.month["warnings"] += sum(warnings_scan().values())
        deadline_scan()
        # 投融对接: needs past their validity expire, classes computed again, banks and staff told
        self.month["needs_expired"] += needs_expire_due()
        need_priorities_refresh()
        needs_digest()
        needs_untouched_scan()

    def _renew_admissions(self) -> None:
        """Staff renew admissions about to end for enterprises the banks still lend to."""
        from enterprises.models import Enterprise
        from enterprises.services import enterprise_transition
        from fundmgr.ground.lib.errors import AppError

        today = _today()
        for pk in Enterprise.objects.filter(
            status=Enterprise.Status.ADMITTED, admitted_until__lte=today + dt.timedelta(days=45)
        ).values_list("pk", flat=True):
            try:
                enterprise_transition(
                    enterprise_id=pk, name="renew", user=self.user("officer"), comment="入库有效期届满续期"
                )
            except AppError:  # no longer eligible: the admission runs out
                continue

    def interest(self) -> None:
        from fundmgr.ground.funds.models import EntryType
        from fundmgr.ground.funds.selectors import fund_balance
        from fundmgr.ground.funds.services import ledger_entry_record

        today = _today()
        quarter = (today.month - 1) // 3 + 1
        for code in sorted(self.funds):
            fund = self.funds[code]
            amount = quantize(fund_balance(fund=fund) * Decimal("0.0035") / 4)
            ledger_entry_record(
                fund=fund,
                entry_type=EntryType.INTEREST,
                amount=amount,
                description=f"专户活期存款利息（{today.year}年第{quarter}季度）",
                reference=f"interest:{today.year}Q{quarter}",
                by=self.user("finance"),
            )

    def top_up(self) -> None:
        from fundmgr.ground.funds.models import EntryType, GovernmentLevel
        from fundmgr.ground.funds.services import ledger_entry_record

        ledger_entry_record(
            fund=self.funds["zhaoqing"],
            entry_type=EntryType.CONTRIBUTION,
            amount=Decimal("5000000.00"),
            government_level=GovernmentLevel.CITY,
            description="肇庆市财政追加出资（第二期）",
            reference="肇财金〔2025〕12号",
            by=self.user("finance"),
        )
        self.month_notes.append("zhaoqing: city contribution +5,000,000")


def _today() -> dt.date:
    from fundmgr.ground.lib import clock

    return clock.today()


def save_stress_scenarios(by) -> int:
    """`by` saves the demo's stress scenarios on every fund (one already there by its name is
    left alone), through the forecast's service; how many were saved."""
    from banks.models import Institution
    from fundmgr.ground.accounts.principals import principal_for
    from fundmgr.ground.funds.models import Fund
    from fundmgr.top.forecast.models import StressScenario
    from fundmgr.top.forecast.services import scenario_save

    principal = principal_for(by)
    wanted = [
        (fund, name, description, stress)
        for fund in Fund.objects.order_by("code")
        for name, description, stress in STRESS_SCENARIOS
    ]
    code, bank_code, name = BANK_STRESS
    bank = Institution.objects.filter(code=bank_code, agreements__fund__code=code).first()
    if bank is not None:
        description = recorded(
            gettext_noop("%(institution)s在本资金的全部在保贷款立即违约"), institution=bank.name
        )
        wanted.append((Fund.objects.get(code=code), name, description, {"institution": bank}))
    saved = 0
    for fund, name, description, stress in wanted:
        if not StressScenario.objects.filter(fund=fund, name=recorded(name)).exists():
            scenario = StressScenario(
                fund=fund, name=recorded(name), description=recorded(description), **stress
            )
            scenario_save(principal=principal, scenario=scenario)
            saved += 1
    return saved


# --- entry points ------------------------------------------------------------------------------------


def history_present() -> str:
    """Why the history must not be built here ('' when it may): loans already exist."""
    from enterprises.models import Enterprise
    from loans.models import LoanFiling

    filings = LoanFiling.objects.count()
    if filings:
        return f"the database already holds {filings} loan filings"
    usccs = [enterprise_uscc(i, row[3]) for i, row in enumerate(ENTERPRISES)]
    if Enterprise.objects.filter(uscc__in=usccs).exists():
        return "an earlier history run stopped part-way (rebuild on a fresh database)"
    return ""


def build_history(
    *, end: dt.date | None = None, progress: Callable[[str], None] | None = None
) -> HistoryReport:
    """Replay the story from January 2024 up to `end` (default: the business date now)."""
    from fundmgr.ground.lib import clock

    say = progress or (lambda _line: None)
    report = HistoryReport(end=end or clock.today())
    reason = history_present()
    if not reason and report.end < EARLIEST_END:
        reason = f"the business date {report.end.isoformat()} is too early (the story needs {EARLIEST_END.isoformat()} or later)"
    if reason:
        report.skipped = reason
        say(f"history: {reason}; nothing added")
        return report
    started = time.monotonic()
    say(f"history: {HISTORY_START:%Y-%m} → {report.end.isoformat()}, month by month")
    with _quiet(), _no_mail(), _fast_sqlite():
        story = _Story(end=report.end, say=say)
        story.plan()
        story.run()
    report.counts = story.counts
    report.seconds = time.monotonic() - started
    return report


def highlights() -> list[tuple[str, str, str]]:
    """What to try first in a database holding the history: (who, what, where) with real
    references, read back from the records (empty without a history)."""
    from banks.models import CooperationAgreement
    from loans.models import Claim, ClaimStatus, FilingStatus, LoanFiling, Recovery, RecoveryStatus
    from matching import selectors as needs

    def first(qs):
        return qs.order_by("pk").first()

    out: list[tuple[str, str, str]] = []
    submitted = first(LoanFiling.objects.filter(status=FilingStatus.SUBMITTED))
    if submitted:
        out.append(
            (
                "officer",
                _("备案 %(filing)s：开始尽调（待尽调）") % {"filing": submitted.reference},
                "/admin/loans/loanfiling/?queue=submitted",
            )
        )
    reviewing = first(LoanFiling.objects.filter(status=FilingStatus.UNDER_REVIEW))
    if reviewing:
        out.append(
            (
                "approver",
                _("备案 %(filing)s：补全尽调清单后受理入池（四眼原则：不是开始尽调的人）")
                % {"filing": reviewing.reference},
                "/admin/loans/loanfiling/?queue=under_review",
            )
        )
    committee = first(Claim.objects.filter(status=ClaimStatus.COMMITTEE_REVIEW))
    if committee:
        out.append(
            (
                "committee",
                _("补偿申请 %(claim)s：填写会议纪要编号并批准") % {"claim": committee.reference},
                "/admin/loans/claim/?queue=committee",
            )
        )
    approved = first(Claim.objects.filter(status=ClaimStatus.APPROVED))
    if approved:
        out.append(
            (
                "finance",
                _("补偿申请 %(claim)s：付款 %(amount)s 元（台账同步记账）")
                % {"claim": approved.reference, "amount": f"{approved.approved_amount:,.2f}"},
                "/admin/loans/claim/?queue=approved",
            )
        )
    due = first(Recovery.objects.filter(status=RecoveryStatus.RETURN_DUE).select_related("claim"))
    if due:
        out.append(
            (
                "finance",
                _("追偿回收 %(claim)s：确认返还 %(amount)s 元")
                % {"claim": due.claim.reference, "amount": f"{due.fund_amount:,.2f}"},
                "/admin/loans/recovery/?queue=return_due",
            )
        )
    interest = needs.needs_interest_queue(today=_today(), limit=1)
    if interest.count:
        out.append(
            (
                "officer",
                _("融资需求 %(need)s：%(enterprise)s，银行已表达意向，联系并记录对接情况")
                % {"need": interest.items[0].obj.pk, "enterprise": interest.items[0].obj.enterprise.name},
                "/admin/matching/financingneed/?queue=interest",
            )
        )
    suspended = first(
        CooperationAgreement.objects.filter(filings_suspended_on__isnull=False).select_related(
            "institution", "fund"
        )
    )
    if suspended:
        out.append(
            (
                "approver",
                _("%(institution)s在%(fund)s的新增备案自 %(since)s 起自动暂停（不良率超阈值）")
                % {
                    "institution": suspended.institution.name,
                    "fund": suspended.fund.name,
                    "since": suspended.filings_suspended_on.isoformat(),
                },
                f"/admin/banks/cooperationagreement/{suspended.pk}/change/",
            )
        )
    if out:
        out.append(
            (
                "regulator-zhaoqing",
                _("肇庆资金看板：余额、在保、杠杆、不良、补偿进度"),
                "/admin/funds/fund/dashboard/zhaoqing/",
            )
        )
        out.append(
            (
                "regulator-zhaoqing",
                _("月度报告、对账单和季度报表（2024 年起）"),
                "/admin/reports/storedreport/",
            )
        )
    return out
