"""Headless Debian chromium for browser tests, driven by Playwright (no downloaded browsers)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, launched once per test module through `executable_path`.

    Module scope, not session: Playwright's sync API keeps its event loop marked as running in
    the main thread while it lives, so later tests that run an asyncio loop themselves (the
    agent in tests/conftest.py) would fail with "Cannot run the event loop while another loop
    is running".
    """
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (scripts/ensure-chromium.sh)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser page (own cookies and storage) for one test."""
    context = browser.new_context(locale="tr-TR", timezone_id="Europe/Istanbul")
    yield context.new_page()
    context.close()
