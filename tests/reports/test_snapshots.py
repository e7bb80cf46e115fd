"""Report figures from grouped SQL and kept snapshots equal the per-loan computation, to the fen.

On random books (hypothesis): today's book summed in SQL equals the loans summed one by one;
a closed period read from its snapshots equals the same period computed from the books; a late
monthly report, a settlement dated back and a voided filing drop the snapshots they change, so
a report never reads a stale figure."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banks.models import CooperationAgreement
from enterprises.models import Enterprise
from fundmgr.ground.accounts.principals import principal_for
from fundmgr.ground.funds.models import Fund
from fundmgr.top.reports import selectors, services
from fundmgr.top.reports.models import FigureSnapshot
from fundmgr.top.reports.selectors import DIMENSIONS, FUND, Period
from loans.models import LoanFiling, LoanStatus, StatusReport
from loans.services.book import book_resum
from loans.services.servicing import filing_settle, status_report_submit
from tests.factories import make_filing

TODAY = dt.date(2026, 11, 30)
MONTH_ENDS = [dt.date(2026, m, 1) - dt.timedelta(days=1) for m in range(2, 12)]  # 2026-01-31 … 2026-10-31
STATUS_OF_CLASS = {
    "normal": LoanStatus.PERFORMING,
    "special_mention": LoanStatus.OVERDUE,
    "substandard": LoanStatus.NON_PERFORMING,
}


class Rollback(Exception):
    pass


loan = st.fixed_dictionaries(
    {
        "fund": st.sampled_from(["zhaoqing", "foshan"]),
        "pick": st.integers(min_value=0, max_value=50),
        "principal_fen": st.integers(min_value=100_000_00, max_value=9_999_999_99),
        "covered_pct": st.sampled_from([100, 100, 80, 55]),
        "accepted": st.sampled_from(
            [dt.date(2025, 12, 15), *[d - dt.timedelta(days=9) for d in MONTH_ENDS], dt.date(2026, 11, 20)]
        ),
        "reports": st.lists(
            st.tuples(
                st.sampled_from(MONTH_ENDS), st.integers(0, 100), st.sampled_from(list(STATUS_OF_CLASS))
            ),
            max_size=3,
        ),
        "settled": st.one_of(st.none(), st.sampled_from(MONTH_ENDS)),
    }
)


def build(loans: list[dict], bank_user) -> None:
    """Loans as an import would write them: accepted on a past day, monthly reports, settlements;
    the live fields follow the latest report, as the services leave them."""
    for spec in loans:
        fund = Fund.objects.get(code=spec["fund"])
        agreements = list(CooperationAgreement.objects.filter(fund=fund).select_related("institution"))
        enterprises = list(Enterprise.objects.filter(fund=fund, status="admitted").order_by("pk"))
        principal = Decimal(spec["principal_fen"]) / 100
        covered = (principal * spec["covered_pct"] / 100).quantize(Decimal("0.01"))
        filing = make_filing(
            fund=fund,
            institution=next(
                (a.institution for a in agreements if a.institution.code == spec.get("institution")),
                agreements[spec["pick"] % len(agreements)].institution,
            ),
            enterprise=enterprises[spec["pick"] % len(enterprises)],
            principal=principal,
            covered=covered,
        )
        accepted = spec["accepted"]
        reports = sorted({r[0]: r for r in spec["reports"] if r[0] > accepted}.values())
        status, outstanding = LoanStatus.PERFORMING, principal
        for as_of, pct, risk in reports:
            outstanding = (principal * pct / 100).quantize(Decimal("0.01"))
            status = STATUS_OF_CLASS[risk]
            StatusReport.objects.create(
                filing=filing,
                as_of=as_of,
                outstanding_principal=outstanding,
                overdue_principal=Decimal("0.00"),
                overdue_interest=Decimal("0.00"),
                days_overdue=0,
                risk_class=risk,
                loan_status_after=status,
                reported_on=as_of + dt.timedelta(days=3),
                reported_by=bank_user,
            )
        settled = spec["settled"] if spec["settled"] and spec["settled"] > accepted else None
        LoanFiling.objects.filter(pk=filing.pk).update(
            accepted_on=accepted,
            submitted_on=accepted - dt.timedelta(days=5),
            disbursed_on=accepted - dt.timedelta(days=6),
            loan_status=LoanStatus.SETTLED if settled else status,
            settled_on=settled,
            outstanding_principal=Decimal("0.00") if settled else outstanding,
            covered_outstanding=Decimal("0.00")
            if settled
            else (outstanding * covered / principal).quantize(Decimal("0.01")),
        )
    book_resum()  # the rows were written behind the services' back


def both(funds, period: Period, *, book=None) -> dict:
    return selectors.report_figures(funds=funds, period=period, today=TODAY, book=book)


def assert_same(a: dict, b: dict) -> None:
    """Every group's figures equal (the ledger's, applied to fund rows on reading, aside)."""

    def books(f):
        return dataclasses.replace(f, balance=None, capital=None, leverage_limit=None)

    for dimension in DIMENSIONS:
        assert a[dimension].keys() == b[dimension].keys(), dimension
        for key in a[dimension]:
            assert books(a[dimension][key]) == books(b[dimension][key]), (dimension, key)


def run_example(personas, loans, body) -> None:
    try:
        with transaction.atomic():
            build(loans, personas.user("bank_a"))
            body()
            raise Rollback
    except Rollback:
        pass


EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@EXAMPLES
@given(loans=st.lists(loan, min_size=1, max_size=12))
def test_todays_book_in_sql_equals_the_loans_summed_one_by_one(personas, loans):
    funds = list(Fund.objects.filter(code__in=["zhaoqing", "foshan"]))

    def body():
        period = Period.clipped(dt.date(2026, 10, 1), dt.date(2026, 12, 31), TODAY)
        sql = both(funds, period)
        one_by_one = both(
            funds, period, book=selectors.loan_book(fund_ids=[f.pk for f in funds], on=TODAY, today=TODAY)
        )
        assert_same(sql, one_by_one)

    run_example(personas, loans, body)


@EXAMPLES
@given(loans=st.lists(loan, min_size=1, max_size=12), end=st.sampled_from(MONTH_ENDS[2::3]))
def test_a_closed_quarter_from_snapshots_equals_the_books(personas, loans, end):
    funds = list(Fund.objects.filter(code__in=["zhaoqing", "foshan"]))

    def body():
        start = dt.date(end.year, end.month - 2, 1)
        period = Period.clipped(start, end, TODAY)
        computed = both(funds, period)  # no snapshot yet: from the books
        services.snapshots_write(funds=funds, end=end, today=TODAY)
        assert FigureSnapshot.objects.filter(period_start=start, period_end=end, dimension=FUND).count() == 2
        assert_same(both(funds, period), computed)
        # The year to date is not a standard period: computed, and still the same figures
        # whichever path the quarter took.
        month = Period.clipped(dt.date(end.year, end.month, 1), end, TODAY)
        assert_same(
            both(funds, month),
            selectors.computed_figures(fund_ids=[f.pk for f in funds], period=month, today=TODAY),
        )

    run_example(personas, loans, body)


@EXAMPLES
@given(loans=st.lists(loan, min_size=1, max_size=12))
def test_a_running_quarter_from_last_months_snapshot_equals_the_books(personas, loans):
    """Cumulative figures kept at 31 October plus what came after equal those counted from inception."""
    funds = list(Fund.objects.filter(code__in=["zhaoqing", "foshan"]))

    def body():
        period = Period.clipped(dt.date(2026, 10, 1), dt.date(2026, 12, 31), TODAY)
        from_books = selectors.computed_figures(fund_ids=[f.pk for f in funds], period=period, today=TODAY)
        services.snapshots_write(funds=funds, end=dt.date(2026, 10, 31), today=TODAY)
        assert_same(both(funds, period), from_books)

    run_example(personas, loans, body)


@pytest.fixture
def kept_q3(personas, business_date):
    """Bank A's loan, accepted through the books in July, with the third quarter kept."""
    funds = list(Fund.objects.filter(code__in=["zhaoqing", "foshan"]))
    build(
        [
            {
                "fund": "zhaoqing",
                "institution": "zqrcb",
                "pick": 0,
                "principal_fen": 200_000_000,
                "covered_pct": 100,
                "accepted": dt.date(2026, 7, 10),
                "reports": [],
                "settled": None,
            }
        ],
        personas.user("bank_a"),
    )
    services.snapshots_write(funds=funds, end=dt.date(2026, 9, 30), today=TODAY)
    return funds, LoanFiling.objects.order_by("-pk").first()


Q3 = Period.clipped(dt.date(2026, 7, 1), dt.date(2026, 9, 30), TODAY)


def q3_outstanding(funds) -> Decimal:
    return both(funds, Q3)[FUND][
        (funds[0].pk if funds[0].code == "zhaoqing" else funds[1].pk,)
    ].covered_outstanding


def test_a_late_monthly_report_replaces_the_closed_months_figures(personas, kept_q3):
    funds, filing = kept_q3
    zq = next(f for f in funds if f.code == "zhaoqing")
    before = both(funds, Q3)[FUND][(zq.pk,)].covered_outstanding
    # The bank reports September late (and July/August were never reported).
    LoanFiling.objects.filter(pk=filing.pk).update(disbursed_on=dt.date(2026, 7, 1))
    status_report_submit(
        principal=principal_for(personas.user("bank_a")),
        filing_id=filing.pk,
        data={
            "as_of": dt.date(2026, 9, 30),
            "outstanding_principal": Decimal("1500000.00"),
            "overdue_principal": Decimal("0.00"),
            "overdue_interest": Decimal("0.00"),
            "days_overdue": 0,
            "risk_class": "normal",
        },
    )
    assert not FigureSnapshot.objects.filter(fund=zq, period_end=dt.date(2026, 9, 30)).exists()
    assert both(funds, Q3)[FUND][(zq.pk,)].covered_outstanding == before - Decimal("500000.00")
    services.snapshots_refresh(today=TODAY, months=3)  # the nightly job keeps it again
    assert (
        FigureSnapshot.objects.filter(fund=zq, period_end=dt.date(2026, 9, 30), dimension=FUND).count() == 2
    )
    assert both(funds, Q3)[FUND][(zq.pk,)].covered_outstanding == before - Decimal("500000.00")


def test_a_settlement_dated_back_replaces_the_closed_months_figures(personas, kept_q3):
    funds, filing = kept_q3
    zq = next(f for f in funds if f.code == "zhaoqing")
    assert both(funds, Q3)[FUND][(zq.pk,)].covered_loans >= 1
    loans_before = both(funds, Q3)[FUND][(zq.pk,)].covered_loans
    filing_settle(
        principal=principal_for(personas.user("bank_a")), filing_id=filing.pk, settled_on=dt.date(2026, 9, 20)
    )
    assert both(funds, Q3)[FUND][(zq.pk,)].covered_loans == loans_before - 1
    assert not FigureSnapshot.objects.filter(fund=zq, period_end=dt.date(2026, 9, 30)).exists()
    assert_same(
        both(funds, Q3), selectors.computed_figures(fund_ids=[f.pk for f in funds], period=Q3, today=TODAY)
    )


def test_a_district_correction_drops_the_funds_kept_figures(personas, kept_q3):
    from enterprises.services import enterprise_district_corrected

    funds, filing = kept_q3
    enterprise_district_corrected(enterprise=filing.enterprise)
    assert not FigureSnapshot.objects.filter(fund=filing.fund).exists()
    assert FigureSnapshot.objects.exclude(fund=filing.fund).exists()  # the other fund keeps its own


def test_a_voided_filing_leaves_every_closed_period_since_its_acceptance(personas, kept_q3):
    from loans.services.filings import filing_transition

    funds, filing = kept_q3
    zq = next(f for f in funds if f.code == "zhaoqing")
    accepted_before = both(funds, Q3)[FUND][(zq.pk,)].accepted
    filing_transition(filing_id=filing.pk, name="void", user=personas.user("approver"), comment="虚假备案")
    assert both(funds, Q3)[FUND][(zq.pk,)].accepted == accepted_before - 1
    assert_same(
        both(funds, Q3), selectors.computed_figures(fund_ids=[f.pk for f in funds], period=Q3, today=TODAY)
    )


def test_kept_figures_leave_zeros_out_and_read_back_as_they_were():
    """A snapshot keeps only the figures that are not zero; reading it back gives every field
    as computed, zeros in their usual form; a snapshot written with every figure reads the same."""
    f = selectors.Figures(
        accepted=2,
        accepted_amount=Decimal("1500.00"),
        covered_outstanding=Decimal("1200.50"),
        exposure_exact=Decimal("600.2500"),
        cum_accepted=5,
    )
    f.ip["invention_patent"], f.cum_ip["trademark"] = 2, 3
    kept = f.to_json()
    assert kept == {
        "accepted": 2,
        "accepted_amount": "1500.00",
        "covered_outstanding": "1200.50",
        "exposure_exact": "600.2500",
        "cum_accepted": 5,
        "ip": {"invention_patent": 2},
        "cum_ip": {"trademark": 3},
    }
    back = selectors.Figures.from_json(json.loads(json.dumps(kept)))
    assert back == f
    every = {name: str(getattr(f, name)) for name in selectors._DECIMALS}
    every.update({name: getattr(f, name) for name in selectors._COUNTS}, ip=dict(f.ip), cum_ip=dict(f.cum_ip))
    assert selectors.Figures.from_json(every) == f
    for read in (back, selectors.Figures.from_json(every)):
        assert {name: str(getattr(read, name)) for name in selectors._DECIMALS} == {
            name: str(getattr(f, name)) for name in selectors._DECIMALS
        }  # "0.00", not "0": the form a report shows
    empty, other = selectors.Figures.from_json({}), selectors.Figures.from_json({})
    assert empty == selectors.Figures()
    empty.ip["trademark"] += 1  # each read has IP counts of its own
    assert other.ip["trademark"] == 0 and selectors.Figures.from_json({}).cum_ip["trademark"] == 0


def _q3_rows(funds) -> dict:
    return selectors.snapshot_figures(fund_ids=[f.pk for f in funds], period=Q3)


def test_a_snapshot_row_read_again_is_not_fetched_again_and_each_read_is_its_own(
    personas, kept_q3, django_assert_num_queries
):
    funds, _filing = kept_q3
    selectors.snapshots_forget()
    with django_assert_num_queries(2):  # the rows listed, then their figures
        first = _q3_rows(funds)
    with django_assert_num_queries(1):  # listed only: this process has them
        again = _q3_rows(funds)
    assert again == first and first
    zq = next(f for f in funds if f.code == "zhaoqing")
    mine = again[zq.pk][FUND][(zq.pk,)]
    outstanding, trademarks = mine.covered_outstanding, mine.ip["trademark"]
    mine.covered_outstanding += Decimal("1.00")  # a reader changes its own figures…
    mine.ip["trademark"] += 1
    theirs = _q3_rows(funds)[zq.pk][FUND][(zq.pk,)]  # …and nobody else's
    assert (theirs.covered_outstanding, theirs.ip["trademark"]) == (outstanding, trademarks)
    assert first[zq.pk][FUND][(zq.pk,)].covered_outstanding == outstanding


def test_a_full_store_of_parsed_rows_is_emptied_and_the_read_still_whole(personas, kept_q3, monkeypatch):
    funds, _filing = kept_q3
    selectors.snapshots_forget()
    expected = _q3_rows(funds)
    assert sum(len(groups) for per_fund in expected.values() for groups in per_fund.values()) > 2
    monkeypatch.setattr(selectors, "_PARSED_LIMIT", 2)  # fewer than the quarter's rows
    assert _q3_rows(funds) == expected  # the rows read before are dropped with the rest…
    assert _q3_rows(funds) == expected  # …and read again


def test_rows_written_anew_elsewhere_are_read_anew(personas, kept_q3):
    """Another process corrects a period (delete, then write with new ids): this process, which
    read the old rows, reads the new ones, although nothing here told it."""
    funds, _filing = kept_q3
    zq = next(f for f in funds if f.code == "zhaoqing")
    before = _q3_rows(funds)[zq.pk][FUND][(zq.pk,)]
    kept = list(FigureSnapshot.objects.filter(fund=zq, period_start=Q3.start, period_end=Q3.end))
    changed = before.copy()
    changed.covered_outstanding += Decimal("123.45")
    FigureSnapshot.objects.filter(pk__in=[k.pk for k in kept]).delete()  # not through the services
    FigureSnapshot.objects.bulk_create(
        [
            FigureSnapshot(
                fund=zq,
                period_start=k.period_start,
                period_end=k.period_end,
                dimension=k.dimension,
                group=k.group,
                figures=json.dumps(changed.to_json()) if k.dimension == FUND else k.figures,
            )
            for k in kept
        ]
    )
    assert _q3_rows(funds)[zq.pk][FUND][(zq.pk,)].covered_outstanding == before.covered_outstanding + Decimal(
        "123.45"
    )


def test_rows_replaced_between_listing_and_reading_are_listed_again(personas, kept_q3, monkeypatch):
    funds, _filing = kept_q3
    selectors.snapshots_forget()
    expected = _q3_rows(funds)
    selectors.snapshots_forget()
    parse, calls = selectors._parse_snapshots, []

    def rewritten_meanwhile(ids):
        calls.append(ids)
        if len(calls) == 1:  # the nightly job rewrites the quarter just after the rows were listed
            services.snapshots_write(funds=funds, end=dt.date(2026, 9, 30), today=TODAY)
        return parse(ids)

    monkeypatch.setattr(selectors, "_parse_snapshots", rewritten_meanwhile)
    assert _q3_rows(funds) == expected
    assert len(calls) == 2 and not set(calls[0]) & set(calls[1])  # the new rows, by their new ids


@pytest.mark.postgres
def test_the_database_refuses_to_change_a_kept_row(personas, kept_q3):
    from django.db import IntegrityError

    assert FigureSnapshot.objects.filter(period_end=Q3.end).exists()
    with pytest.raises(IntegrityError, match="written once"), transaction.atomic():
        FigureSnapshot.objects.filter(period_end=Q3.end).update(figures="{}")
