"""Real-browser tests of the admin: Playwright for Python driving Debian's Chromium.

Nothing downloads at run time: the browser is the system's `/usr/bin/chromium` (Debian's
`chromium` package, which `.ci/run` installs), never one of Playwright's own builds, and
Playwright itself comes from the project's optional `browser` extra. When either is missing
the tests are skipped with the reason, unless FUNDMGR_BROWSER_TESTS=required (CI sets it once
it has installed both), in which case they fail instead.

Fixtures:

- `browser`: one headless Chromium for the whole package.
- `page`: a fresh, anonymous page (1280×900, zh-CN) in a context of its own.
- `as_persona("officer")`: a page in a context of its own, logged in through the real admin
  login form with the demo password (tests/conftest.py). Several personas can be open at once
  (four-eyes needs two people): each has its own cookies.

Every page opened by a test is saved on failure (screenshot and HTML) under
var/browser-failures/, named after the test.

The server is pytest-django's `live_server` (a thread of this process, static files served),
so the test's settings (pinned business date, fast password hashing) apply to it too, and the
test database is transactional: rows the test writes are visible to the server and the other
way round.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import DEMO_PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
VIEWPORT = {"width": 1280, "height": 900}
LOCALE = "zh-CN"
TIMEZONE = "Asia/Shanghai"
# Playwright's default is 30 s per action; a page of this admin answers in well under a second,
# so a step that waits longer than this has failed, and should say so quickly.
ACTION_TIMEOUT_MS = 10_000
FAILURES_DIR = Path(__file__).resolve().parents[2] / "var" / "browser-failures"
REQUIRED = os.environ.get("FUNDMGR_BROWSER_TESTS", "").strip().lower() == "required"

_REPORTS = pytest.StashKey[dict]()


def pytest_collection_modifyitems(config, items):
    """Every test in this folder is a browser test (`-m "not browser"` leaves them out)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return (
            'Playwright for Python is not installed (pip install -e ".[dev,browser]"; '
            "never `playwright install`: the tests use Debian's chromium)"
        )
    if not os.access(CHROMIUM, os.X_OK):
        return (
            f"{CHROMIUM} is missing (apt-get install chromium chromium-driver fonts-noto-cjk; "
            ".ci/run installs them)"
        )
    return None


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"browser tests are required here (FUNDMGR_BROWSER_TESTS=required) but {reason}")
    pytest.skip(f"browser test: {reason}")


@pytest.fixture(scope="package")
def browser() -> Iterator:
    reason = _missing()
    if reason:
        _unavailable(reason)

    from playwright.sync_api import Error, sync_playwright

    # Playwright's sync API keeps an asyncio event loop running on this thread while it is
    # started, and Django refuses ORM calls from a thread with a running loop
    # (SynchronousOnlyOperation). Django reads this switch at each call, so it is on only while
    # the browser runs: the rest of the suite keeps Django's check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Error as exc:
            _unavailable(f"{CHROMIUM} did not start: {str(exc).splitlines()[0]}")
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Pages:
    """The pages a test opened, each in its own browser context, saved if the test fails."""

    def __init__(self, browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.opened: list[tuple[str, object]] = []  # (name, page)
        self._contexts: list = []

    def new(self, name: str):
        context = self.browser.new_context(
            base_url=self.base_url, viewport=VIEWPORT, locale=LOCALE, timezone_id=TIMEZONE
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        self._contexts.append(context)
        page = context.new_page()
        self.opened.append((name, page))
        return page

    def save(self, test_name: str) -> list[Path]:
        FAILURES_DIR.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^\w-]+", "_", test_name).strip("_")
        saved = []
        for name, page in self.opened:
            png, html = (FAILURES_DIR / f"{stem}-{name}.{ext}" for ext in ("png", "html"))
            try:
                page.screenshot(path=str(png), full_page=True)
                html.write_text(page.content(), encoding="utf-8")
            except Exception as exc:  # a closed or crashed page: keep going with the others
                print(f"could not save {name}'s page: {exc}")
                continue
            saved += [png, html]
        return saved

    def close(self) -> None:
        for context in self._contexts:
            context.close()


@pytest.fixture
def pages(request, browser, live_server) -> Iterator[Pages]:
    opened = Pages(browser, live_server.url)
    yield opened
    reports = request.node.stash.get(_REPORTS, {})
    if any(r.failed for r in reports.values()):
        for path in opened.save(request.node.nodeid):
            print(f"browser failure saved: {path}")
    opened.close()


@pytest.fixture
def page(pages):
    """A fresh page, not logged in."""
    return pages.new("anonymous")


def admin_login(page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in as a person would: the admin's login form, labels and button."""
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    errors = page.locator(".errornote")
    if errors.count():
        raise AssertionError(f"{username} could not log in: {errors.first.inner_text()}")
    assert page.url.endswith("/admin/"), f"{username}: after login the browser is at {page.url}"


@pytest.fixture
def as_persona(pages, personas) -> Callable:
    """`as_persona("officer")`: a page logged in as that demo user, in a context of its own."""

    def open_as(username: str):
        page = pages.new(username)
        admin_login(page, username)
        return page

    return open_as
