"""Error-analysis figures (issue 6): the right traces, titles and axis labels."""

import numpy as np
import pytest

from digitlens import analysis, charts


@pytest.fixture
def matrix():
    labels = [0, 0, 0, 1, 1, 2, 2, 2, 2]
    predicted = [0, 0, 1, 1, 1, 2, 2, 0, 1]
    return analysis.confusion_matrix(labels, predicted)


def test_confusion_heatmap_greys_the_diagonal_and_colours_only_mistakes(matrix):
    figure = charts.confusion_heatmap(matrix)
    mistakes, diagonal, cells = figure.data
    assert np.isnan(np.diag(np.asarray(mistakes.z, float))).all()
    assert np.asarray(mistakes.z, float)[0, 1] == 1
    assert np.asarray(diagonal.z, float)[2, 2] == 1 and np.isnan(np.asarray(diagonal.z, float)[0, 1])
    assert "Confusion matrix" in figure.layout.title.text
    assert figure.layout.xaxis.title.text == "Predicted label"
    assert figure.layout.yaxis.title.text == "True label"


def test_confusion_heatmap_cells_are_selectable_points_carrying_true_and_predicted(matrix):
    cells = charts.confusion_heatmap(matrix).data[2]
    assert cells.type == "scatter" and len(cells.x) == 100
    true, predicted, count = cells.customdata[2 * 10 + 1]  # row-major: true 2, predicted 1
    assert (true, predicted, count) == (2, 1, 1)
    assert cells.marker.opacity == 0 and cells.selected.marker.opacity == 1


def test_confusion_heatmap_normalised_shows_row_shares(matrix):
    figure = charts.confusion_heatmap(matrix, normalised=True)
    assert np.asarray(figure.data[0].z, float)[0, 1] == pytest.approx(1 / 3)
    assert figure.data[0].text[0][1] == "33.3%"
    assert "share of each true label" in figure.layout.title.text


def test_confidence_histogram_splits_right_and_wrong():
    figure = charts.confidence_histogram([0.99, 0.98, 0.6, 0.55], [True, True, True, False])
    right, wrong = figure.data
    assert right.name == "right (3)" and wrong.name == "wrong (1)"
    assert list(wrong.x) == [0.55]
    assert figure.layout.xaxis.title.text == "Probability of the predicted digit"
    assert figure.layout.yaxis.title.text == "Share of predictions"


def test_reliability_diagram_shows_accuracy_bars_the_diagonal_and_the_ece():
    table = analysis.reliability_table([0.25] * 4 + [0.75] * 4, [1, 0, 0, 0, 1, 1, 1, 0])
    figure = charts.reliability_diagram(table, ece=0.0123)
    bars, means, diagonal = figure.data
    assert list(bars.y) == pytest.approx([0.25, 0.75])
    assert list(diagonal.x) == [0, 1] and list(diagonal.y) == [0, 1]
    assert "1.23%" in figure.layout.title.text
    assert (figure.layout.xaxis.title.text, figure.layout.yaxis.title.text) == ("Confidence", "Accuracy")


def test_embedding_map_draws_one_webgl_trace_per_digit_plus_the_mistakes():
    rng = np.random.default_rng(0)
    labels = np.arange(10).repeat(5)
    predicted = labels.copy()
    predicted[[3, 17]] = [9, 2]
    figure = charts.embedding_map(rng.normal(size=(50, 2)), labels, predicted, ("PC 1 (31%)", "PC 2 (12%)"))
    assert [trace.type for trace in figure.data] == ["scattergl"] * 11
    assert sorted(figure.data[-1].customdata) == [3, 17]
    assert list(figure.data[0].customdata) == [0, 1, 2, 3, 4]
    assert figure.data[-1].hovertext[0] == "label 0, predicted 9"
    assert (figure.layout.xaxis.title.text, figure.layout.yaxis.title.text) == ("PC 1 (31%)", "PC 2 (12%)")
    assert "Embedding map" in figure.layout.title.text and "(PCA)" in figure.layout.title.text
    assert figure.layout.dragmode is False  # a click selects one dot (in lasso mode it did not); the toolbar has the lasso


def test_embedding_map_colours_by_any_grouping_with_digits_in_order():
    labels = np.array([1, 0, 2, 1])
    groups = np.array(["right", "wrong", "right", "right"])
    figure = charts.embedding_map(np.zeros((4, 2)), labels, labels, ("UMAP 1", "UMAP 2"), "UMAP", groups, "Prediction")
    assert [trace.name for trace in figure.data] == ["right", "wrong", "mistakes (0)"]
    assert list(figure.data[0].customdata) == [0, 2, 3]
    assert figure.layout.legend.title.text == "Prediction" and "(UMAP)" in figure.layout.title.text
    by_digit = charts.embedding_map(np.zeros((4, 2)), labels, labels, ("", ""), groups=np.array([3, 2, 1, 2]))
    assert [trace.name for trace in by_digit.data][:3] == ["1", "2", "3"]


def test_saliency_maps_one_panel_per_digit_on_a_shared_symmetric_scale():
    image = np.zeros((28, 28))
    attributions = np.random.default_rng(0).normal(size=(2, 28, 28))
    attributions[0, 5, 5] = 1000.0  # one extreme pixel must not wash out the rest
    figure = charts.saliency_maps(image, attributions, ["For 7 (predicted)", "For 1 (runner-up)"])
    overlays = [trace for trace in figure.data if trace.zmin is not None and trace.zmin < 0]
    assert len(overlays) == 2
    assert all(trace.zmax == -trace.zmin < 4 for trace in overlays)
    assert [annotation.text for annotation in figure.layout.annotations] == ["For 7 (predicted)", "For 1 (runner-up)"]
    assert "spoke for each digit" in figure.layout.title.text



def test_confusion_heatmap_outlines_the_selected_cell(matrix):
    assert list(charts.confusion_heatmap(matrix, selected=(2, 1)).data[2].selectedpoints) == [21]
    assert charts.confusion_heatmap(matrix).data[2].selectedpoints is None


def test_per_digit_accuracy_puts_each_models_bars_side_by_side():
    figure = charts.per_digit_accuracy({"Our CNN": np.full(10, 0.99), "The tutorial's MLP": np.linspace(0.97, 0.99, 10)})
    assert [trace.name for trace in figure.data] == ["Our CNN", "The tutorial's MLP"]
    assert figure.layout.barmode == "group" and figure.layout.yaxis.range[0] == pytest.approx(0.96)
    assert figure.layout.title.text and figure.layout.xaxis.title.text == "Digit" and figure.layout.yaxis.title.text == "Accuracy"
