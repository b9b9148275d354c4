"""The production loop's pages run headless by AppTest: feedback on the Draw page, the Collected and Monitoring pages."""

import time

import numpy as np
import pytest
from datetime import datetime, timezone
from scipy import ndimage

from apptest import chart_spec, open_page
from digitlens import production, strokes
from digitlens.store import Served
from shapes import png


def upload_a_seven(app):
    app.file_uploader[0].upload("seven.png", png(strokes.draw(7, rgba=False, dark_on_light=True)), "image/png")
    app.run()
    assert not app.exception, app.exception
    assert app.metric[0].value == "7"


def logged(store, count: int, timeout: float = 5) -> int:
    """The log's row count once it reaches count (it is written in the background), or what it is after timeout."""
    deadline = time.monotonic() + timeout
    while (found := store.count_predictions()) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_an_upload_is_logged_once_with_its_verdict_and_a_yes_is_saved_as_feedback(store):
    app = open_page("pages/draw.py")
    upload_a_seven(app)
    app.button(key=next(button.key for button in app.button if button.key.endswith("_right"))).click().run()
    assert "Thanks, saved: it is a 7" in app.success[0].value
    (entry,) = store.feedback().table.itertuples()
    assert (entry.source, entry.answer, entry.verdict, entry.label) == ("upload", 7, "right", 7)
    app.slider(key="pen_width").set_value(20).run()  # another widget: the same upload, shown again, is not logged again
    assert logged(store, 1) == 1
    row = store.predictions().table.iloc[0]
    assert (row["source"], row["answer"], row["is_digit"]) == ("upload", 7, True) and row["latency_ms"] > 0


@pytest.mark.parametrize("answer, verdict, label", [("No, it was a", "wrong", 1), ("Not a digit", "not_a_digit", None)])
def test_feedback_takes_another_digit_or_not_a_digit(store, answer, verdict, label):
    app = open_page("pages/draw.py")
    upload_a_seven(app)
    if verdict == "wrong":
        next(pills for pills in app.get("button_group") if pills.label == answer).set_value(label).run()
    else:
        app.button(key=next(button.key for button in app.button if button.key.endswith("_not_a_digit"))).click().run()
    assert app.success and "Thanks, saved" in app.success[0].value
    (entry,) = store.feedback().table.itertuples()
    assert (entry.verdict, entry.label, entry.answer) == (verdict, label, 7)


@pytest.fixture
def feedback(store, test_set):
    images, labels = test_set
    for index in range(12):
        probabilities = np.eye(10)[(labels[index] + (index % 3 == 0)) % 10]  # every third answered wrong
        verdict = "wrong" if index % 3 == 0 else "right"
        store.save_feedback(images[index], probabilities, verdict, int(labels[index]) if verdict == "wrong" else None)
    store.save_feedback(np.zeros((28, 28)), np.eye(10)[1], "not_a_digit", source="upload")
    return store


def test_collected_page_lists_feedback_and_filters_it(feedback):
    app = open_page("pages/collected.py")
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics == {"Feedback": "13", "The model was right": "62%", "Corrected digits": "4", "Not a digit": "1"}
    assert len(app.get("image")) == 13
    next(pills for pills in app.get("button_group") if pills.label == "Answer").set_value(["wrong"]).run()
    assert {metric.label: metric.value for metric in app.metric}["Feedback"] == "4"
    assert all("it was" in caption.value for caption in app.caption if caption.value.startswith("model "))


def test_collected_page_without_feedback_says_how_to_give_some(store):
    app = open_page("pages/collected.py")
    assert "No feedback yet" in app.info[0].value


def serve(store, images, predictor, source="api"):
    """Log the images as served by the predictor; like the API's /predict, with no not-a-digit verdict."""
    store.save_predictions([Served(datetime.now(timezone.utc), source, images, predictor.predict_proba(images), None, 4.0, predictor.fingerprint)])


def test_monitoring_page_finds_mnist_like_traffic_like_mnist(store, test_set, predictor):
    serve(store, test_set[0][:300], predictor)
    app = open_page("pages/monitoring.py")
    assert {metric.label: metric.value for metric in app.metric}["Predictions"] == "300"
    assert "look like MNIST" in app.success[0].value
    assert {chart.key for chart in app.get("plotly_chart")} >= {"monitoring_traffic", "monitoring_latency", "monitoring_answers", "monitoring_confidence"}
    assert chart_spec(app, "monitoring_traffic")["layout"]["yaxis"]["title"]["text"] == "Predictions (log scale)"


def test_monitoring_page_flags_thick_strokes_in_plain_words_and_opens_the_inputs_behind_a_bar(store, test_set, predictor):
    thick = np.stack([ndimage.grey_dilation(image, size=3) for image in test_set[0][:200]])
    serve(store, thick, predictor, source="draw")
    app = open_page("pages/monitoring.py")
    assert "look unlike MNIST" in app.warning[0].value and "thicker strokes" in app.warning[0].value
    app.session_state["monitoring_selected"] = ("monitoring_answers", 1)  # what a click on the bar of answer 1 keeps
    app.run()
    ones = int((predictor.predict(thick) == 1).sum())
    assert any(header.value.startswith(f"{ones} input") and "answered 1" in header.value for header in app.subheader)
    assert len(app.get("image")) == min(ones, 48)
    app.session_state["monitoring_selected"] = ("monitoring_features", ["stroke_width", 4.0, 99.0])  # a bar of stroke width
    app.run()
    thicker = int((production.input_features(thick)["stroke_width"] >= 4).sum())
    assert any(header.value.startswith(f"{thicker} input") and "stroke width (px) from 4.00" in header.value for header in app.subheader)


def test_monitoring_page_gives_api_predictions_their_verdict_and_counts_the_refused(store, test_set, predictor):
    from digitlens import nondigits

    served = np.concatenate([test_set[0][:90], nondigits.generate(10, seed=1)])
    serve(store, served, predictor)
    refused = int((~predictor.is_digit(served)).sum())
    assert refused >= 5  # most of the non-digits
    app = open_page("pages/monitoring.py")
    assert {metric.label: metric.value for metric in app.metric}["Refused as not a digit"] == f"{refused / len(served):.1%}"


def test_monitoring_page_judges_each_api_input_once_not_on_every_rerun(store, test_set, predictor, monkeypatch):
    from digitlens.model import Predictor

    judged = []
    real_is_digit = Predictor.is_digit
    monkeypatch.setattr(Predictor, "is_digit", lambda self, images: judged.append(len(images)) or real_is_digit(self, images))
    serve(store, test_set[0][5000:5100], predictor)  # images no other test serves: verdicts are kept per process
    app = open_page("pages/monitoring.py")
    app.run()  # a rerun, as any click on the page makes
    serve(store, test_set[0][5100:5110], predictor)
    app.run()
    assert not app.exception, app.exception
    assert judged == [100, 10]
    assert {metric.label: metric.value for metric in app.metric}["Predictions"] == "110"


def test_monitoring_page_without_predictions_says_where_they_come_from(store):
    app = open_page("pages/monitoring.py")
    assert "No predictions logged" in app.info[0].value


@pytest.fixture
def fine_tuned_version():
    """A version as `train --with-feedback` leaves it (here the shipped model's files, with a feedback card), removed after."""
    import json
    import shutil

    from digitlens import MODEL_PATH
    from digitlens.model import VERSIONS_DIR, fast_twin, metrics_card

    folder = VERSIONS_DIR / "29991231-235959"
    folder.mkdir(parents=True)
    for path in (MODEL_PATH, fast_twin(MODEL_PATH)):
        shutil.copy(path, folder / path.name)
    figures = {"mnist_test_accuracy": {"before": 0.9958, "after": 0.9957}, "held_out_accuracy": {"before": 0.5, "after": 0.75}}
    card = {**metrics_card(MODEL_PATH), "feedback": {"trained": 16, "held_out": 4, **figures}}
    (folder / "metrics.json").write_text(json.dumps(card))
    yield f"Fine-tuned on feedback, {folder.name}"
    shutil.rmtree(folder)
    if not any(VERSIONS_DIR.iterdir()):
        VERSIONS_DIR.rmdir()


def test_the_model_switch_offers_a_version_fine_tuned_on_feedback_and_says_what_it_gained(fine_tuned_version):
    from streamlit.testing.v1 import AppTest

    from apptest import TIMEOUT
    from digitlens import ROOT

    app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    app.session_state["model"] = fine_tuned_version
    app.run()
    assert not app.exception, app.exception
    assert fine_tuned_version in app.sidebar.selectbox(key="model").options
    assert any("Fine-tuned on 16 collected drawings; on 4 held out, 50% read right before, 75% after." in caption.value for caption in app.sidebar.caption)


def test_monitoring_compares_embeddings_on_request_and_finds_mnist_close_to_mnist(store, predictor):
    import re

    from digitlens import data

    training = data.load("train")[0][-300:]  # MNIST digits the far limit was not set with
    serve(store, training, predictor)
    app = open_page("pages/monitoring.py")
    app.toggle(key="monitoring_embeddings").set_value(True).run(timeout=300)
    assert not app.exception, app.exception
    caption = next(caption.value for caption in app.caption if caption.value.startswith("Embeddings:"))
    assert float(re.search(r"([\d.]+)% of the recent inputs", caption).group(1)) <= 5
