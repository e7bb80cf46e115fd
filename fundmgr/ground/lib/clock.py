"""The business clock: the one place that says what "today" is.

Every rule and deadline asks `today()`. With FUNDMGR_BUSINESS_DATE=YYYY-MM-DD in the
environment (demos, tests, replaying history) it is that date; otherwise it is the real
date in Asia/Shanghai. Tests move it with `override_settings(FUNDMGR_BUSINESS_DATE=...)`
or the `business_date` fixture.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> dt.date:
    fixed = getattr(settings, "FUNDMGR_BUSINESS_DATE", None)
    if fixed:
        return dt.date.fromisoformat(fixed) if isinstance(fixed, str) else fixed
    return timezone.now().astimezone(SHANGHAI).date()


def now() -> dt.datetime:
    """Timestamps stay real wall-clock time; only the business date can be moved."""
    return timezone.now()
