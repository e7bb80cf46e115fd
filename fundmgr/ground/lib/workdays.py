"""PRC working days (工作日): weekends, statutory holidays and the State Council's 调休.

Deadlines in the fund's rules ("within N working days") are computed here. The base data
comes from the `holidays` package: `holidays.China` lists the days off (including weekdays
moved by 调休), and its `weekend_workdays` set lists the Saturdays/Sundays that are
make-up working days (补班). The library only knows the official arrangements for the
years in `covered_years()`; later years are the statutory holidays plus an estimated
"observed" shift and **no make-up Saturdays/Sundays**, so each year's State Council notice
(published around November) must be entered as `WorkdayOverride` rows, which take
precedence over the library.

Performance: each year is reduced once to a sorted tuple of working-day ordinals, so
`add_working_days` and `working_days_between` are a few bisections per year touched,
never a day-by-day walk through the library.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from types import MappingProxyType

import holidays
from django.conf import settings

logger = logging.getLogger(__name__)

_SATURDAY = 5


# --- library data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _LibraryYear:
    """What the library says about one year, reduced to the two exception sets."""

    weekdays_off: frozenset[dt.date]
    weekend_workdays: frozenset[dt.date]


@cache
def _library_year(year: int) -> _LibraryYear:
    """Shared by every calendar, so rebuilding a calendar after an override change is cheap."""
    china = holidays.China(years=year)
    # China's weekend is fixed at Saturday/Sunday, so weekday() is enough here.
    weekdays_off = frozenset(d for d in china if d.year == year and d.weekday() < _SATURDAY)
    # weekend_workdays also holds cross-year entries from other years; keep this year's only.
    weekend_workdays = frozenset(
        d for d in china.weekend_workdays if d.year == year and d.weekday() >= _SATURDAY
    )
    return _LibraryYear(weekdays_off, weekend_workdays)


@lru_cache(maxsize=1)
def covered_years() -> range:
    """Years for which the library carries the State Council's official arrangement.

    Derived from the library's table of 调休 arrangements (`special_public_holidays`), which
    holds one entry per year with an official notice; in holidays 0.109 that is 2001–2026.
    Outside this range the library's answer is an estimate.
    """
    arranged = getattr(holidays.China(), "special_public_holidays", None) or {}
    if not arranged:
        return range(0)
    return range(min(arranged), max(arranged) + 1)


# --- the calendar -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _YearTable:
    working: tuple[int, ...]  # sorted ordinals of the year's working days
    working_set: frozenset[int]


class WorkCalendar:
    """Working days from the library plus explicit overrides (date → True: work, False: off)."""

    def __init__(self, overrides: Mapping[dt.date, bool] | None = None) -> None:
        self._overrides: Mapping[dt.date, bool] = MappingProxyType(dict(overrides or {}))
        self._years: dict[int, _YearTable] = {}

    @property
    def overrides(self) -> Mapping[dt.date, bool]:
        return self._overrides

    def covered_years(self) -> range:
        return covered_years()

    # -- per-year table

    def _year(self, year: int) -> _YearTable:
        table = self._years.get(year)
        if table is None:
            table = self._build_year(year)
            # setdefault: two threads racing only compute the same table twice.
            table = self._years.setdefault(year, table)
        return table

    def _build_year(self, year: int) -> _YearTable:
        library = _library_year(year)
        working: list[int] = []
        day = dt.date(year, 1, 1)
        one_day = dt.timedelta(days=1)
        while day.year == year:
            if self._is_working_by_rules(day, library):
                working.append(day.toordinal())
            if day == dt.date.max:
                break
            day += one_day
        return _YearTable(tuple(working), frozenset(working))

    def _is_working_by_rules(self, day: dt.date, library: _LibraryYear) -> bool:
        override = self._overrides.get(day)
        if override is not None:
            return override
        if day.weekday() >= _SATURDAY:
            return day in library.weekend_workdays
        return day not in library.weekdays_off

    # -- queries

    def is_working_day(self, day: dt.date) -> bool:
        return day.toordinal() in self._year(day.year).working_set

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day strictly after `start`.

        n = 0 is `start` itself when it is a working day, otherwise the next working day.
        """
        if n < 0:
            raise ValueError("n must not be negative")
        if n == 0:
            return start if self.is_working_day(start) else self.add_working_days(start, 1)
        remaining = n
        after = start.toordinal()
        year = start.year
        while True:
            working = self._year(year).working
            first = bisect_right(working, after)
            available = len(working) - first
            if remaining <= available:
                return dt.date.fromordinal(working[first + remaining - 1])
            remaining -= available
            year += 1
            if year > dt.MAXYEAR:
                raise OverflowError("working-day arithmetic beyond the last representable date")

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        return self.add_working_days(day, 1)

    def working_day_on_or_after(self, day: dt.date) -> dt.date:
        return self.add_working_days(day, 0)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Number of working days in the half-open interval (start, end]; 0 if end ≤ start."""
        if end <= start:
            return 0
        start_ordinal, end_ordinal = start.toordinal(), end.toordinal()
        count = 0
        for year in range(start.year, end.year + 1):
            working = self._year(year).working
            count += bisect_right(working, end_ordinal) - bisect_right(working, start_ordinal)
        return count


# --- the default calendar (library + WorkdayOverride rows) -------------------------------------

# The token lives in Django's cache (Redis in production) so that a save in one process
# also invalidates the calendars cached by the other web and Celery worker processes.
_VERSION_CACHE_KEY = "fundmgr:lib:workday-overrides:version"
_NO_TOKEN = object()

_lock = threading.Lock()
_default: tuple[object, WorkCalendar] | None = None


def _shared_token() -> object:
    from django.core.cache import cache

    try:
        return cache.get(_VERSION_CACHE_KEY)
    except Exception:  # a cache outage must not stop deadline computations
        logger.warning("workday override version unreadable; reloading overrides", exc_info=True)
        return _NO_TOKEN


def _bump_shared_token() -> None:
    from django.core.cache import cache

    try:
        cache.set(_VERSION_CACHE_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        logger.warning("could not publish workday override change to other processes", exc_info=True)


def _load_overrides() -> dict[dt.date, bool]:
    from fundmgr.ground.lib.models import WorkdayOverride

    return dict(WorkdayOverride.objects.values_list("date", "is_working_day"))


def default_calendar() -> WorkCalendar:
    """The library calendar with the `WorkdayOverride` rows merged in, cached per process."""
    global _default
    token = _shared_token()
    cached = _default
    if cached is not None and token is not _NO_TOKEN and cached[0] == token:
        return cached[1]
    with _lock:
        if _default is not None and token is not _NO_TOKEN and _default[0] == token:
            return _default[1]
        calendar = WorkCalendar(_load_overrides())
        _default = (token, calendar)
        return calendar


def invalidate_default_calendar() -> None:
    """Drop the cached calendar here and in other processes.

    Called by the post_save/post_delete receivers. `QuerySet.update()` and `bulk_create()`
    send no signals, so code that uses them must call this itself.
    """
    global _default
    from django.db import transaction

    with _lock:
        _default = None
    _bump_shared_token()
    # Bump again after commit: another process may have reloaded in between and cached
    # the rows as they were before this transaction committed.
    transaction.on_commit(_bump_shared_token)


def forget_default_calendar() -> None:
    """Drop this process's cached calendar only (tests; no database or cache access)."""
    global _default
    with _lock:
        _default = None


def on_override_changed(sender: type, **kwargs: object) -> None:
    """Signal receiver for WorkdayOverride post_save/post_delete (wired in LibConfig.ready)."""
    invalidate_default_calendar()


# --- convenience functions on the default calendar ---------------------------------------------


def is_working_day(day: dt.date) -> bool:
    return default_calendar().is_working_day(day)


def add_working_days(start: dt.date, n: int) -> dt.date:
    return default_calendar().add_working_days(start, n)


def working_days_between(start: dt.date, end: dt.date) -> int:
    return default_calendar().working_days_between(start, end)


def next_working_day(day: dt.date) -> dt.date:
    return default_calendar().next_working_day(day)


# --- deadlines: one rule for "due soon" and "late", shared by queues, warnings and notices ---

APPROACHING, BREACHED = "approaching", "breached"
DEFAULT_WARNING_WORKING_DAYS = 2


def warning_working_days() -> int:
    """How early a deadline counts as approaching, in working days before it (setting
    DEADLINE_WARNING_WORKING_DAYS, default 2): a preference of the fund manager, not a rule
    of the measures."""
    return int(getattr(settings, "DEADLINE_WARNING_WORKING_DAYS", DEFAULT_WARNING_WORKING_DAYS))


def due_soon_horizon(today: dt.date) -> dt.date:
    """The last due date that is 'due soon' on `today` (the due date itself included)."""
    return add_working_days(today, warning_working_days())


def deadline_phase(today: dt.date, due: dt.date) -> str | None:
    """BREACHED after the due date, APPROACHING within the warning window, else None."""
    if today > due:
        return BREACHED
    if due <= due_soon_horizon(today):
        return APPROACHING
    return None
