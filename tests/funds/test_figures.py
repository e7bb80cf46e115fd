"""Exposure and leverage are live figures over accepted, live loans."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fundmgr.ground.funds import selectors
from fundmgr.ground.funds.models import Fund
from loans.models import LoanStatus
from tests.factories import make_filing

D = Decimal


@pytest.fixture
def fund(demo) -> Fund:
    return Fund.objects.get(code="zhaoqing")  # capital 5,000,000; agreements at 50 %


def test_exposure_and_leverage_count_only_live_accepted_loans(fund):
    make_filing(fund=fund, principal=D("3000000.00"))
    make_filing(fund=fund, principal=D("2000000.00"), covered=D("1000000.00"), outstanding=D("1000000.00"))
    make_filing(fund=fund, principal=D("9000000.00"), accepted=False)  # submitted: not yet covered
    make_filing(fund=fund, principal=D("4000000.00"), loan_status=LoanStatus.SETTLED)
    f = selectors.fund_figures_one(fund=fund, on=dt.date(2026, 11, 21))
    # covered outstanding = 3,000,000 + 1,000,000 × 1,000,000 / 2,000,000
    assert f.covered_outstanding == D("3500000.00")
    assert f.exposure == D("1750000.00")  # × 50 %
    assert f.leverage == D("0.70")  # 3.5m / 5m
    assert f.headroom == D("46500000.00")


def test_figures_for_many_funds_use_a_fixed_number_of_queries(demo, django_assert_max_num_queries):
    funds = list(Fund.objects.all())
    with django_assert_max_num_queries(3):
        figures = selectors.fund_figures(funds=funds, on=dt.date(2026, 11, 21))
    assert figures[Fund.objects.get(code="foshan").id].capital == D("60000000.00")


def test_the_funds_a_report_covers_are_those_the_principal_sees(personas, django_assert_max_num_queries):
    """`funds_visible_list` (one plain statement) reads every field of the funds
    `funds_visible_to` gives, in code order: staff, two regulators, a bank, a regulator of no city."""
    from fundmgr.ground.accounts.models import User
    from fundmgr.ground.accounts.principals import principal_for

    nobody = principal_for(
        User.objects.create_user(username="no-city-2", password="x-very-long-password-1", role="regulator")
    )
    seen = set()
    for principal in (
        *(principal_for(personas.user(who)) for who in ("officer", "regulator_x", "regulator_y", "bank_a")),
        nobody,
    ):
        with django_assert_max_num_queries(1):
            read = selectors.funds_visible_list(principal=principal)
        expected = list(selectors.funds_visible_to(principal).order_by("code"))
        assert [[getattr(f, c.attname) for c in Fund._meta.concrete_fields] for f in read] == [
            [getattr(f, c.attname) for c in Fund._meta.concrete_fields] for f in expected
        ]
        seen.add(len(read))
    assert len(seen) >= 3  # every fund, some, none: the cases differ


def test_the_fund_list_read_gives_each_visible_fund_its_figures_and_policy(
    personas, django_assert_max_num_queries
):
    """`funds_with_figures` (the list's one statement) agrees with `fund_figures` and the policy
    in force, for staff (every fund), a regulator (its city's) and a regulator of no city (none)."""
    from fundmgr.ground.accounts.models import User
    from fundmgr.ground.accounts.principals import principal_for

    on = dt.date(2026, 11, 21)
    make_filing(fund=Fund.objects.get(code="zhaoqing"), principal=D("3000000.00"))
    nobody = principal_for(  # a regulator of no city yet
        User.objects.create_user(username="no-city", password="x-very-long-password-1", role="regulator")
    )
    for principal, codes in (
        (principal_for(personas.user("officer")), sorted(Fund.objects.values_list("code", flat=True))),
        (principal_for(personas.user("regulator_x")), ["zhaoqing"]),
        (nobody, []),
    ):
        with django_assert_max_num_queries(1):  # one statement, whatever the number of funds
            listed = selectors.funds_with_figures(principal=principal, on=on)
        assert [f.code for f in listed] == codes
        funds = list(Fund.objects.filter(code__in=codes).select_related("manager"))
        expected = selectors.fund_figures(funds=funds, on=on)
        policies = selectors.policies_in_force(funds=funds, on=on)
        for f, fund in zip(listed, sorted(funds, key=lambda x: x.code), strict=True):
            assert (f.name, f.status, f.start_date, f.manager_name) == (
                fund.name,
                fund.status,
                fund.start_date,
                fund.manager.name,
            )
            assert f.figures == expected[fund.pk]
            assert f.figures.policy == policies.get(fund.pk)
    zhaoqing = selectors.funds_with_figures(
        principal=principal_for(personas.user("officer")), on=on, code="zhaoqing"
    )
    assert zhaoqing[0].figures.covered_outstanding >= D("3000000.00")
    assert zhaoqing[0].figures.policy.leverage > 0
