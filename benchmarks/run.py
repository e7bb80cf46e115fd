"""Province-scale benchmark: fill a throwaway database with generated data, then time the hot paths.

Figures are printed, never asserted: timings on a shared 2-core box are too noisy for pass/fail.
--scale 1 is product.md's "Scale": 21 funds, ~220 institutions, 20,000 enterprises, 100,000 loans
and 250,000 pledged IP rights. Each case: one warm-up, the median of --runs timed runs, then one
run counting SQL queries and one under tracemalloc (both slow Python down, so neither is timed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import random
import re
import shutil
import statistics
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict
from decimal import Decimal
from urllib.parse import urlparse

BATCH = 5000  # rows per INSERT: fast, and memory stays flat whatever the scale
CHUNK = 400  # enterprises per load step: ~5,000 IP assets, ~2,000 loans and ~5,000 pledges
# The 17 Guangdong prefectures the demo lacks: with its 4 funds, the province's 21.
CITIES = [c.split(":") for c in (
    "guangzhou:广州:GZ:440100 shenzhen:深圳:SZ:440300 zhuhai:珠海:ZH:440400 jiangmen:江门:JM:440700 "
    "zhanjiang:湛江:ZJ:440800 maoming:茂名:MM:440900 huizhou:惠州:HZ:441300 meizhou:梅州:MZ:441400 "
    "shanwei:汕尾:SW:441500 heyuan:河源:HY:441600 yangjiang:阳江:YJ:441700 qingyuan:清远:QY:441800 "
    "dongguan:东莞:DG:441900 zhongshan:中山:ZS:442000 chaozhou:潮州:CZ:445100 jieyang:揭阳:JY:445200 "
    "yunfu:云浮:YF:445300").split()]  # fmt: skip
# kind: (type digit of the application number, years of protection, % of generated rights)
IP_MIX = {"invention_patent": ("1", 20, 50), "utility_model": ("2", 10, 25), "design_patent": ("3", 15, 10)}
ROWS, SECONDS = Counter(), Counter()


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Database: PostgreSQL when it answers (BENCH_DATABASE_URL, default\n"
        f"{DEFAULT_PG}): that database is dropped if it exists, created afresh, and\n"
        "left in place for inspection. Otherwise a temporary SQLite file at a tenth of the\n"
        "province, removed afterwards (the run says so).",
    )
    p.add_argument(
        "--scale",
        type=float,
        default=None,
        help="fraction of the province (default 1 on PostgreSQL, 0.1 on SQLite)",
    )
    p.add_argument("--runs", type=int, default=5, help="timed runs per case, median reported (default 5)")
    p.add_argument("--seed", type=int, default=20261121, help="random seed, for repeatable data")
    p.add_argument("--date", default="2026-11-21", help="business date, FUNDMGR_BUSINESS_DATE")
    return p.parse_args()


DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/fundmgr_bench"


def database_url() -> tuple[str, str | None]:
    """(DATABASE_URL, temporary directory to remove): the database is always brand new."""
    import psycopg
    from psycopg import sql

    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_PG
    try:
        psycopg.connect(urlparse(url)._replace(path="/postgres").geturl(), connect_timeout=3).close()
    except psycopg.Error as exc:
        print(
            f"PostgreSQL does not answer at {url} ({exc.__class__.__name__}); using SQLite at a tenth of the province"
        )
        tmp = tempfile.mkdtemp(prefix="fundmgr-bench-")
        return f"sqlite:///{tmp}/bench.sqlite3", tmp

    name = sql.Identifier(urlparse(url).path.lstrip("/"))
    with psycopg.connect(urlparse(url)._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    return url, None


def put(model, objs) -> list:
    """bulk_create in batches, counting rows and seconds per table. It skips save() guards and
    history, which is fine for loading: the generator keeps within the database constraints."""
    t = time.perf_counter()
    objs = model.objects.bulk_create(list(objs), batch_size=BATCH)
    ROWS[model._meta.db_table] += len(objs)
    SECONDS[model._meta.db_table] += time.perf_counter() - t
    return objs


def generate(scale: float, rng: random.Random, today: dt.date):
    """Funds, banks, enterprises with IP rights, accepted loans with pledges, monthly reports, a
    few claims and the ledger. Returns an admitted borrower of the first fund with no loans yet."""
    from dateutil.relativedelta import relativedelta
    from django.db import transaction

    from banks.models import CooperationAgreement, Institution
    from enterprises.models import Enterprise, IPAsset
    from fundmgr.ground.accounts.models import Organization, User
    from fundmgr.ground.funds.models import Fund, LedgerEntry, PolicyVersion
    from loans.models import LIVE_LOAN_STATUSES, Claim, LoanFiling, Pledge, ReferenceCounter, StatusReport
    from tests.factories import patent_with_check, uscc_with_check

    gdee, start = Organization.objects.get(code="gdee"), dt.date(2021, 1, 1)
    policy = PolicyVersion.objects.get(fund__code="zhaoqing")
    for code, city, prefix, region in CITIES:  # clone the demo fund and its policy
        name = f"{city}市知识产权质押融资风险补偿资金"
        fund = Fund.objects.create(code=code, name=name, reference_prefix=prefix, region_code=region,
                                   manager=gdee, start_date=start, status="active")  # fmt: skip
        policy.pk, policy._state.adding, policy.fund, policy.effective_from = None, True, fund, start
        policy.save()
    funds = list(Fund.objects.order_by("id"))
    assert len({f.reference_prefix for f in funds}) == 21, "each fund needs its own reference prefix"
    User.objects.get(username="gdee-viewer").funds.set(funds)  # the province's viewer sees all 21
    policies = {p.fund_id: p for p in PolicyVersion.objects.select_related("fund").order_by("effective_from")}

    # ~220 institutions in all, and at least one new bank per fund
    n_banks = max(len(funds), round(220 * scale) - Institution.objects.count())
    banks = put(Institution, (Institution(code=f"bank-{i:03d}", name=f"合作银行{i:03d}", status="active")
                              for i in range(n_banks)))  # fmt: skip
    put(CooperationAgreement, (  # a home fund each; every 4th bank lends in the next city too
        CooperationAgreement(institution=bank, fund=funds[(i + k) % len(funds)], fund_share=Decimal(50),
                             bank_share=Decimal(50), signed_on=start, valid_from=start)
        for i, bank in enumerate(banks) for k in range(1 + (i % 4 == 0))))  # fmt: skip
    lenders = defaultdict(list)
    terms = CooperationAgreement.objects.values_list("fund_id", "institution_id", "fund_share", "bank_share")
    for fund_id, *rest in terms:
        lenders[fund_id].append(rest)

    seq, refs, covered_live, paid = itertools.count(), Counter(), Counter(), []
    month_ends = [today.replace(day=1) - relativedelta(months=k, days=1) for k in (2, 1, 0)]

    def enterprise(n: int) -> Enterprise:
        fund = funds[n % len(funds)]
        region = fund.region_code[:4] + f"{n % 9 + 2:02d}"  # a district of the fund's city
        admitted = dt.date(2024, 1, 1) + dt.timedelta(n % 600)
        return Enterprise(
            uscc=uscc_with_check(f"91{region}MA{n:07d}"), name=f"{fund.name[:2]}科创测试有限公司{n:05d}",
            fund=fund, region_code=region, industry_code="C3985", size_class="small", employees=20 + n % 280,
            registered_on=dt.date(2010 + n % 10, 1 + n % 12, 1 + n % 28), total_assets=Decimal(8_000_000),
            annual_revenue=Decimal(5_000_000 + n % 50 * 100_000), credit_report_date=admitted - dt.timedelta(20),
            credit_record_clean=True, status="admitted", admitted_on=admitted,
            admitted_until=admitted + dt.timedelta(3 * 365), submitted_by_id=rng.choice(lenders[fund.id])[0])  # fmt: skip

    def ip_asset(e: Enterprise, n: int) -> IPAsset:
        kind = rng.choices([*IP_MIX, "trademark"], [w for *_, w in IP_MIX.values()] + [15])[0]
        if kind == "trademark":  # 9 digits where the demo's have 8: no clash
            return IPAsset(enterprise=e, kind=kind, number=f"6{n:08d}", title=f"商标{n}",
                           nice_class=1 + n % 45, expires_on=dt.date(2030 + n % 5, 12, 31))  # fmt: skip
        digit, years, _ = IP_MIX[kind]
        filed = dt.date(2016 + n % 6, 1 + n % 12, 1 + n % 28)  # (year, n // 6) is unique, unlike demo numbers
        number = patent_with_check(f"{filed.year}{digit}{n // 6:07d}")
        return IPAsset(enterprise=e, kind=kind, number=number, title=f"一种测试技术方案{n}", filed_on=filed,
                       expires_on=filed.replace(year=filed.year + years))  # fmt: skip

    def loan(e: Enterprise) -> LoanFiling:
        term, r, principal = rng.choice((12, 24, 36)), rng.random(), rng.randint(20, 200) * 10000
        disbursed = max(dt.date(2022, 1, 1), today - dt.timedelta(rng.randint(10, term * 30 + 180)))
        matures, accepted = disbursed + relativedelta(months=term), min(today, disbursed + dt.timedelta(7))
        # Mostly performing; 3% overdue, 4.5% non-performing, 0.5% with a claim (half of them paid).
        status = ("settled" if matures <= today else "compensated" if r < .0025 else "in_claim" if r < .005
                  else "non_performing" if r < .05 else "overdue" if r < .08 else "performing")  # fmt: skip
        covered = principal if rng.random() < 0.8 else principal * 6 // 10  # 20% combined pledges
        out = 0 if status in ("settled", "compensated") else int(principal * rng.uniform(0.3, 1))
        refs[e.fund_id, accepted.year] += 1  # numbered as the service numbers them
        number, prefix = refs[e.fund_id, accepted.year], policies[e.fund_id].fund.reference_prefix
        reference = f"{prefix}-{accepted.year}-{number:06d}"
        if status in LIVE_LOAN_STATUSES:
            covered_live[e.fund_id] += covered * out // principal
        institution_id, fund_share, bank_share = rng.choice(lenders[e.fund_id])
        return LoanFiling(
            fund_id=e.fund_id, institution_id=institution_id, enterprise=e, reference=reference,
            contract_no=f"HT-{reference}", principal=principal, covered_principal=covered,
            outstanding_principal=out, covered_outstanding=covered * out // principal, disbursed_on=disbursed,
            matures_on=matures, annual_rate=Decimal("3.85"), pledge_type="combined" if covered < principal
            else "ip_only", status="accepted", loan_status=status, policy_version=policies[e.fund_id],
            fund_share=fund_share, bank_share=bank_share, submitted_on=min(today, disbursed + dt.timedelta(2)),
            accepted_on=accepted, due_diligence_due_on=accepted,
            settled_on=matures if status == "settled" else None)  # fmt: skip

    def reports(loans: list[LoanFiling]):
        """The last 3 month-end reports of troubled loans and of every tenth performing one."""
        for i, f in enumerate(loans):
            late = {"non_performing": rng.randint(95, 300), "overdue": rng.randint(31, 89), "performing": 0}
            if f.loan_status not in late or (f.loan_status == "performing" and i % 10):
                continue
            for back, as_of in zip((2, 1, 0), month_ends, strict=True):
                days = max(0, late[f.loan_status] - 30 * back)
                grade = 2 if days >= 90 else 1 if days else 0
                yield StatusReport(
                    filing=f, as_of=as_of, outstanding_principal=f.outstanding_principal, days_overdue=days,
                    overdue_principal=f.outstanding_principal * (0, Decimal("0.1"), 1)[grade],
                    overdue_interest=days, risk_class=("normal", "special_mention", "substandard")[grade],
                    loan_status_after=("performing", "overdue", "non_performing")[grade])  # fmt: skip

    def claim(f: LoanFiling) -> Claim:
        loss = f.covered_principal * Decimal("0.8")
        amount = min(loss * f.fund_share / 100, policies[f.fund_id].per_loan_comp_cap or loss)
        paid_amount = amount if f.loan_status == "compensated" else None
        return Claim(
            filing=f, fund_id=f.fund_id, institution_id=f.institution_id, reference=f"{f.reference}-C1",
            status="paid" if paid_amount else "submitted", trigger_date=today - dt.timedelta(100),
            outstanding_principal=loss, recovered_before_claim=0, loss_base=loss, fund_share=f.fund_share,
            computed_amount=amount, claimable_amount=amount, approved_amount=paid_amount, paid_amount=paid_amount,
            paid_on=paid_amount and today - dt.timedelta(40), submitted_on=today - dt.timedelta(60))  # fmt: skip

    n_ent, t0 = round(20000 * scale), time.perf_counter()
    for first in range(0, n_ent, CHUNK):
        with transaction.atomic():
            ents = put(Enterprise, map(enterprise, range(first, min(n_ent, first + CHUNK))))
            plan = [(e, k) for e in ents for k in (rng.randint(1, 4) for _ in range(rng.randint(3, 7)))]
            assets = iter(put(IPAsset, (ip_asset(e, next(seq)) for e, k in plan for _ in range(k))))
            loans = put(LoanFiling, (loan(e) for e, _ in plan))
            put(Pledge, (Pledge(filing=f, ip_asset=next(assets), registered_on=f.disbursed_on - dt.timedelta(5),
                                registration_no=f"Y{f.disbursed_on.year}44{next(seq):07d}", released_on=f.settled_on)
                         for f, (_, k) in zip(loans, plan, strict=True) for _ in range(k)))  # fmt: skip
            put(StatusReport, reports(loans))
            claimed = (f for f in loans if f.loan_status in ("in_claim", "compensated"))
            claims = put(Claim, map(claim, claimed))
            paid += [(c.fund_id, c.pk, c.reference, c.paid_amount, c.paid_on) for c in claims if c.paid_on]
        done, secs = min(n_ent, first + CHUNK), time.perf_counter() - t0
        if done == n_ent or done % (CHUNK * max(1, n_ent // CHUNK // 8)) == 0:
            print(f"  {done:>7,}/{n_ent:,} enterprises, {ROWS['loans_loanfiling']:>8,} loans {secs:6.1f} s")

    # Contributions give every fund ~30% capacity headroom (so filing checks pass) and come
    # before the compensation outflows, as PostgreSQL's trigger refuses a ledger below zero.
    def contributions():
        for fund in funds:
            need = covered_live[fund.id] / policies[fund.id].leverage * Decimal("1.3")
            need += sum((amount for fund_id, _, _, amount, _ in paid if fund_id == fund.id), Decimal(0))
            for year, level, tenths in ((2021, "province", 3), (2023, "city", 5), (2025, "district", 2)):
                amount = round(need * tenths / 10, -4) + 10_000
                yield LedgerEntry(fund=fund, entry_type="contribution", government_level=level, amount=amount,
                                  value_date=dt.date(year, 6, 30))  # fmt: skip

    with transaction.atomic():
        put(LedgerEntry, contributions())
        put(LedgerEntry, (LedgerEntry(fund_id=fund_id, entry_type="compensation_paid", amount=-amount,
                                      value_date=on, claim_id=claim_id, reference=ref)
                          for fund_id, claim_id, ref, amount, on in paid))  # fmt: skip
        put(ReferenceCounter, (ReferenceCounter(fund_id=f, year=y, last=n) for (f, y), n in refs.items()))
    borrower = enterprise(-(-n_ent // len(funds)) * len(funds))  # in the first fund, with no loans yet
    borrower.save()
    return borrower


def submitter(borrower, count: int, today: dt.date):
    """A bank files a loan for `borrower`; each call pledges a patent of its own (all checks pass)."""
    from banks.models import Institution
    from fundmgr.ground.accounts.principals import principal_for
    from fundmgr.ground.accounts.services import institution_system_user
    from loans.api.filings import FilingInputSerializer
    from loans.services.filings import filing_submit
    from tests.factories import patent_with_check

    day, bank = dt.timedelta(1), Institution.objects.get(pk=borrower.submitted_by_id)
    numbers = [patent_with_check(f"{today.year - 1}1{8_000_000 + i:07d}") for i in range(count)]
    for n in numbers:
        borrower.ip_assets.create(kind="invention_patent", number=n, title=n, expires_on=today + 3000 * day)
    principal, numbers = principal_for(institution_system_user(institution=bank)), iter(numbers)

    def submit() -> None:
        n = next(numbers)
        pledge = {"kind": "invention_patent", "number": n, "registration_no": f"Y{today.year}44{n[5:12]}",
                  "registered_on": str(today - 8 * day)}  # fmt: skip
        body = FilingInputSerializer(data={
            "fund": borrower.fund.code, "enterprise_uscc": borrower.uscc, "contract_no": f"BENCH-{n}",
            "principal": "200000.00", "pledge_type": "ip_only", "annual_rate": "4.3500", "pledges": [pledge],
            "disbursed_on": str(today - 3 * day), "matures_on": str(today + 360 * day)})  # fmt: skip
        body.is_valid(raise_exception=True)
        filing_submit(principal=principal, data=body.validated_data)

    return submit


def measure(fn, runs: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()  # warm-up: content types, the working-day calendar and lazy imports get cached
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    with CaptureQueriesContext(connection) as q:
        fn()
    queries = list(q.captured_queries)  # copy now: the next request_started signal clears the log
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    slow = max(queries, key=lambda x: float(x["time"]))
    shapes = Counter(re.sub(r"'[^']*'|\b\d+\b", "?", x["sql"]) for x in queries)  # an N+1 shows as a repeat
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "n": len(queries),
            "peak": peak, "slow": (float(slow["time"]), slow["sql"]), "repeat": shapes.most_common(1)[0]}  # fmt: skip


# Goals from the performance issue: (what, test on (median s, ratio to me, peak MiB)).
GOALS = {
    "funds": ("≤ 3× me", lambda s, x, m: x <= 3),
    "submit": ("≤ 5× me", lambda s, x, m: x <= 5),
    "quarterly": ("< 300 ms, < 20 MiB", lambda s, x, m: s < 0.3 and m < 20),
    "quarterly-closed": ("< 100 ms, ≤ 10× me, < 20 MiB", lambda s, x, m: s < 0.1 and x <= 10 and m < 20),
    "monthly": ("< 10 s", lambda s, x, m: s < 10),
}


def monthly_job(today: dt.date) -> dict:
    """The monthly report job for every fund, timed once on a clean slate (it stores reports)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fundmgr.top.reports.models import StoredReport
    from fundmgr.top.reports.services import monthly_reports_generate_all, previous_month

    year, month = previous_month(today)
    StoredReport.objects.filter(period_start=dt.date(year, month, 1)).delete()
    with CaptureQueriesContext(connection) as q:
        t = time.perf_counter()
        stored = monthly_reports_generate_all(year=year, month=month)
        seconds = time.perf_counter() - t
    print(f"monthly job: {stored} reports for {year}-{month:02d} in {seconds:.1f} s", flush=True)
    return {"median": seconds, "min": seconds, "max": seconds, "n": len(q.captured_queries), "peak": 0.0,
            "slow": (0.0, ""), "repeat": ("", 1)}  # fmt: skip


def short_sql(sql: str) -> str:
    return re.sub(r"^SELECT (.{50}).*? FROM ", r"SELECT \1… FROM ", " ".join(sql.split()))[:200]


def main() -> None:
    args, started = parse_args(), time.perf_counter()
    url, tmp = database_url()
    if args.scale is None:
        args.scale = 0.1 if url.startswith("sqlite") else 1.0
    # DEBUG off: with it on, Django keeps the SQL of every query (megabytes of bulk INSERTs).
    os.environ.update(DATABASE_URL=url, REDIS_URL="", DEBUG="false", SECRET_KEY="benchmark-only-" + "k" * 40,
                      FUNDMGR_BUSINESS_DATE=args.date, API_THROTTLE_RATE="1000000/hour", LOG_LEVEL="WARNING",
                      SECURE_SSL_REDIRECT="false",  # the test client speaks plain HTTP
                      DJANGO_SETTINGS_MODULE="fundmgr.settings")  # fmt: skip
    try:
        run(args, started)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, started: float) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.test import APIClient

    from fundmgr.ground.accounts.models import User
    from fundmgr.ground.accounts.principals import principal_for
    from fundmgr.ground.funds.models import Fund
    from fundmgr.ground.funds.selectors import fund_figures
    from fundmgr.ground.lib import clock
    from fundmgr.top.demo import seed_demo
    from fundmgr.top.reports.services import previous_quarter, quarterly_report

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # demo users; speed only
    call_command("migrate", verbosity=0)
    seed_demo()
    today, t = clock.today(), time.perf_counter()
    print(f"{connection.vendor}: migrated, seeded; generating --scale {args.scale} for {today}", flush=True)
    borrower = generate(args.scale, random.Random(args.seed), today)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, which autovacuum keeps up to date in production
    load_s = time.perf_counter() - t
    print(f"\n{'table':<28}{'rows':>10}{'seconds':>9}")
    for table, rows in [*ROWS.most_common(), ("total, with ANALYZE", sum(ROWS.values()))]:
        print(f"{table:<28}{rows:>10,}{SECONDS.get(table, load_s):>9.1f}")

    client, viewer = APIClient(), principal_for(User.objects.get(username="gdee-viewer"))
    client.force_authenticate(user=User.objects.get(username="officer"))

    def get(path: str):
        def call() -> None:
            response = client.get(path)
            assert response.status_code == 200, response.content[:300]  # a sanity check, not a limit

        return call

    running, closed = (today.year, (today.month - 1) // 3 + 1), previous_quarter(today)
    cases = [
        ("me", "GET me/ (the floor)", get("/api/v1/me/")),
        ("funds", "GET funds/ (staff)", get("/api/v1/funds/")),
        ("figures", "fund_figures, all funds", lambda: fund_figures(funds=Fund.objects.all(), on=today)),
        ("filings", "GET filings/?page_size=200 (staff)", get("/api/v1/filings/?page_size=200")),
        ("enterprises", "GET enterprises/?page_size=200 (staff)", get("/api/v1/enterprises/?page_size=200")),
        ("submit", "filing_submit, all checks (bank)", submitter(borrower, args.runs + 3, today)),
        *((short, f"quarterly_report {y} Q{q}, {short[10:] or 'running'} (viewer)",
           lambda y=y, q=q: quarterly_report(principal=viewer, fund_code=None, year=y, quarter=q))
          for short, (y, q) in (("quarterly", running), ("quarterly-closed", closed))),
    ]  # fmt: skip
    results = [(short, label, measure(fn, args.runs)) for short, label, fn in cases]
    results.append(("monthly", "monthly job, all funds (one run)", monthly_job(today)))
    floor = results[0][2]["median"]
    print(f"\n{f'case (median of {args.runs})':<42}{'median s':>9}{'× me':>7}{'queries':>8}{'peak MiB':>9}"
          f"  {'goal':<24}{'met':>4}")  # fmt: skip
    for short, label, r in results:
        goal, met = GOALS.get(short, ("", None))
        verdict = "" if met is None else ("yes" if met(r["median"], r["median"] / floor, r["peak"]) else "NO")
        print(f"{label:<42}{r['median']:>9.3f}{r['median'] / floor:>7.1f}{r['n']:>8}{r['peak']:>9.1f}"
              f"  {goal:<24}{verdict:>4}")  # fmt: skip
    print("\nslowest query of each case, and the most repeated one when a query repeats:")
    for short, _, r in results:
        if not r["slow"][1]:
            continue
        print(f"  {short:<17}{r['slow'][0]:.3f} s  {short_sql(r['slow'][1])}")
        if r["repeat"][1] > 1:
            print(f"  {'':<17}{r['repeat'][1]:>5}×  {short_sql(r['repeat'][0])}")
    medians = ", ".join(f"{short} {r['median'] * 1000:.0f} ms/{r['n']} q" for short, _, r in results)
    print(f"\nSUMMARY {connection.vendor} scale={args.scale}: {ROWS['loans_loanfiling']:,} loans, "
          f"{ROWS['loans_pledge']:,} pledges loaded in {load_s:.0f} s; {medians}; "
          f"total {time.perf_counter() - started:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
