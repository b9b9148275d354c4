"""The log of served predictions: queued by whoever serves them, written to the store by one thread in batches.

Serving only appends to a queue (about a microsecond); a thread writes what has queued every FLUSH_SECONDS in one
transaction, so a request never waits for the database and a kill -9 loses at most the last FLUSH_SECONDS.
DIGITLENS_LOG_PREDICTIONS=0 turns logging off; DIGITLENS_LOG_KEEP bounds the table (the newest rows stay).
"""

import collections
import logging
import os
import sys
import threading
from datetime import datetime, timezone

import numpy as np

from digitlens import telemetry
from digitlens.store import Served, Store

LOG_ENV = "DIGITLENS_LOG_PREDICTIONS"
KEEP_ENV = "DIGITLENS_LOG_KEEP"
DEFAULT_KEEP = 1_000_000  # predictions kept; about 1 GB of SQLite (bench/soak.py measures the growth)
FLUSH_SECONDS = 0.25
WRITER_NICENESS = 10  # low CPU priority, yet under full load still about a tenth of a core: enough to keep up (soak)
PRUNE_EVERY = 10_000  # predictions written between two retention checks
MAX_QUEUED = 200_000  # predictions waiting (about 200 MB); beyond, while the database is down or slow, new ones are dropped and counted


def enabled() -> bool:
    """Whether to log predictions: yes unless DIGITLENS_LOG_PREDICTIONS says 0, false, no or off."""
    return os.environ.get(LOG_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def retention() -> int:
    """How many predictions the log keeps: DIGITLENS_LOG_KEEP, else DEFAULT_KEEP."""
    value = os.environ.get(KEEP_ENV, "").strip()
    if not value:
        return DEFAULT_KEEP
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{KEEP_ENV} must be a whole number of predictions to keep, at least 1, got {value!r}")
    return int(value)


class PredictionLog:
    """Queue predictions with record(); a background thread writes them; close() writes what is left."""

    def __init__(self, store: Store, keep: int | None = None, flush_seconds: float = FLUSH_SECONDS):
        self.store = store
        self.keep = keep or retention()
        self.flush_seconds = flush_seconds
        self._queue = collections.deque()  # appends and pops are atomic
        self._queued = 0  # predictions in the queue
        self._counting = threading.Lock()
        self._stopping = threading.Event()
        self._written_since_prune = 0
        self._thread = threading.Thread(target=self._write_until_closed, name="prediction-log", daemon=True)
        self._thread.start()

    def record(self, source: str, model: str, images, probabilities, is_digit=None, latency_s: float = 0.0) -> None:
        """Queue predictions served together by the model of that fingerprint; they reach the database within flush_seconds."""
        count = len(probabilities)
        with self._counting:
            full = self._queued + count > MAX_QUEUED
            if not full:
                self._queued += count
        if full:
            telemetry.LOG_DROPPED.inc(count)
            return
        self._queue.append(Served(datetime.now(timezone.utc), source, images, np.asarray(probabilities), is_digit, latency_s * 1e3, model))

    def flush(self) -> int:
        """Write everything queued now, in one transaction; returns how many predictions."""
        batches = []
        while self._queue:
            batches.append(self._queue.popleft())
        if not batches:
            return 0
        count = sum(len(batch.probabilities) for batch in batches)
        with self._counting:
            self._queued -= count
        try:
            self.store.save_predictions(batches)
        except Exception:  # the database is down or full: serving goes on, the loss is counted and logged
            telemetry.LOG_DROPPED.inc(count)
            logging.getLogger(__name__).exception("could not log %d predictions", count)
            return 0
        telemetry.LOGGED.inc(count)
        self._written_since_prune += count
        if self._written_since_prune >= PRUNE_EVERY:
            self._written_since_prune = 0
            try:
                self.store.prune_predictions(self.keep)
            except Exception:  # the next check tries again; the writer must live on
                logging.getLogger(__name__).exception("could not apply the log's retention limit")
        return count

    def close(self) -> None:
        self._stopping.set()
        self._thread.join()
        self.flush()

    def _write_until_closed(self) -> None:
        if sys.platform == "linux":  # a thread is a task there: the writer takes only CPU time that serving leaves
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WRITER_NICENESS)
        while not self._stopping.wait(self.flush_seconds):
            self.flush()
