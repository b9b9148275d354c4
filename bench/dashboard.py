"""How fast does the dashboard feel? Cold start and draw-to-prediction latency, measured in headless Chromium.

Cold start: from launching a fresh `streamlit run dashboard.py` until the draw page (canvas and hint) has rendered.
Draw latency: from releasing the mouse after drawing a digit to the Prediction metric showing it, timed inside the
browser (the canvas component itself waits 200 ms after a release before it sends the drawing).
Targets on a 2-core CPU: cold start at most 5 s, draw latency at most 500 ms.
Run: python bench/dashboard.py [--starts 3] [--drawings 20]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from dashboard_driver import (  # noqa: E402
    VIEWPORT,
    clear,
    draw,
    launch_chromium,
    open_draw_page,
    running_dashboard,
    single_stroke_digits,
    wait_for_new_prediction,
)
from playwright.sync_api import sync_playwright  # noqa: E402

TARGET_START_SECONDS = 5
TARGET_LATENCY_MS = 500


def cold_start_seconds(browser) -> float:
    """Seconds from `streamlit run` to the first page rendered, in a fresh server and a fresh browser tab."""
    with running_dashboard() as (url, started):
        page = browser.new_page(viewport=VIEWPORT)
        open_draw_page(page, url)
        seconds = time.perf_counter() - started
        page.close()
    return seconds


def draw_latencies_ms(browser, drawings: int) -> list[float]:
    """Release-to-prediction latency of single-stroke digits drawn one after the other on a cleared canvas."""
    digits = single_stroke_digits()
    with running_dashboard() as (url, _):
        page = browser.new_page(viewport=VIEWPORT)
        open_draw_page(page, url)
        draw(page, digits[0])  # warm-up: the first prediction loads the model and Plotly in the browser
        wait_for_new_prediction(page)
        latencies = []
        for index in range(drawings):
            clear(page)
            draw(page, digits[index % len(digits)])
            latencies.append(wait_for_new_prediction(page))
        page.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=3, help="cold starts to time (default 3)")
    parser.add_argument("--drawings", type=int, default=20, help="digits to draw (default 20)")
    args = parser.parse_args()

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        starts = [cold_start_seconds(browser) for _ in range(args.starts)]
        latencies = draw_latencies_ms(browser, args.drawings)
        browser.close()

    start = statistics.median(starts)
    latency = statistics.median(latencies)
    print(f"cold start:   median {start:.2f} s over {len(starts)} starts ({', '.join(f'{s:.2f}' for s in starts)}); "
          f"target <= {TARGET_START_SECONDS} s: {'met' if start <= TARGET_START_SECONDS else 'MISSED'}")
    print(f"draw latency: median {latency:.0f} ms, max {max(latencies):.0f} ms over {len(latencies)} drawings; "
          f"target <= {TARGET_LATENCY_MS} ms: {'met' if latency <= TARGET_LATENCY_MS else 'MISSED'}")


if __name__ == "__main__":
    main()
