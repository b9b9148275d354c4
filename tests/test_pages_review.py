"""The label pages run headless by AppTest: suspicious labels in both splits, and reviewing them into the store."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from digitlens import ROOT, analysis, crossval, data
from digitlens.store import Store

TIMEOUT = 120


def shown_image(app: AppTest) -> str:
    return next(md.value for md in app.markdown if md.value.startswith("**#"))


def open_page(page: str, **query) -> AppTest:
    app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    app.run()
    app.query_params.update(query)
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert not app.error, [error.value for error in app.error]
    return app


@pytest.fixture(scope="module")
def rankings(predictor, test_set):
    result = crossval.load()
    assert result is not None, "model/crossval.npz is missing or stale: run python -m digitlens crossval"
    images, labels = test_set
    shipped = analysis.cached_test_probabilities(predictor, images)
    return {
        split: analysis.suspicious_labels(data.load(split)[1], crossval.opinions(result, split, shipped))
        for split in ("test", "train")
    }


@pytest.fixture
def store(tmp_path, monkeypatch):
    """The pages' store, a fresh SQLite file per test (the page opens it through DIGITLENS_DATABASE_URL)."""
    url = f"sqlite:///{tmp_path / 'reviews.db'}"
    monkeypatch.setenv("DIGITLENS_DATABASE_URL", url)
    return Store(url)


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
    assert app.sidebar.metric[1].label == "On reviewed labels"


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
