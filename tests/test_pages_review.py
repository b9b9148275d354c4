"""The label pages run headless by AppTest: suspicious labels in both splits, and reviewing them into the store."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from apptest import TIMEOUT, open_page
from digitlens import ROOT, analysis, crossval, data


def shown_image(app: AppTest) -> str:
    return next(md.value for md in app.markdown if md.value.startswith("**#"))


PUBLISHED_TEST_LABEL_ERRORS = [947, 1621, 1901, 2462, 2597, 3558, 5937, 6651, 6783, 9729]  # labelerrors.com, MTurk majority


@pytest.fixture(scope="module")
def rankings():
    result = crossval.load()
    assert result is not None, "model/crossval.npz is missing or stale: run python -m digitlens crossval"
    return {split: analysis.suspicious_labels(data.load(split)[1], crossval.opinions(result, split)) for split in ("test", "train")}


def test_the_shipped_ranking_puts_8_of_the_10_published_test_label_errors_in_its_top_50(rankings):
    top = set(rankings["test"].index[:50])
    assert len(top & set(PUBLISHED_TEST_LABEL_ERRORS)) >= 8
    assert rankings["test"]["disputed"].head(50).all()  # and the top 50 are all disputed: the page shows them


def test_suspicious_page_shows_only_disputed_labels_of_either_split(rankings, store):
    app = open_page("pages/suspicious.py")
    disputed = rankings["test"][rankings["test"]["disputed"]]
    assert f"**{len(disputed)}** of 10,000 test images" in app.markdown[0].value
    first = disputed.iloc[0]
    assert app.button[0].label == f"#{disputed.index[0]}"
    assert any(caption.value == f"{first['label']} → {first['suggested']} · {first['given_probability']:.0%}" for caption in app.caption)
    app.segmented_control[0].set_value("train").run()
    train = rankings["train"][rankings["train"]["disputed"]]
    assert f"**{len(train)}** of 60,000 training images" in app.markdown[0].value
    assert app.button[0].label == f"#{train.index[0]}"


def test_review_page_saves_a_verdict_with_name_tags_and_note_and_moves_on(rankings, store):
    app = open_page("pages/review.py")
    disputed = rankings["test"][rankings["test"]["disputed"]]
    first, second = disputed.index[:2]
    assert shown_image(app).startswith(f"**#{first}**")
    app.text_input(key="reviewer").input("ann")
    app.text_input(key="review_tags").input("thin, cut off")
    app.text_input(key="review_note").input("clearly a 9")
    suggested = int(disputed.loc[first, "suggested"])
    next(button for button in app.button if button.label == f"Label is wrong: it is a {suggested}").click().run()
    (review,) = store.history()
    assert (review.split, review.image_id, review.verdict, review.corrected_label) == ("test", first, "label_wrong", suggested)
    assert (review.reviewer, review.tags, review.note) == ("ann", ("thin", "cut off"), "clearly a 9")
    assert shown_image(app).startswith(f"**#{second}**")  # the next disputed image
    assert app.text_input(key="review_tags").value == ""  # tags and note start empty for the next image


def test_the_sidebar_gives_accuracy_on_the_reviewed_labels_beside_the_raw_one(predictor, test_set, store):
    images, labels = test_set
    predicted = predictor.predict(images)
    wrong = np.flatnonzero(predicted != labels)
    store.save_review("test", int(wrong[0]), int(labels[wrong[0]]), "label_wrong", int(predicted[wrong[0]]))
    store.save_review("test", int(wrong[1]), int(labels[wrong[1]]), "not_a_digit")
    app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()  # the router draws the sidebar
    raw, reviewed = app.sidebar.metric
    assert raw.value == f"{(predicted == labels).mean():.2%}"
    assert reviewed.label == "On reviewed labels"
    assert reviewed.value == f"{(len(labels) - len(wrong) + 1) / (len(labels) - 1):.2%}"  # one fixed, one left out


def test_review_page_takes_another_digit_ambiguous_and_not_a_digit(rankings, store):
    app = open_page("pages/review.py")
    disputed = rankings["test"][rankings["test"]["disputed"]]
    given = int(disputed.iloc[0]["label"])
    other = next(option for option in app.pills(key="review_other").options if int(option) != given)
    app.pills(key="review_other").set_value(int(other)).run()
    next(button for button in app.button if button.label == "Ambiguous").click().run()
    next(button for button in app.button if button.label == "Not a digit").click().run()
    verdicts = [(review.image_id, review.verdict, review.corrected_label) for review in store.history()]
    assert verdicts == [
        (disputed.index[0], "label_wrong", int(other)),
        (disputed.index[1], "ambiguous", None),
        (disputed.index[2], "not_a_digit", None),
    ]


def test_review_page_opens_the_image_asked_for_and_shows_its_earlier_verdict(rankings, store):
    store.save_review("train", 7, int(data.load("train")[1][7]), "label_right", reviewer="bob")
    app = open_page("pages/review.py", split="train", id="7")
    app.toggle(key="review_hide_done").set_value(False).run()
    assert shown_image(app).startswith("**#7**")
    assert app.info[0].value.startswith("Reviewed by bob on ")
    assert "label is right" in app.info[0].value


def test_compare_page_sets_our_cnn_beside_the_tutorials_mlp(predictor, test_set):
    from digitlens import MLP_PATH
    from digitlens.model import Predictor

    images, labels = test_set
    ours, theirs = predictor.predict(images), Predictor.load(MLP_PATH).predict(images)
    app = open_page("pages/compare.py")
    assert [metric.value for metric in app.metric][:2] == [f"{(ours == labels).mean():.2%}", f"{(theirs == labels).mean():.2%}"]
    only_ours, only_theirs = int(((ours == labels) & (theirs != labels)).sum()), int(((ours != labels) & (theirs == labels)).sum())
    assert f"Only ours reads **{only_ours}** images right, only the tutorial's **{only_theirs}**" in app.markdown[0].value
    assert app.segmented_control(key="compare_who").value == "b"
    assert len(app.get("image")) == min(only_theirs, 48)
    app.segmented_control(key="compare_who").set_value("a").run()
    assert len(app.get("image")) == min(only_ours, 48) and not app.exception


def test_the_model_switch_makes_every_page_use_the_tutorials_mlp():
    from digitlens import MLP_PATH
    from digitlens.model import metrics_card

    app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    app.session_state["model"] = "The tutorial's MLP"
    app.run()
    assert app.sidebar.selectbox(key="model").value == "The tutorial's MLP"
    assert app.sidebar.metric[0].value == f"{metrics_card(MLP_PATH)['test_accuracy']:.2%}"
    assert app.sidebar.markdown[0].value == "**mnist_mlp.keras**"
