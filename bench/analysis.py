"""How fast do the error-analysis pages open, cold and warm? Measured in headless Chromium on a real dashboard.

Each page is opened as a user does: from the sidebar of the running app, timed from the click until the page's
charts, images and last text have rendered and nothing on screen is stale.
Cold: a fresh `streamlit run dashboard.py` whose disk cache is empty (DIGITLENS_CACHE_DIR points at a new folder),
pages opened once each in order, so the first pays for the test-set probabilities (the embedding map reads the
UMAP map shipped beside the committed model; for another model it would pay for the embeddings and the map). Warm: a fresh dashboard over the filled cache/ folder, in-memory caches empty (1st
open), then each page again (2nd open). The why page computes saliency on every open; its first open in a
process also loads TensorFlow and the Keras model.
Target on a 2-core CPU: every analysis page opens warm within 3 s.
Run: python bench/analysis.py
"""

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from dashboard_driver import VIEWPORT, launch_chromium, open_draw_page, running_dashboard  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from digitlens import analysis, data  # noqa: E402
from digitlens.model import Predictor  # noqa: E402

TARGET_WARM_SECONDS = 3
TIMEOUT_MS = 180_000
# Each page: its sidebar link, then what it shows when complete (Plotly charts, loaded images, its last text).
PAGES = {
    "Confusion matrix": (1, 0, "Click a cell of the matrix"),
    "Confidence": (2, 48, "Least confident right answers"),
    "Suspicious labels": (0, 40, "The ranking as a table"),
    "Review labels": (1, 1, "All verdicts, every split"),
    "Embedding map": (1, 0, "Click a dot to open its image"),
    "Why this prediction": (2, 0, "Test image #"),
}
RENDERED = """([charts, images, text]) =>
    document.querySelectorAll('.js-plotly-plot .main-svg').length >= charts
    && [...document.querySelectorAll('[data-testid="stImage"] img')].filter(img => img.complete && img.naturalWidth).length >= images
    && document.body.innerText.includes(text)
    && !document.querySelector('[data-stale="true"], [data-testid="stSkeleton"]')"""


def fill_cache() -> None:
    """Fill cache/ so that the warm runs are warm."""
    images, _ = data.load("test")
    predictor = Predictor.load()
    analysis.cached_test_probabilities(predictor, images)
    analysis.cached_embeddings(predictor, images)
    analysis.cached_test_umap(predictor, images)


def open_seconds(page, link: str, expected: tuple) -> float:
    """Seconds from clicking the page's sidebar link until everything it shows has rendered."""
    started = time.perf_counter()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=link, exact=True).click()
    page.wait_for_function(RENDERED, arg=list(expected), timeout=TIMEOUT_MS, polling=50)
    return time.perf_counter() - started


def time_pages(browser, visits: int) -> dict[str, list[float]]:
    """Open every analysis page `visits` times, in order, in one tab of a fresh dashboard."""
    timings = {link: [] for link in PAGES}
    with running_dashboard() as (url, _, _):
        page = browser.new_page(viewport=VIEWPORT)
        open_draw_page(page, url)
        for _ in range(visits):
            for link, expected in PAGES.items():
                timings[link].append(open_seconds(page, link, expected))
        page.close()
    return timings


def main() -> None:
    fill_cache()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        with tempfile.TemporaryDirectory() as empty_cache:
            os.environ["DIGITLENS_CACHE_DIR"] = empty_cache
            cold = time_pages(browser, visits=1)
            del os.environ["DIGITLENS_CACHE_DIR"]
        warm = time_pages(browser, visits=2)
        browser.close()

    print(f"{'page':<22}{'cold':>8}{'warm, 1st':>12}{'warm, 2nd':>12}")
    for link in PAGES:
        print(f"{link:<22}{cold[link][0]:>7.2f}s{warm[link][0]:>11.2f}s{warm[link][1]:>11.2f}s")
    slowest = max(seconds for link in PAGES for seconds in warm[link])
    verdict = "met" if slowest <= TARGET_WARM_SECONDS else "MISSED"
    print(f"slowest warm open {slowest:.2f} s; target <= {TARGET_WARM_SECONDS} s: {verdict}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
