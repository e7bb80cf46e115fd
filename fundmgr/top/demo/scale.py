"""Province-scale generated data (`manage.py seed_scale`), for benchmarks and load tests.

At scale 1 it is product.md's "Scale": the 4 demo funds plus the province's other 17 cities
(21 funds), ~220 institutions, 20,000 admitted enterprises, ~250,000 IP rights, ~100,000
accepted loans pledging them, the last three month-end reports of troubled loans (and of one
performing loan in ten), a few hundred claims, and ledger contributions that leave every fund
~30% capacity headroom. The same seed gives the same data.

Speed: the big tables are written from plain tuples, with ids reserved beforehand so rows can
reference each other before they exist. On PostgreSQL each table is one COPY, which skips the
ORM's per-field work and the SQL text of multi-row INSERTs (bulk_create took ~45 s at scale 1,
two thirds of it in Django preparing values); elsewhere (SQLite) it is executemany. Nothing is
switched off: constraints, foreign keys and triggers all check every row. Like bulk_create,
it writes no model history and calls no save(): the generator keeps within the constraints.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, models, transaction
from django.utils import timezone

DEFAULT_SEED = 20261121
MAX_SCALE = 10  # the generated numbers (USCC, patent, registration) stay unique up to here
PROVINCE_ENTERPRISES, PROVINCE_INSTITUTIONS = 20_000, 220

# The 17 Guangdong prefectures the demo lacks: with its 4 funds, the province's 21.
CITIES = [c.split(":") for c in (
    "guangzhou:广州:GZ:440100 shenzhen:深圳:SZ:440300 zhuhai:珠海:ZH:440400 jiangmen:江门:JM:440700 "
    "zhanjiang:湛江:ZJ:440800 maoming:茂名:MM:440900 huizhou:惠州:HZ:441300 meizhou:梅州:MZ:441400 "
    "shanwei:汕尾:SW:441500 heyuan:河源:HY:441600 yangjiang:阳江:YJ:441700 qingyuan:清远:QY:441800 "
    "dongguan:东莞:DG:441900 zhongshan:中山:ZS:442000 chaozhou:潮州:CZ:445100 jieyang:揭阳:JY:445200 "
    "yunfu:云浮:YF:445300").split()]  # fmt: skip
TEMPLATE_FUND = "zhaoqing"  # the demo fund whose policy the new funds copy
FUND_START = dt.date(2021, 1, 1)
BANK_CODE = "bank-{:03d}"
# Generated rights by kind: (cumulative share of draws, type digit of the number, years of protection).
# Patent numbers are (filing year, n // 6) with the year taken from n % 6, so unique; trademarks
# have 9 digits where the demo's have 8.
IP_DRAW = (
    (0.50, "invention_patent", "1", 20),
    (0.75, "utility_model", "2", 10),
    (0.85, "design_patent", "3", 15),
    (1.00, "trademark", "", 10),
)
TERMS = (12, 24, 36)
LIVE = ("performing", "overdue", "non_performing", "in_claim")
FIRST_DISBURSAL = dt.date(2022, 1, 1)
SPARE_SERIAL = 9_999_999  # the admitted borrower left without loans (the bench files for it)
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_PATENT_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


class SeedRefused(Exception):
    """The database is not one this generator may fill (the message says why and what to do)."""


@dataclass
class SeedSummary:
    rows: Counter = field(default_factory=Counter)  # table → rows written
    seconds: float = 0.0


# --- identifiers ----------------------------------------------------------------------------------


def uscc_with_check(first17: str) -> str:
    """GB 32100-2015: append the check character."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return first17 + USCC_CHARS[(31 - total % 31) % 31]


def patent_with_check(digits12: str) -> str:
    """CNIPA application number: Σ dᵢ·wᵢ mod 11 as the check character (10 → X)."""
    remainder = sum(int(d) * w for d, w in zip(digits12, _PATENT_WEIGHTS, strict=True)) % 11
    return f"{digits12}.{'X' if remainder == 10 else remainder}"


def district_of(fund_region: str, n: int) -> str:
    return f"{fund_region[:4]}{n % 9 + 2:02d}"


def enterprise_uscc(fund_region: str, n: int) -> str:
    return uscc_with_check(f"91{district_of(fund_region, n)}MA{n:07d}")


def spare_borrower():
    """The admitted enterprise of the first fund that the generator left without loans."""
    from enterprises.models import Enterprise
    from fundmgr.ground.funds.models import Fund

    first = Fund.objects.order_by("id").first()
    return Enterprise.objects.get(uscc=enterprise_uscc(first.region_code, SPARE_SERIAL))


@functools.cache
def _month_days(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def add_months(day: dt.date, months: int) -> dt.date:
    """relativedelta(months=…) without its cost: the same day, or the month's last."""
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return dt.date(year, month, min(day.day, _month_days(year, month)))


# --- writing rows -----------------------------------------------------------------------------------


class RowWriter:
    """Writes generated rows (tuples in the order of the named fields) into a model's table.

    Fields not named get what Django would give them: their default, or `now` for auto_now
    fields; computed once per table, not once per row. PostgreSQL: COPY; others: executemany.
    """

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.postgres = connection.vendor == "postgresql"
        self.rows: Counter = Counter()

    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        """`count` primary keys nobody else will get, for rows written later."""
        if count <= 0:
            return []
        table, pk = model._meta.db_table, model._meta.pk.column
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [table, pk, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: this transaction has written already (the funds), so it holds the database's
            # one write lock until it commits: the ids after the largest stay free.
            cursor.execute(f'SELECT COALESCE(MAX("{pk}"), 0) FROM "{table}"')
            first = cursor.fetchone()[0] + 1
            return list(range(first, first + count))

    def _constant(self, f: models.Field):
        value = (
            self.now
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            else f.get_default()
        )
        if self.postgres and isinstance(f, models.JSONField):
            return json.dumps(value)  # as text, once: a Jsonb wrapper would be encoded again on every row
        return f.get_db_prep_save(value, connection)

    def write(self, model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
        meta = model._meta
        named = [meta.get_field(name) for name in fields]
        rest = [f for f in meta.concrete_fields if f not in named and not f.primary_key]
        constants = tuple(self._constant(f) for f in rest)
        columns = [f.column for f in named + rest]
        count = 0

        def counted() -> Iterator[tuple]:
            nonlocal count
            for row in rows:
                count += 1
                yield row + constants

        with connection.cursor() as cursor:
            if self.postgres:
                from psycopg import sql

                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(meta.db_table), sql.SQL(", ").join(map(sql.Identifier, columns))
                )
                with cursor.copy(statement) as copy:
                    for row in counted():
                        copy.write_row(row)
            else:
                names = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f'INSERT INTO "{meta.db_table}" ({names}) VALUES ({marks})', counted())
        self.rows[meta.db_table] += count
        return count


# --- the generator ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Loan:
    """What later tables need of a generated loan."""

    id: int
    fund_id: int
    institution_id: int
    reference: str
    principal: int
    covered: int
    outstanding: int
    status: str
    disbursed_on: dt.date
    settled_on: dt.date | None
    fund_share: Decimal
    pledges: int


def check_database(*, force: bool) -> None:
    """Refuse what would mix generated data into a database that has its own."""
    from banks.models import Institution
    from fundmgr.ground.funds.models import Fund
    from loans.models import LoanFiling

    taken = sorted(Fund.objects.filter(code__in=[c[0] for c in CITIES]).values_list("code", flat=True))
    if taken or Institution.objects.filter(code=BANK_CODE.format(0)).exists():
        what = (
            f"{len(taken)} generated funds, e.g. {taken[0]}"
            if taken
            else f"institution {BANK_CODE.format(0)}"
        )
        raise SeedRefused(
            f"This database already holds generated province data ({what}). Seed a fresh database instead."
        )
    loans = LoanFiling.objects.count()
    if loans and not force:
        raise SeedRefused(
            f"This database already holds {loans:,} loans: seed_scale fills empty databases only, so that "
            "generated loans never mix with real ones. Use a fresh database, or --force if this one "
            "holds test data only."
        )


def seed_scale(
    *,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
    today: dt.date,
    force: bool = False,
    progress: Callable[[str], None] = lambda _line: None,
) -> SeedSummary:
    """Fill the database with generated province data (see the module doc). One transaction:
    a failure leaves nothing behind. Raises SeedRefused (nothing written) when the database
    is not one to fill: see `check_database`."""
    if not 0 < scale <= MAX_SCALE:
        raise SeedRefused(f"--scale must be above 0 and at most {MAX_SCALE} (got {scale}).")
    started = time.perf_counter()
    writer = RowWriter(now=timezone.now())

    def step(label: str, what: Callable[[], int], unit: str = "rows") -> None:
        t = time.perf_counter()
        n = what()
        progress(f"{label:<24}{n:>10,} {unit:<6}{time.perf_counter() - t:6.1f} s")

    check_database(force=force)
    gen = _Generator(scale=scale, seed=seed, today=today, writer=writer)
    step("demo data (template)", gen.demo, "funds")  # its own transaction, when it loads
    with transaction.atomic():
        check_database(force=force)  # again, now inside the transaction that writes
        step("funds and policies", gen.funds, "funds")
        step("institutions", gen.institutions)
        step("agreements", gen.agreements)
        step("enterprises", gen.enterprises)
        step("IP rights", gen.ip_assets)
        step("loans", gen.loans)
        step("pledges", gen.pledges)
        step("monthly reports", gen.status_reports)
        step("claims", gen.claims)
        step("ledger entries", gen.ledger)
        step("reference counters", gen.reference_counters)
        step("fund book figures", gen.book, "funds")
        t = time.perf_counter()  # leaving the block commits: PostgreSQL checks the foreign keys
        # then (Django declares them DEFERRABLE INITIALLY DEFERRED), a step of its own
    progress(
        f"{'commit (key checks)':<24}{sum(writer.rows.values()):>10,} {'rows':<6}{time.perf_counter() - t:6.1f} s"
    )
    step("planner statistics", gen.analyze, "tables")
    return SeedSummary(rows=writer.rows, seconds=time.perf_counter() - started)


class _Generator:
    def __init__(self, *, scale: float, seed: int, today: dt.date, writer: RowWriter) -> None:
        self.scale, self.today, self.w = scale, today, writer
        # One stream per table, so a change to one table's draws leaves the others as they were.
        self.rng = {name: random.Random(f"{seed}:{name}") for name in ("plan", "ip", "loan", "report")}
        self.n_ent = round(PROVINCE_ENTERPRISES * scale)
        self.refs: Counter = Counter()
        self.made: list[_Loan] = []
        self.paid: list[tuple[int, int, str, Decimal, dt.date]] = []  # fund, claim, reference, amount, on

    # The demo data is the template: the manager, the policy the new funds copy, the users.
    def demo(self) -> int:
        from fundmgr.ground.accounts.models import Organization
        from fundmgr.ground.funds.models import Fund, PolicyVersion
        from fundmgr.top.demo import seed_demo

        if not Organization.objects.filter(code="gdee").exists() and not Fund.objects.exists():
            seed_demo()  # an empty database: load the demo first, as `seed_demo` would
        if not PolicyVersion.objects.filter(fund__code=TEMPLATE_FUND).exists():
            raise SeedRefused(
                f"The generator copies the demo fund '{TEMPLATE_FUND}' and its policy, which this database "
                "lacks. Run `manage.py seed_demo` first (on a fresh database)."
            )
        return Fund.objects.count()

    def funds(self) -> int:
        from fundmgr.ground.accounts.models import Organization, User
        from fundmgr.ground.funds.models import Fund, PolicyVersion

        manager = Organization.objects.get(code="gdee")
        template = PolicyVersion.objects.filter(fund__code=TEMPLATE_FUND).order_by("-effective_from").first()
        for code, city, prefix, region in CITIES:
            fund = Fund.objects.create(
                code=code, name=f"{city}市知识产权质押融资风险补偿资金", reference_prefix=prefix,
                region_code=region, manager=manager, start_date=FUND_START, status=Fund.Status.ACTIVE,
            )  # fmt: skip
            template.pk, template._state.adding = None, True
            template.fund, template.effective_from = fund, FUND_START
            template.save()
        self.fund_list = list(Fund.objects.order_by("id"))
        if len({f.reference_prefix for f in self.fund_list}) != len(self.fund_list):
            raise SeedRefused("Each fund needs its own reference prefix; this database's funds share one.")
        viewer = User.objects.filter(username="gdee-viewer").first()
        if viewer is not None:  # the demo's province viewer sees all 21
            viewer.funds.add(*self.fund_list)
        # The policy in force today (the latest) frames each fund's loans and claims.
        self.policies = {
            p.fund_id: p
            for p in PolicyVersion.objects.filter(effective_from__lte=self.today).order_by("effective_from")
        }
        return len(CITIES)

    def institutions(self) -> int:
        from banks.models import Institution

        n_banks = max(
            len(self.fund_list), round(PROVINCE_INSTITUTIONS * self.scale) - Institution.objects.count()
        )
        banks = Institution.objects.bulk_create(
            Institution(code=BANK_CODE.format(i), name=f"合作银行{i:03d}", status=Institution.Status.ACTIVE)
            for i in range(n_banks)
        )
        self.banks = [b.pk for b in banks]
        self.w.rows[Institution._meta.db_table] += len(banks)
        return len(banks)

    def agreements(self) -> int:
        from banks.models import CooperationAgreement

        funds = self.fund_list
        made = CooperationAgreement.objects.bulk_create(
            CooperationAgreement(
                institution_id=bank, fund=funds[(i + k) % len(funds)], fund_share=Decimal(50),
                bank_share=Decimal(50), signed_on=FUND_START, valid_from=FUND_START,
            )  # a home fund each; every 4th bank lends in the next city too
            for i, bank in enumerate(self.banks) for k in range(1 + (i % 4 == 0))
        )  # fmt: skip
        self.lenders: dict[int, list[tuple[int, Decimal, Decimal]]] = defaultdict(list)
        terms = CooperationAgreement.objects.order_by("id").values_list(
            "fund_id", "institution_id", "fund_share", "bank_share"
        )
        for fund_id, *rest in terms:
            self.lenders[fund_id].append(tuple(rest))
        self.w.rows[CooperationAgreement._meta.db_table] += len(made)
        return len(made)

    def enterprises(self) -> int:
        """Each enterprise with its plan: how many loans, each pledging how many rights."""
        from enterprises.models import Enterprise

        rng, funds = self.rng["plan"], self.fund_list
        self.ent_ids = self.w.reserve_ids(Enterprise, self.n_ent + 1)
        self.plan: list[list[int]] = [
            [1 + int(rng.random() * 4) for _ in range(3 + int(rng.random() * 5))] for _ in range(self.n_ent)
        ]

        def row(index: int, n: int, fund) -> tuple:
            region, admitted = district_of(fund.region_code, n), dt.date(2024, 1, 1) + dt.timedelta(n % 600)
            lenders = self.lenders[fund.pk]
            return (
                self.ent_ids[index], uscc_with_check(f"91{region}MA{n:07d}"),
                f"{fund.name[:2]}科创测试有限公司{n:05d}", fund.pk, region, "C3985", "small", 20 + n % 280,
                dt.date(2010 + n % 10, 1 + n % 12, 1 + n % 28), 8_000_000, 5_000_000 + n % 50 * 100_000,
                admitted - dt.timedelta(20), True, "admitted", admitted, admitted + dt.timedelta(3 * 365),
                lenders[int(rng.random() * len(lenders))][0],
            )  # fmt: skip

        rows = [row(n, n, funds[n % len(funds)]) for n in range(self.n_ent)]
        rows.append(row(self.n_ent, SPARE_SERIAL, funds[0]))  # in the first fund, with no loans yet
        fields = (
            "id", "uscc", "name", "fund", "region_code", "industry_code", "size_class", "employees",
            "registered_on", "total_assets", "annual_revenue", "credit_report_date", "credit_record_clean",
            "status", "admitted_on", "admitted_until", "submitted_by",
        )  # fmt: skip
        return self.w.write(Enterprise, fields, rows)

    def ip_assets(self) -> int:
        from enterprises.models import IPAsset

        rng = self.rng["ip"]
        total = sum(sum(loans) for loans in self.plan)
        self.asset_ids = self.w.reserve_ids(IPAsset, total)

        def rows() -> Iterator[tuple]:
            n = 0
            for e, loans in enumerate(self.plan):
                enterprise = self.ent_ids[e]
                for _ in range(sum(loans)):
                    r = rng.random()
                    for draw in IP_DRAW:
                        if r < draw[0]:
                            break
                    _, kind, digit, years = draw
                    if kind == "trademark":
                        yield (self.asset_ids[n], enterprise, kind, f"6{n:08d}", f"商标{n}", 1 + n % 45, None,
                               dt.date(2030 + n % 5, 12, 31))  # fmt: skip
                    else:
                        filed = dt.date(2016 + n % 6, 1 + n % 12, 1 + n % 28)
                        number = patent_with_check(f"{filed.year}{digit}{n // 6:07d}")
                        yield (self.asset_ids[n], enterprise, kind, number, f"一种测试技术方案{n}", None, filed,
                               filed.replace(year=filed.year + years))  # fmt: skip
                    n += 1

        fields = ("id", "enterprise", "kind", "number", "title", "nice_class", "filed_on", "expires_on")
        return self.w.write(IPAsset, fields, rows())

    def loans(self) -> int:
        """Mostly performing; 3% overdue, 4.5% non-performing, 0.5% with a claim (half of them
        paid); loans that have matured are settled. 20% pledge other collateral too."""
        from loans.models import LoanFiling, ReferenceCounter

        rng, today, funds = self.rng["loan"], self.today, self.fund_list
        n_loans = sum(len(loans) for loans in self.plan)
        ids = self.w.reserve_ids(LoanFiling, n_loans)
        for fund_id, year, last in ReferenceCounter.objects.values_list("fund_id", "year", "last"):
            self.refs[fund_id, year] = last  # numbers carry on after any already given
        rate, week, two_days = Decimal("3.85"), dt.timedelta(7), dt.timedelta(2)
        policy_ids = {fund_id: p.pk for fund_id, p in self.policies.items()}
        prefixes = {f.pk: f.reference_prefix for f in funds}

        def rows() -> Iterator[tuple]:
            i = 0
            fund_ids = [f.pk for f in funds]
            for e, plan in enumerate(self.plan):
                fund_id = fund_ids[e % len(fund_ids)]
                lenders = self.lenders[fund_id]
                for pledges in plan:
                    term, r = TERMS[int(rng.random() * 3)], rng.random()
                    principal = (20 + int(rng.random() * 181)) * 10_000
                    days = 10 + int(rng.random() * (term * 30 + 171))
                    disbursed = max(FIRST_DISBURSAL, today - dt.timedelta(days))
                    matures, accepted = add_months(disbursed, term), min(today, disbursed + week)
                    status = ("settled" if matures <= today else "compensated" if r < .0025
                              else "in_claim" if r < .005 else "non_performing" if r < .05
                              else "overdue" if r < .08 else "performing")  # fmt: skip
                    covered = principal if rng.random() < 0.8 else principal * 6 // 10
                    out = (
                        0
                        if status in ("settled", "compensated")
                        else int(principal * (0.3 + 0.7 * rng.random()))
                    )
                    self.refs[fund_id, accepted.year] += 1  # numbered as the service numbers them
                    reference = f"{prefixes[fund_id]}-{accepted.year}-{self.refs[fund_id, accepted.year]:06d}"
                    institution, fund_share, bank_share = lenders[int(rng.random() * len(lenders))]
                    settled = matures if status == "settled" else None
                    self.made.append(_Loan(ids[i], fund_id, institution, reference, principal, covered, out,
                                            status, disbursed, settled, fund_share, pledges))  # fmt: skip
                    yield (
                        ids[i], fund_id, institution, self.ent_ids[e], reference, f"HT-{reference}", principal,
                        covered, out, covered * out // principal, disbursed, matures, rate,
                        "combined" if covered < principal else "ip_only", "accepted", status,
                        policy_ids[fund_id], fund_share, bank_share, min(today, disbursed + two_days),
                        accepted, accepted, settled,
                    )  # fmt: skip
                    i += 1

        fields = (
            "id", "fund", "institution", "enterprise", "reference", "contract_no", "principal",
            "covered_principal", "outstanding_principal", "covered_outstanding", "disbursed_on", "matures_on",
            "annual_rate", "pledge_type", "status", "loan_status", "policy_version", "fund_share", "bank_share",
            "submitted_on", "accepted_on", "due_diligence_due_on", "settled_on",
        )  # fmt: skip
        return self.w.write(LoanFiling, fields, rows())

    def pledges(self) -> int:
        """Each loan pledges its own rights, registered five days before the money went out."""
        from loans.models import Pledge

        five_days = dt.timedelta(5)

        def rows() -> Iterator[tuple]:
            n = 0
            for loan in self.made:
                registered = loan.disbursed_on - five_days
                prefix = f"Y{loan.disbursed_on.year}44"
                for _ in range(loan.pledges):
                    yield (loan.id, self.asset_ids[n], f"{prefix}{n:07d}", registered, loan.settled_on)
                    n += 1

        return self.w.write(
            Pledge, ("filing", "ip_asset", "registration_no", "registered_on", "released_on"), rows()
        )

    def status_reports(self) -> int:
        """The last 3 month-end reports of troubled loans and of every tenth performing one."""
        from loans.models import StatusReport

        rng, today = self.rng["report"], self.today
        first_of_month = today.replace(day=1)
        month_ends = [add_months(first_of_month, -k) - dt.timedelta(1) for k in (2, 1, 0)]
        grades = (
            (0, "normal", "performing"),
            (1, "special_mention", "overdue"),
            (2, "substandard", "non_performing"),
        )
        late_range = {"non_performing": (95, 206), "overdue": (31, 59), "performing": (0, 1)}

        def rows() -> Iterator[tuple]:
            for i, loan in enumerate(self.made):
                span = late_range.get(loan.status)
                if span is None or (loan.status == "performing" and i % 10):
                    continue
                late = span[0] + int(rng.random() * span[1])
                out = loan.outstanding
                for back, as_of in zip((2, 1, 0), month_ends, strict=True):
                    days = max(0, late - 30 * back)
                    grade, risk, after = grades[2 if days >= 90 else 1 if days else 0]
                    overdue = (0, out // 10, out)[grade]
                    yield (loan.id, as_of, out, overdue, days, days, risk, after,
                           min(today, as_of + dt.timedelta(8)))  # fmt: skip

        fields = (
            "filing", "as_of", "outstanding_principal", "overdue_principal", "overdue_interest", "days_overdue",
            "risk_class", "loan_status_after", "reported_on",
        )  # fmt: skip
        return self.w.write(StatusReport, fields, rows())

    def claims(self) -> int:
        """A claim on each loan in claim (submitted) or compensated (paid 40 days ago)."""
        from loans.models import Claim

        claimed = [loan for loan in self.made if loan.status in ("in_claim", "compensated")]
        ids, today = self.w.reserve_ids(Claim, len(claimed)), self.today
        filed, approved, paid_on = (today - dt.timedelta(d) for d in (60, 50, 40))

        def rows() -> Iterator[tuple]:
            for claim_id, loan in zip(ids, claimed, strict=True):
                loss = Decimal(loan.covered) * Decimal("0.8")
                amount = min(
                    loss * loan.fund_share / 100, self.policies[loan.fund_id].per_loan_comp_cap or loss
                )
                paid = loan.status == "compensated"
                reference = f"{loan.reference}-C1"
                if paid:
                    self.paid.append((loan.fund_id, claim_id, reference, amount, paid_on))
                yield (
                    claim_id, loan.id, loan.fund_id, loan.institution_id, reference,
                    "paid" if paid else "submitted", today - dt.timedelta(100), loss, 0, loss, loan.fund_share,
                    amount, amount, amount if paid else None, approved if paid else None,
                    amount if paid else None, paid_on if paid else None, filed,
                )  # fmt: skip

        fields = (
            "id", "filing", "fund", "institution", "reference", "status", "trigger_date", "outstanding_principal",
            "recovered_before_claim", "loss_base", "fund_share", "computed_amount", "claimable_amount",
            "approved_amount", "approved_on", "paid_amount", "paid_on", "submitted_on",
        )  # fmt: skip
        return self.w.write(Claim, fields, rows())

    def ledger(self) -> int:
        """Contributions give every fund ~30% capacity headroom (so filing checks pass) and come
        before the compensation outflows, as PostgreSQL's trigger refuses a ledger below zero."""
        from fundmgr.ground.funds.models import LedgerEntry

        covered_live: Counter = Counter()
        for loan in self.made:
            if loan.status in LIVE:
                covered_live[loan.fund_id] += loan.covered * loan.outstanding // loan.principal
        paid_by_fund: Counter = Counter()
        for fund_id, _, _, amount, _ in self.paid:
            paid_by_fund[fund_id] += amount
        entries = []
        for fund in self.fund_list:
            need = Decimal(covered_live[fund.pk]) / self.policies[fund.pk].leverage * Decimal("1.3")
            need += paid_by_fund[fund.pk]
            for year, level, tenths in ((2021, "province", 3), (2023, "city", 5), (2025, "district", 2)):
                amount = round(need * tenths / 10, -4) + 10_000
                entries.append(LedgerEntry(fund=fund, entry_type="contribution", government_level=level,
                                           amount=amount, value_date=dt.date(year, 6, 30)))  # fmt: skip
        entries += [
            LedgerEntry(
                fund_id=fund_id,
                entry_type="compensation_paid",
                amount=-amount,
                value_date=on,
                claim_id=claim_id,
                reference=reference,
            )  # fmt: skip
            for fund_id, claim_id, reference, amount, on in self.paid
        ]
        LedgerEntry.objects.bulk_create(entries)
        self.w.rows[LedgerEntry._meta.db_table] += len(entries)
        return len(entries)

    def reference_counters(self) -> int:
        from loans.models import ReferenceCounter

        counters = [ReferenceCounter(fund_id=f, year=y, last=n) for (f, y), n in self.refs.items()]
        ReferenceCounter.objects.bulk_create(
            counters, update_conflicts=True, unique_fields=["fund", "year"], update_fields=["last"]
        )
        return len(counters)

    def book(self) -> int:
        """The funds' kept loan-book figures, rebuilt from the loans just written."""
        from loans.services.book import book_resum

        book_resum()
        return len(self.fund_list)

    def analyze(self) -> int:
        """Planner statistics for the tables just filled (autovacuum would get there, later)."""
        from enterprises.models import Enterprise, IPAsset
        from loans.models import Claim, LoanFiling, Pledge, StatusReport

        tables = [m._meta.db_table for m in (Enterprise, IPAsset, LoanFiling, Pledge, StatusReport, Claim)]
        with connection.cursor() as cursor:
            if self.w.postgres:
                cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))
            else:
                for table in tables:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        return len(tables)
