"""The error-analysis pages in a real browser: click a confusion cell, open an image, lasso the embedding map."""

import pytest
from dashboard_driver import IDLE_APP, draw, open_draw_page, save_screenshot, wait_for_new_prediction
from playwright.sync_api import expect

from digitlens import analysis

RENDER_MS = 90_000  # a cold embedding of the test set loads TensorFlow
CHART = ".js-plotly-plot"
GALLERY_LIMIT = 48
TO_SCREEN = """(plot, [x, y]) => {
    const xaxis = plot._fullLayout.xaxis, yaxis = plot._fullLayout.yaxis, box = plot.getBoundingClientRect();
    return [box.left + xaxis._offset + xaxis.l2p(x), box.top + yaxis._offset + yaxis.l2p(y)];
}"""
MEAN_OF_TRACE = """(plot, index) => {
    const mean = values => values.reduce((a, b) => a + b, 0) / values.length;
    return [mean(plot._fullData[index].x), mean(plot._fullData[index].y)];
}"""


@pytest.fixture(scope="module")
def top_confusion(predictor, test_set):
    images, labels = test_set
    predictions = analysis.predictions_table(labels, analysis.cached_test_probabilities(predictor, images))
    return analysis.top_confusions(analysis.confusion_matrix(predictions["label"], predictions["predicted"]), 1).iloc[0]


@pytest.fixture(scope="module")
def umap_made(predictor, test_set):
    """The embedding map ready outside any page timeout: the committed model's is shipped beside it and only read,
    but a model without one made its first over 90 s on a new 2-core machine (numba, the embeddings, then UMAP)."""
    analysis.cached_test_umap(predictor, test_set[0])


def open_page(page, url: str, path: str, title: str) -> None:
    page.goto(f"{url}/{path}")
    expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=RENDER_MS)
    page.locator(CHART).first.wait_for(timeout=RENDER_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def screen_point(page, x: float, y: float) -> tuple[float, float]:
    """Screen pixels of data coordinates (x, y) on the first chart, by Plotly's own axes."""
    chart = page.locator(CHART).first
    chart.scroll_into_view_if_needed()
    return chart.evaluate(TO_SCREEN, [x, y])


def click_confusion_cell(page, true: int, predicted: int) -> None:
    x, y = screen_point(page, predicted, true)
    page.mouse.move(x, y)
    page.mouse.click(x, y)


def test_clicking_a_confusion_cell_shows_its_images(dashboard_url, page, top_confusion):
    open_page(page, dashboard_url, "confusion", "Confusion matrix")
    true, predicted, count = int(top_confusion["true"]), int(top_confusion["predicted"]), int(top_confusion["count"])
    click_confusion_cell(page, true, predicted)
    expect(page.get_by_role("heading", name=f"True {true}, predicted {predicted}")).to_be_visible(timeout=RENDER_MS)
    expect(page.get_by_test_id("stImage")).to_have_count(min(count, GALLERY_LIMIT), timeout=RENDER_MS)
    save_screenshot(page, "confusion")


def test_a_gallery_image_opens_its_probabilities_and_links_to_why(dashboard_url, page, top_confusion):
    open_page(page, dashboard_url, "confusion", "Confusion matrix")
    click_confusion_cell(page, int(top_confusion["true"]), int(top_confusion["predicted"]))
    page.get_by_test_id("stImage").first.wait_for(timeout=RENDER_MS)
    page.get_by_role("button", name="#").first.click()  # each thumbnail's button is its test id, "#1234"
    dialog = page.get_by_role("dialog")
    expect(dialog.locator(CHART)).to_have_count(1, timeout=RENDER_MS)
    dialog.get_by_role("link", name="Why this prediction?").click()
    expect(page.get_by_role("heading", name="Why this prediction?")).to_be_visible(timeout=RENDER_MS)
    expect(page.locator(CHART)).to_have_count(2, timeout=RENDER_MS)


@pytest.mark.parametrize(
    "path, title, charts, images",
    [
        ("confidence", "Confidence and calibration", 2, GALLERY_LIMIT),
        ("suspicious", "Suspicious labels", 0, 40),
        ("why", "Why this prediction?", 2, 0),
    ],
)
def test_analysis_page_renders(dashboard_url, page, path, title, charts, images):
    page.goto(f"{dashboard_url}/{path}")
    expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=RENDER_MS)
    expect(page.locator(CHART)).to_have_count(charts, timeout=RENDER_MS)
    if images:
        expect(page.get_by_test_id("stImage")).to_have_count(images, timeout=RENDER_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    save_screenshot(page, path)


def test_embedding_map_draws_every_image_and_a_lasso_shows_images(dashboard_url, page, umap_made):
    open_page(page, dashboard_url, "embedding", "Embedding map")
    chart = page.locator(CHART).first
    expect(chart.locator("canvas").first).to_be_attached()
    assert chart.evaluate("plot => plot._fullData.slice(0, 10).reduce((n, trace) => n + trace._length, 0)") == 10_000
    x, y = screen_point(page, *chart.evaluate(MEAN_OF_TRACE, 1))  # the middle of the 1s
    page.mouse.move(x, y)  # the toolbar shows while the pointer is over the chart
    chart.locator('[data-title="Lasso Select"]').click()
    page.mouse.move(x - 15, y - 15)
    page.mouse.down()
    for dx, dy in [(15, -15), (15, 15), (-15, 15), (-15, -15)]:
        page.mouse.move(x + dx, y + dy, steps=5)
    page.mouse.up()
    expect(page.get_by_role("heading", name="selected images")).to_be_visible(timeout=RENDER_MS)
    page.get_by_test_id("stImage").first.wait_for(timeout=RENDER_MS)
    save_screenshot(page, "embedding")


def test_clicking_one_dot_of_the_embedding_map_opens_its_image(dashboard_url, page, umap_made):
    open_page(page, dashboard_url, "embedding", "Embedding map")
    chart = page.locator(CHART).first
    expect(chart.locator("canvas").first).to_be_attached()
    page.locator(IDLE_APP).wait_for(timeout=RENDER_MS)
    page.wait_for_timeout(1000)  # Plotly draws the WebGL points after the page is idle
    x, y = chart.evaluate("plot => { const t = plot._fullData[10]; return [t.x[0], t.y[0]]; }")
    x, y = screen_point(page, x, y)
    page.mouse.move(x, y)  # Plotly finds the dot under the pointer as it moves; the click then selects it
    page.wait_for_timeout(300)
    page.mouse.click(x, y)  # on a mistake's cross, or the dot under it
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("of the test set: labelled")).to_be_visible(timeout=RENDER_MS)
    expect(dialog.locator(CHART)).to_have_count(1, timeout=RENDER_MS)
    opened = dialog.get_by_text("of the test set: labelled").inner_text().split(" ")[0]
    page.keyboard.press("Escape")
    expect(page.get_by_role("heading", name="1 selected image")).to_be_visible(timeout=RENDER_MS)
    expect(page.get_by_role("button", name=opened)).to_be_visible()  # the same image, in the gallery below


def test_draw_page_shows_the_mnist_images_most_alike_a_drawn_digit(dashboard_url, page):
    open_draw_page(page, dashboard_url)
    draw(page, 7)
    wait_for_new_prediction(page)
    page.get_by_text("Show the MNIST images most alike").click()
    neighbours = page.get_by_text(" · distance ")
    expect(neighbours).to_have_count(4, timeout=RENDER_MS)
    assert sum(" · label 7 · " in text for text in neighbours.all_inner_texts()) >= 3
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_draw_page_explains_a_drawn_digit_on_request(dashboard_url, page):
    open_draw_page(page, dashboard_url)
    draw(page, 7)
    wait_for_new_prediction(page)
    page.get_by_text("Why this prediction?").click()
    expect(page.locator(CHART, has_text="Which ink spoke")).to_have_count(1, timeout=RENDER_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_why_colours_the_ink_of_a_digit_read_at_probability_1(dashboard_url, page, saturated_image_id):
    """A test image read with a probability that rounds to 1: occlusion on log-probabilities left its map blank."""
    open_page(page, dashboard_url, f"why?id={saturated_image_id}", "Why this prediction?")
    maps = page.locator(CHART, has_text="Which ink spoke")
    expect(maps).to_have_count(1, timeout=RENDER_MS)
    # the predicted digit's map is the first panel's second heatmap (the first is the grey image under it)
    strongest = maps.evaluate("plot => Math.max(...plot._fullData[1].z.flatMap(row => Array.from(row, Math.abs)))")
    assert strongest > 1  # log-odds lost where ink is blanked: a visible colour
