"""Shared fixtures: the demo world and the fixed personas every scope test uses.

Personas: bank A (zqrcb, Zhaoqing), bank B (icbc-foshan, Foshan), regulator X (Zhaoqing),
regulator Y (Foshan), officer, officer2, approver, committee, finance, admin.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from banks.services import institution_api_key_issue
from fundmgr.ground.accounts.models import User
from fundmgr.ground.accounts.services import institution_system_user, token_issue
from fundmgr.ground.lib import workdays
from tests.authz import world  # noqa: F401 (a fixture: bank A's records for the authorisation matrices)

DEMO_PASSWORD = "test-password-123"


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are skipped, with the reason, when the suite runs on SQLite."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (row locks, triggers, concurrency); DATABASE_URL is SQLite"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _wall_clock():
    """With FUNDMGR_TEST_WALL_CLOCK=<ISO datetime> the whole session runs under a moved wall
    clock (ticking from there), so a test that mixes the wall clock with the business date
    fails wherever the machine's clock happens to be. CI runs the suite once more this way,
    years ahead and at an hour where the UTC and Shanghai dates differ."""
    moved = os.environ.get("FUNDMGR_TEST_WALL_CLOCK")
    if not moved:
        yield None
        return
    import time_machine

    with time_machine.travel(dt.datetime.fromisoformat(moved), tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True, scope="session")
def _eager_celery():
    """Tasks run inline in tests on every database, so SQLite and PostgreSQL runs behave the
    same; the tests of the real worker path start their own worker against Redis."""
    from fundmgr.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for production; tests seed many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_calendar():
    # The working-day calendar is cached per process; a test's overrides must not leak.
    workdays.forget_default_calendar()
    yield
    workdays.forget_default_calendar()


@pytest.fixture(autouse=True)
def _default_language():
    # A request answered in English leaves English active in the thread (LocaleMiddleware):
    # every test starts, and leaves, in the default language, whatever ran before it.
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


# The business date every test runs on unless it moves the clock itself (a Monday). Pinned, so
# that no test depends on the day the suite happens to run; with the wall clock moved (above),
# any code that mixes the two clocks shows up as a failure.
DEFAULT_BUSINESS_DATE = "2026-11-30"


@pytest.fixture(autouse=True)
def _pinned_business_date(settings):
    settings.FUNDMGR_BUSINESS_DATE = DEFAULT_BUSINESS_DATE


@pytest.fixture
def business_date(settings):
    """Move the business clock: `business_date("2026-10-09")`."""

    def move(iso: str) -> None:
        settings.FUNDMGR_BUSINESS_DATE = iso

    return move


@pytest.fixture
def demo(db):
    from fundmgr.top.demo import seed_demo

    seed_demo(password=DEMO_PASSWORD)


def _user(username: str) -> User:
    return User.objects.get(username=username)


class Personas:
    """Authenticated API clients for each persona, built on demand."""

    def __init__(self) -> None:
        self._clients: dict[str, APIClient] = {}

    def client(self, name: str) -> APIClient:
        if name in self._clients:
            return self._clients[name]
        client = APIClient()
        if name in ("bank_a", "bank_b"):
            code = {"bank_a": "zqrcb", "bank_b": "icbc-foshan"}[name]
            _, raw = institution_api_key_issue(institution_code=code)
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        elif name == "anonymous":
            pass
        else:
            username = {"regulator_x": "regulator-zhaoqing", "regulator_y": "regulator-foshan"}.get(
                name, name
            )
            _, raw = token_issue(username=username)
            client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        self._clients[name] = client
        return client

    def user(self, name: str) -> User:
        if name in ("bank_a", "bank_b"):
            from banks.models import Institution

            code = {"bank_a": "zqrcb", "bank_b": "icbc-foshan"}[name]
            return institution_system_user(institution=Institution.objects.get(code=code))
        username = {"regulator_x": "regulator-zhaoqing", "regulator_y": "regulator-foshan"}.get(name, name)
        return _user(username)


@pytest.fixture
def personas(demo) -> Personas:
    return Personas()


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"
