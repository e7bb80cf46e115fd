"""The ledger part of a report (opening balance, movements by type, closing balance, capital)
read in one statement equals the entries summed one by one, for periods whose bounds fall on,
before and after the entries' value dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fundmgr.ground.funds.models import EntryType, Fund, LedgerEntry
from fundmgr.top.reports.selectors import Period, ledger_summaries
from tests.reports import build_dataset

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def test_ledger_summaries_equal_the_entries_summed_one_by_one(personas, business_date):
    build_dataset(personas, business_date)  # contributions, a compensation paid, a recovery returned
    entries = list(LedgerEntry.objects.all())
    days = sorted({e.value_date for e in entries})
    assert len(days) >= 2 and len({e.entry_type for e in entries}) >= 3  # the demo has a real ledger
    fund_ids = list(Fund.objects.values_list("id", flat=True))
    starts = [days[0] - DAY, days[0], days[len(days) // 2], days[-1], days[-1] + DAY]
    for start in starts:
        for as_of in (start, start + 30 * DAY, days[-1] + 400 * DAY):
            read = ledger_summaries(fund_ids=fund_ids, period=Period(start=start, end=as_of, as_of=as_of))
            assert set(read) == set(fund_ids)
            for fid in fund_ids:
                mine = [e for e in entries if e.fund_id == fid and e.value_date <= as_of]
                got = read[fid]
                assert got.closing_balance == sum((e.amount for e in mine), Decimal("0.00"))
                assert got.opening_balance == sum(
                    (e.amount for e in mine if e.value_date < start), Decimal("0")
                )
                assert got.capital == sum(
                    (e.amount for e in mine if e.entry_type in (EntryType.CONTRIBUTION, EntryType.REFUND)),
                    Decimal("0"),
                )
                for kind in EntryType.values:
                    assert got.movements[kind] == sum(
                        (e.amount for e in mine if e.entry_type == kind and e.value_date >= start),
                        Decimal("0"),
                    ), (start, as_of, kind)
                assert all(isinstance(v, Decimal) for v in got.movements.values())
    assert ledger_summaries(fund_ids=[], period=Period(start=days[0], end=days[0], as_of=days[0])) == {}


def test_a_reports_fund_books_are_the_ledger_summed_to_the_periods_end(personas, business_date):
    """The balance and capital a report shows at a period's end (funds.selectors.fund_figures
    with `ledger_until`) equal the ledger summary's closing balance and capital on that day;
    without `ledger_until` every entry counts, later ones too."""
    from fundmgr.ground.funds.selectors import fund_figures

    build_dataset(personas, business_date)
    funds = list(Fund.objects.all())
    ids = [f.id for f in funds]
    days = sorted(set(LedgerEntry.objects.values_list("value_date", flat=True)))
    for on in (days[0] - DAY, days[0], days[len(days) // 2], days[-1] - DAY, days[-1]):
        books = fund_figures(funds=funds, on=on, ledger_until=on)
        ledger = ledger_summaries(fund_ids=ids, period=Period(start=on, end=on, as_of=on))
        assert {fid: (b.balance, b.capital) for fid, b in books.items()} == {
            fid: (s.closing_balance, s.capital) for fid, s in ledger.items()
        }, on
    whole = fund_figures(funds=funds, on=days[0])
    assert {fid: b.balance for fid, b in whole.items()} == {
        f.id: sum((e.amount for e in LedgerEntry.objects.filter(fund=f)), Decimal("0.00")) for f in funds
    }
    assert whole != fund_figures(funds=funds, on=days[0], ledger_until=days[0])  # later entries count
