"""Feedback and monitoring in a real browser: draw, say whether it was right, find it on the Collected and
Monitoring pages, click a bar to see the inputs behind it."""

from datetime import datetime, timedelta, timezone

import numpy as np
from dashboard_driver import draw, open_draw_page, prediction, save_screenshot, wait_for_new_prediction
from playwright.sync_api import expect
from scipy import ndimage

from digitlens.store import Served, Store

RENDER_MS = 90_000
CHART = ".js-plotly-plot"


def click_bar(page, chart_index: int, trace_name: str) -> None:
    """Click the middle of what shows of the last bar of a chart's trace, as a person would (on a log axis a bar
    reaches down past the plot, clipped at its bottom)."""
    chart = page.locator(CHART).nth(chart_index)
    chart.scroll_into_view_if_needed()
    trace = chart.evaluate("(plot, name) => plot._fullData.findIndex(trace => trace.name === name)", trace_name)
    bar = chart.locator(".barlayer .trace").nth(trace).locator(".point path").last.bounding_box()
    plot_area = chart.locator(".nsewdrag").first.bounding_box()
    top, bottom = max(bar["y"], plot_area["y"]), min(bar["y"] + bar["height"], plot_area["y"] + plot_area["height"])
    x, y = bar["x"] + bar["width"] / 2, (top + bottom) / 2
    page.mouse.move(x, y)
    page.mouse.click(x, y)


def said_earlier(test_set, predictor) -> None:
    """Feedback given earlier on test images: the model right on most, corrected on its mistakes."""
    images, labels = test_set
    wrong = np.flatnonzero(predictor.predict(images[:3000]) != labels[:3000])[:6]
    for index in [*range(10), *wrong]:
        probabilities = predictor.predict_proba(images[index])[0]
        answer = int(probabilities.argmax())
        verdict, label = ("right", None) if answer == labels[index] else ("wrong", int(labels[index]))
        Store().save_feedback(images[index], probabilities, verdict, label, model=predictor.fingerprint)


def test_a_drawing_marked_wrong_is_saved_and_listed_on_the_collected_page(dashboard_url, page, test_set, predictor):
    said_earlier(test_set, predictor)
    open_draw_page(page, dashboard_url)
    draw(page, 3)
    wait_for_new_prediction(page)
    answer = prediction(page).inner_text()
    other = "5" if answer != "5" else "3"
    form = page.locator(".st-key-drawing_feedback_form")
    expect(form.get_by_text("Was this right?")).to_be_visible(timeout=RENDER_MS)
    form.get_by_role("radio", name=other, exact=True).click()  # a pill of "No, it was a"
    expect(page.get_by_text(f"Thanks, saved: it was a {other}, not a {answer}")).to_be_visible(timeout=RENDER_MS)

    page.goto(f"{dashboard_url}/collected")
    expect(page.get_by_role("heading", name="Collected feedback")).to_be_visible(timeout=RENDER_MS)
    expect(page.get_by_text(f"model {answer} · it was {other}").first).to_be_visible(timeout=RENDER_MS)
    expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=RENDER_MS)
    expect(page.get_by_test_id("stDownloadButton")).to_be_visible(timeout=RENDER_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    save_screenshot(page, "collected")


def served_earlier(test_set, predictor) -> None:
    """A day of API traffic in the dashboard's log: MNIST test images every hour, thick strokes in the last one."""
    images = test_set[0][:600]
    thick = np.stack([ndimage.grey_dilation(image, size=5) for image in images[:150]])
    now = datetime.now(timezone.utc)
    batches = [(now - timedelta(hours=hours, minutes=5), images[hours * 30 : hours * 30 + 30]) for hours in range(1, 20)]
    batches.append((now - timedelta(minutes=20), thick))
    Store().save_predictions([
        Served(time, "api", batch, predictor.predict_proba(batch), None, 3.0 + len(batch) / 50, predictor.fingerprint)
        for time, batch in batches
    ])


def test_monitoring_shows_the_drawings_served_and_a_bar_opens_its_inputs(dashboard_url, page, test_set, predictor):
    served_earlier(test_set, predictor)
    open_draw_page(page, dashboard_url)
    draw(page, 7)
    wait_for_new_prediction(page)
    expect(prediction(page)).to_have_text("7")
    page.goto(f"{dashboard_url}/monitoring")
    expect(page.get_by_role("heading", name="Monitoring")).to_be_visible(timeout=RENDER_MS)
    expect(page.locator(CHART)).to_have_count(6, timeout=RENDER_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    # what else is flagged depends on what the other tests drew in this dashboard
    expect(page.get_by_text("Drift.")).to_be_visible()
    expect(page.get_by_text("look unlike MNIST")).to_be_visible()
    # the drawing beside the newest hour's 150 API images: on the log axis still a bar to click
    click_bar(page, 0, "Dashboard drawing")  # predictions served over time: the newest bar holds the drawings just made
    expect(page.get_by_role("heading", name="from dashboard drawing")).to_be_visible(timeout=RENDER_MS)
    expect(page.get_by_test_id("stImage").first).to_be_visible(timeout=RENDER_MS)
    save_screenshot(page, "monitoring")
