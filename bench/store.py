"""How fast is the review store? Saving one verdict and reading every image's verdict, on SQLite and PostgreSQL.

Baseline in the same run: the same row written with Python's sqlite3 and nothing else (one INSERT, one commit).
Target: a verdict saved in at most 50 ms. PostgreSQL is measured when --postgres names a database
(e.g. postgresql://user@127.0.0.1:5432/db); its tables are created there.
Run: python bench/store.py [--postgres URL]
"""

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digitlens.store import Store  # noqa: E402

SAVES = 500


def percentiles(timings: list[float]) -> str:
    ordered = sorted(timings)
    return f"median {statistics.median(ordered) * 1000:.2f} ms, p99 {ordered[int(len(ordered) * 0.99)] * 1000:.2f} ms"


def time_saves(save) -> list[float]:
    timings = []
    for image_id in range(SAVES):
        started = time.perf_counter()
        save(image_id)
        timings.append(time.perf_counter() - started)
    return timings


def bare_sqlite(folder: Path) -> list[float]:
    connection = sqlite3.connect(folder / "bare.db")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE reviews (split, image_id, given_label, verdict, corrected_label, tags, note, reviewer, created_at)")

    def save(image_id):
        connection.execute("INSERT INTO reviews VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           ("test", image_id, 3, "label_wrong", 5, "", "", "bench", datetime.now(timezone.utc).isoformat()))
        connection.commit()

    return time_saves(save)


def measure(name: str, url: str) -> list[float]:
    store = Store(url)
    timings = time_saves(lambda image_id: store.save_review("test", image_id, 3, "label_wrong", 5, reviewer="bench"))
    started = time.perf_counter()
    latest = store.latest()
    read = time.perf_counter() - started
    print(f"{name}: save one verdict {percentiles(timings)}; every image's verdict ({len(latest)} images) read in {read * 1000:.1f} ms")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL database URL to measure too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        baseline = bare_sqlite(Path(folder))
        print(f"baseline, bare sqlite3 INSERT + commit: {percentiles(baseline)}")
        ours = measure("store on SQLite (WAL)", f"sqlite:///{folder}/digitlens.db")
        print(f"  ratio to the baseline (median): {statistics.median(ours) / statistics.median(baseline):.1f}x")
        if args.postgres:
            measure("store on PostgreSQL", args.postgres)


if __name__ == "__main__":
    main()
