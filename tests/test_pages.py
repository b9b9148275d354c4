"""Every dashboard page run headless by Streamlit's AppTest: its widgets exist, inputs change outputs, no exception."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from digitlens import ROOT, analysis, strokes
from shapes import png, written

TIMEOUT = 60


def run_page(name: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / name), default_timeout=TIMEOUT).run()
    assert not app.exception, app.exception
    return app


def plotly_charts(app: AppTest) -> list:
    return app.get("plotly_chart")


def chart_spec(app: AppTest, key: str) -> dict:
    return json.loads(next(chart for chart in plotly_charts(app) if chart.key == key).proto.spec)


def test_dashboard_routes_to_the_draw_page_and_shows_the_model_in_the_sidebar():
    app = run_page("dashboard.py")
    assert app.title[0].value == "Draw a digit"
    accuracy = app.sidebar.metric[0]
    assert accuracy.label == "Test accuracy" and accuracy.value.endswith("%")


@pytest.mark.parametrize("page", ["pages/explore.py", "pages/error_analysis.py"])
def test_dashboard_opens_every_page_without_an_error(page):
    app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    app.switch_page(page).run()
    assert not app.exception and not app.error
    assert plotly_charts(app)


def test_draw_page_starts_with_the_hint_and_no_prediction():
    app = run_page("pages/draw.py")
    assert app.info[0].value == "Draw a digit (0-9) in the box"
    assert not app.metric
    # the charts are there, empty, before the first stroke: the browser loads Plotly with the page
    assert [chart.key for chart in plotly_charts(app)] == ["drawing_probabilities", "drawing_model_input"]
    assert set(chart_spec(app, "drawing_probabilities")["data"][0]["text"]) == {""}  # no bar labelled: nothing drawn yet
    assert app.slider[0].value == 18
    assert app.segmented_control(key="draw_mode").value == "One digit"


def test_draw_page_predicts_an_uploaded_drawing():
    app = run_page("pages/draw.py")
    app.file_uploader[0].upload("seven.png", png(strokes.draw(7, rgba=False, dark_on_light=True)), "image/png")
    app.run()
    assert not app.exception
    assert (app.metric[0].label, app.metric[0].value) == ("Prediction", "7")
    assert [chart.key for chart in plotly_charts(app)][-2:] == ["upload_probabilities", "upload_model_input"]
    assert not app.warning


def test_draw_page_says_an_uploaded_star_is_not_a_digit_and_dims_the_closest_guess():
    app = run_page("pages/draw.py")
    app.file_uploader[0].upload("star.png", png(written("*")), "image/png")
    app.run()
    assert not app.exception
    assert "That doesn't look like a digit" in app.warning[0].value
    assert app.metric[0].label == "Closest digit" and "Prediction" not in [metric.label for metric in app.metric]
    bars = chart_spec(app, "upload_probabilities")["data"][0]
    assert bars["marker"]["opacity"] < 1


def test_draw_page_in_number_mode_reads_an_uploaded_number():
    app = run_page("pages/draw.py")
    app.segmented_control(key="draw_mode").set_value("A number").run()
    assert app.info[0].value == "Write a number in the box, its digits side by side"
    app.file_uploader[0].upload("number.png", png(written("42")), "image/png")
    app.run()
    assert not app.exception
    assert (app.metric[0].label, app.metric[0].value) == ("Number", "42")
    assert [caption.value.split(" · ")[0] for caption in app.caption if " · " in caption.value] == ["**4**", "**2**"]
    assert len(plotly_charts(app)) == 2  # one probability chart per digit
    assert not app.warning


def test_draw_page_marks_what_is_not_a_digit_in_a_number_with_a_question_mark():
    app = run_page("pages/draw.py")
    app.segmented_control(key="draw_mode").set_value("A number").run()
    app.file_uploader[0].upload("number.png", png(written("4*2")), "image/png")
    app.run()
    assert not app.exception
    assert app.metric[0].value == "4?2"
    assert "? marks what doesn't look like a digit" in app.warning[0].value


def test_draw_page_keeps_an_upload_when_the_mode_changes():
    app = run_page("pages/draw.py")
    app.file_uploader[0].upload("number.png", png(written("42")), "image/png")
    app.run()
    assert app.metric[0].label == "Prediction"
    app.segmented_control(key="draw_mode").set_value("A number").run()
    assert (app.metric[0].label, app.metric[0].value) == ("Number", "42")


def test_draw_page_says_what_to_do_with_a_broken_upload():
    app = run_page("pages/draw.py")
    app.file_uploader[0].upload("broken.png", b"this is not a png", "image/png")
    app.run()
    assert not app.exception
    assert "Upload a PNG or JPEG" in app.error[0].value


def test_draw_page_rejects_a_blank_upload():
    app = run_page("pages/draw.py")
    app.file_uploader[0].upload("blank.png", png(np.full((50, 50), 255, np.uint8)), "image/png")
    app.run()
    assert not app.exception
    assert "No digit found" in app.error[0].value and not app.metric


def thumbnails(app: AppTest) -> list:
    """The gallery's buttons, one under each thumbnail."""
    return [button for button in app.button if (button.key or "").startswith("inspect_")]


def thumbnail_ids(app: AppTest) -> list[int]:
    return [int(button.key.removeprefix("inspect_")) for button in thumbnails(app)]


def test_explore_page_samples_the_chosen_digit_and_resamples(test_set):
    _, labels = test_set
    app = run_page("pages/explore.py")
    assert len(thumbnail_ids(app)) == app.slider[0].value == 24
    app.segmented_control(key="explore_digit").set_value(3).run()
    threes = thumbnail_ids(app)
    assert (labels[threes] == 3).all()
    assert app.number_input(key="explore_image_id").value == threes[0]  # the large panel follows the new sample
    next(button for button in app.button if button.label == "Resample").click().run()
    assert thumbnail_ids(app) != threes and (labels[thumbnail_ids(app)] == 3).all()
    assert app.number_input(key="explore_image_id").value == thumbnail_ids(app)[0]
    app.slider[0].set_value(8).run()
    assert len(thumbnail_ids(app)) == 8
    assert not app.exception


def test_explore_page_opens_a_clicked_thumbnail_and_any_id(test_set):
    app = run_page("pages/explore.py")
    first = thumbnails(app)[0]
    image_id = int(first.key.removeprefix("inspect_"))
    first.click().run()
    assert app.number_input(key="explore_image_id").value == image_id
    assert app.number_input(key="explore_image_id").label == "Open a test image by id (0 to 9,999)"
    app.number_input(key="explore_image_id").set_value(9999).run()
    _, labels = test_set
    assert f"True label **{labels[9999]}**" in app.markdown[-1].value
    assert len(plotly_charts(app)) == 2
    assert not app.exception


def test_explore_page_shows_the_images_the_model_finds_most_alike(test_set, predictor):
    images, labels = test_set
    app = AppTest.from_file(str(ROOT / "pages/explore.py"), default_timeout=300).run()  # a cold cache embeds 70,000 images
    app.number_input(key="explore_image_id").set_value(0).run()
    shown = len(app.get("image"))
    app.toggle(key="explore_neighbours").set_value(True).run()
    assert not app.exception
    captions = [caption.value for caption in app.caption if " · distance " in caption.value]
    assert len(captions) == 8 and "test #0 " not in captions  # never the image itself
    distances = [float(caption.rsplit(" ", 1)[1]) for caption in captions]
    assert distances == sorted(distances)
    assert sum(f"label {labels[0]}" in caption for caption in captions) >= 6  # a clear 7 sits among 7s
    assert len(app.get("image")) == shown + 8


def test_error_analysis_defaults_to_300_images_of_digit_2():
    app = run_page("pages/error_analysis.py")
    assert app.segmented_control(key="analysis_digit").value == 2
    assert app.number_input(key="analysis_samples").value == 300
    counts = app.table[0].value
    assert counts["Prediction"].tolist() == ["wrong", "right"] and counts["Images"].sum() == 300
    assert list(counts.columns) == ["Prediction", "Images", "Share"]  # no FALSE/TRUE column repeating wrong/right


def test_error_analysis_tables_follow_the_digit_and_the_seed():
    app = run_page("pages/error_analysis.py")
    tables = [app.table[0].value]
    app.segmented_control(key="analysis_digit").set_value(8).run()
    assert app.number_input(key="analysis_samples").label == "Samples (max 974)"
    app.number_input(key="analysis_samples").set_value(974).run()
    tables.append(app.table[0].value)
    assert tables[1]["Images"].sum() == 974
    assert not tables[0].equals(tables[1])
    assert not app.exception


def test_error_analysis_shows_a_misclassified_image_on_request(test_set, predictor):
    images, labels = test_set
    mistakes = [(predictor.predict(images[labels == digit]) != digit).sum() for digit in range(10)]
    digit = int(np.argmax(mistakes))
    app = run_page("pages/error_analysis.py")
    app.segmented_control(key="analysis_digit").set_value(digit).run()
    app.number_input(key="analysis_samples").set_value(int((labels == digit).sum())).run()
    selector = app.selectbox(key="analysis_inspect")
    wrong = [int(option.split(":")[0].removeprefix("#")) for option in selector.options]
    assert len(wrong) == mistakes[digit]
    assert (predictor.predict(images[wrong]) != digit).all()
    assert any(f"Wrong predictions count for digit {digit}" in str(chart.proto) for chart in plotly_charts(app))
    selector.set_value(wrong[-1]).run()
    assert any(f"Test image #{wrong[-1]}" in str(chart.proto) for chart in plotly_charts(app))
    assert not app.exception


def test_error_analysis_says_so_when_nothing_is_misclassified(test_set, predictor):
    images, labels = test_set
    seed = next(s for s in range(100) if predictor.predict(images[analysis.sample_ids(labels, 1, 5, s)]).tolist() == [1] * 5)
    app = run_page("pages/error_analysis.py")
    app.segmented_control(key="analysis_digit").set_value(1).run()
    app.number_input(key="analysis_samples").set_value(5).run()
    app.number_input(key="analysis_seed").set_value(seed).run()
    assert "classified correctly" in app.success[0].value
    assert not app.selectbox and len(plotly_charts(app)) == 1
    assert not app.exception


def failing_page():
    import ui

    with ui.errors_as_messages():
        raise FileNotFoundError("model/mnist_cnn.keras: no trained model there; run `python -m digitlens train`")


def crashing_page():
    import ui

    with ui.errors_as_messages():
        raise ZeroDivisionError("division by zero")


def test_a_page_that_cannot_load_the_model_says_what_to_do_instead_of_a_trace():
    app = AppTest.from_function(failing_page, default_timeout=TIMEOUT).run()
    assert not app.exception
    assert "run `python -m digitlens train`" in app.error[0].value


def test_an_unexpected_failure_is_a_message_too():
    app = AppTest.from_function(crashing_page, default_timeout=TIMEOUT).run()
    assert not app.exception
    assert "division by zero" in app.error[0].value and "Reload the page" in app.error[0].value


def test_error_analysis_keeps_the_sample_size_within_a_smaller_class():
    app = run_page("pages/error_analysis.py")
    app.segmented_control(key="analysis_digit").set_value(1).run()
    app.number_input(key="analysis_samples").set_value(1135).run()
    app.segmented_control(key="analysis_digit").set_value(5).run()
    assert not app.exception
    assert app.number_input(key="analysis_samples").value == 892  # all of the 1s becomes all of the 5s
    app.number_input(key="analysis_samples").set_value(500).run()
    app.segmented_control(key="analysis_digit").set_value(8).run()
    assert app.number_input(key="analysis_samples").value == 500  # kept, not reset to 300
    assert app.table[0].value["Images"].sum() == app.number_input(key="analysis_samples").value


def test_the_guided_demo_starts_on_the_draw_page_with_one_sentence():
    """Its walk through the pages is driven in a real browser (e2e/test_review.py): AppTest runs the router only once."""
    app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    assert all("Demo, step" not in md.value for md in app.markdown)  # no demo yet
    assert [button.label for button in app.sidebar.button] == ["Guided demo"]
    app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    app.session_state["demo_step"] = 0  # what the sidebar button sets before it opens the Draw page
    app.run()
    banner = next(md.value for md in app.markdown if "Demo, step" in md.value)
    assert banner.startswith("**Demo, step 1 of 3.** Draw any digit") and banner.split("** ")[1].count(". ") == 0
    assert [button.label for button in app.button][:3] == ["Back", "Next", "End the demo"]
    assert app.title[0].value == "Draw a digit"
