"""The error-analysis pages (issue 6) run headless by AppTest through the router, with the real model and test set."""

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from digitlens import ROOT, analysis, reading, strokes
from digitlens.store import VERDICTS
from shapes import png

TIMEOUT = 120  # the first embedding of the test set loads TensorFlow


def open_page(page: str, **session_state) -> AppTest:
    app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    for name, value in session_state.items():
        app.session_state[name] = value
    app.run()
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert not app.error, [error.value for error in app.error]
    return app


def figures(app: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def decoded(values) -> np.ndarray:
    """A Plotly array from the figure JSON, which packs NumPy arrays as base64 ("bdata")."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), values["dtype"]).reshape(values.get("shape", -1))
    return np.asarray(values)


def one_sentence_caption(app: AppTest) -> str:
    text = app.caption[0].value
    assert text.endswith(".") and text.count(". ") == 0, text
    return text


@pytest.fixture(scope="module")
def predictions(predictor, test_set):
    images, labels = test_set
    return analysis.predictions_table(labels, analysis.cached_test_probabilities(predictor, images))


def test_confusion_page_shows_the_matrix_scores_and_a_hint(predictions):
    app = open_page("pages/confusion.py")
    assert app.title[0].value == "Confusion matrix"
    one_sentence_caption(app)
    (matrix,) = figures(app)
    assert "Confusion matrix" in matrix["layout"]["title"]["text"]
    assert app.metric[0].value == f"{predictions['correct'].mean():.2%}"
    assert len(app.dataframe) == 2
    assert list(app.dataframe[0].value.columns) == ["Precision", "Recall", "F1 score", "Images"]
    assert "Share of true label" in app.dataframe[1].value.columns  # headings for people, not share_of_true
    assert app.info[0].value.startswith("Click a cell")


def test_confusion_page_toggle_switches_to_row_shares():
    app = open_page("pages/confusion.py")
    app.toggle(key="confusion_normalised").set_value(True).run()
    assert "share of each true label" in figures(app)[0]["layout"]["title"]["text"]


def test_confusion_page_shows_the_images_of_the_selected_cell(predictions):
    top = analysis.top_confusions(analysis.confusion_matrix(predictions["label"], predictions["predicted"]), 1).iloc[0]
    cell, count = (int(top["true"]), int(top["predicted"])), int(top["count"])
    app = open_page("pages/confusion.py", confusion_cell=cell)
    assert app.subheader[0].value.startswith(f"True {cell[0]}, predicted {cell[1]}: {count} images")
    assert len(app.get("image")) == min(count, 48)
    assert figures(app)[0]["data"][2]["selectedpoints"] == [cell[0] * 10 + cell[1]]


def test_confidence_page_shows_histogram_reliability_and_two_galleries(predictions):
    app = open_page("pages/confidence.py")
    one_sentence_caption(app)
    histogram, reliability = figures(app)
    assert [trace["type"] for trace in histogram["data"]] == ["histogram", "histogram"]
    assert "expected calibration error" in reliability["layout"]["title"]["text"]
    assert [metric.label for metric in app.metric] == ["Accuracy", "Mean confidence", "Expected calibration error"]
    assert [header.value for header in app.subheader] == ["Most confident mistakes", "Least confident right answers"]
    assert len(app.get("image")) == min(24, (~predictions["correct"]).sum()) + 24


def test_embedding_page_draws_all_test_images_in_webgl():
    app = open_page("pages/embedding.py")
    one_sentence_caption(app)
    (embedding_map,) = figures(app)
    assert {trace["type"] for trace in embedding_map["data"]} == {"scattergl"}
    assert sum(len(decoded(trace["x"])) for trace in embedding_map["data"][:10]) == 10_000
    assert app.info[0].value.startswith("Click a dot")
    assert "(UMAP)" in embedding_map["layout"]["title"]["text"]  # UMAP first: the digits come apart
    app.segmented_control(key="embedding_method").set_value("PCA").run()
    app.segmented_control(key="embedding_colour").set_value("Right or wrong").run()
    (embedding_map,) = figures(app)
    assert "(PCA)" in embedding_map["layout"]["title"]["text"] and "of variance" in embedding_map["layout"]["xaxis"]["title"]["text"]
    assert [trace["name"] for trace in embedding_map["data"]][:2] == ["right", "wrong"]
    app.segmented_control(key="embedding_colour").set_value("Review verdict").run()
    (embedding_map,) = figures(app)
    names = {trace["name"] for trace in embedding_map["data"][:-1]}  # other tests may have reviewed some images
    assert "Not reviewed" in names and names <= {"Not reviewed", *VERDICTS.values()} and not app.exception


def test_why_page_explains_a_test_image_and_follows_the_id(predictions):
    app = open_page("pages/why.py")
    one_sentence_caption(app)
    first_mistake = int(predictions.index[~predictions["correct"]][0])
    assert app.number_input[0].value == first_mistake
    saliency, bars = figures(app)
    assert "spoke for each digit" in saliency["layout"]["title"]["text"]
    app.number_input[0].set_value(0).run()
    assert "#0" in app.markdown[0].value
    assert f"For {predictions.loc[0, 'predicted']} (predicted" in figures(app)[0]["layout"]["annotations"][0]["text"]


def why_page_with_upload(name: str, contents: bytes) -> AppTest:
    """The Why page asked to explain an uploaded file."""
    app = open_page("pages/why.py")
    app.segmented_control(key="why_source").set_value("Upload").run()
    app.file_uploader[0].upload(name, contents, "image/png").run()
    return app


def test_why_page_explains_an_uploaded_digit():
    app = why_page_with_upload("three.png", png(strokes.draw(3, rgba=False, dark_on_light=True)))
    assert not app.exception
    saliency, _ = figures(app)
    assert saliency["layout"]["annotations"][0]["text"].startswith("For 3 (predicted")
    app.toggle(key="why_neighbours").set_value(True).run()  # what the model compares the upload to
    captions = [caption.value for caption in app.caption if " · distance " in caption.value]
    assert len(captions) == 8 and sum(" · label 3 · " in caption for caption in captions) >= 6


def test_why_page_gives_an_upload_the_probabilities_the_draw_page_gives_it(predictor, test_set):
    five = 255 - test_set[0][8]  # a 5 the model reads surer in its views (94 %) than as given (78 %)
    app = why_page_with_upload("five.png", png(five))
    as_read = reading.read(predictor, reading.mnist_images(five, predictor=predictor)).probabilities[0, 5]
    assert figures(app)[0]["layout"]["annotations"][0]["text"] == f"For 5 (predicted, {as_read:.1%})"


def test_why_page_with_an_id_that_is_no_test_image_says_so_and_shows_the_first_mistake(predictions):
    app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    app.run()
    app.switch_page("pages/why.py")
    app.query_params["id"] = "²"  # a digit to str.isdigit(), not to int()
    app.run()
    assert not app.exception, app.exception
    assert "There is no test image “²”: ids run from 0 to 9999" in app.warning[0].value
    assert app.number_input[0].value == int(predictions.index[~predictions["correct"]][0])


def test_an_upload_that_is_no_image_is_named_as_written_with_the_reason():
    """A file name is shown as text: Markdown in it (a link) is escaped, not rendered."""
    app = why_page_with_upload("[x](https://example.com).png", b"GIF89a broken")
    assert not app.exception
    message = app.error[0].value
    assert message.startswith(r"\[x\]\(https\://example\.com\)\.png") and "not a readable image" in message
