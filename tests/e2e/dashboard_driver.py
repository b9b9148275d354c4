"""Drive the dashboard in a real browser: start `streamlit run dashboard.py`, open Chromium, draw digits with the mouse.

Shared by the browser tests (tests/e2e/test_dashboard.py) and the benchmark (bench/dashboard.py).
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import expect

from digitlens.strokes import DIGIT_STROKES, canvas_points

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
SCREENSHOTS_DIR = os.environ.get("DIGITLENS_SCREENSHOTS")
SETTLE_MS = 1000  # Plotly redraws its charts after the viewport grows
STARTUP_TIMEOUT_SECONDS = 60
RENDER_TIMEOUT_MS = 30_000
CLEAR_BUTTON = "Reset canvas & history"  # the bin of streamlit-drawable-canvas's toolbar
CANVAS = "canvas.upper-canvas"  # fabric.js's drawing surface, above the canvas that shows the strokes
DRAWING_CURSOR = "crosshair"  # what fabric.js shows over it once its pen is on
POLL_MS = 50
HINT = "Draw a digit (0-9) in the box"
NUMBER_HINT = "Write a number in the box, its digits side by side"
IDLE_APP = '[data-test-script-state="notRunning"]'  # Streamlit's marker: no script run in progress
MARGIN = 0.12  # share of the canvas left free around the digit
MOUSE_STEPS = 3  # intermediate mouse events between two stroke points, like a real hand

# Records each value the Prediction metric shows and when, and when the mouse was last released:
# the draw latency is then measured inside the browser, free of Playwright's round trips.
WATCH_PREDICTION = """() => {
    window.digitlensShown = [];
    window.digitlensReleasedAt = null;
    document.addEventListener("mouseup", () => { window.digitlensReleasedAt = performance.now(); }, true);
    const current = () => {
        const metric = [...document.querySelectorAll('[data-testid="stMetric"]')]
            .find(element => element.textContent.includes("Prediction"));
        return metric ? metric.querySelector('[data-testid="stMetricValue"]').textContent.trim() : null;
    };
    let last = current();
    new MutationObserver(() => {
        const value = current();
        if (value !== last) { last = value; window.digitlensShown.push([performance.now(), value]); }
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""
LATENCY_SINCE_RELEASE = """() => {
    const shown = window.digitlensShown.find(([at]) => at > window.digitlensReleasedAt);
    return shown ? shown[0] - window.digitlensReleasedAt : null;
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def running_dashboard():
    """A fresh `streamlit run dashboard.py` on a free port: yields (url, start time, process) once it answers, then
    stops it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--browser.gatherUsageStats", "false"]
    log = tempfile.TemporaryFile()  # not a pipe: a full pipe would block the server
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        while not answers(url):
            if process.poll() is not None or time.perf_counter() - started > STARTUP_TIMEOUT_SECONDS:
                log.seek(0)
                raise RuntimeError(f"the dashboard did not start:\n{log.read().decode(errors='replace')}")
            time.sleep(0.05)
        yield url, started, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def save_screenshot(page, name: str) -> None:
    """The whole page as SCREENSHOTS_DIR/name.png when that variable names a folder (the README's come from
    `DIGITLENS_SCREENSHOTS=docs/screenshots python -m pytest tests/e2e`); otherwise nothing is written."""
    if not SCREENSHOTS_DIR:
        return
    page.wait_for_function("[...document.images].every(image => image.complete)", timeout=RENDER_TIMEOUT_MS)
    screen = page.viewport_size  # a phone's stays a phone's
    height = screen["height"]
    # Streamlit scrolls inside stMain; charts below the fold render once visible and may make the page longer
    while (needed := page.locator('[data-testid="stMain"]').evaluate("main => main.scrollHeight")) > height:
        height = needed
        page.set_viewport_size({"width": screen["width"], "height": height})
        page.wait_for_timeout(SETTLE_MS)
    Path(SCREENSHOTS_DIR).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=Path(SCREENSHOTS_DIR) / f"{name}.png")
    page.set_viewport_size(screen)


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def open_draw_page(page, url: str) -> None:
    """Load the landing page and wait until the hint has rendered and the canvas takes strokes."""
    page.goto(url)
    page.get_by_text(HINT).wait_for(timeout=RENDER_TIMEOUT_MS)
    page.locator(IDLE_APP).wait_for(timeout=RENDER_TIMEOUT_MS)
    wait_until_drawable(page)
    page.evaluate(WATCH_PREDICTION)


def wait_until_drawable(page) -> None:
    """Hover over the one canvas until fabric.js shows its drawing cursor: the pen is on.

    A new canvas turns its pen on only once it has loaded its (empty) initial drawing, a moment after it
    appears; strokes drawn before are lost. While the mode changes, the old canvas is still there beside the new.
    """
    canvas = page.locator(CANVAS)
    expect(canvas).to_have_count(1, timeout=RENDER_TIMEOUT_MS)
    canvas.wait_for(timeout=RENDER_TIMEOUT_MS)  # shown, so that it has a box to hover over
    deadline = time.monotonic() + RENDER_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + 2, box["y"] + 2)
        page.mouse.move(box["x"] + 3, box["y"] + 3)
        if canvas.evaluate("surface => surface.style.cursor") == DRAWING_CURSOR:
            return
        page.wait_for_timeout(POLL_MS)
    raise TimeoutError("the canvas never turned its pen on")


def prediction(page):
    """The Prediction metric's value element."""
    return page.locator('[data-testid="stMetric"]', has_text="Prediction").locator('[data-testid="stMetricValue"]')


def canvas_box(page) -> dict:
    """The drawing surface's x, y, width and height on the screen."""
    return page.locator(CANVAS).bounding_box()


def draw(page, digit: int) -> None:
    """Draw the digit's pen strokes on the (square) canvas, leaving a margin around it."""
    box = canvas_box(page)
    side = box["width"] * (1 - 2 * MARGIN)
    trace(page, canvas_points(digit, box["x"] + box["width"] * MARGIN, box["y"] + box["height"] * MARGIN, side))


def trace(page, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw strokes given in screen coordinates: press, move in small steps, release, stroke after stroke."""
    for stroke in strokes:
        page.mouse.move(*stroke[0])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(x, y, steps=MOUSE_STEPS)
        page.mouse.up()


def switch_mode(page, mode: str, hint: str) -> None:
    """Pick "One digit" or "A number" above the canvas; wait for the new, empty canvas and its hint."""
    page.get_by_role("radio", name=mode).click()
    page.get_by_text(hint).wait_for(timeout=RENDER_TIMEOUT_MS)
    page.locator(IDLE_APP).wait_for(timeout=RENDER_TIMEOUT_MS)
    wait_until_drawable(page)


def latency_ms(page) -> float | None:
    """Milliseconds from the last mouse release to the next change of the prediction, None if it has not changed."""
    return page.evaluate(LATENCY_SINCE_RELEASE)


def wait_for_new_prediction(page) -> float:
    """Wait until the prediction changes after the last release (on a clear canvas it always does); its latency."""
    page.wait_for_function(f"({LATENCY_SINCE_RELEASE})() !== null", timeout=RENDER_TIMEOUT_MS)
    return latency_ms(page)


def clear(page, hint: str = HINT) -> None:
    """Press the bin of the canvas' toolbar (shown while the pointer is over the canvas); wait for the hint again."""
    page.locator(CANVAS).hover()
    page.get_by_role("button", name=CLEAR_BUTTON).click()
    page.get_by_text(hint).wait_for(timeout=RENDER_TIMEOUT_MS)
    page.locator(IDLE_APP).wait_for(timeout=RENDER_TIMEOUT_MS)


def single_stroke_digits() -> list[int]:
    """Digits drawn without lifting the pen: their release-to-prediction latency is always measurable."""
    return [digit for digit, strokes in DIGIT_STROKES.items() if len(strokes) == 1]
