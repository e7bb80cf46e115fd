"""Effective-dated policy: the version in force on a date, and history never rewritten."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fundmgr.ground.funds import selectors, services
from fundmgr.ground.funds.models import Fund, PolicyVersion
from fundmgr.ground.lib.errors import Conflict, RuleViolations


@pytest.fixture
def fund(demo) -> Fund:
    return Fund.objects.get(code="foshan")  # demo version effective 2019-09-29, 70 %


def test_version_in_force_on_a_date(fund, business_date):
    business_date("2026-11-21")
    services.policy_version_create(
        fund=fund,
        effective_from=dt.date(2027, 1, 1),
        max_fund_share=Decimal("60.00"),
        accepted_ip_kinds=["trademark"],
    )
    assert fund.policy_in_force(dt.date(2019, 9, 28)) is None
    assert fund.policy_in_force(dt.date(2019, 9, 29)).max_fund_share == Decimal("70.00")
    assert fund.policy_in_force(dt.date(2026, 12, 31)).max_fund_share == Decimal("70.00")
    assert fund.policy_in_force(dt.date(2027, 1, 1)).max_fund_share == Decimal("60.00")
    in_force = selectors.policies_in_force(funds=Fund.objects.all(), on=dt.date(2027, 6, 1))
    assert in_force[fund.id].effective_from == dt.date(2027, 1, 1)
    assert len(in_force) == 4


@pytest.mark.parametrize(
    "on", [dt.date(2019, 9, 28), dt.date(2019, 9, 29), dt.date(2026, 12, 31), dt.date(2027, 1, 1)]
)
def test_policies_in_force_reads_what_the_orm_reads(fund, on):
    """One statement for every fund: each field of the version in force, as the ORM loads it;
    a fund with no version yet on that day is absent."""
    services.policy_version_create(
        fund=fund,
        effective_from=dt.date(2027, 1, 1),
        max_fund_share=Decimal("60.00"),
        accepted_ip_kinds=["trademark"],
    )
    funds = list(Fund.objects.all())
    read = selectors.policies_in_force(funds=funds, on=on)

    def fields(version: PolicyVersion) -> list:
        return [getattr(version, f.attname) for f in PolicyVersion._meta.concrete_fields]

    for f in funds:
        expected = (
            PolicyVersion.objects.filter(fund=f, effective_from__lte=on).order_by("-effective_from").first()
        )
        if expected is None:
            assert f.id not in read
        else:
            assert fields(read[f.id]) == fields(expected)
    assert (fund.id in read) is (on >= dt.date(2019, 9, 29))
    assert selectors.policies_in_force(funds=[], on=on) == {}


def test_version_in_force_is_locked_and_future_one_is_not(fund, business_date):
    business_date("2026-11-21")
    current = fund.policy_in_force(dt.date(2026, 11, 21))
    future = services.policy_version_create(fund=fund, effective_from=dt.date(2027, 1, 1))
    assert services.policy_version_is_locked(current)
    assert not services.policy_version_is_locked(future)
    business_date("2027-01-01")
    assert services.policy_version_is_locked(future)


def test_same_day_twice_is_a_conflict(fund):
    with pytest.raises(Conflict) as err:
        services.policy_version_create(fund=fund, effective_from=dt.date(2019, 9, 29))
    assert err.value.code == "policy_version_exists"


def test_unknown_ip_kind_and_bad_share_are_refused(fund):
    with pytest.raises(RuleViolations) as err:
        services.policy_version_create(
            fund=fund,
            effective_from=dt.date(2030, 1, 1),
            accepted_ip_kinds=["trade_secret"],
            max_fund_share=Decimal("101"),
        )
    assert {v.code for v in err.value.errors} == {"invalid_ip_kind", "invalid_share"}


def test_backdated_version_refused_once_loans_were_filed_under_the_old_one(fund, business_date):
    from tests.factories import make_filing

    business_date("2026-11-21")
    make_filing(fund=fund)
    with pytest.raises(Conflict) as err:
        services.policy_version_create(fund=fund, effective_from=dt.date(2026, 1, 1))
    assert err.value.code == "policy_backdated"
