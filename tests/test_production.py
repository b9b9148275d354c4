"""What the prediction log says: traffic, latency, answers, refusals, and drift of the inputs away from MNIST."""

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from digitlens import production


def log(times: list[str], sources: list[str], latencies: list[float], is_digit=None) -> pd.DataFrame:
    return pd.DataFrame({
        "time": pd.to_datetime(times, utc=True), "source": sources, "latency_ms": latencies,
        "answer": np.arange(len(times)) % 10, "is_digit": is_digit if is_digit is not None else [None] * len(times),
    })


def test_traffic_counts_predictions_per_bucket_and_source():
    table = log(["2026-11-26 10:00:10", "2026-11-26 10:00:50", "2026-11-26 10:01:05", "2026-11-26 10:00:20"],
                ["api", "api", "api", "draw"], [1, 1, 1, 50])
    counts = production.traffic(table, "1min")
    assert counts.to_dict("records") == [
        {"time": pd.Timestamp("2026-11-26 10:00", tz="UTC"), "source": "api", "predictions": 2},
        {"time": pd.Timestamp("2026-11-26 10:00", tz="UTC"), "source": "draw", "predictions": 1},
        {"time": pd.Timestamp("2026-11-26 10:01", tz="UTC"), "source": "api", "predictions": 1},
    ]


def test_latency_percentiles_count_each_request_once_however_many_images_it_carried():
    batch = ["2026-11-26 10:00:10"] * 500  # one request of 500 images at 20 ms
    table = log(batch + ["2026-11-26 10:00:20", "2026-11-26 10:00:30"], ["api"] * 502, [20] * 500 + [2, 4])
    assert len(production.requests(table)) == 3
    assert production.latency_percentiles(table, "1min")["p50"].tolist() == [4]


def test_answer_mix_gives_shares_beside_the_test_sets():
    mix = production.answer_mix(np.array([1, 1, 2, 7]), np.arange(10))
    assert mix["recent"].tolist()[:3] == [0, 0.5, 0.25] and mix["mnist_test"].tolist() == [0.1] * 10


def test_refused_share_counts_only_inputs_with_a_verdict():
    table = log(["2026-11-26 10:00:00"] * 4, ["api"] * 4, [1] * 4, is_digit=[True, False, None, False])
    shares = production.refused_share(table, "1min")
    assert shares[["refused", "predictions"]].values.tolist() == [[pytest.approx(2 / 3), 3]]


def test_input_features_measure_ink_stroke_width_and_centre():
    image = np.zeros((28, 28), np.uint8)
    image[6:22, 10:13] = 255  # a bar 3 pixels wide, 16 tall, its centre at (11, 13.5)
    features = production.input_features(image[None]).iloc[0]
    assert features["ink"] == pytest.approx(48 / 784)
    assert features["stroke_width"] == pytest.approx(3, abs=0.5)
    assert (features["centre_x"], features["centre_y"]) == (pytest.approx(11), pytest.approx(13.5))


def test_mnist_itself_looks_like_mnist(test_set):
    images, _ = test_set
    reference = production.input_features(images)
    drift = production.feature_drift(production.input_features(images[:2000]), reference)
    unlike, sentence = production.drift_verdict(drift, 2000)
    assert unlike is False and "look like MNIST" in sentence


def test_a_fifth_of_marker_drawings_is_drift_told_in_plain_words(test_set):
    images, _ = test_set
    markers = np.stack([ndimage.grey_dilation(image, size=5) for image in images[:200]])
    recent = np.concatenate([images[200:1000], markers])
    drift = production.feature_drift(production.input_features(recent), production.input_features(images))
    unlike, sentence = production.drift_verdict(drift, len(recent))
    assert unlike and "thicker strokes in" in sentence and "Expect more mistakes" in sentence


def test_moved_digits_are_drift_and_too_few_inputs_say_nothing(test_set):
    images, _ = test_set
    moved = np.roll(images[:300], 4, axis=2)
    drift = production.feature_drift(production.input_features(moved), production.input_features(images))
    assert "ink further right" in production.drift_verdict(drift, 300)[1]
    assert production.drift_verdict(drift, production.MIN_INPUTS - 1)[0] is None


def test_far_from_mnist_is_one_percent_of_mnist_like_embeddings_and_all_of_distant_ones():
    rng = np.random.default_rng(0)
    test, training = rng.normal(size=(2000, 8)), rng.normal(size=(2000, 8))
    far, limit = production.far_from_mnist(rng.normal(size=(1000, 8)), test, training)
    assert far.mean() == pytest.approx(0.01, abs=0.015) and limit > 0
    assert production.far_from_mnist(rng.normal(size=(50, 8)) + 10, test, training)[0].all()
