"""The dashboard in a real browser: draw digits with the mouse, clear, open every page, take the README screenshots."""

import statistics
import time

import pytest
from dashboard_driver import (
    ROOT,
    VIEWPORT,
    clear,
    draw,
    launch_chromium,
    open_draw_page,
    prediction,
    running_dashboard,
    single_stroke_digits,
    wait_for_new_prediction,
)
from playwright.sync_api import expect, sync_playwright

SCREENSHOTS = ROOT / "docs" / "screenshots"
DRAWN_DIGITS = [0, 1, 7, 2, 3, 4, 6, 8]
CHART = ".js-plotly-plot"
EXCEPTION = '[data-testid="stException"]'
PAGE_TIMEOUT_MS = 30_000
SETTLE_MS = 1000  # Plotly redraws its charts after the viewport grows


def save_screenshot(page, name: str) -> None:
    """The whole page for the README, once its images are loaded; Streamlit scrolls inside stMain, so fit the viewport to it."""
    page.wait_for_function("[...document.images].every(image => image.complete)", timeout=PAGE_TIMEOUT_MS)
    height = VIEWPORT["height"]
    while (needed := page.locator('[data-testid="stMain"]').evaluate("main => main.scrollHeight")) > height:
        height = needed  # charts below the fold render once visible, and may make the page longer
        page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        page.wait_for_timeout(SETTLE_MS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")
    page.set_viewport_size(VIEWPORT)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def dashboard(browser):
    """A fresh `streamlit run dashboard.py`, its URL, and the seconds until its first page rendered in the browser."""
    with running_dashboard() as (url, started):
        page = browser.new_page(viewport=VIEWPORT)
        open_draw_page(page, url)
        cold_start = time.perf_counter() - started
        print(f"\ncold start: {cold_start:.2f} s from `streamlit run` to the draw page rendered")
        yield url, page
        page.close()


@pytest.fixture
def draw_page(dashboard):
    """The draw page, freshly loaded."""
    url, page = dashboard
    open_draw_page(page, url)
    return page


def test_drawn_digits_are_predicted_after_each_stroke(draw_page):
    latencies = []
    for digit in DRAWN_DIGITS:
        clear(draw_page)
        draw(draw_page, digit)
        expect(prediction(draw_page)).to_have_text(str(digit), timeout=PAGE_TIMEOUT_MS)
        if digit in single_stroke_digits():
            latencies.append(wait_for_new_prediction(draw_page))
    print(f"\ndraw latency (release -> prediction shown): median {statistics.median(latencies):.0f} ms, "
          f"max {max(latencies):.0f} ms over {len(latencies)} drawings")
    expect(draw_page.locator(CHART)).to_have_count(2)
    save_screenshot(draw_page, "draw")


def test_clearing_the_canvas_brings_back_the_hint(draw_page):
    draw(draw_page, 7)
    expect(prediction(draw_page)).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    clear(draw_page)
    expect(prediction(draw_page)).to_have_count(0)


def test_the_canvas_toolbar_reset_brings_back_the_hint(draw_page):
    draw(draw_page, 1)
    expect(prediction(draw_page)).to_have_text("1", timeout=PAGE_TIMEOUT_MS)
    draw_page.locator("canvas.upper-canvas").hover()
    draw_page.get_by_role("button", name="Reset canvas & history").click()
    expect(draw_page.get_by_text("Draw a digit (0-9) in the box")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(prediction(draw_page)).to_have_count(0)


@pytest.mark.parametrize("link, heading", [("Explore", "Explore the test set"), ("Error analysis", "Error analysis")])
def test_each_page_renders_its_charts_without_an_exception(dashboard, link, heading):
    _, page = dashboard
    page.get_by_role("link", name=link).click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.locator(CHART).first).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    save_screenshot(page, link.lower().replace(" ", "_"))
    for chart in page.locator(CHART).all():
        expect(chart.locator(".gtitle")).not_to_be_empty()
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_explore_refuses_an_id_outside_the_test_set(dashboard):
    _, page = dashboard
    page.get_by_role("link", name="Explore").click()
    field = page.get_by_label("Open a test image by id")
    shown = page.get_by_text("True label").inner_text(timeout=PAGE_TIMEOUT_MS)
    field.fill("12000")
    field.press("Enter")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("True label")).to_have_text(shown)
    expect(page.locator(EXCEPTION)).to_have_count(0)
