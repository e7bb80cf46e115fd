"""PRC working days: library data, overrides, arithmetic, and the cached default calendar."""

from __future__ import annotations

import datetime as dt

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundmgr.ground.lib import workdays
from fundmgr.ground.lib.models import WorkdayOverride
from fundmgr.ground.lib.workdays import WorkCalendar, covered_years

D = dt.date
CALENDAR = WorkCalendar()
# The library's own (slow, day-by-day) answer, used as an independent oracle.
ORACLE = holidays.China()


# --- what the library says ----------------------------------------------------------------------


def test_covered_years_include_the_official_arrangements_we_rely_on():
    years = covered_years()
    assert years.start == 2001
    assert 2025 in years and 2026 in years
    assert CALENDAR.covered_years() == years


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 9, 19), False),  # ordinary Saturday
        (D(2026, 9, 20), True),  # Sunday make-up working day for National Day
        (D(2026, 9, 25), False),  # Mid-Autumn Festival (Friday)
        (D(2026, 9, 30), True),
        (D(2026, 10, 1), False),
        (D(2026, 10, 2), False),
        (D(2026, 10, 5), False),
        (D(2026, 10, 6), False),
        (D(2026, 10, 7), False),
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),  # Saturday make-up working day
        (D(2026, 10, 11), False),
    ],
)
def test_2026_national_day(day, working):
    assert CALENDAR.is_working_day(day) is working


def test_2026_national_day_week_is_off_end_to_end():
    week = [D(2026, 10, 1) + dt.timedelta(days=i) for i in range(7)]
    assert not any(CALENDAR.is_working_day(d) for d in week)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 9, 27), False),  # Saturday
        (D(2025, 9, 28), True),  # Sunday make-up working day
        (D(2025, 9, 30), True),
        (D(2025, 10, 1), False),
        (D(2025, 10, 6), False),  # Mid-Autumn Festival inside the week
        (D(2025, 10, 8), False),
        (D(2025, 10, 9), True),
        (D(2025, 10, 11), True),  # Saturday make-up working day
        (D(2025, 10, 12), False),
    ],
)
def test_2025_national_day(day, working):
    assert CALENDAR.is_working_day(day) is working


def test_2025_national_day_holiday_runs_from_1_to_8_october():
    days = [D(2025, 10, 1) + dt.timedelta(days=i) for i in range(8)]
    assert not any(CALENDAR.is_working_day(d) for d in days)


def test_2026_spring_festival_and_new_year():
    assert CALENDAR.is_working_day(D(2026, 1, 2)) is False  # moved from Sunday 4 January
    assert CALENDAR.is_working_day(D(2026, 1, 4)) is True
    assert CALENDAR.is_working_day(D(2026, 2, 14)) is True  # Saturday make-up day
    assert CALENDAR.is_working_day(D(2026, 2, 23)) is False  # Monday moved from 28 February
    assert CALENDAR.is_working_day(D(2026, 2, 28)) is True


def test_cross_year_make_up_day():
    # 2002 New Year: 2 and 3 January were moved from the weekend of 29/30 December 2001.
    assert CALENDAR.is_working_day(D(2001, 12, 29)) is True
    assert CALENDAR.is_working_day(D(2002, 1, 2)) is False


def test_years_outside_the_library_range_have_plain_weekends():
    assert CALENDAR.is_working_day(D(1900, 1, 1)) is True  # Monday, no data
    assert CALENDAR.is_working_day(D(2200, 1, 4)) is False  # Saturday


# --- arithmetic ----------------------------------------------------------------------------------


def test_add_working_days_skips_the_2026_national_day():
    assert CALENDAR.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert CALENDAR.add_working_days(D(2026, 9, 30), 2) == D(2026, 10, 9)
    assert CALENDAR.add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)  # make-up Saturday
    assert CALENDAR.add_working_days(D(2026, 9, 30), 4) == D(2026, 10, 12)
    assert CALENDAR.add_working_days(D(2026, 10, 1), 1) == D(2026, 10, 8)


def test_add_working_days_counts_a_make_up_sunday():
    assert CALENDAR.add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)
    assert CALENDAR.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)


def test_seven_working_days_for_a_cnipa_decision_over_national_day():
    # Filed on 2025-09-29: 30 Sep, 9, 10, 11 (Sat), 13, 14, 15 Oct.
    assert CALENDAR.add_working_days(D(2025, 9, 29), 7) == D(2025, 10, 15)


def test_add_zero_working_days():
    assert CALENDAR.add_working_days(D(2026, 9, 30), 0) == D(2026, 9, 30)
    assert CALENDAR.add_working_days(D(2026, 10, 3), 0) == D(2026, 10, 8)
    assert CALENDAR.add_working_days(D(2026, 10, 10), 0) == D(2026, 10, 10)


def test_add_working_days_across_new_year():
    # 1 Jan 2026 is off, 2 Jan (Fri) is off too (moved from Sunday 4 Jan, a working day).
    assert CALENDAR.add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 4)
    assert CALENDAR.add_working_days(D(2025, 12, 31), 2) == D(2026, 1, 5)


def test_negative_n_is_refused():
    with pytest.raises(ValueError):
        CALENDAR.add_working_days(D(2026, 1, 5), -1)


def test_next_working_day():
    assert CALENDAR.next_working_day(D(2026, 9, 30)) == D(2026, 10, 8)
    assert CALENDAR.next_working_day(D(2026, 10, 8)) == D(2026, 10, 9)
    assert CALENDAR.working_day_on_or_after(D(2026, 10, 8)) == D(2026, 10, 8)


def test_working_days_between():
    assert CALENDAR.working_days_between(D(2026, 9, 30), D(2026, 10, 12)) == 4
    assert CALENDAR.working_days_between(D(2025, 9, 26), D(2025, 10, 11)) == 6
    assert CALENDAR.working_days_between(D(2026, 10, 1), D(2026, 10, 7)) == 0
    assert CALENDAR.working_days_between(D(2026, 9, 30), D(2026, 9, 30)) == 0
    assert CALENDAR.working_days_between(D(2026, 10, 12), D(2026, 9, 30)) == 0
    # 2025: 261 weekdays − 18 weekdays off + 5 make-up weekend days = 248, as the library's
    # own day-by-day answer also says.
    expected_2025 = sum(ORACLE.is_working_day(D(2025, 1, 1) + dt.timedelta(days=i)) for i in range(365))
    assert CALENDAR.working_days_between(D(2024, 12, 31), D(2025, 12, 31)) == expected_2025 == 248


def test_each_year_is_read_from_the_library_once(monkeypatch):
    calls: list[int] = []
    real_china = holidays.China

    def counting_china(*args, **kwargs):
        calls.append(kwargs.get("years"))
        return real_china(*args, **kwargs)

    monkeypatch.setattr(workdays.holidays, "China", counting_china)
    workdays._library_year.cache_clear()
    try:
        calendar = WorkCalendar()
        end = calendar.add_working_days(D(2030, 1, 1), 2500)  # about ten years
        assert calendar.working_days_between(D(2030, 1, 1), end) == 2500
        assert sorted(calls) == list(range(2030, end.year + 1))
    finally:
        workdays._library_year.cache_clear()


# --- overrides (no database) -----------------------------------------------------------------------


def test_overrides_take_precedence_over_the_library():
    calendar = WorkCalendar({D(2026, 10, 8): False, D(2026, 10, 3): True})
    assert calendar.is_working_day(D(2026, 10, 8)) is False
    assert calendar.is_working_day(D(2026, 10, 3)) is True
    assert calendar.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 3)
    assert calendar.add_working_days(D(2026, 9, 30), 2) == D(2026, 10, 9)
    # the library calendar itself is unchanged
    assert CALENDAR.is_working_day(D(2026, 10, 8)) is True


def test_overrides_are_copied():
    source = {D(2031, 3, 12): False}
    calendar = WorkCalendar(source)
    source[D(2031, 3, 13)] = False
    assert calendar.is_working_day(D(2031, 3, 13)) is True


# --- properties -----------------------------------------------------------------------------------

dates = st.dates(min_value=D(1999, 1, 1), max_value=D(2101, 12, 31))


@given(day=dates, n=st.integers(min_value=1, max_value=40))
@settings(max_examples=300, deadline=None)
def test_between_inverts_add(day, n):
    result = CALENDAR.add_working_days(day, n)
    assert result > day
    assert CALENDAR.is_working_day(result)
    assert CALENDAR.working_days_between(day, result) == n
    # and the day before the result still falls short by one
    assert CALENDAR.working_days_between(day, result - dt.timedelta(days=1)) == n - 1


@given(day=dates)
@settings(max_examples=200, deadline=None)
def test_add_zero_is_the_first_working_day_on_or_after(day):
    result = CALENDAR.add_working_days(day, 0)
    assert result >= day and CALENDAR.is_working_day(result)
    assert CALENDAR.working_days_between(day - dt.timedelta(days=1), result) == 1


@given(day=st.dates(min_value=D(2001, 1, 1), max_value=D(2030, 12, 31)))
@settings(max_examples=300, deadline=None)
def test_agrees_with_the_library_day_by_day(day):
    assert CALENDAR.is_working_day(day) is ORACLE.is_working_day(day)


@given(
    day=st.dates(min_value=D(2024, 1, 1), max_value=D(2032, 12, 31)),
    n=st.integers(min_value=0, max_value=40),
    overrides=st.dictionaries(
        st.dates(min_value=D(2024, 1, 1), max_value=D(2033, 3, 31)), st.booleans(), max_size=30
    ),
)
@settings(max_examples=200, deadline=None)
def test_add_matches_a_naive_walk_with_overrides(day, n, overrides):
    calendar = WorkCalendar(overrides)

    def working(d: dt.date) -> bool:
        return overrides[d] if d in overrides else ORACLE.is_working_day(d)

    expected, left = day, n
    if n == 0:
        while not working(expected):
            expected += dt.timedelta(days=1)
    while left:
        expected += dt.timedelta(days=1)
        left -= working(expected)
    assert calendar.add_working_days(day, n) == expected


# --- the default calendar with database overrides ----------------------------------------------------


@pytest.fixture
def fresh_default_calendar():
    """The default calendar is a process-wide cache; a rolled-back test must not leak into it."""
    workdays.invalidate_default_calendar()
    yield
    workdays.invalidate_default_calendar()


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_default_calendar")
def test_db_override_declares_a_future_holiday(django_assert_num_queries):
    wednesday = D(2031, 3, 12)
    assert workdays.is_working_day(wednesday) is True
    assert workdays.add_working_days(D(2031, 3, 11), 1) == wednesday
    with django_assert_num_queries(0):  # cached: no query per deadline
        assert workdays.add_working_days(D(2031, 3, 11), 1) == wednesday

    row = WorkdayOverride.objects.create(date=wednesday, is_working_day=False, note="2031年国务院办公厅通知")

    assert workdays.is_working_day(wednesday) is False
    assert workdays.add_working_days(D(2031, 3, 11), 1) == D(2031, 3, 13)
    assert workdays.working_days_between(D(2031, 3, 10), D(2031, 3, 14)) == 3

    row.delete()
    assert workdays.is_working_day(wednesday) is True


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_default_calendar")
def test_db_override_make_up_saturday_and_update():
    saturday = D(2031, 10, 11)
    assert workdays.is_working_day(saturday) is False
    row = WorkdayOverride.objects.create(date=saturday, is_working_day=True)
    assert workdays.is_working_day(saturday) is True
    assert workdays.next_working_day(D(2031, 10, 10)) == saturday

    row.is_working_day = False
    row.save()
    assert workdays.is_working_day(saturday) is False


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_default_calendar")
def test_db_override_beats_the_library():
    assert workdays.is_working_day(D(2026, 10, 10)) is True
    WorkdayOverride.objects.create(date=D(2026, 10, 10), is_working_day=False, note="更正")
    assert workdays.is_working_day(D(2026, 10, 10)) is False


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_default_calendar")
def test_a_save_tells_other_processes_to_reload():
    from django.core.cache import cache

    first = workdays.default_calendar()
    assert workdays.default_calendar() is first
    token_before = cache.get(workdays._VERSION_CACHE_KEY)

    WorkdayOverride.objects.create(date=D(2031, 5, 6), is_working_day=False)

    assert cache.get(workdays._VERSION_CACHE_KEY) != token_before
    # Simulate another process still holding the calendar it built under the old token.
    workdays._default = (token_before, first)
    reloaded = workdays.default_calendar()
    assert reloaded is not first
    assert reloaded.is_working_day(D(2031, 5, 6)) is False


def test_override_str_and_labels():
    row = WorkdayOverride(date=D(2027, 2, 20), is_working_day=True, note="补班")
    assert str(row) == "2027-02-20 上班"
    assert WorkdayOverride._meta.verbose_name == "工作日调整"
