"""The dashboard in a real browser: draw digits, shapes and numbers with the mouse, upload a photo, clear, open every
page (and take the README screenshots)."""

import io
import re
import statistics

import numpy as np
import pytest
from dashboard_driver import (
    CANVAS,
    CLEAR_BUTTON,
    IDLE_APP,
    NUMBER_HINT,
    VIEWPORT,
    canvas_box,
    clear,
    draw,
    open_draw_page,
    prediction,
    running_dashboard,
    save_screenshot,
    single_stroke_digits,
    switch_mode,
    trace,
    wait_for_new_prediction,
)
from PIL import Image
from playwright.sync_api import expect
from shapes import photo_of, placed, sixteen_bit

DRAWN_DIGITS = [0, 1, 7, 2, 3, 4, 6, 8]
CHART = ".js-plotly-plot"
EXCEPTION = '[data-testid="stException"]'
PAGE_TIMEOUT_MS = 30_000


@pytest.fixture
def draw_page(dashboard_url, page):
    """The draw page, freshly loaded."""
    open_draw_page(page, dashboard_url)
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


def test_strokes_begun_right_after_clearing_are_kept_and_why_stays_on(draw_page):
    """A Clear button that replaced the canvas after a round trip to the server lost such strokes (a 4 kept only
    its upright and was read 1), and switched "Why this prediction?" off."""
    draw(draw_page, 7)
    expect(prediction(draw_page)).to_have_text("7", timeout=PAGE_TIMEOUT_MS)
    why = draw_page.get_by_role("switch", name="Why this prediction?")
    draw_page.get_by_test_id("stCheckbox").filter(has=why).locator("label").click()  # its input is visually hidden
    expect(why).to_be_checked(timeout=PAGE_TIMEOUT_MS)
    # the page has shown why for the 7: the bin is pressed on a settled page, the 4 drawn without waiting for it.
    # (Pressed just as that run ends, the canvas may drop the press and keep the 7, and a 4 drawn over a 7 reads 7:
    # once in CI, once in 24 tries on one busy core; a race inside the canvas component, not the server's.)
    expect(draw_page.locator(CHART)).to_have_count(3, timeout=PAGE_TIMEOUT_MS)
    draw_page.locator(IDLE_APP).wait_for(timeout=PAGE_TIMEOUT_MS)
    draw_page.locator(CANVAS).hover()
    draw_page.get_by_role("button", name=CLEAR_BUTTON).click()
    draw(draw_page, 4)  # at once, without waiting for the page
    expect(prediction(draw_page)).to_have_text("4", timeout=PAGE_TIMEOUT_MS)
    expect(why).to_be_checked()
    expect(draw_page.locator(CHART)).to_have_count(3)  # the probabilities, what the model sees, and why


def test_no_stroke_is_lost_in_20_clears_followed_by_drawing_within_half_a_second(draw_page):
    """The issue's sweep: draw again 0 to 0.5 s after pressing the bin, 20 times, alternating a 4 (two strokes:
    losing one reads 1 or 7) and a 7 (drawn over a 4 that was not cleared, it reads 4 or 9)."""
    draw(draw_page, 4)
    expect(prediction(draw_page)).to_have_text("4", timeout=PAGE_TIMEOUT_MS)
    for attempt in range(20):
        digit = 7 if attempt % 2 == 0 else 4
        draw_page.locator(CANVAS).hover()
        draw_page.get_by_role("button", name=CLEAR_BUTTON).click()
        draw_page.wait_for_timeout(attempt * 500 / 19)
        draw(draw_page, digit)
        expect(prediction(draw_page)).to_have_text(str(digit), timeout=PAGE_TIMEOUT_MS)


def metric_value(page, label: str):
    return page.locator('[data-testid="stMetric"]', has_text=label).locator('[data-testid="stMetricValue"]')


def draw_text(page, text: str) -> None:
    """Draw digits and shapes ("*" a star, "x" a cross) side by side on the canvas, as tall as it allows."""
    box = canvas_box(page)
    trace(page, placed(text, box["x"], box["y"], box["height"]))


def test_a_drawn_star_is_not_taken_for_a_digit(draw_page):
    draw_text(draw_page, "*")
    expect(draw_page.get_by_text("That doesn't look like a digit")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(metric_value(draw_page, "Closest digit")).to_have_text(re.compile(r"^[0-9]$"))
    expect(prediction(draw_page)).to_have_count(0)
    expect(draw_page.locator(CHART)).to_have_count(2)
    expect(draw_page.locator(EXCEPTION)).to_have_count(0)
    save_screenshot(draw_page, "draw_not_a_digit")


def test_a_number_drawn_in_number_mode_is_read_digit_by_digit(draw_page):
    switch_mode(draw_page, "A number", NUMBER_HINT)
    box = canvas_box(draw_page)
    assert box["width"] >= 2.5 * box["height"]  # wide enough for several digits
    draw_text(draw_page, "42")
    expect(metric_value(draw_page, "Number")).to_have_text("42", timeout=PAGE_TIMEOUT_MS)
    expect(draw_page.locator(CHART)).to_have_count(2)  # one probability chart per digit
    expect(draw_page.get_by_text("doesn't look like a digit")).to_have_count(0)
    save_screenshot(draw_page, "draw_number")
    clear(draw_page, NUMBER_HINT)
    expect(metric_value(draw_page, "Number")).to_have_count(0)


@pytest.mark.parametrize("name, kind", [("photo.jpg", "image/jpeg"), ("scan.tif", "image/tiff")])
def test_an_uploaded_photo_or_scan_of_a_digit_is_read_and_shown(draw_page, name, kind):
    photo = photo_of("3")
    content = photo if kind == "image/jpeg" else sixteen_bit(np.asarray(Image.open(io.BytesIO(photo)).convert("L")), "TIFF")
    draw_page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        files=[{"name": name, "mimeType": kind, "buffer": content}]
    )
    expect(prediction(draw_page)).to_have_text("3", timeout=PAGE_TIMEOUT_MS)
    shown = draw_page.get_by_test_id("stImage").filter(has_text=name).locator("img")
    expect(shown).to_have_js_property("complete", True)
    assert shown.evaluate("image => image.naturalWidth") > 0  # decoded by the browser, not a broken-image icon
    expect(draw_page.get_by_text("doesn't look like a digit")).to_have_count(0)
    expect(draw_page.locator(EXCEPTION)).to_have_count(0)


@pytest.mark.parametrize("link, heading", [("Explore", "Explore the test set"), ("Error analysis", "Error analysis")])
def test_each_page_renders_its_charts_without_an_exception(draw_page, link, heading):
    page = draw_page
    page.get_by_role("link", name=link).click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    expect(page.locator(CHART).first).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    save_screenshot(page, link.lower().replace(" ", "_"))
    for chart in page.locator(CHART).all():
        expect(chart.locator(".gtitle")).not_to_be_empty()
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_every_page_renders_offline_without_fetching_from_outside_the_machine(dashboard_url, page):
    """Nothing a page shows (a favicon, a font, a script) comes from the internet: the dashboard works offline and
    tells no one who opens it."""
    outside = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith((dashboard_url, "data:", "blob:")) else None)
    open_draw_page(page, dashboard_url)
    links = [link.get_attribute("href") for link in page.get_by_test_id("stSidebarNav").get_by_role("link").all()]
    assert len(links) == 12
    for link in links:
        page.goto(link)
        expect(page.locator("h1").first).to_be_visible(timeout=PAGE_TIMEOUT_MS)
        page.locator(IDLE_APP).wait_for(timeout=PAGE_TIMEOUT_MS)
        expect(page.locator(EXCEPTION)).to_have_count(0)
    assert outside == []


def test_explore_refuses_an_id_outside_the_test_set(draw_page):
    page = draw_page
    page.get_by_role("link", name="Explore").click()
    field = page.get_by_label("Open a test image by id")
    shown = page.get_by_text("True label").inner_text(timeout=PAGE_TIMEOUT_MS)
    field.fill("12000")
    field.press("Enter")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("True label")).to_have_text(shown)
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_a_fresh_server_opened_on_a_page_url_still_shows_the_router(browser):
    """Streamlit's old pages/ behaviour would run the page alone for the very first visitor."""
    with running_dashboard() as (url, _, _):
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{url}/confusion")
        expect(page.get_by_role("heading", name="Confusion matrix")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
        expect(page.get_by_test_id("stSidebar").get_by_text("Test accuracy")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
        expect(page.get_by_test_id("stSidebar").get_by_role("link", name="Why this prediction")).to_be_visible()
        page.close()
