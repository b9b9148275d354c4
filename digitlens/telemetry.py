"""What the API tells operators, in Prometheus's text format (GET /metrics): requests, errors, latency, answers.

With several worker processes (`serve --workers 2`) each keeps its own numbers; `serving.run` points
PROMETHEUS_MULTIPROC_DIR at a fresh folder first, the workers write there, and /metrics adds them up, so a scrape
that lands on any worker sees the whole server.
"""

import os

import numpy as np
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

from digitlens import NUM_CLASSES

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
ENDPOINTS = {"/home", "/predict", "/predict/image", "/health", "/metrics", "/docs", "/openapi.json"}  # any other path: "other"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)  # seconds: a single image takes ~1 ms

REQUESTS = Counter("digitlens_requests", "HTTP requests answered, by endpoint and status code", ["endpoint", "status"])
LATENCY = Histogram("digitlens_request_seconds", "Time from request to response, by endpoint", ["endpoint"], buckets=LATENCY_BUCKETS)
ANSWERS = Counter("digitlens_answers", "Images answered, by the digit predicted", ["digit"])
REFUSED = Counter("digitlens_not_a_digit", "Uploaded images (or digits of a number) answered as not a digit")
LOGGED = Counter("digitlens_logged_predictions", "Predictions written to the prediction log")
LOG_DROPPED = Counter("digitlens_log_dropped_predictions", "Predictions the log could not write (database down or too slow)")
MODEL = Gauge("digitlens_model_info", "The model served: 1, labelled with its file and training time", ["model", "version"], multiprocess_mode="liveall")


def endpoint(path: str) -> str:
    """The label for a request path: a known endpoint, or "other" (a scanner's random paths must not grow the labels)."""
    return path if path in ENDPOINTS else "other"


def count_answers(probabilities: np.ndarray) -> None:
    for digit, count in enumerate(np.bincount(np.asarray(probabilities).argmax(axis=1), minlength=NUM_CLASSES)):
        if count:
            ANSWERS.labels(str(digit)).inc(int(count))


def exposition() -> tuple[bytes, str]:
    """Every metric in the text format, summed over the worker processes when there are several."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
