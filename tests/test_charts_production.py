"""The Monitoring page's figures: titles, axes, the whole window in time, and what a click on each bar carries."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from digitlens import production
from digitlens.charts import production as charts

NOW = datetime(2026, 11, 26, 12, 10, tzinfo=timezone.utc)
SPAN = (NOW - timedelta(hours=1), NOW)


def test_traffic_sets_sources_side_by_side_over_the_whole_window_and_carries_bucket_and_source():
    counts = pd.DataFrame({"time": pd.to_datetime(["2026-11-26 12:08", "2026-11-26 12:08"], utc=True), "source": ["api", "draw"], "predictions": [600, 1]})
    figure = charts.traffic(counts, SPAN, "2min", "2 minutes")
    assert figure.layout.title.text == "Predictions served, per 2 minutes"
    assert (figure.layout.xaxis.title.text, figure.layout.yaxis.title.text) == ("Time (UTC)", "Predictions (log scale)")
    assert [trace.name for trace in figure.data] == ["API /predict", "Dashboard drawing"]
    assert list(figure.data[1].customdata[0]) == ["2026-11-26 12:08:00+00:00", "draw"]
    start, end = figure.layout.xaxis.range
    assert pd.Timestamp(start) == pd.Timestamp("2026-11-26 11:10", tz="UTC") and pd.Timestamp(end) == pd.Timestamp("2026-11-26 12:10", tz="UTC")
    # the bucket's two minutes (in ms) shared by the two sources, side by side
    assert [(trace.offset, trace.width) for trace in figure.data] == [(-60_000, 60_000), (0, 60_000)]
    low, high = figure.layout.yaxis.range
    assert figure.layout.yaxis.type == "log" and low < 0 and 2.78 < high < 3.5  # one prediction stands above the floor, 600 below the top


def test_latency_draws_three_percentiles_and_refusals_a_share():
    percentiles = pd.DataFrame({"time": pd.to_datetime(["2026-11-26 12:00"], utc=True), "p50": [2.0], "p95": [5.0], "p99": [9.0]})
    figure = charts.latency(percentiles, SPAN, "2min", "2 minutes")
    assert [trace.name for trace in figure.data] == ["median", "95th percentile", "99th percentile"]
    assert figure.layout.yaxis.title.text == "Latency (ms)"
    shares = pd.DataFrame({"time": percentiles["time"], "refused": [0.25], "predictions": [8]})
    refused = charts.refused(shares, SPAN, "2min", "2 minutes")
    assert refused.layout.title.text == 'Share answered "not a digit", per 2 minutes' and refused.layout.yaxis.tickformat == ".0%"


def test_answers_and_confidence_sit_beside_the_test_set_and_carry_digit_and_bin():
    answers = charts.answer_mix(production.answer_mix(np.array([3, 3, 7]), np.arange(10)))
    assert [trace.name for trace in answers.data] == ["recent inputs", "MNIST test set"]
    assert list(answers.data[0].customdata) == list(range(10)) and answers.layout.xaxis.title.text == "Digit answered"
    confidence = charts.confidence(np.array([0.99, 0.5]), np.array([1.0, 0.97]))
    recent = confidence.data[1]
    assert recent.name == "recent inputs" and sum(recent.y) == 1 and recent.customdata[10] == 0.5


def test_feature_histograms_have_one_panel_per_property_carrying_its_range(test_set):
    features = production.input_features(test_set[0][:500])
    figure = charts.feature_histograms(features[:100], features)
    assert [annotation.text for annotation in figure.layout.annotations] == [name for name, _, _ in production.FEATURES.values()]
    name, low, high = figure.data[1].customdata[0]
    assert name == "ink" and low < high
