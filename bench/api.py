"""Our API against the tutorial's Flask app, both running side by side on loopback, measured one after the other.

Single-image requests at concurrency 8 for a fixed time (requests/s, p50, p99), then one 500-image request
(the tutorial's R client: 500 test images of the digit 2), median latency of several.
Ours runs twice: with the prediction log off (DIGITLENS_LOG_PREDICTIONS=0) and on (a fresh SQLite file), and the
log's row count is checked against the requests served.
Targets (issues 5 and 12): at least 40x the baseline's single-image throughput; the 500-image request in at most
20 ms; both with logging on.
The load comes from wrk when it is installed (apt-get install wrk), else from Python threads, which take
CPU from the servers on a small machine. Run: python bench/api.py [--seconds 10] [--workers 2]
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from digitlens import MODEL_PATH, data  # noqa: E402
from digitlens.store import Store  # noqa: E402

CONCURRENCY = 8
BIG_REQUEST_IMAGES = 500
BIG_REQUEST_REPEATS = 9
WARM_UP_REQUESTS = 20
STARTUP_SECONDS = 120
TARGET_THROUGHPUT_RATIO = 40
TARGET_BIG_REQUEST_MS = 20
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open("{body_path}", "rb"):read("*a")
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(99), errors))
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(command: list[str], port: int, **environment: str) -> subprocess.Popen:
    """Start a server process (environment added to ours) and wait until it answers GET /home."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **environment}
    log = tempfile.TemporaryFile()  # not a pipe: a chatty server would block once a pipe is full
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}: {log.read().decode()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/home")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{' '.join(command)} did not answer on port {port} within {STARTUP_SECONDS} s")


def post(connection: http.client.HTTPConnection, body: bytes) -> bytes:
    connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = response.read()
    if response.status != 200:
        raise RuntimeError(f"POST /predict answered {response.status}: {answer[:200]!r}")
    return answer


def load_with_wrk(port: int, body: bytes, seconds: float, connections: int = CONCURRENCY) -> dict:
    """Requests/s, latency percentiles and 2xx responses from wrk (one thread: it needs little CPU).

    wrk counts no request still in flight when its time is up, though the server answers (and logs) them.
    """
    with tempfile.TemporaryDirectory() as folder:
        body_path, script_path = Path(folder, "body.json"), Path(folder, "post.lua")
        body_path.write_bytes(body)
        script_path.write_text(WRK_SCRIPT.format(body_path=body_path))
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script_path), f"http://127.0.0.1:{port}/predict"]
        output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    result = next(line.split()[1:] for line in output.splitlines() if line.startswith("RESULT"))
    requests, duration_us, p50_us, p99_us, errors = map(int, result)
    return {"rps": requests / (duration_us / 1e6), "p50_ms": p50_us / 1e3, "p99_ms": p99_us / 1e3, "errors": errors,
            "served": requests - errors}


def load_with_threads(port: int, body: bytes, seconds: float, connections: int = CONCURRENCY) -> dict:
    """The same measure from Python threads with keep-alive connections, where wrk is missing (they take CPU from the server)."""
    deadline = time.perf_counter() + seconds
    latencies, errors = [], []

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while (started := time.perf_counter()) < deadline:
            try:
                post(connection, body)
                latencies.append(time.perf_counter() - started)
            except (OSError, RuntimeError, http.client.HTTPException) as error:
                errors.append(error)
                connection.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    quantiles = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / elapsed, "p50_ms": quantiles[49] * 1e3, "p99_ms": quantiles[98] * 1e3, "errors": len(errors),
            "served": len(latencies)}


def big_request_ms(port: int, body: bytes) -> float:
    """Median latency of one 500-image request, after a warm-up, on a fresh connection each time."""
    timings = []
    for attempt in range(BIG_REQUEST_REPEATS + 1):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.connect()
        started = time.perf_counter()
        answer = post(connection, body)
        timings.append(time.perf_counter() - started)
        connection.close()
        if len(json.loads(answer)) != BIG_REQUEST_IMAGES:
            raise RuntimeError(f"expected {BIG_REQUEST_IMAGES} rows of probabilities back")
    return statistics.median(timings[1:]) * 1e3


def measure(name: str, port: int, single: bytes, big: bytes, seconds: float, load) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(WARM_UP_REQUESTS):  # first calls build kernels and caches
        post(connection, single)
    connection.close()
    print(f"measuring {name} ...", file=sys.stderr)
    result = {**load(port, single, seconds), "big_ms": big_request_ms(port, big)}
    result["served"] += WARM_UP_REQUESTS + (BIG_REQUEST_REPEATS + 1) * BIG_REQUEST_IMAGES  # images answered
    return result


def stop(server: subprocess.Popen) -> None:
    """SIGTERM, so that the server shuts down cleanly (writing what its log has queued), then wait."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="length of each single-image run")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of our server")
    args = parser.parse_args()
    if not MODEL_PATH.exists():
        sys.exit(f"{MODEL_PATH}: no trained model; run `python -m digitlens train` first")

    images, labels = data.load("test")
    twos = images[labels == 2][:BIG_REQUEST_IMAGES].reshape(BIG_REQUEST_IMAGES, -1)
    single = json.dumps({"input": twos[:1].tolist()}, separators=(",", ":")).encode()
    big = json.dumps({"input": twos.tolist()}, separators=(",", ":")).encode()  # as R's jsonlite writes a matrix
    load = load_with_wrk if shutil.which("wrk") else load_with_threads
    generator = "wrk, 1 thread" if load is load_with_wrk else "Python threads (wrk not installed: apt-get install wrk)"

    serve = [sys.executable, "-m", "digitlens", "serve", "--workers", str(args.workers), "--port"]
    results, servers = {}, []
    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite:///{folder}/log.db"
        runs = {
            "tutorial": ([sys.executable, "-m", "gunicorn", "--workers", "1", "--chdir", "bench", "--bind"], {}),
            "log off": (serve, {"DIGITLENS_LOG_PREDICTIONS": "0"}),
            "log on": (serve, {"DIGITLENS_LOG_PREDICTIONS": "1", "DIGITLENS_DATABASE_URL": database}),
        }
        try:
            for name, (command, environment) in runs.items():
                port = free_port()
                address = [f"127.0.0.1:{port}", "tutorial_app:app"] if name == "tutorial" else [str(port)]
                servers.append(start_server(command + address, port, **environment))
                results[name] = measure(name, port, single, big, args.seconds, load)
                stop(servers.pop())
        finally:
            for server in servers:
                stop(server)
        logged = Store(database).count_predictions()
    baseline, ours = results["tutorial"], results["log on"]
    print(f"load: {generator}, {CONCURRENCY} connections, {args.seconds:g} s per server; "
          f"{len(big):,}-byte body for {BIG_REQUEST_IMAGES} images; {os.cpu_count()} cores")
    print(f"{'':34}{'tutorial (Flask, Keras)':>24}{'ours, log off':>16}{'ours, log on':>16}{'ratio':>9}")
    rows = [
        ("single image: requests/s", "rps", "{:.0f}", ours["rps"] / baseline["rps"]),
        ("single image: p50 latency, ms", "p50_ms", "{:.2f}", baseline["p50_ms"] / ours["p50_ms"]),
        ("single image: p99 latency, ms", "p99_ms", "{:.2f}", baseline["p99_ms"] / ours["p99_ms"]),
        ("single image: failed requests", "errors", "{}", None),
        (f"{BIG_REQUEST_IMAGES} images, median latency, ms", "big_ms", "{:.1f}", baseline["big_ms"] / ours["big_ms"]),
    ]
    for label, key, form, ratio in rows:
        figures = [form.format(results[name][key]) for name in ("tutorial", "log off", "log on")]
        print(f"{label:34}{figures[0]:>24}{figures[1]:>16}{figures[2]:>16}{f'{ratio:.1f}x' if ratio else '':>9}")
    print(f"ratios: ours ({args.workers} workers) with the log on against the tutorial (gunicorn, 1 worker); "
          f"the log holds {logged:,} predictions for {ours['served']:,} served with it on")
    throughput_ratio = ours["rps"] / baseline["rps"]
    print(f"targets: single-image throughput >= {TARGET_THROUGHPUT_RATIO}x the baseline: "
          f"{'met' if throughput_ratio >= TARGET_THROUGHPUT_RATIO else 'MISSED'} ({throughput_ratio:.0f}x); "
          f"{BIG_REQUEST_IMAGES} images <= {TARGET_BIG_REQUEST_MS} ms: "
          f"{'met' if ours['big_ms'] <= TARGET_BIG_REQUEST_MS else 'MISSED'} ({ours['big_ms']:.1f} ms)")


if __name__ == "__main__":
    main()
