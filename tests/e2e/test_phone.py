"""The dashboard on a phone: a 390x844 touch screen in Chromium, driven by touch, not the mouse."""

import pytest
from dashboard_driver import (
    CANVAS, HINT, IDLE_APP, MARGIN, RENDER_TIMEOUT_MS, canvas_box, canvas_points, prediction, save_screenshot,
)
from playwright.sync_api import expect

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
CHART = ".js-plotly-plot"
TOUCH_STEPS = 4  # touch moves between two stroke points, like a finger
SWIPE_PX, SWIPE_STEPS = 300, 15


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    yield page
    context.close()


def touch_trace(page, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw strokes with one finger: touch down, move in small steps, lift, stroke after stroke (Chrome's own input)."""
    session = page.context.new_cdp_session(page)
    for stroke in strokes:
        points = [stroke[0]]
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            points += [(x0 + (x1 - x0) * step / TOUCH_STEPS, y0 + (y1 - y0) * step / TOUCH_STEPS) for step in range(1, TOUCH_STEPS + 1)]
        session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]})
        for x, y in points[1:]:
            session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def main_scroll(page) -> float:
    """How far the page has scrolled (Streamlit scrolls its main area, not the window)."""
    return page.get_by_test_id("stMain").evaluate("main => main.scrollTop")


def test_a_digit_drawn_by_touch_on_a_phone_is_read(dashboard_url, phone):
    phone.goto(dashboard_url)
    phone.get_by_text(HINT).wait_for(timeout=RENDER_TIMEOUT_MS)
    phone.locator(CANVAS).wait_for(timeout=RENDER_TIMEOUT_MS)
    phone.locator(IDLE_APP).wait_for(timeout=RENDER_TIMEOUT_MS)
    phone.locator(CANVAS).scroll_into_view_if_needed()
    box = canvas_box(phone)
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["viewport"]["width"]  # the whole canvas on the screen
    side = box["width"] * (1 - 2 * MARGIN)
    touch_trace(phone, canvas_points(7, box["x"] + box["width"] * MARGIN, box["y"] + box["height"] * MARGIN, side))
    expect(prediction(phone)).to_have_text("7", timeout=RENDER_TIMEOUT_MS)
    phone.locator(IDLE_APP).wait_for(timeout=RENDER_TIMEOUT_MS)
    save_screenshot(phone, "phone_draw")


def test_a_swipe_over_a_chart_on_a_phone_scrolls_the_page(dashboard_url, phone):
    phone.goto(f"{dashboard_url}/error_analysis")
    chart = phone.locator(CHART).first
    chart.wait_for(timeout=RENDER_TIMEOUT_MS)
    phone.locator(IDLE_APP).wait_for(timeout=RENDER_TIMEOUT_MS)
    chart.scroll_into_view_if_needed()
    before = main_scroll(phone)
    box = chart.bounding_box()
    swipe_up(phone, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, SWIPE_PX)
    assert main_scroll(phone) > before + SWIPE_PX / 2  # the page moved under the finger; the chart did not zoom instead
    expect(phone.locator(".modebar-container").first).to_be_hidden()  # no toolbar over the charts on a phone
    for title in phone.locator(".js-plotly-plot .gtitle").all():  # every title within the screen, at 13 px
        box = title.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["viewport"]["width"], title.inner_text()
        assert title.evaluate("node => getComputedStyle(node).fontSize") == "13px"
    save_screenshot(phone, "phone_error_analysis")


def swipe_up(page, x: float, y: float, distance: float) -> None:
    """A finger pressed at (x, y) and moved up by distance at a reading pace, then lifted."""
    session = page.context.new_cdp_session(page)
    session.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, SWIPE_STEPS + 1):
        session.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y - distance * step / SWIPE_STEPS}]})
        page.wait_for_timeout(16)  # a frame: the browser recognises a scroll, not a jump
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_timeout(300)
