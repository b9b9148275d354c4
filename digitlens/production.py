"""What the prediction log says about the model in production: traffic, latency, answers, and inputs unlike MNIST.

Tables in, tables out (pandas); the Monitoring page draws them. Drift is measured on simple properties of the 28x28
inputs (how much ink, how thick, where) and, on request, on the model's embeddings, each against MNIST's test set.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from digitlens import IMAGE_SIDE, INK_PIXEL, NUM_CLASSES

WINDOWS = {  # the page's choice: how far back, and the width of one bar of traffic (30 to 48 bars: wide enough to click)
    "Last hour": (timedelta(hours=1), "2min"),
    "Last 24 hours": (timedelta(days=1), "30min"),
    "Last 7 days": (timedelta(days=7), "6h"),
    "Last 30 days": (timedelta(days=30), "1D"),
}
FEATURES = {  # column: how the page names it, and how a sentence says it is higher or lower than MNIST's
    "ink": ("Ink (share of the image)", "more ink", "less ink"),
    "stroke_width": ("Stroke width (px)", "thicker strokes", "thinner strokes"),
    "centre_x": ("Centre of ink, from the left (px)", "ink further right", "ink further left"),
    "centre_y": ("Centre of ink, from the top (px)", "ink lower down", "ink higher up"),
}
SHIFT_LIMIT = 0.5  # a feature whose mean moved this many MNIST standard deviations is "unlike MNIST"
TAIL = 0.01  # MNIST's own share beyond each end of its 1st-99th percentile range
TAIL_LIMIT = 0.10  # more recent inputs than this beyond one end is "unlike MNIST", whatever the mean (a fifth of thick drawings among MNIST-like ones moves it too little)
FAR_QUANTILE = 0.99  # inputs farther from MNIST's test embeddings than 99 % of MNIST training images are "far"
FAR_SHARE_LIMIT = 0.05  # more than this share of recent inputs far away (MNIST itself: 1 %) is drift
MIN_INPUTS = 30  # fewer recent inputs than this say too little to call drift


def window_start(window: str, now: datetime | None = None) -> datetime:
    return (now or datetime.now(timezone.utc)) - WINDOWS[window][0]


def traffic(table: pd.DataFrame, bucket: str) -> pd.DataFrame:
    """Predictions per time bucket and source: columns time (the bucket's start), source, predictions."""
    counts = table.groupby([table["time"].dt.floor(bucket), "source"]).size()
    return counts.rename("predictions").reset_index()


def requests(table: pd.DataFrame) -> pd.DataFrame:
    """One row per request (the images served together share its time, source and latency)."""
    return table.drop_duplicates(["time", "source", "latency_ms"])


def latency_percentiles(table: pd.DataFrame, bucket: str) -> pd.DataFrame:
    """Median, 95th and 99th percentile request latency (ms) per time bucket."""
    served = requests(table)
    grouped = served.groupby(served["time"].dt.floor(bucket))["latency_ms"]
    return pd.DataFrame({f"p{q}": grouped.quantile(q / 100) for q in (50, 95, 99)}).rename_axis("time").reset_index()


def answer_mix(answers: np.ndarray, reference_answers: np.ndarray) -> pd.DataFrame:
    """Share of each digit among recent answers and among the model's answers on MNIST's test set."""
    share = lambda found: np.bincount(np.asarray(found, int), minlength=NUM_CLASSES) / max(len(found), 1)  # noqa: E731
    return pd.DataFrame({"digit": range(NUM_CLASSES), "recent": share(answers), "mnist_test": share(reference_answers)})


def refused_share(table: pd.DataFrame, bucket: str) -> pd.DataFrame:
    """Share of predictions answered "not a digit" per time bucket, among those with a verdict."""
    judged = table.dropna(subset=["is_digit"])
    refused = ~judged["is_digit"].astype(bool)
    grouped = refused.groupby(judged["time"].dt.floor(bucket))
    return pd.DataFrame({"refused": grouped.mean(), "predictions": grouped.size()}).rename_axis("time").reset_index()


def input_features(images: np.ndarray) -> pd.DataFrame:
    """How much ink each 28x28 input has, how thick its strokes are and where its centre of ink lies.

    Stroke width is ink area over half the ink's outline: a stroke w pixels wide and l long has area w*l and an
    outline of about 2*l.
    """
    ink = np.asarray(images).reshape(-1, IMAGE_SIDE, IMAGE_SIDE) >= INK_PIXEL
    area = ink.sum(axis=(1, 2))
    padded = np.pad(ink, ((0, 0), (1, 1), (1, 1)))
    inside = padded[:, :-2, 1:-1] & padded[:, 2:, 1:-1] & padded[:, 1:-1, :-2] & padded[:, 1:-1, 2:]
    outline = (ink & ~inside).sum(axis=(1, 2))
    rows, columns = np.indices((IMAGE_SIDE, IMAGE_SIDE))
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame({
            "ink": area / IMAGE_SIDE**2,
            "stroke_width": np.where(outline > 0, 2 * area / np.maximum(outline, 1), 0.0),
            "centre_x": (ink * columns).sum(axis=(1, 2)) / area,
            "centre_y": (ink * rows).sum(axis=(1, 2)) / area,
        })


def feature_drift(recent: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Per feature: recent mean beside MNIST's, the shift in MNIST standard deviations, the shares of recent inputs
    above MNIST's 99th and below its 1st percentile (on MNIST, 1 % each), and whether that is unlike MNIST."""
    recent_mean, reference_mean, spread = recent.mean(), reference.mean(), reference.std()
    shift = (recent_mean - reference_mean) / spread
    above = (recent > reference.quantile(1 - TAIL)).mean()
    below = (recent < reference.quantile(TAIL)).mean()
    higher = (above > below) | ((above == below) & (shift > 0))
    return pd.DataFrame({
        "feature": [FEATURES[name][0] for name in reference.columns],
        "change": [FEATURES[name][1 if up else 2] for name, up in higher.items()],
        "recent": recent_mean.values,
        "mnist_test": reference_mean.values,
        "shift": shift.values,
        "above": above.values,
        "below": below.values,
        "unlike_mnist": ((shift.abs() > SHIFT_LIMIT) | (above > TAIL_LIMIT) | (below > TAIL_LIMIT)).values,
    })


def nearest_distances(embeddings: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Each embedding's Euclidean distance to its nearest reference embedding."""
    embeddings, reference = np.asarray(embeddings, np.float32), np.asarray(reference, np.float32)
    squared = (embeddings**2).sum(axis=1)[:, None] - 2 * embeddings @ reference.T + (reference**2).sum(axis=1)[None, :]
    return np.sqrt(np.maximum(squared.min(axis=1), 0))


def far_from_mnist(recent: np.ndarray, test: np.ndarray, training_sample: np.ndarray) -> tuple[np.ndarray, float]:
    """Which recent embeddings are farther from every MNIST test embedding than FAR_QUANTILE of MNIST training
    images are, and that distance."""
    limit = float(np.quantile(nearest_distances(training_sample, test), FAR_QUANTILE))
    return nearest_distances(recent, test) > limit, limit


def drift_verdict(drift: pd.DataFrame, count: int, far_share: float | None = None) -> tuple[bool | None, str]:
    """Whether recent inputs look unlike MNIST (None: too few to say), in one plain sentence."""
    if count < MIN_INPUTS:
        return None, f"Only {count} {'input' if count == 1 else 'inputs'} in this window: at least {MIN_INPUTS} are needed to compare with MNIST."
    reasons = [
        f"{row.change} in {max(row.above, row.below):.0%} of them, beyond 99% of MNIST's "
        f"(on average {row.recent:.2f} against {row.mnist_test:.2f}, {row.shift:+.1f} standard deviations)"
        for row in drift.itertuples() if row.unlike_mnist
    ]
    if far_share is not None and far_share > FAR_SHARE_LIMIT:
        reasons.append(f"{far_share:.0%} of them are farther from every MNIST test image, to the model, than 99% of MNIST's own training images")
    if not reasons:
        return False, (
            f"The {count:,} recent inputs look like MNIST: their ink, stroke width and position are within half a standard "
            f"deviation of the test set's, and at most {TAIL_LIMIT:.0%} of them lie beyond MNIST's range on any of these."
        )
    return True, f"The {count:,} recent inputs look unlike MNIST: " + "; ".join(reasons) + ". Expect more mistakes than on the test set."
