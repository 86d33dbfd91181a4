"""Baton's web UI in a real browser: Playwright drives a system Chromium against the runtime.

Playwright's own browser download cannot run everywhere, so these tests use the Chromium that
`make test` installs (Debian's package) or the one BATON_CHROMIUM names.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

# The runtime these tests drive is the end-to-end tests' own: one per module, on free ports.
from tests.e2e.conftest import runtime  # noqa: F401
from tests.e2e.runtime_process import REPOSITORY_ROOT, RuntimeProcess

# The flags a headless Chromium needs here: no sandbox as root, and no calls to Google's
# services, which this machine's closed network refuses.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPOSITORY_ROOT / "docs" / "screenshots"
# How long an expectation waits for the page (a bound, never a measurement): the diagram's
# layout runs in the browser, which a busy machine slows down.
expect.set_options(timeout=30_000)


def chromium_path() -> str:
    path = os.environ.get("BATON_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail(
            "The UI tests need Chromium: `make test` installs Debian's package where it may; "
            "otherwise install it or set BATON_CHROMIUM",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module", autouse=True)
def ui_is_built() -> None:
    if not (REPOSITORY_ROOT / "ui" / "dist" / "index.html").is_file():
        pytest.fail("The UI is not built: `make ui` (make test builds it)", pytrace=False)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield opened
    finally:
        context.close()
    assert not errors, f"the page raised: {errors}"


def base_url(started: RuntimeProcess) -> str:
    return started.api_url.removesuffix("/api")


def screenshot(page: Page, name: str) -> Path:
    """A screenshot for the README, taken by the test so that it stays true."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path))
    return path
