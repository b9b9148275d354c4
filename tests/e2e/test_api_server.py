"""The real server process (`python -m digitlens serve`) over real HTTP, including the tutorial's R request."""

import json
import shutil
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest

from digitlens import ROOT
from servers import metric_samples, running_api

TUTORIAL_IMAGES = 500
TUTORIAL_DIGIT = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The API as deployed (two worker processes); yields its base URL once /health answers."""
    with running_api(tmp_path_factory.mktemp("server") / "server.log") as (url, _):
        yield url


def tutorial_body(test_set) -> bytes:
    """500 random test images of the digit 2, as R's httr (encode = "json") sends a matrix: lists of 784 integers."""
    images, labels = test_set
    chosen = np.random.default_rng(0).choice(np.flatnonzero(labels == TUTORIAL_DIGIT), TUTORIAL_IMAGES, replace=False)
    rows = images[chosen].reshape(TUTORIAL_IMAGES, -1).astype(int).tolist()
    return json.dumps({"input": rows}, separators=(",", ":")).encode()


def test_server_answers_the_tutorials_request(server, test_set):
    response = httpx.post(
        f"{server}/predict", content=tutorial_body(test_set), headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 200
    probabilities = response.json()
    assert len(probabilities) == TUTORIAL_IMAGES and all(len(row) == 10 for row in probabilities)
    assert np.allclose(np.sum(probabilities, axis=1), 1, atol=1e-4)
    assert (np.argmax(probabilities, axis=1) == TUTORIAL_DIGIT).sum() >= 495


def test_server_answers_keep_alive_requests_without_nagle_delays(server, test_set):
    """Without TCP_NODELAY on the workers' shared socket each request waited ~40 ms for a delayed ACK."""
    body = {"input": test_set[0][:1].reshape(1, -1).tolist()}
    with httpx.Client(base_url=server) as client:
        client.post("/predict", json=body)
        started = time.perf_counter()
        for _ in range(20):
            assert client.post("/predict", json=body).status_code == 200
        assert time.perf_counter() - started < 0.4  # ~20 ms when healthy, over 800 ms with the delays


def test_server_home_and_health(server):
    assert "POST /predict" in httpx.get(f"{server}/home").text
    health = httpx.get(f"{server}/health").json()
    assert health["model_loaded"] is True and health["test_accuracy"] > 0.99


def test_server_answers_bad_input_with_4xx_and_stays_up(server):
    bad_bodies = [
        b"not json",
        b'{"input": []}',
        b'{"input": [[1, 2, 3]]}',
        b'{"input": [[NaN]]}',
        json.dumps({"input": [[300] * 784]}).encode(),
        json.dumps({"input": [["x"] * 784]}).encode(),
    ]
    for body in bad_bodies:
        response = httpx.post(f"{server}/predict", content=body, headers={"Content-Type": "application/json"})
        assert 400 <= response.status_code < 500, body
        assert "expected" in response.json()["detail"]
    upload = httpx.post(f"{server}/predict/image", files={"file": ("x.png", b"not a png", "image/png")})
    assert upload.status_code == 422
    assert httpx.get(f"{server}/health").status_code == 200
    assert httpx.post(f"{server}/predict", json={"input": [[0] * 784]}).status_code == 200


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed (.ci/run installs it)")
def test_the_tutorials_r_client_works_unchanged(server, tmp_path):
    """The tutorial's own client (httr, encode = "json") posts 500 test twos and tables right and wrong."""
    csv = tmp_path / "mnist_test.csv"
    subprocess.run([sys.executable, "-m", "digitlens", "export-csv", str(csv)], cwd=ROOT, check=True)
    result = subprocess.run(
        ["Rscript", str(ROOT / "tests" / "e2e" / "tutorial_client.R"), server, str(csv)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    header, counts = result.stdout.strip().splitlines()[-2:]
    table = dict(zip(header.split(), map(int, counts.split())))
    assert table.get("FALSE", 0) + table["TRUE"] == TUTORIAL_IMAGES
    assert table["TRUE"] >= 495


def test_metrics_of_two_worker_processes_add_up_whichever_answers_the_scrape(tmp_path, test_set):
    """Each request lands on one of the two workers; every scrape must count all of them, as Prometheus needs."""
    images, labels = test_set
    with running_api(tmp_path / "server.log") as (url, _):
        with httpx.Client(base_url=url) as client:
            for image in images[:40]:
                assert client.post("/predict", json={"input": [image.ravel().tolist()]}).status_code == 200
        for _ in range(6):  # new connections, so the scrapes reach both workers
            samples = metric_samples(httpx.get(f"{url}/metrics").text)
            assert samples[("digitlens_requests_total", ("endpoint", "/predict"), ("status", "200"))] == 40
            answers = sum(value for key, value in samples.items() if key[0] == "digitlens_answers_total")
            assert answers == 40
