"""Plotly figures for the dashboard, one function per chart; each comes with its title and axis labels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from digitlens import MAX_PIXEL, NUM_CLASSES

if TYPE_CHECKING:  # pandas costs a third of a second to import, and the Draw page, the first one shown, needs none
    import pandas as pd

ACCENT = "#e4572e"  # the predicted digit, and everything "wrong"
MUTED = "#9aa5b1"
CLOSEST = "#5f6b78"  # the closest digit to something that is not a digit: darker than the rest, not the accent
DIMMED = 0.45  # opacity of the bars of something that is not a digit
COMPACT_HEIGHT = 230  # px: one digit's probabilities among the digits of a number
COMPACT_FONT_SIZE = 12
COMPACT_LABEL_FLOOR = 0.1  # compact bars print only probabilities at least this large
CORRECT = "#2e86ab"
TRUE_LABEL = "#2a9d8f"
FONT_SIZE = 14
TITLE_SIZE = 18
DIGITS = list(range(NUM_CLASSES))
HEATMAP_TEXT_LIMIT = 50  # rows beyond which printed percentages become unreadable
JITTER_SEED = 0  # fixed so the strip chart does not shuffle on every rerun
SMALLEST_SHOWN = 1e-8  # the strip chart's floor: smaller probabilities are drawn on it
DIGIT_COLOURS = plotly.colors.qualitative.D3  # ten distinct colours, one per digit
DIAGONAL_FILL = "#eef0f2"
CONFUSION_HEIGHT = 640  # px: cells of about 50 px, where the page gives the matrix its whole width
CELL_MARKER_SIZE = 46  # px: the outline of the selected confusion cell, a little inside it
SALIENCY_SCALE = [[0, "rgb(33,102,172)"], [0.5, "rgba(255,255,255,0)"], [1, "rgb(215,48,39)"]]  # clear at 0
SALIENCY_PERCENTILE = 99


def _layout(figure: go.Figure, title: str, x_title: str, y_title: str, height: int) -> go.Figure:
    """The look every chart shares: a readable title, labelled axes, a compact margin.

    A drag does not zoom (the toolbar still does), unless the chart chose a drag of its own: on a phone, a finger
    swiping over a chart then scrolls the page instead of zooming into the chart.
    The toolbar stands upright at the right edge, where it cannot cover the title as it did on a phone.
    """
    figure.update_layout(
        dragmode=figure.layout.dragmode or False,
        modebar={"orientation": "v"},
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


def probability_bars(
    probabilities,
    true_label: int | None = None,
    title: str = "Probability of each digit",
    not_a_digit: bool = False,
    compact: bool = False,
    label_name: str = "true label",
) -> go.Figure:
    """Ten bars, the predicted digit highlighted; the true label, when known and different, in its own colour, named
    in the key as label_name (on the review page the label is only the given one, in doubt).

    With not_a_digit the bars are dimmed and the top one only darker grey and labelled: a closest guess, not a prediction.
    Compact fits a narrow column (one digit of a number): smaller, tighter, no probability axis title.
    """
    probabilities = np.asarray(probabilities, float).reshape(NUM_CLASSES)
    predicted = int(probabilities.argmax())
    colours = [MUTED] * NUM_CLASSES
    if true_label is not None:
        colours[true_label] = TRUE_LABEL
    colours[predicted] = CLOSEST if not_a_digit else ACCENT
    # labels of neighbouring small bars overlap: what is not a digit spreads its probability thinly, compact bars are narrow
    labelled = np.arange(NUM_CLASSES) == predicted if not_a_digit else probabilities >= (COMPACT_LABEL_FLOOR if compact else 0.005)
    figure = go.Figure(
        go.Bar(
            x=DIGITS,
            y=probabilities,
            marker={"color": colours, "opacity": DIMMED if not_a_digit else 1},
            text=[f"{p:.0%}" if show else "" for p, show in zip(probabilities, labelled)],
            textposition="outside",
            constraintext="none",
            cliponaxis=False,
            hovertemplate="digit %{x}: %{y:.2%}<extra></extra>",
        )
    )
    _digit_axis(figure)
    figure.update_yaxes(range=[0, 1.12], tickformat=".0%")
    if true_label is not None and true_label != predicted:  # a key for the two colours
        key = f"<span style='color:{colours[predicted]}'>■</span> predicted {predicted}   <span style='color:{TRUE_LABEL}'>■</span> {label_name} {true_label}"
        figure.add_annotation(text=key, xref="paper", yref="paper", x=1, y=1.0, yanchor="bottom", xanchor="right", showarrow=False)
    if not compact:
        return _layout(figure, title, "Digit", "Probability", height=320)
    figure = _layout(figure, title, "Digit", None, height=COMPACT_HEIGHT)
    figure.update_layout(title_font_size=FONT_SIZE, font_size=COMPACT_FONT_SIZE, margin={"l": 45, "r": 10, "t": 40, "b": 45})
    return figure


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
    edges = [-0.5, image.shape[1] - 0.5]
    figure.update_xaxes(showgrid=False, zeroline=False, dtick=7, range=edges, constrain="domain")
    figure.update_yaxes(showgrid=False, zeroline=False, dtick=7, range=edges[::-1], scaleanchor="x", constrain="domain")
    figure.update_layout(plot_bgcolor="rgba(0,0,0,0)")  # the page shows through the gaps: a visible pixel grid
    return _layout(figure, title, "Pixel column", "Pixel row", height=380)


def per_digit_accuracy(accuracies: dict[str, np.ndarray]) -> go.Figure:
    """Each model's accuracy on each digit's test images, side by side (name -> ten accuracies)."""
    colours = [CORRECT, ACCENT, MUTED]
    figure = go.Figure(
        [
            go.Bar(
                x=DIGITS, y=values, name=name, marker_color=colours[index % len(colours)],
                hovertemplate=f"{name}, digit %{{x}}: %{{y:.2%}}<extra></extra>",
            )
            for index, (name, values) in enumerate(accuracies.items())
        ]
    )
    lowest = min(float(np.min(values)) for values in accuracies.values())
    figure.update_layout(barmode="group", legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"})
    figure.update_yaxes(tickformat=".1%", range=[max(0.0, lowest - 0.01), 1.0])  # the differences live near 100 %
    _digit_axis(figure)
    return _layout(figure, "Accuracy on each digit's test images", "Digit", "Accuracy", 420)


def wrong_predictions_bar(wrong_counts: pd.Series, digit: int) -> go.Figure:
    """The tutorial's chart: how often images of `digit` were taken for each other label."""
    figure = go.Figure(
        go.Bar(
            x=wrong_counts.index.to_list(),
            y=wrong_counts.to_numpy(),
            marker_color=ACCENT,
            text=[str(n) if n else "" for n in wrong_counts],
            textposition="outside",
            constraintext="none",
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
            showscale=len(rows) > HEATMAP_TEXT_LIMIT,  # printed percentages make a colour scale redundant
            colorbar={"title": {"text": "Probability"}, "tickformat": ".0%"},
            hovertemplate="image %{y}, label %{x}: %{z:.2%}<extra></extra>",
        )
    )
    _digit_axis(figure)
    figure.update_yaxes(type="category", autorange="reversed")
    height = 150 + 28 * len(rows)
    return _layout(figure, "Incorrectly classified: probability of each label", "Label", "Test image id", height)


def correct_probability_strip(long_probabilities: pd.DataFrame) -> go.Figure:
    """Correctly classified images: every probability as a jittered dot above its label, on a log scale, so that
    how sure the model was shows (99.9 % against 99.999 %) and the other labels do not all sit on 0 %.

    Each image's predicted (and true) label is coloured, the other labels grey; probabilities below
    SMALLEST_SHOWN are drawn at it.
    """
    jitter = np.random.default_rng(JITTER_SEED).uniform(-0.3, 0.3, len(long_probabilities))
    ids, labels, probability = (long_probabilities[column].to_numpy() for column in ("id", "label", "probability"))
    predicted = probability == long_probabilities.groupby("id")["probability"].transform("max").to_numpy()
    figure = go.Figure()
    for chosen, name, colour in ((predicted, "its label, predicted right", CORRECT), (~predicted, "the other labels", MUTED)):
        figure.add_trace(
            go.Scatter(
                x=labels[chosen] + jitter[chosen],
                y=np.maximum(probability[chosen], SMALLEST_SHOWN),
                customdata=np.column_stack([ids[chosen], labels[chosen], probability[chosen]]),
                mode="markers",
                name=name,
                marker={"size": 5, "color": colour, "opacity": 0.5},
                hovertemplate="image #%{customdata[0]}, label %{customdata[1]}: %{customdata[2]:.6%}<extra></extra>",
            )
        )
    _digit_axis(figure)
    exponents = np.arange(np.log10(SMALLEST_SHOWN), 1, 2)
    figure.update_yaxes(
        type="log",
        range=[np.log10(SMALLEST_SHOWN) - 0.3, 0.15],
        tickvals=10.0**exponents,
        ticktext=[("≤ " if exponent == exponents[0] else "") + f"{100 * 10.0**exponent:.{max(0, -int(exponent) - 2)}f}%" for exponent in exponents],
    )
    figure.update_layout(legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0})
    return _layout(figure, "Correctly classified: probability of each label (log scale)", "Label", "Probability", height=400)


# --- Error analysis over the whole test set ---


def row_normalised(matrix: np.ndarray) -> np.ndarray:
    """Each row as shares of its true label, so rare and common digits compare; empty rows stay zero."""
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)


def confusion_heatmap(matrix, normalised: bool = False, selected: tuple[int, int] | None = None) -> go.Figure:
    """Confusion matrix with the mistakes coloured and the diagonal greyed; each cell is a clickable point.

    Streamlit cannot select heatmap cells, so an invisible scatter point sits on every cell centre:
    clicking a cell selects it, and its customdata is (true label, predicted label, count). Custom data
    are plain lists: a NumPy array would travel as a typed array and come back from a selection as a dict.
    The selected (true, predicted) cell, if any, is outlined.
    """
    matrix = np.asarray(matrix)
    values = row_normalised(matrix) if normalised else matrix.astype(float)
    diagonal = np.eye(len(matrix), dtype=bool)
    text = np.where(values > 0, [[f"{v:.1%}" if normalised else f"{v:.0f}" for v in row] for row in values], "")
    true, predicted = np.indices(matrix.shape)
    mistakes = np.where(diagonal | (values == 0), np.nan, values)  # only mistakes get a colour
    if normalised:
        colorbar = {"title": {"text": "Share of true label", "side": "right"}, "tickformat": ".2~%"}  # 0.35 %, not 0.4 % twice
    else:  # whole images: integer ticks only
        colorbar = {"title": {"text": "Images", "side": "right"}, "tickformat": "d", "dtick": max(1, int(np.ceil(np.nanmax(mistakes, initial=0) / 5)))}
    figure = go.Figure(
        [
            go.Heatmap(
                z=mistakes,
                x=DIGITS,
                y=DIGITS,
                colorscale="Reds",
                zmin=0,
                text=text,
                texttemplate="%{text}",
                xgap=2,
                ygap=2,
                hoverinfo="skip",
                colorbar=colorbar,
            ),
            go.Heatmap(
                z=np.where(diagonal, 1.0, np.nan),
                x=DIGITS,
                y=DIGITS,
                colorscale=[[0, DIAGONAL_FILL], [1, DIAGONAL_FILL]],
                showscale=False,
                text=text,
                texttemplate="%{text}",
                textfont={"color": MUTED},
                xgap=2,
                ygap=2,
                hoverinfo="skip",
            ),
            go.Scatter(
                x=predicted.ravel(),
                y=true.ravel(),
                customdata=np.column_stack([true.ravel(), predicted.ravel(), matrix.ravel()]).tolist(),
                mode="markers",
                marker={"symbol": "square-open", "size": CELL_MARKER_SIZE, "color": "black", "line": {"width": 3}, "opacity": 0},
                selected={"marker": {"opacity": 1}},
                unselected={"marker": {"opacity": 0}},
                selectedpoints=None if selected is None else [selected[0] * len(matrix) + selected[1]],
                hovertemplate="true %{y}, predicted %{x}: %{customdata[2]} images<extra></extra>",
                showlegend=False,
            ),
        ]
    )
    _digit_axis(figure)
    figure.update_xaxes(showgrid=False, zeroline=False, constrain="domain")
    figure.update_yaxes(
        tickmode="array", tickvals=DIGITS, range=[NUM_CLASSES - 0.5, -0.5], showgrid=False, zeroline=False, scaleanchor="x"
    )
    figure.update_layout(clickmode="event+select", dragmode=False, plot_bgcolor="white")
    kind = "share of each true label" if normalised else "image counts"
    return _layout(figure, f"Confusion matrix: {kind}", "Predicted label", "True label", CONFUSION_HEIGHT)


def confidence_histogram(confidence, correct) -> go.Figure:
    """Top probability of right and wrong predictions, each as a share of its own group so both show."""
    confidence = np.asarray(confidence, float)
    correct = np.asarray(correct, bool)
    figure = go.Figure(
        [
            go.Histogram(
                x=confidence[mask],
                name=f"{name} ({mask.sum():,})",
                histnorm="percent",
                xbins={"start": 0, "end": 1.0001, "size": 0.05},
                marker_color=colour,
                opacity=0.75,
                hovertemplate="confidence %{x}: %{y:.1f}% of " + name + " predictions<extra></extra>",
            )
            for name, mask, colour in [("right", correct, CORRECT), ("wrong", ~correct, ACCENT)]
        ]
    )
    figure.update_layout(barmode="overlay", legend={"title": {"text": "Prediction"}, "x": 0.02, "y": 0.98})
    figure.update_xaxes(range=[0, 1.0001], tickformat=".0%", dtick=0.1)
    figure.update_yaxes(ticksuffix="%")
    return _layout(figure, "How sure the model was, right versus wrong", "Probability of the predicted digit", "Share of predictions", 400)


def reliability_diagram(table: pd.DataFrame, ece: float) -> go.Figure:
    """Accuracy against confidence per bin; bars below the diagonal mean overconfidence."""
    centres = (table["lower"] + table["upper"]) / 2
    figure = go.Figure(
        [
            go.Bar(
                x=centres,
                y=table["accuracy"],
                width=table["upper"] - table["lower"],
                name="accuracy",
                marker={"color": CORRECT, "line": {"color": "white", "width": 1}},
                text=[f"{count:,}" for count in table["count"]],
                textposition="inside",
                insidetextanchor="start",
                customdata=np.column_stack([table["count"], table["mean_confidence"], table["lower"], table["upper"]]),
                hovertemplate="confidence %{customdata[2]:.0%}-%{customdata[3]:.0%}: %{customdata[0]:,} images, "
                "accuracy %{y:.1%}, mean confidence %{customdata[1]:.1%}<extra></extra>",
            ),
            go.Scatter(
                x=table["mean_confidence"],
                y=table["mean_confidence"],
                mode="markers",
                name="mean confidence",
                marker={"color": ACCENT, "size": 9, "symbol": "diamond"},
                hoverinfo="skip",
            ),
            go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect calibration", line={"color": MUTED, "dash": "dash"}),
        ]
    )
    figure.update_xaxes(range=[0, 1], tickformat=".0%", dtick=0.1)
    figure.update_yaxes(range=[0, 1.02], tickformat=".0%", dtick=0.1)
    figure = _layout(figure, f"Reliability diagram (expected calibration error {ece:.2%})", "Confidence", "Accuracy", 440)
    figure.update_layout(legend={"orientation": "h", "x": 0, "y": -0.2, "yanchor": "top"}, margin_b=110)
    return figure


def embedding_map(
    coordinates, labels, predicted, axis_titles: tuple[str, str], method: str = "PCA", groups=None, group_title: str = "True label"
) -> go.Figure:
    """Every test image placed by its embedding (WebGL), one colour per group (by default its label; or its
    prediction, right or wrong, a review verdict), mistakes crossed.

    Each point's customdata is its test id, one number, so a selection reports the ids directly.
    """
    coordinates = np.asarray(coordinates, np.float32)
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    groups = np.asarray(labels if groups is None else groups).astype(str)
    wrong = labels != predicted
    ids = np.arange(len(groups))
    names = sorted(set(groups), key=lambda name: (not name.isdigit(), int(name) if name.isdigit() else name))
    palette = DIGIT_COLOURS if all(name.isdigit() for name in names) else plotly.colors.qualitative.Set1
    traces = [
        go.Scattergl(
            x=coordinates[groups == name, 0],
            y=coordinates[groups == name, 1],
            customdata=ids[groups == name],
            mode="markers",
            name=name,
            marker={"color": palette[int(name) if name.isdigit() else index % len(palette)], "size": 4, "opacity": 0.6},
            hovertemplate=f"#%{{customdata}}: {group_title.lower()} {name}<extra></extra>",
        )
        for index, name in enumerate(names)
    ]
    traces.append(
        go.Scattergl(
            x=coordinates[wrong, 0],
            y=coordinates[wrong, 1],
            customdata=ids[wrong],
            hovertext=[f"label {label}, predicted {guess}" for label, guess in zip(labels[wrong], predicted[wrong])],
            mode="markers",
            name=f"mistakes ({wrong.sum()})",
            marker={"color": "black", "size": 8, "symbol": "x-thin", "line": {"width": 2, "color": "black"}},
            hovertemplate="#%{customdata}: %{hovertext}<extra></extra>",
        )
    )
    figure = go.Figure(traces)
    # No drag of its own: in lasso mode a click selected nothing, so one image could not be opened (and a swipe on a
    # phone would draw a lasso); the toolbar offers the lasso and the box.
    figure.update_layout(legend={"title": {"text": group_title}, "itemsizing": "constant"})
    return _layout(figure, f"Embedding map: test images placed by the model's penultimate layer ({method})", *axis_titles, 620)


def saliency_maps(image, attributions, titles) -> go.Figure:
    """One panel per digit: the image in grey, red where its ink supported the digit, blue where it argued against.

    The colour scale is shared and ends at the 99th percentile of the attributions' size, so a few extreme
    pixels do not wash out the rest.
    """
    image = np.asarray(image, float)
    attributions = np.asarray(attributions, float)
    limit = max(float(np.percentile(np.abs(attributions), SALIENCY_PERCENTILE)), 1e-9)
    figure = make_subplots(rows=1, cols=len(attributions), subplot_titles=list(titles), horizontal_spacing=0.08)
    for column, attribution in enumerate(attributions, start=1):
        figure.add_trace(
            go.Heatmap(z=image, zmin=0, zmax=MAX_PIXEL * 2.5, colorscale="gray_r", showscale=False, hoverinfo="skip"),
            row=1,
            col=column,
        )
        figure.add_trace(
            go.Heatmap(
                z=attribution,
                zmin=-limit,
                zmax=limit,
                colorscale=SALIENCY_SCALE,
                showscale=column == len(attributions),
                colorbar={"tickvals": [-limit, 0, limit], "ticktext": ["against", "0", "for"], "thickness": 14},
                hovertemplate="row %{y}, column %{x}: log-odds %{z:+.3f} from this ink<extra></extra>",
            ),
            row=1,
            col=column,
        )
    figure.update_xaxes(showgrid=False, zeroline=False, showticklabels=False, ticks="", constrain="domain")
    figure.update_yaxes(showgrid=False, zeroline=False, showticklabels=False, ticks="", autorange="reversed", scaleanchor="x")
    for column in range(2, len(attributions) + 1):
        figure.update_yaxes(scaleanchor=f"x{column}", row=1, col=column)
    figure.update_annotations(font_size=FONT_SIZE)
    return _layout(figure, "Which ink spoke for each digit (red) and against it (blue)", "", "", 480)
