"""Plotly figures of the Monitoring page: the prediction log over time, and recent inputs beside MNIST's test set.

Bars and points carry what they stand for in customdata (a time bucket and source, a digit, a confidence bin, a
range of an input property), so a click on one tells the page which inputs to show.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from digitlens.charts import ACCENT, CORRECT, MUTED, TITLE_SIZE, _digit_axis, _layout
from digitlens.production import FEATURES
from digitlens.store import SOURCES

SOURCE_COLOURS = {"api": "#2e86ab", "api_image": "#86bbd8", "draw": "#e4572e", "upload": "#f3a712"}
CONFIDENCE_BIN = 0.05
HEIGHT = 360
FEATURE_BINS = 30
TOOLBAR_ROOM = 50  # px right of a time chart, where its upright toolbar stands
LOG_FLOOR = 0.5  # predictions: where the traffic chart's log axis starts, so a bar of one still stands
LOG_HEADROOM = 0.15  # decades above the tallest bar


def time_axis(figure: go.Figure, span: tuple, bucket: str) -> go.Figure:
    """The whole window on the time axis (one bucket of traffic alone made Plotly zoom to milliseconds), up to the
    end of the current bucket; room on the right for the toolbar, off the newest bar."""
    start, end = span
    figure.update_xaxes(range=[pd.Timestamp(start).floor(bucket), pd.Timestamp(end).ceil(bucket)], type="date")
    figure.update_layout(margin_r=TOOLBAR_ROOM)
    return figure


def bucket_ms(bucket: str) -> float:
    """A time bucket's length in the date axis' unit, for the width of its bar."""
    return pd.Timedelta(bucket).total_seconds() * 1000


def middles(times: pd.Series, bucket: str) -> pd.Series:
    """Where a bar of a bucket starting at each time stands: its middle."""
    return times + pd.Timedelta(bucket) / 2


def traffic(counts: pd.DataFrame, span: tuple, bucket: str, bucket_label: str) -> go.Figure:
    """Predictions served per time bucket, the sources side by side on a log axis: three drawings beside a day of
    API traffic still make a bar to see and click. customdata: the bucket's start and the source."""
    groups = list(counts.groupby("source"))
    slot = bucket_ms(bucket) / max(len(groups), 1)
    figure = go.Figure(
        [
            go.Bar(
                x=middles(rows["time"], bucket), y=rows["predictions"], name=SOURCES.get(source, source),
                width=slot, offset=(place - len(groups) / 2) * slot, marker_color=SOURCE_COLOURS.get(source, MUTED),
                customdata=np.stack([rows["time"].astype(str), [source] * len(rows)], axis=1),
                hovertemplate="from %{customdata[0]}: %{y:,} predictions<extra>%{fullData.name}</extra>",
            )
            for place, (source, rows) in enumerate(groups)
        ]
    )
    most = counts["predictions"].max() if len(counts) else 1
    figure.update_layout(barmode="overlay", legend={"title": {"text": "Source"}})
    figure.update_yaxes(type="log", range=[np.log10(LOG_FLOOR), np.log10(most) + LOG_HEADROOM], dtick=1)  # 1, 10, 100, ...
    title = f"Predictions served, per {bucket_label}"
    return time_axis(_layout(figure, title, "Time (UTC)", "Predictions (log scale)", HEIGHT), span, bucket)


def latency(percentiles: pd.DataFrame, span: tuple, bucket: str, bucket_label: str) -> go.Figure:
    """Median, 95th and 99th percentile request latency per time bucket; customdata: the bucket's start."""
    figure = go.Figure(
        [
            go.Scatter(x=middles(percentiles["time"], bucket), y=percentiles[column], name=name, mode="lines+markers", line={"color": colour},
                       customdata=percentiles["time"].astype(str), hovertemplate="from %{customdata}: %{y:.1f} ms<extra>%{fullData.name}</extra>")
            for column, name, colour in [("p50", "median", CORRECT), ("p95", "95th percentile", MUTED), ("p99", "99th percentile", ACCENT)]
        ]
    )
    figure.update_layout(legend={"title": {"text": "Requests"}, "x": 0.01, "y": 0.99})  # off the newest points, at the right
    figure.update_yaxes(rangemode="tozero")
    return time_axis(_layout(figure, f"Request latency, per {bucket_label}", "Time (UTC)", "Latency (ms)", HEIGHT), span, bucket)


def answer_mix(mix: pd.DataFrame) -> go.Figure:
    """Share of each answer, recent inputs beside MNIST's test set; customdata: the digit."""
    figure = go.Figure(
        [
            go.Bar(x=mix["digit"], y=mix["recent"], name="recent inputs", marker_color=ACCENT, customdata=mix["digit"],
                   hovertemplate="%{x}: %{y:.1%} of recent answers<extra></extra>"),
            go.Bar(x=mix["digit"], y=mix["mnist_test"], name="MNIST test set", marker_color=MUTED, customdata=mix["digit"],
                   hovertemplate="%{x}: %{y:.1%} of test answers<extra></extra>"),
        ]
    )
    figure.update_layout(barmode="group", legend={"title": {"text": "Answers to"}})
    figure.update_yaxes(tickformat=".0%")
    _digit_axis(figure)
    return _layout(figure, "Which digits the model answers", "Digit answered", "Share of answers", HEIGHT)


def confidence(recent: np.ndarray, test: np.ndarray) -> go.Figure:
    """Top probability of recent answers beside the test set's, each as a share of its own; customdata: the bin's start."""
    edges = np.arange(0, 1 + CONFIDENCE_BIN, CONFIDENCE_BIN)
    starts = edges[:-1]
    shares = lambda values: np.histogram(np.clip(values, 0, 1 - 1e-9), edges)[0] / max(len(values), 1)  # noqa: E731
    figure = go.Figure(
        [
            go.Bar(x=starts + CONFIDENCE_BIN / 2, y=shares(values), width=CONFIDENCE_BIN, name=name, marker_color=colour,
                   opacity=0.75, customdata=starts, hovertemplate="from %{customdata:.0%}: %{y:.1%}<extra>" + name + "</extra>")
            for values, name, colour in [(test, "MNIST test set", MUTED), (recent, "recent inputs", ACCENT)]
        ]
    )
    figure.update_layout(barmode="overlay", legend={"title": {"text": "Answers to"}, "x": 0.02, "y": 0.98})
    figure.update_xaxes(range=[0, 1], tickformat=".0%", dtick=0.1)
    figure.update_yaxes(tickformat=".0%")
    return _layout(figure, "How sure the model is", "Probability of the answer", "Share of answers", HEIGHT)


def refused(shares: pd.DataFrame, span: tuple, bucket: str, bucket_label: str) -> go.Figure:
    """Share of inputs answered "not a digit" per time bucket; customdata: the bucket's start."""
    figure = go.Figure(
        go.Bar(x=middles(shares["time"], bucket), y=shares["refused"], width=bucket_ms(bucket), marker_color=ACCENT,
               customdata=shares["time"].astype(str), text=[f"of {count:,}" for count in shares["predictions"]],
               hovertemplate="from %{customdata}: %{y:.1%} refused, %{text}<extra></extra>")
    )
    figure.update_traces(textposition="none")
    figure.update_yaxes(tickformat=".0%", rangemode="tozero")
    title = f'Share answered "not a digit", per {bucket_label}'
    return time_axis(_layout(figure, title, "Time (UTC)", "Share refused", HEIGHT), span, bucket)


def feature_histograms(recent: pd.DataFrame, reference: pd.DataFrame) -> go.Figure:
    """Each input property's distribution, recent inputs over MNIST's test set, as shares of each; customdata: the
    property and the bar's range."""
    names = list(FEATURES)
    figure = make_subplots(rows=1, cols=len(names), subplot_titles=[FEATURES[name][0] for name in names])
    for column, name in enumerate(names, start=1):
        values = np.concatenate([reference[name].dropna(), recent[name].dropna()])
        edges = np.histogram_bin_edges(values, FEATURE_BINS)
        for frame, label, colour in [(reference, "MNIST test set", MUTED), (recent, "recent inputs", ACCENT)]:
            counts, _ = np.histogram(frame[name].dropna(), edges)
            ranges = [[name, low, high] for low, high in zip(edges[:-1], edges[1:])]
            figure.add_bar(x=(edges[:-1] + edges[1:]) / 2, y=counts / max(counts.sum(), 1), width=np.diff(edges), name=label,
                           marker_color=colour, opacity=0.7, showlegend=column == 1, legendgroup=label, customdata=ranges,
                           hovertemplate="%{customdata[1]:.2f} to %{customdata[2]:.2f}: %{y:.1%}<extra>" + label + "</extra>", row=1, col=column)
    figure.update_layout(barmode="overlay", legend={"title": {"text": "Inputs"}})
    figure.update_yaxes(tickformat=".0%")
    figure.update_annotations(font_size=TITLE_SIZE - 4)
    figure = _layout(figure, "Recent inputs beside MNIST", "", "Share of inputs", HEIGHT)
    figure.update_layout(margin={"t": 90})
    return figure

