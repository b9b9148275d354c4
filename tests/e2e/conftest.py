"""Browser-test fixtures: one Chromium and one real dashboard server for the whole session."""

import time

import pytest
from dashboard_driver import VIEWPORT, launch_chromium, open_draw_page, running_dashboard
from playwright.sync_api import sync_playwright


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def dashboard_url(browser):
    """A fresh `streamlit run dashboard.py`, its URL once the landing page has rendered in the browser."""
    with running_dashboard() as (url, started, _):
        page = browser.new_page(viewport=VIEWPORT)
        open_draw_page(page, url)
        print(f"\ncold start: {time.perf_counter() - started:.2f} s from `streamlit run` to the draw page rendered")
        page.close()
        yield url


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport=VIEWPORT)
    yield page
    page.close()
