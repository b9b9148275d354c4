"""Soak: the API as deployed, its prediction log on, under steady load for minutes (issue 12).

Does every prediction served reach the log, does the server's memory stay flat, how fast does the database grow?
Starts `python -m digitlens serve --workers 2` on a free port with its log in a fresh SQLite file (or the PostgreSQL
database --postgres names), warms it up for WARM_UP_SECONDS at full load, then sends single-image POST /predict
requests (a real MNIST test image) on CONNECTIONS connections for --seconds with wrk (Python threads where wrk is
missing), sampling the resident memory of the server's processes every SAMPLE_SECONDS. Stops the server with
SIGTERM (a clean stop writes what the log still holds), then reports requests served, errors, requests/s, p50 and
p99 latency, predictions logged against served, memory at the start of the load, at its end and at its peak, and
the database's growth per prediction, extrapolated to a million. The log's retention is set out of reach
(DIGITLENS_LOG_KEEP), so that every prediction served stays in the table to be counted.
Targets: no errors; logged == served; memory growth under 10 % from the first sample after the warm-up to the end.
Run: python bench/soak.py [--seconds 300] [--postgres URL]
"""

import argparse
import functools
import http.client
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from api import free_port, load_with_threads, load_with_wrk, start_server, stop  # noqa: E402  (bench/api.py)
from servers import metric_samples, tree_memory_mb  # noqa: E402  (tests/servers.py)

from digitlens import MODEL_PATH, data  # noqa: E402
from digitlens.prediction_log import KEEP_ENV, LOG_ENV  # noqa: E402
from digitlens.store import DATABASE_ENV, Store  # noqa: E402

CONNECTIONS = 32
WARM_UP_SECONDS = 10
SAMPLE_SECONDS = 10
KEEP_EVERYTHING = 10**12  # predictions: the log's retention, out of reach of any run
TARGET_MEMORY_GROWTH = 0.10
SETTLE_SECONDS = 1
SERVED = ("digitlens_requests_total", ("endpoint", "/predict"), ("status", "200"))  # in /metrics, as servers.metric_samples keys it


def load_sampling_memory(load, port: int, body: bytes, seconds: float, server_pid: int) -> tuple[dict, list[float]]:
    """Run the load; meanwhile the server's resident memory every SAMPLE_SECONDS, from its start to its end."""
    samples = [tree_memory_mb(server_pid)]
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(load, port, body, seconds)
        while True:
            try:
                result = running.result(timeout=SAMPLE_SECONDS)
                break
            except TimeoutError:
                samples.append(tree_memory_mb(server_pid))
    samples.append(tree_memory_mb(server_pid))
    return result, samples


def settled_metrics(port: int) -> dict:
    """/metrics once the server has answered everything the load left it: requests the generator gave up on at its
    end are still being served for a moment, and counted only then."""
    def scrape() -> dict:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/metrics")
        return metric_samples(connection.getresponse().read().decode())

    before = scrape()
    while True:
        time.sleep(SETTLE_SECONDS)
        after = scrape()
        if after[SERVED] == before[SERVED]:
            return after
        before = after


def database_bytes(url: str) -> tuple[int, str]:
    """How much room the prediction log takes now, and what was measured."""
    store = Store(url)
    if store.engine.dialect.name == "sqlite":
        path = Path(store.engine.url.database)
        files = [path, path.with_name(path.name + "-wal")]
        return sum(file.stat().st_size for file in files if file.exists()), "SQLite file + -wal"
    with store.engine.connect() as connection:
        size = connection.execute(sa.text("SELECT pg_total_relation_size('predictions')")).scalar_one()
    return size, "PostgreSQL: pg_total_relation_size('predictions'), with its index and TOAST"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300, help="length of the load after the warm-up")
    parser.add_argument("--postgres", help="log into this PostgreSQL database instead of a fresh SQLite file")
    args = parser.parse_args()
    if not MODEL_PATH.exists():
        sys.exit(f"{MODEL_PATH}: no trained model; run `python -m digitlens train` first")

    images, _ = data.load("test")
    body = json.dumps({"input": images[:1].reshape(1, -1).tolist()}, separators=(",", ":")).encode()
    load = functools.partial(load_with_wrk if shutil.which("wrk") else load_with_threads, connections=CONNECTIONS)
    generator = "wrk, 1 thread" if load.func is load_with_wrk else "Python threads (wrk not installed: apt-get install wrk)"

    with tempfile.TemporaryDirectory() as folder:
        url = args.postgres or f"sqlite:///{folder}/log.db"
        logged_before, (bytes_before, measured) = Store(url).count_predictions(), database_bytes(url)
        port = free_port()
        command = [sys.executable, "-m", "digitlens", "serve", "--workers", "2", "--port", str(port)]
        environment = {DATABASE_ENV: url, LOG_ENV: "1", KEEP_ENV: str(KEEP_EVERYTHING)}
        server = start_server(command, port, **environment)
        try:
            print(f"warming up for {WARM_UP_SECONDS} s, then {args.seconds:g} s of load ...", file=sys.stderr)
            warm_up = load(port, body, WARM_UP_SECONDS)
            soak, memory = load_sampling_memory(load, port, body, args.seconds, server.pid)
            metrics = settled_metrics(port)
        finally:
            stop(server)
        logged = Store(url).count_predictions() - logged_before
        grown = database_bytes(url)[0] - bytes_before

    served_by_clients = warm_up["served"] + soak["served"]
    served = metrics[SERVED]
    in_flight = served - served_by_clients  # answered while the load generator stopped: it never read them
    errors = warm_up["errors"] + soak["errors"]
    growth = memory[-1] / memory[0] - 1
    per_prediction = grown / logged if logged else float("nan")
    rows = [
        ("load", f"{generator}, {CONNECTIONS} connections, {args.seconds:g} s after {WARM_UP_SECONDS} s of warm-up; "
                 f"{os.cpu_count()} cores"),
        ("server", f"python -m digitlens serve --workers 2, log in {'PostgreSQL' if args.postgres else 'a fresh SQLite file'}"),
        ("requests served (2xx)", f"{soak['served']:,} ({warm_up['served']:,} more in the warm-up)"),
        ("errors", f"{errors:,}"),
        ("requests/s", f"{soak['rps']:,.0f}"),
        ("latency p50 / p99", f"{soak['p50_ms']:.2f} ms / {soak['p99_ms']:.2f} ms"),
        ("served, warm-up included", f"{served_by_clients:,} by the load generator; {served:,.0f} by the server's /metrics "
                                     f"({in_flight:,.0f} answered as the generator stopped)"),
        ("logged in the store", f"{logged:,} ({metrics[('digitlens_log_dropped_predictions_total',)]:,.0f} dropped)"),
        ("server memory (RSS, all processes)", f"{memory[0]:,.0f} MB at the start of the load, {memory[-1]:,.0f} MB at its end, "
                                               f"{max(memory):,.0f} MB at most ({growth:+.1%})"),
        (f"memory every {SAMPLE_SECONDS} s, MB", " ".join(f"{sample:.0f}" for sample in memory)),
        ("database growth", f"{grown / 1e6:,.1f} MB ({measured})"),
        ("per logged prediction", f"{per_prediction:,.0f} bytes: {per_prediction * 1e6 / 1e9:.2f} GB per million predictions"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    logged_all = logged == served and 0 <= in_flight <= 2 * CONNECTIONS  # 2 runs of the generator, each may leave some
    print(f"targets: no errors: {verdict(errors == 0)} ({errors}); logged == served: {verdict(logged_all)} "
          f"({logged:,} of {served:,.0f}); memory growth < {TARGET_MEMORY_GROWTH:.0%}: "
          f"{verdict(growth < TARGET_MEMORY_GROWTH)} ({growth:+.1%})")


if __name__ == "__main__":
    main()
