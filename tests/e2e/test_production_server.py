"""The production loop on the real server: every prediction served reaches the log, a kill -9 loses at most the
last second of it, logging can be turned off, and a real Prometheus scrapes /metrics."""

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from digitlens.prediction_log import LOG_ENV
from digitlens.store import DATABASE_ENV, Store
from servers import children, free_port, metric_samples, running_api
from shapes import png, written

SINGLE_REQUESTS = 300
BATCH_REQUESTS, BATCH_IMAGES = 3, 100
LOAD_SECONDS = 3  # of single-image requests before the kill -9
STOP_UNDER_LOAD_SECONDS = 1  # of single-image requests before the SIGTERM
LOSS_ALLOWED_SECONDS = 1.0  # the log flushes every 0.25 s: a kill -9 may lose what was answered since
PROMETHEUS = shutil.which("prometheus")
REQUIRE_PROMETHEUS_ENV = "DIGITLENS_REQUIRE_PROMETHEUS"  # set by .ci/run: a missing Prometheus fails instead of skipping
PROMETHEUS_SECONDS = 30  # to start, and to scrape what was sent


@pytest.fixture
def log_database(tmp_path, monkeypatch) -> str:
    """A scratch SQLite database, named to the servers the test starts through their environment."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    monkeypatch.setenv(DATABASE_ENV, url)
    return url


def single(image: np.ndarray) -> dict:
    return {"input": [image.ravel().tolist()]}


class SteadyClient(threading.Thread):
    """Single-image requests one after another until the server stops answering; notes when each 200 arrived."""

    def __init__(self, url: str, images: np.ndarray):
        super().__init__()
        self.url, self.images = url, images
        self.answered = []  # time.monotonic() as each 200 arrived
        self.other_statuses = []

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            for image in itertools.cycle(self.images):
                try:
                    response = client.post("/predict", json=single(image))
                except httpx.TransportError:  # the server has gone
                    return
                if response.status_code != 200:
                    self.other_statuses.append(response.status_code)
                    return
                self.answered.append(time.monotonic())


def by_time(table):
    """The log's rows in the order they were served: by time, a request's images (one time) in their order."""
    return table.sort_values(["time", "id"])


def wait_for(condition, seconds: float, what: str):
    """Poll condition() until it returns something true; fail naming what did not happen."""
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what} not within {seconds} s"
        time.sleep(0.25)
    return result


def test_every_prediction_served_is_logged_with_its_answer(tmp_path, log_database, test_set):
    images, _ = test_set
    sent, answers = [], []
    with running_api(tmp_path / "server.log") as (url, process), httpx.Client(base_url=url, timeout=30) as client:
        for image in images[:SINGLE_REQUESTS]:
            response = client.post("/predict", json=single(image))
            assert response.status_code == 200
            sent.append(image)
            answers += np.argmax(response.json(), axis=1).tolist()
        for start in range(SINGLE_REQUESTS, SINGLE_REQUESTS + BATCH_REQUESTS * BATCH_IMAGES, BATCH_IMAGES):
            batch = images[start : start + BATCH_IMAGES]
            response = client.post("/predict", json={"input": batch.reshape(len(batch), -1).tolist()})
            assert response.status_code == 200
            sent += list(batch)
            answers += np.argmax(response.json(), axis=1).tolist()
        upload = client.post("/predict/image", files={"file": ("seven.png", png(written("7")), "image/png")})
        assert upload.status_code == 200
        # Stopped under load, the last predictions are still queued when the workers close their logs: only the
        # final flush of a clean stop writes them.
        steady = SteadyClient(url, images)
        steady.start()
        time.sleep(STOP_UNDER_LOAD_SECONDS)
        process.terminate()
        process.wait(timeout=30)
        steady.join()
    assert process.returncode == 0 and steady.other_statuses == []

    logged = Store(log_database).predictions()
    assert len(logged.table) == Store(log_database).count_predictions() == len(answers) + 1 + len(steady.answered)
    assert Store(log_database).count_predictions("api") == len(answers) + len(steady.answered)
    assert Store(log_database).count_predictions("api_image") == 1

    rows = by_time(logged.table)
    through_predict = rows[rows["source"] == "api"][: len(answers)]  # the steady client's come after
    assert through_predict["answer"].tolist() == answers
    assert np.array_equal(logged.images[through_predict.index], np.array(sent))
    image_row = rows[rows["source"] == "api_image"].iloc[0]
    assert image_row["answer"] == upload.json()["digit"]
    assert np.array_equal(logged.images[image_row.name], upload.json()["image"])
    assert image_row["is_digit"] == upload.json()["is_digit"]
    assert (rows["latency_ms"] > 0).all() and rows["model"].str.len().gt(0).all()


def test_kill_9_loses_at_most_the_last_second_of_the_log(tmp_path, log_database, test_set):
    images, _ = test_set
    with running_api(tmp_path / "server.log", workers=1) as (url, process):
        assert children(process.pid) == []  # one worker serves in the process itself: the kill reaches all of it
        steady = SteadyClient(url, images)
        steady.start()
        time.sleep(LOAD_SECONDS)
        killed_at = time.monotonic()
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        steady.join()
    assert steady.other_statuses == []

    logged = Store(log_database).count_predictions()
    answered_long_before = sum(arrived < killed_at - LOSS_ALLOWED_SECONDS for arrived in steady.answered)
    assert answered_long_before > 100  # the load really ran: ~1 ms a request, a few on a busy machine
    assert answered_long_before <= logged, f"{len(steady.answered)} answered, {answered_long_before} of them over a second before the kill"
    assert logged <= len(steady.answered) + 1  # the request in flight at the kill may be logged before its answer came


def test_no_log_when_logging_is_off(tmp_path, log_database, monkeypatch, test_set):
    monkeypatch.setenv(LOG_ENV, "0")
    images, _ = test_set
    with running_api(tmp_path / "server.log") as (url, _), httpx.Client(base_url=url) as client:
        for image in images[:20]:
            assert client.post("/predict", json=single(image)).status_code == 200
        time.sleep(0.5)  # two flush periods, were the log on
        samples = metric_samples(client.get("/metrics").text)
    assert samples[("digitlens_logged_predictions_total",)] == 0
    database = Path(log_database.removeprefix("sqlite:///"))
    assert not database.exists() or Store(log_database).count_predictions() == 0


@pytest.fixture
def prometheus() -> str:
    """The Prometheus program; the test is skipped without it, except in CI (REQUIRE_PROMETHEUS_ENV), where it fails."""
    if PROMETHEUS is None:
        message = "Prometheus is not installed (Debian: apt-get install prometheus)"
        pytest.fail(message) if os.environ.get(REQUIRE_PROMETHEUS_ENV) else pytest.skip(message)
    return PROMETHEUS


@contextlib.contextmanager
def running_prometheus(program: str, folder: Path, target: str):
    """A real Prometheus scraping target's /metrics every second; yields its base URL once it is ready."""
    config, port = folder / "prometheus.yml", free_port()
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        f"scrape_configs:\n  - job_name: digitlens\n    static_configs:\n      - targets: ['{target}']\n"
    )
    process = subprocess.Popen(
        [program, f"--config.file={config}", f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=(folder / "prometheus.log").open("w"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        def ready():
            assert process.poll() is None, (folder / "prometheus.log").read_text()
            with contextlib.suppress(httpx.TransportError):
                return httpx.get(f"{url}/-/ready").status_code == 200

        wait_for(ready, PROMETHEUS_SECONDS, "Prometheus ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def prometheus_value(url: str, query: str) -> float | None:
    """The instant value of a PromQL query with one result, None before Prometheus has it."""
    result = httpx.get(f"{url}/api/v1/query", params={"query": query}).json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def test_a_real_prometheus_scrapes_every_request_and_logged_prediction(tmp_path, log_database, prometheus, test_set):
    images, _ = test_set
    requests = 25
    with (
        running_api(tmp_path / "server.log") as (url, _),
        running_prometheus(prometheus, tmp_path, httpx.URL(url).netloc.decode()) as scraper,
    ):
        with httpx.Client(base_url=url) as client:
            for image in images[:requests]:
                assert client.post("/predict", json=single(image)).status_code == 200

        def all_logged():
            samples = metric_samples(httpx.get(f"{url}/metrics").text)
            return samples if samples[("digitlens_logged_predictions_total",)] == requests else None

        samples = wait_for(all_logged, 5, f"/metrics counting {requests} logged predictions")
        assert samples[("digitlens_requests_total", ("endpoint", "/predict"), ("status", "200"))] == requests

        expected = {'sum(digitlens_requests_total{endpoint="/predict"})': requests, "sum(digitlens_logged_predictions_total)": requests}
        wait_for(
            lambda: all(prometheus_value(scraper, query) == value for query, value in expected.items()),
            PROMETHEUS_SECONDS, f"Prometheus showing {expected}",
        )
        targets = httpx.get(f"{scraper}/api/v1/targets").json()["data"]["activeTargets"]
        assert [(target["scrapeUrl"], target["health"]) for target in targets] == [(f"{url}/metrics", "up")]
