"""The fund ledger as an accounting case: balance is the sum of entries, nothing is edited,
and a fund can never go below zero."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, connection, transaction

from fundmgr.ground.funds import selectors, services
from fundmgr.ground.funds.models import AppendOnlyError, EntryType, Fund, LedgerEntry
from fundmgr.ground.lib.errors import AppError, Conflict

D = Decimal


@pytest.fixture
def fund(demo) -> Fund:
    return Fund.objects.get(code="zhaoqing")  # contributions 2,500,000 + 2,500,000


def test_demo_balance_is_the_sum_of_contributions(fund):
    assert selectors.fund_balance(fund=fund) == D("5000000.00")
    figures = selectors.fund_figures_one(fund=fund, on=dt.date(2026, 11, 21))
    assert figures.capital == D("5000000.00")
    assert figures.available_balance == D("5000000.00")
    assert figures.capacity == D("50000000.00")  # 10× leverage
    assert figures.covered_outstanding == D("0.00")
    assert figures.leverage == D("0.00")


def test_worked_example_balance_after_each_kind_of_entry(fund):
    services.ledger_entry_record(
        fund=fund, entry_type=EntryType.INTEREST, amount=D("1234.56"), value_date=dt.date(2026, 1, 1)
    )
    services.ledger_entry_record(
        fund=fund, entry_type=EntryType.FEE, amount=D("20000.00"), value_date=dt.date(2026, 1, 2)
    )
    services.ledger_entry_record(
        fund=fund, entry_type=EntryType.ADJUSTMENT, amount=D("-0.56"), value_date=dt.date(2026, 1, 3)
    )
    services.ledger_entry_record(
        fund=fund,
        entry_type=EntryType.CONTRIBUTION,
        amount=D("100000.005"),
        value_date=dt.date(2026, 1, 4),
        government_level="city",
    )
    # 5,000,000 + 1,234.56 − 20,000 − 0.56 + 100,000.01 (half-up from .005)
    assert selectors.fund_balance(fund=fund) == D("5081234.01")
    assert selectors.fund_balance(fund=fund, as_of=dt.date(2026, 1, 2)) == D("4981234.56")
    signs = dict(
        LedgerEntry.objects.filter(fund=fund, value_date__year=2026).values_list("entry_type", "amount")
    )
    assert signs["fee"] == D("-20000.00") and signs["interest"] == D("1234.56")


def test_statement_opening_entries_closing(fund):
    services.ledger_entry_record(
        fund=fund, entry_type=EntryType.FEE, amount=D("300.00"), value_date=dt.date(2026, 3, 5)
    )
    services.ledger_entry_record(
        fund=fund, entry_type=EntryType.INTEREST, amount=D("50.00"), value_date=dt.date(2026, 4, 1)
    )
    st = selectors.ledger_statement(fund=fund, date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31))
    assert st.opening_balance == D("5000000.00")
    assert [e.amount for e in st.entries] == [D("-300.00")]
    assert st.closing_balance == D("4999700.00")


def test_outflow_beyond_balance_is_refused_and_nothing_is_written(fund):
    before = LedgerEntry.objects.count()
    with pytest.raises(Conflict) as err:
        services.ledger_entry_record(fund=fund, entry_type=EntryType.FEE, amount=D("5000000.01"))
    assert err.value.code == "fund_balance_insufficient"
    assert err.value.status == 409
    assert LedgerEntry.objects.count() == before
    # exactly the balance is allowed: the fund may reach zero, never below
    services.ledger_entry_record(fund=fund, entry_type=EntryType.REFUND, amount=D("5000000.00"))
    assert selectors.fund_balance(fund=fund) == D("0.00")


@pytest.mark.parametrize(
    ("entry_type", "amount", "code"),
    [
        (EntryType.COMPENSATION_PAID, D("1.00"), "entry_type_not_manual"),
        (EntryType.RECOVERY_RETURNED, D("1.00"), "entry_type_not_manual"),
        (EntryType.FEE, D("0"), "invalid_amount"),
        (EntryType.FEE, D("-5.00"), "invalid_amount"),
        (EntryType.ADJUSTMENT, D("0.00"), "invalid_amount"),
        (EntryType.CONTRIBUTION, D("10.00"), "government_level_required"),
    ],
)
def test_manual_entries_refused_with_codes(fund, entry_type, amount, code):
    with pytest.raises(AppError) as err:
        services.ledger_entry_record(fund=fund, entry_type=entry_type, amount=amount)
    assert err.value.code == code


def test_orm_refuses_update_and_delete(fund):
    entry = LedgerEntry.objects.filter(fund=fund).first()
    entry.description = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=D("1.00"))
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.description != "changed"


def test_check_constraint_refuses_wrong_sign(fund):
    # Bypass the service: the database itself refuses a positive fee.
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            fund=fund, entry_type=EntryType.FEE, amount=D("10.00"), value_date=dt.date(2026, 1, 1)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            fund=fund, entry_type=EntryType.CONTRIBUTION, amount=D("10.00"), value_date=dt.date(2026, 1, 1)
        )


@pytest.mark.django_db(transaction=True)
def test_ledger_post_needs_a_transaction():
    from fundmgr.top.demo import seed_demo

    seed_demo(password="x-123456789")
    fund = Fund.objects.get(code="zhaoqing")
    with pytest.raises(RuntimeError):
        services.ledger_post(
            fund=fund, entry_type=EntryType.INTEREST, amount=D("1.00"), value_date=dt.date(2026, 1, 1)
        )


@pytest.mark.postgres
def test_postgres_refuses_update_and_delete_even_in_raw_sql(fund):
    entry_id = LedgerEntry.objects.filter(fund=fund).values_list("id", flat=True).first()
    for sql in (
        "UPDATE funds_ledgerentry SET amount = 1 WHERE id = %s",
        "DELETE FROM funds_ledgerentry WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql, [entry_id])
    assert LedgerEntry.objects.filter(id=entry_id).exists()


@pytest.mark.postgres
def test_postgres_trigger_refuses_overdraft_without_the_service(fund):
    with (
        pytest.raises((IntegrityError, InternalError), match="fund_balance_insufficient"),
        transaction.atomic(),
    ):
        LedgerEntry.objects.create(
            fund=fund, entry_type=EntryType.FEE, amount=D("-5000000.01"), value_date=dt.date(2026, 1, 1)
        )
    assert selectors.fund_balance(fund=fund) == D("5000000.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_payouts_never_overdraw():
    """Eight threads each try to pay 1,000,000 from a 5,000,000 fund at once: exactly five
    succeed, three are refused, and the balance ends at zero, equal to the sum of entries."""
    from fundmgr.top.demo import seed_demo

    seed_demo(password="x-123456789")
    fund = Fund.objects.get(code="zhaoqing")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def pay(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            services.ledger_entry_record(
                fund=fund, entry_type=EntryType.FEE, amount=D("1000000.00"), reference=f"concurrent-{i}"
            )
            result = "paid"
        except Conflict as exc:
            result = exc.code
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=pay, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["fund_balance_insufficient"] * 3 + ["paid"] * 5
    assert selectors.fund_balance(fund=fund) == D("0.00")
    paid = LedgerEntry.objects.filter(fund=fund, entry_type=EntryType.FEE)
    assert paid.count() == 5
