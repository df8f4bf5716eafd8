"""A real browser for the end-to-end tests: Debian's Chromium driven by Playwright.

Playwright's own browser downloads are never used (`playwright install` needs a network
this project cannot count on); CI installs Chromium with apt (see .ci/run).
"""

import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium phones home at start-up, and on a
# closed network those refused connections break the launch.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Short enough that a missing button fails the test in seconds, not half a minute.
TIMEOUT_MS = 10_000
# What the browser says when the Content Security Policy blocks something.
CSP_WORDS = re.compile(r"Refused to|Content Security Policy", re.IGNORECASE)


@pytest.fixture
def _sync_orm_beside_playwright(monkeypatch):
    """Playwright's sync API runs an asyncio event loop in the test's own thread (in a
    greenlet), so Django sees a running loop there and refuses ORM calls with
    SynchronousOnlyOperation. Nothing here is async: the test and the live server each
    use the database from their own thread, one blocking call at a time. So allow it,
    for these tests only (monkeypatch removes it again)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def chromium(_sync_orm_beside_playwright):
    """The browser, or a skip when it is not installed (a failure when REQUIRE_BROWSER
    says it must be, as in CI)."""
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"Chromium not installed: no {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{reason}, and REQUIRE_BROWSER is set: the browser test must run.")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # While Playwright's loop runs, Django's per-thread connections live in a
            # separate per-context store (asgiref's Local), so the test's ORM calls opened
            # connections of their own. Close them while that store is still the one in
            # use: on PostgreSQL a forgotten one keeps the test database from being
            # dropped at the end of the run.
            connections.close_all()


class Watch:
    """Opens pages and records what went wrong in them that the page itself does not
    show: console errors, CSP refusals, script errors, failed or 4xx/5xx responses."""

    def __init__(self, browser):
        self.browser = browser
        self.pages = {}
        self.problems = []

    def new_page(self, name, *, locale="en-US", viewport=None):
        """A page in a fresh context: its own cookies, so a fresh session. `locale` is the
        browser's language (the pages follow it); `viewport`, its size (a phone's, say)."""
        # English whatever the machine's locale unless asked: the pages follow
        # Accept-Language, and most tests read their English text.
        options = {"viewport": viewport} if viewport else {}
        context = self.browser.new_context(locale=locale, **options)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        self.pages[name] = page
        page.on("console", lambda message: self._console(name, page, message))
        page.on("pageerror", lambda error: self.problems.append(f"{name}: script error {error}"))
        page.on("response", lambda response: self._response(name, response))
        page.on("requestfailed", lambda request: self._failed(name, request))
        return page

    def _failed(self, name, request):
        # The browser fetches the page's icon on its own, after the page; a click that
        # opens the next page first cancels that fetch. Not a problem of the app's.
        if request.failure == "net::ERR_ABORTED" and "/static/icons/" in request.url:
            return
        self.problems.append(f"{name}: {request.url} failed ({request.failure})")

    def _console(self, name, page, message):
        if message.type == "error" or CSP_WORDS.search(message.text):
            self.problems.append(f"{name} on {page.url}: console {message.type}: {message.text}")

    def _response(self, name, response):
        if response.status >= 400:
            self.problems.append(f"{name}: {response.status} for {response.url}")

    @contextmanager
    def screenshots_on_failure(self, directory):
        """On any failure inside, save a full-page screenshot of every open page into
        `directory` and name the files in the failure message."""
        try:
            yield
        except Exception as error:
            saved = []
            for name, page in self.pages.items():
                if page.is_closed():
                    continue
                path = Path(directory) / f"{name}.png"
                try:
                    page.screenshot(path=path, full_page=True)
                except Exception as screenshot_error:  # the page may be what broke
                    saved.append(f"{name}: no screenshot ({screenshot_error})")
                else:
                    saved.append(f"{name} at {page.url}: {path}")
            report = f"{error}\n\nScreenshots:\n  " + "\n  ".join(saved or ["none"])
            if self.problems:
                # Often the cause: a 500 or a blocked resource before the failed step.
                report += "\n\nThe browser reported:\n  " + "\n  ".join(self.problems)
            raise AssertionError(report) from error


@pytest.fixture
def watch(chromium):
    return Watch(chromium)
