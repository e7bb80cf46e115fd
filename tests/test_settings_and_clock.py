"""The business clock and strict settings."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import time_machine

from fundmgr.ground.lib import clock

ROOT = Path(__file__).resolve().parent.parent


def test_business_date_from_settings(settings):
    settings.FUNDMGR_BUSINESS_DATE = "2026-10-09"
    assert clock.today() == dt.date(2026, 10, 9)
    settings.FUNDMGR_BUSINESS_DATE = None
    # Unpinned, "today" is the real date in Shanghai, not in UTC: 17:30 UTC is 01:30 next day.
    with time_machine.travel(dt.datetime(2031, 6, 15, 17, 30, tzinfo=dt.UTC), tick=False):
        assert clock.today() == dt.date(2031, 6, 16)
    with time_machine.travel(dt.datetime(2031, 6, 15, 15, 59, tzinfo=dt.UTC), tick=False):
        assert clock.today() == dt.date(2031, 6, 15)


def _check(env: dict) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "FUNDMGR_BUSINESS_DATE")}
    full.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bad_business_date_stops_start_up():
    result = _check({"FUNDMGR_BUSINESS_DATE": "2026-13-01"})
    assert result.returncode != 0
    assert "FUNDMGR_BUSINESS_DATE must be YYYY-MM-DD" in result.stderr


def test_production_without_secret_key_stops_start_up():
    result = _check({"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    ok = _check({"DEBUG": "false", "SECRET_KEY": "x" * 50, "FUNDMGR_BUSINESS_DATE": "2026-10-09"})
    assert ok.returncode == 0, ok.stderr


def test_locale_and_timezone(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert ("en", "English") in settings.LANGUAGES
