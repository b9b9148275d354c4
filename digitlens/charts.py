"""Plotly figures for the dashboard, one function per chart; each comes with its title and axis labels."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from digitlens import MAX_PIXEL, NUM_CLASSES

ACCENT = "#e4572e"  # the predicted digit, and everything "wrong"
MUTED = "#9aa5b1"
CORRECT = "#2e86ab"
TRUE_LABEL = "#2a9d8f"
FONT_SIZE = 14
TITLE_SIZE = 18
DIGITS = list(range(NUM_CLASSES))
HEATMAP_TEXT_LIMIT = 50  # rows beyond which printed percentages become unreadable
JITTER_SEED = 0  # fixed so the strip chart does not shuffle on every rerun


def _layout(figure: go.Figure, title: str, x_title: str, y_title: str, height: int) -> go.Figure:
    """The look every chart shares: a readable title, labelled axes, a compact margin."""
    figure.update_layout(
        title={"text": title, "font": {"size": TITLE_SIZE}},
        font={"size": FONT_SIZE},
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 55},
        xaxis_title=x_title,
        yaxis_title=y_title,
    )
    return figure


def _digit_axis(figure: go.Figure) -> None:
    """All ten labels on the x axis, even those without data (the tutorial's scale_x_discrete(drop = FALSE))."""
    figure.update_xaxes(tickmode="array", tickvals=DIGITS, range=[-0.5, NUM_CLASSES - 0.5])


def probability_bars(probabilities, true_label: int | None = None, title: str = "Probability of each digit") -> go.Figure:
    """Ten bars, the predicted digit highlighted; the true label, when known and different, in its own colour."""
    probabilities = np.asarray(probabilities, float).reshape(NUM_CLASSES)
    predicted = int(probabilities.argmax())
    colours = [MUTED] * NUM_CLASSES
    if true_label is not None:
        colours[true_label] = TRUE_LABEL
    colours[predicted] = ACCENT
    figure = go.Figure(
        go.Bar(
            x=DIGITS,
            y=probabilities,
            marker_color=colours,
            text=[f"{p:.0%}" if p >= 0.005 else "" for p in probabilities],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="digit %{x}: %{y:.2%}<extra></extra>",
        )
    )
    _digit_axis(figure)
    figure.update_yaxes(range=[0, 1.12], tickformat=".0%")
    return _layout(figure, title, "Digit", "Probability", height=320)


def digit_image(image, title: str) -> go.Figure:
    """A 28x28 image as a pixel grid, white ink on black as the model gets it; hover shows each pixel's value."""
    image = np.asarray(image)
    figure = go.Figure(
        go.Heatmap(
            z=image,
            zmin=0,
            zmax=MAX_PIXEL,
            colorscale="gray",
            showscale=False,
            xgap=1,
            ygap=1,
            hovertemplate="row %{y}, column %{x}: %{z}<extra></extra>",
        )
    )
    figure.update_xaxes(showgrid=False, zeroline=False, dtick=7, constrain="domain")
    figure.update_yaxes(showgrid=False, zeroline=False, dtick=7, autorange="reversed", scaleanchor="x")
    figure.update_layout(plot_bgcolor="#444")
    return _layout(figure, title, "Pixel column", "Pixel row", height=340)


def wrong_predictions_bar(wrong_counts: pd.Series, digit: int) -> go.Figure:
    """The tutorial's chart: how often images of `digit` were taken for each other label."""
    figure = go.Figure(
        go.Bar(
            x=wrong_counts.index.to_list(),
            y=wrong_counts.to_numpy(),
            marker_color=ACCENT,
            text=[str(n) if n else "" for n in wrong_counts],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="predicted %{x}: %{y} images<extra></extra>",
        )
    )
    _digit_axis(figure)
    most = int(wrong_counts.max())
    figure.update_yaxes(range=[0, max(most, 1) * 1.15], dtick=max(1, int(np.ceil(most / 6))), rangemode="tozero")
    return _layout(figure, f"Wrong predictions count for digit {digit}", "Predicted label", "Images", height=340)


def misclassified_heatmap(long_probabilities: pd.DataFrame) -> go.Figure:
    """Incorrectly classified images: one row per id, one column per label, coloured by probability."""
    table = long_probabilities.pivot(index="id", columns="label", values="probability").reindex(columns=DIGITS)
    rows = [f"#{image_id}" for image_id in table.index]
    percentages = [[f"{p:.0%}" if p >= 0.005 else "" for p in row] for row in table.to_numpy()]
    figure = go.Figure(
        go.Heatmap(
            z=table.to_numpy(),
            x=DIGITS,
            y=rows,
            zmin=0,
            zmax=1,
            colorscale="Reds",
            xgap=1,
            ygap=1,
            text=percentages if len(rows) <= HEATMAP_TEXT_LIMIT else None,
            texttemplate="%{text}",
            colorbar={"title": {"text": "Probability"}, "tickformat": ".0%"},
            hovertemplate="image %{y}, label %{x}: %{z:.2%}<extra></extra>",
        )
    )
    _digit_axis(figure)
    figure.update_yaxes(type="category", autorange="reversed")
    height = 140 + 28 * len(rows)
    return _layout(figure, "Incorrectly classified: probability of each label", "Label", "Test image id", height)


def correct_probability_strip(long_probabilities: pd.DataFrame) -> go.Figure:
    """Correctly classified images: every probability as a jittered dot above its label, showing how sure the model was."""
    jitter = np.random.default_rng(JITTER_SEED).uniform(-0.3, 0.3, len(long_probabilities))
    figure = go.Figure(
        go.Scatter(
            x=long_probabilities["label"].to_numpy() + jitter,
            y=long_probabilities["probability"].to_numpy(),
            customdata=np.column_stack([long_probabilities["id"], long_probabilities["label"]]),
            mode="markers",
            marker={"size": 5, "color": CORRECT, "opacity": 0.45},
            hovertemplate="image #%{customdata[0]}, label %{customdata[1]}: %{y:.2%}<extra></extra>",
        )
    )
    _digit_axis(figure)
    figure.update_yaxes(range=[-0.03, 1.03], tickformat=".0%")
    return _layout(figure, "Correctly classified: probability of each label", "Label", "Probability", height=360)
