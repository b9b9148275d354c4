"""Dashboard figures: the right traces, a title and labelled axes, all ten labels where the tutorial shows them."""

import numpy as np
import pandas as pd
import pytest

from digitlens import analysis, charts

PROBABILITIES = np.array([0.01, 0.02, 0.05, 0.7, 0.02, 0.02, 0.02, 0.12, 0.02, 0.02])


def titles(figure):
    return figure.layout.title.text, figure.layout.xaxis.title.text, figure.layout.yaxis.title.text


def test_every_chart_has_a_title_and_axis_labels():
    long = analysis.probabilities_long([5, 9], np.vstack([PROBABILITIES, PROBABILITIES]))
    figures = [
        charts.probability_bars(PROBABILITIES),
        charts.digit_image(np.zeros((28, 28), np.uint8), "A digit"),
        charts.wrong_predictions_bar(pd.Series(np.zeros(10, int)), digit=2),
        charts.misclassified_heatmap(long),
        charts.correct_probability_strip(long),
    ]
    for figure in figures:
        assert all(titles(figure)), titles(figure)
        assert figure.layout.font.size >= 12
        assert figure.layout.dragmode is False  # a swipe over a chart on a phone scrolls the page, not zooms
        assert figure.layout.modebar.orientation == "v"  # the toolbar keeps off the title


def test_probability_bars_name_the_colours_of_the_prediction_and_a_different_true_label():
    (key,) = charts.probability_bars(PROBABILITIES, true_label=7).layout.annotations
    assert "predicted 3" in key.text and "true label 7" in key.text and charts.TRUE_LABEL in key.text
    assert not charts.probability_bars(PROBABILITIES, true_label=3).layout.annotations  # one colour: nothing to tell apart
    (given,) = charts.probability_bars(PROBABILITIES, true_label=7, label_name="given label").layout.annotations
    assert "given label 7" in given.text and "true" not in given.text  # the review page doubts the label


def test_probability_bars_highlight_the_prediction_and_the_true_label():
    bars = charts.probability_bars(PROBABILITIES, true_label=7).data[0]
    assert list(bars.x) == list(range(10))
    assert bars.marker.color[3] == charts.ACCENT
    assert bars.marker.color[7] == charts.TRUE_LABEL
    assert bars.marker.color[0] == charts.MUTED


def test_probability_bars_dim_what_is_not_a_digit_and_grey_its_closest_digit():
    plain = charts.probability_bars(PROBABILITIES).data[0].marker
    dimmed = charts.probability_bars(PROBABILITIES, not_a_digit=True)
    bars = dimmed.data[0].marker
    assert plain.opacity == 1 and bars.opacity < 0.6
    assert bars.color[3] == charts.CLOSEST != charts.ACCENT and charts.ACCENT not in bars.color
    assert [text for text in dimmed.data[0].text if text] == ["70%"]  # only the closest digit's share is printed


def test_compact_probability_bars_are_smaller_and_keep_the_title_and_all_ten_digits():
    normal, compact = charts.probability_bars(PROBABILITIES), charts.probability_bars(PROBABILITIES, title="Digit 2", compact=True)
    assert compact.layout.height < normal.layout.height and compact.layout.font.size < normal.layout.font.size
    assert compact.layout.title.text == "Digit 2" and list(compact.layout.xaxis.tickvals) == list(range(10))
    assert [text for text in compact.data[0].text if text] == ["70%", "12%"]  # the small ones would overlap


def test_wrong_predictions_bar_is_titled_by_digit_and_shows_all_ten_labels():
    counts = pd.Series([0, 0, 0, 3, 0, 0, 0, 1, 0, 0])
    figure = charts.wrong_predictions_bar(counts, digit=2)
    assert figure.layout.title.text == "Wrong predictions count for digit 2"
    assert figure.layout.xaxis.title.text == "Predicted label"
    assert list(figure.layout.xaxis.tickvals) == list(range(10))
    assert list(figure.data[0].y) == counts.tolist()


def test_misclassified_heatmap_has_a_row_per_id_and_prints_percentages_while_readable():
    long = analysis.probabilities_long([5, 9], np.vstack([PROBABILITIES, PROBABILITIES[::-1]]))
    heatmap = charts.misclassified_heatmap(long).data[0]
    assert list(heatmap.y) == ["#5", "#9"]
    assert np.asarray(heatmap.z).shape == (2, 10)
    assert heatmap.text[0][3] == "70%"
    assert not heatmap.showscale


def test_misclassified_heatmap_drops_the_printed_numbers_beyond_fifty_rows():
    ids = np.arange(charts.HEATMAP_TEXT_LIMIT + 1)
    long = analysis.probabilities_long(ids, np.tile(PROBABILITIES, (len(ids), 1)))
    figure = charts.misclassified_heatmap(long)
    assert figure.data[0].text is None and figure.data[0].showscale
    assert figure.layout.height > 28 * len(ids)


def test_correct_probability_strip_jitters_each_point_near_its_label_the_same_way_every_time():
    long = analysis.probabilities_long([1, 2, 3], np.tile(PROBABILITIES, (3, 1)))
    figure = charts.correct_probability_strip(long)
    predicted, others = figure.data
    assert len(predicted.x) == 3 and len(others.x) == 27
    labels = long["label"].to_numpy()
    assert np.abs(np.asarray(others.x) - labels[labels != 3]).max() <= 0.3
    assert list(others.x) == list(charts.correct_probability_strip(long).data[1].x)


def test_correct_probability_strip_shows_tiny_probabilities_on_a_log_scale_down_to_its_floor():
    long = analysis.probabilities_long([1], [[0.0, 1e-12, 1e-5, 1 - 1e-5 - 1e-12, 0, 0, 0, 0, 0, 0]])
    figure = charts.correct_probability_strip(long)
    assert figure.layout.yaxis.type == "log"
    assert list(figure.data[0].y) == [1 - 1e-5 - 1e-12]  # the predicted label, coloured
    assert min(figure.data[1].y) == charts.SMALLEST_SHOWN and 1e-5 in list(figure.data[1].y)
    assert figure.layout.yaxis.ticktext[-1] == "100%" and figure.layout.yaxis.ticktext[0].startswith("≤ 0.000001")


def test_digit_image_shows_every_pixel_with_row_zero_on_top():
    image = np.arange(28 * 28).reshape(28, 28) % 256
    figure = charts.digit_image(image, "Test image #3")
    assert np.asarray(figure.data[0].z).shape == (28, 28)
    assert list(figure.layout.yaxis.range) == [27.5, -0.5]
    assert figure.layout.title.text == "Test image #3"


@pytest.mark.parametrize("wrong", [0, 1, 6, 40])
def test_wrong_predictions_bar_keeps_whole_number_ticks(wrong):
    counts = pd.Series([wrong] + [0] * 9)
    assert float(charts.wrong_predictions_bar(counts, digit=4).layout.yaxis.dtick).is_integer()
