"""Hostile and broken input replayed against the real server, each case one a probe of the running API found.

Every case gets a 4xx with a reason, or a right answer, within a second and 300 MB; the server stays healthy.
"""

import io
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from digitlens import MODEL_PATH
from digitlens.api import BODY_TIMEOUT
from digitlens.model import fast_twin
from digitlens.serving import HEADER_TIMEOUT
from servers import free_port, running_api, serve, tree_peak_memory_mb

LIMIT_SECONDS = 1.0
LIMIT_MEMORY_MB = 300
HEALTH_LIMIT_SECONDS = 0.05
HEALTH_WORST_SECONDS = 0.15  # parsed whole on the event loop, 10,000 images blocked it 0.36 s
SLOW_CLIENTS = 50
FUZZ_EXAMPLES = 1500
MIXED_LOAD_SECONDS = 10


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_api(tmp_path_factory.mktemp("hostile") / "server.log") as running:
        yield running


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def seven(side: int) -> Image.Image:
    """A 7 in black ink on a white page of side x side pixels."""
    image = Image.new("L", (side, side), 255)
    width = side // 30
    ImageDraw.Draw(image).line([(side * 0.3, side * 0.25), (side * 0.7, side * 0.25), (side * 0.45, side * 0.8)], fill=0, width=width)
    return image


def thin_strip() -> Image.Image:
    strip = Image.new("L", (20_000, 2), 255)
    ImageDraw.Draw(strip).line([(0, 0), (20_000, 1)], fill=0)
    return strip


HOSTILE_FILES = {  # name: (bytes, status, what the message or answer says)
    "20000x2 PNG": (lambda: png(thin_strip()), 422, "too thin to hold a digit"),
    "39999999x1 PNG": (lambda: png(Image.new("1", (39_999_999, 1), 1)), 422, "too thin to hold a digit"),
    "7000x7000 PNG": (lambda: png(Image.new("1", (7000, 7000), 1)), 422, "too large"),
    "6300x6300 PNG": (lambda: png(seven(6300)), 200, 7),
    "truncated JPEG": (lambda: jpeg(seven(800))[:3000], 422, "the file is broken"),
    "empty file": (lambda: b"", 422, "not a readable image"),
    "text file": (lambda: b"hello, not a picture", 422, "not a readable image"),
}


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def within_limits(server, send) -> httpx.Response:
    """The response to send(url), checked to come in time and within the memory limit, never a 500."""
    url, process = server
    before = tree_peak_memory_mb(process.pid)
    started = time.perf_counter()
    response = send(url)
    assert time.perf_counter() - started <= LIMIT_SECONDS
    assert tree_peak_memory_mb(process.pid) - before <= LIMIT_MEMORY_MB
    assert response.status_code < 500
    return response


@pytest.mark.parametrize("case", HOSTILE_FILES, ids=str)
def test_hostile_upload_gets_a_reason_or_an_answer_fast(server, case):
    make, status, expected = HOSTILE_FILES[case]
    content = make()
    response = within_limits(server, lambda url: httpx.post(f"{url}/predict/image", files={"file": ("x.png", content)}, timeout=30))
    assert response.status_code == status
    if status == 200:
        assert response.json()["digit"] == expected
    else:
        assert expected in response.json()["detail"] and "BytesIO" not in response.json()["detail"]


HOSTILE_BODIES = {  # name: (body, what the message says)
    "integer of 400 digits": (b'{"input": [[' + b"9" * 400 + b"," + b"0," * 782 + b"0]]}", "from 0 to 255"),
    "booleans in flat rows": (json.dumps({"input": [[True] * 784]}).encode(), "got true"),
    "booleans in 28x28 rows": (json.dumps({"input": [[[False] * 28] * 28]}).encode(), "got false"),
    "28x28x1 nesting": (json.dumps({"input": [[[[0]] * 28] * 28]}).encode(), "not nested deeper"),
    "nesting 100,000 deep": (b'{"input": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "not valid JSON"),
    "10,001 images": (json.dumps({"input": [[0] * 784] * 10_001}).encode(), "at most 10,000"),
}


@pytest.mark.parametrize("case", HOSTILE_BODIES, ids=str)
def test_odd_json_gets_a_4xx_with_a_reason(server, case):
    body, expected = HOSTILE_BODIES[case]
    response = within_limits(server, lambda url: httpx.post(f"{url}/predict", content=body, timeout=30))
    assert 400 <= response.status_code < 500 and expected in response.json()["detail"]


def test_health_answers_while_a_10000_image_request_runs(tmp_path, test_set):
    """Inference runs off the event loop: one worker still answers health checks at once.

    The big request comes from another process, so that sending it does not slow the client that measures. A loop
    blocked by the parse stalls a health check on every try; the OS's scheduling on 2 busy cores (seen once: one
    check of 407 ms among 829) does not, so a second try is allowed.
    """
    images, _ = test_set
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"input": images.reshape(len(images), -1).tolist()}))
    for attempt in range(2):
        times = health_times_during(body, tmp_path / f"server{attempt}.log")
        slowest, p99 = max(times[1:]), float(np.quantile(times[1:], 0.99))
        print(f"\nhealth checks during a 10,000-image request: {len(times)}, p99 {p99 * 1000:.0f} ms, slowest {slowest * 1000:.0f} ms")
        if len(times) >= 5 and p99 <= HEALTH_LIMIT_SECONDS and slowest <= HEALTH_WORST_SECONDS:
            return
    pytest.fail(f"health checks stalled on both tries: p99 {p99 * 1000:.0f} ms, slowest {slowest * 1000:.0f} ms")


def health_times_during(body: Path, log: Path) -> list[float]:
    """Seconds each /health took, asked again and again on one connection while one worker scores the body."""
    with running_api(log, workers=1) as (url, _):
        send = f"import httpx, pathlib; httpx.post('{url}/predict', content=pathlib.Path('{body}').read_bytes(), timeout=60)"
        big = subprocess.Popen([sys.executable, "-c", send])
        times = []
        with httpx.Client(base_url=url, timeout=10) as client:  # one connection, as a load balancer keeps
            while big.poll() is None:
                started = time.perf_counter()
                assert client.get("/health").status_code == 200
                times.append(time.perf_counter() - started)
        assert big.returncode == 0
    return times


def test_slow_clients_are_cut_off_and_others_still_served(server):
    """A header line every few seconds, or a body that stops: 408 and the connection closed, not held for minutes."""
    url, _ = server
    port = int(url.rsplit(":", 1)[1])
    trickling = [socket.create_connection(("127.0.0.1", port)) for _ in range(SLOW_CLIENTS)]
    stalled = socket.create_connection(("127.0.0.1", port))
    stalled.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"{" * 10)
    started = time.monotonic()
    for client in trickling:
        client.sendall(b"POST /predict HTTP/1.1\r\n")
    while time.monotonic() - started < max(HEADER_TIMEOUT, BODY_TIMEOUT) + 2:
        for client in trickling:
            try:
                client.sendall(b"X-Slow: yes\r\n")
            except OSError:  # closed by the server: what we want
                pass
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
        time.sleep(2)
    for client in [*trickling, stalled]:
        client.settimeout(1)
        answer = b"".join(iter(lambda c=client: c.recv(4096), b""))  # until the server closes it
        assert answer.startswith(b"HTTP/1.1 408")
        client.close()


def test_serve_exits_non_zero_with_a_message_when_it_cannot_serve(tmp_path):
    """Missing or broken model files stop `serve --workers 2` with the file named, before any worker starts."""
    broken = tmp_path / "broken" / MODEL_PATH.name
    broken.parent.mkdir()
    shutil.copy(MODEL_PATH, broken)
    fast_twin(broken).write_bytes(b"")
    for model, named in ((tmp_path / "missing.keras", "missing.keras"), (broken, "mnist_cnn.tflite")):
        log = tmp_path / f"{named}.log"
        process = serve(free_port(), "--workers", "2", "--model", str(model), log_path=log)
        assert process.wait(timeout=60) != 0
        assert named in log.read_text() and "Traceback" not in log.read_text()


def test_a_corrupt_metrics_card_does_not_stop_the_server(tmp_path):
    model = tmp_path / MODEL_PATH.name
    shutil.copy(MODEL_PATH, model)
    shutil.copy(fast_twin(MODEL_PATH), fast_twin(model))
    model.with_name("metrics.json").write_text('{"test_accuracy": 0.99')  # cut short
    with running_api(tmp_path / "server.log", "--model", str(model), workers=1) as (url, _):
        health = httpx.get(f"{url}/health")
    assert health.status_code == 200 and health.json()["model_loaded"] and health.json()["test_accuracy"] is None


# --- Property-based fuzz: generated bodies and files, never a 500 ---

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=30) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=800,
)
images_like = st.lists(
    st.lists(st.integers(-5, 300) | st.floats(-1, 256, allow_nan=False), min_size=780, max_size=790), min_size=1, max_size=3
)
bodies = (
    st.builds(lambda value: json.dumps({"input": value}).encode(), json_values | images_like)
    | json_values.map(lambda value: json.dumps(value).encode())
    | st.binary(max_size=2000)
)


def flipped(content: bytes, positions: list[int]) -> bytes:
    damaged = bytearray(content)
    for position in positions:
        damaged[position % len(damaged)] ^= 0xFF
    return bytes(damaged)


VALID_PNG = png(seven(120))
files = st.binary(max_size=3000) | st.lists(st.integers(0, 10_000), min_size=1, max_size=8).map(lambda spots: flipped(VALID_PNG, spots))


@pytest.fixture(scope="module")
def fuzz_client(server):
    with httpx.Client(base_url=server[0], timeout=30) as client:
        yield client


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=bodies)
def test_fuzzed_predict_bodies_never_get_a_500(fuzz_client, body):
    assert fuzz_client.post("/predict", content=body).status_code < 500


@settings(max_examples=FUZZ_EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(content=files, number=st.booleans())
def test_fuzzed_uploads_never_get_a_500(fuzz_client, content, number):
    response = fuzz_client.post("/predict/image", params={"number": number}, files={"file": ("f.png", content)})
    assert response.status_code < 500


def test_after_the_fuzz_and_a_mixed_load_the_server_is_healthy_and_its_memory_bounded(server, fuzz_client, test_set):
    """Valid and invalid bodies from four threads for a while: no 500, no dropped connection, memory flat."""
    url, process = server
    images, _ = test_set
    valid = json.dumps({"input": images[:5].reshape(5, -1).tolist()}).encode()
    mixed = [valid, *(body for body, _ in HOSTILE_BODIES.values() if len(body) < 100_000)]
    before = tree_peak_memory_mb(process.pid)
    statuses, failures = [], []

    def load():
        with httpx.Client(base_url=url, timeout=30) as client:
            deadline = time.monotonic() + MIXED_LOAD_SECONDS
            index = 0
            while time.monotonic() < deadline:
                try:
                    statuses.append(client.post("/predict", content=mixed[index % len(mixed)]).status_code)
                except httpx.TransportError as error:
                    failures.append(error)
                index += 1

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures and statuses and max(statuses) < 500
    assert np.mean(np.array(statuses) == 200) > 0.1
    assert tree_peak_memory_mb(process.pid) - before <= LIMIT_MEMORY_MB
    assert fuzz_client.get("/health").status_code == 200
