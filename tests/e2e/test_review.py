"""The guided demo and label review in a real browser: walk the demo, review a label, reload, export."""

import csv
import io

from dashboard_driver import IDLE_APP, VIEWPORT, open_draw_page, running_dashboard, save_screenshot
from playwright.sync_api import expect

RENDER_MS = 90_000


def demo_step(page, step: int):
    return page.get_by_text(f"Demo, step {step} of 3.")


def test_the_guided_demo_walks_draw_explore_and_error_analysis(dashboard_url, page):
    open_draw_page(page, dashboard_url)
    expect(demo_step(page, 1)).to_have_count(0)
    page.get_by_test_id("stSidebar").get_by_role("button", name="Guided demo").click()
    for step, heading in [(1, "Draw a digit"), (2, "Explore the test set"), (3, "Error analysis")]:
        expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=RENDER_MS)
        expect(demo_step(page, step)).to_be_visible(timeout=RENDER_MS)
        if step == 2:
            save_screenshot(page, "demo")
        page.get_by_role("button", name="Next" if step < 3 else "Finish").click()
    expect(demo_step(page, 3)).to_have_count(0, timeout=RENDER_MS)
    expect(page.get_by_role("heading", name="Error analysis")).to_be_visible()


def test_a_review_is_saved_survives_a_reload_and_is_exported(dashboard_url, page):
    page.goto(f"{dashboard_url}/review")
    expect(page.get_by_role("heading", name="Review labels")).to_be_visible(timeout=RENDER_MS)
    shown = page.get_by_text("labelled").filter(has_text="the models suggest").first
    expect(shown).to_be_visible(timeout=RENDER_MS)
    image_id = shown.inner_text().split("#")[1].split(" ")[0]
    page.get_by_label("Your name").fill("e2e reviewer")
    page.get_by_label("Your name").press("Enter")
    wrong = page.get_by_role("button", name="Label is wrong: it is a")
    suggested = wrong.inner_text().rsplit(" ", 1)[1]
    wrong.click()
    expect(page.get_by_text(f"Saved #{image_id}")).to_be_visible(timeout=RENDER_MS)
    save_screenshot(page, "review")

    page.goto(f"{dashboard_url}/review?split=test&id={image_id}")  # a new session: only the database remembers
    expect(page.get_by_text(f"#{image_id}", exact=False).first).to_be_visible(timeout=RENDER_MS)
    expect(page.get_by_text("Reviewed by e2e reviewer on")).to_be_visible(timeout=RENDER_MS)
    page.locator(IDLE_APP).wait_for(timeout=RENDER_MS)  # the page has run: no rerun replaces what is clicked next
    page.get_by_text("All verdicts, every split").click()
    expect(page.get_by_test_id("stExpander").get_by_test_id("stDataFrame")).to_be_visible(timeout=RENDER_MS)
    with page.expect_download(timeout=RENDER_MS) as download:
        page.get_by_role("button", name="Download all verdicts (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert {"split": "test", "id": image_id, "verdict": "label_wrong", "corrected_label": suggested, "reviewer": "e2e reviewer"}.items() <= rows[-1].items()


def test_compare_page_and_the_model_switch(dashboard_url, page):
    from digitlens import MLP_PATH
    from digitlens.model import metrics_card

    page.goto(f"{dashboard_url}/compare")
    expect(page.get_by_role("heading", name="Compare models")).to_be_visible(timeout=RENDER_MS)
    expect(page.locator(".js-plotly-plot")).to_have_count(1, timeout=RENDER_MS)
    page.get_by_test_id("stImage").first.wait_for(timeout=RENDER_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    save_screenshot(page, "compare")

    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="The tutorial's MLP").click()
    accuracy = f"{metrics_card(MLP_PATH)['test_accuracy']:.2%}"
    expect(sidebar.get_by_test_id("stMetricValue").first).to_have_text(accuracy, timeout=RENDER_MS)
    expect(sidebar.get_by_text("mnist_mlp.keras")).to_be_visible()


def test_kill_9_of_the_dashboard_loses_no_saved_verdict(browser, tmp_path, monkeypatch):
    from digitlens.store import Store

    url_of_database = f"sqlite:///{tmp_path / 'reviews.db'}"
    monkeypatch.setenv("DIGITLENS_DATABASE_URL", url_of_database)  # the dashboard started below reads it
    with running_dashboard() as (url, _, process):
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{url}/review")
        wrong = page.get_by_role("button", name="Label is wrong: it is a")
        expect(wrong).to_be_visible(timeout=RENDER_MS)
        shown = page.get_by_text("labelled").filter(has_text="the models suggest").first.inner_text()
        wrong.click()
        expect(page.get_by_text("Saved #")).to_be_visible(timeout=RENDER_MS)
        process.kill()  # SIGKILL: no shutdown, no flush
        process.wait()
        page.close()
    (review,) = Store(url_of_database).history()
    assert f"#{review.image_id} " in f"{shown} " and review.verdict == "label_wrong"
