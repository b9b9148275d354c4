"""What every dashboard page shares: the model and the test set, loaded once per process, and small widgets."""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from digitlens import IMAGE_SIDE, MLP_PATH, MODEL_PATH, NUM_CLASSES, charts, data, reading, saliency
from digitlens.client import RemotePredictor
from digitlens.model import Predictor, metrics_card, versions
from digitlens.preprocess import ImageError, NoInkError, read_image

if TYPE_CHECKING:
    import pandas as pd

THUMBNAIL_SCALE = 3  # 28 px digits shown at 84 px, each pixel a crisp 3x3 block
GALLERY_COLUMNS = 8
NEIGHBOURS_ON_DRAW = 4  # the Draw page's result column is narrow
DIALOG_SCALE = 8  # the opened image at 224 px
REVIEW_SCALE = 10  # the image under review at 280 px
MAX_GIVEN_VERDICTS = 50_000  # inputs whose verdict is kept (about 50 MB); the Monitoring page shows 20,000 at most
FAR_REFERENCE_SAMPLE = 2_000  # training images whose distance to the test set sets "far from MNIST"
NUMBER_COLUMNS = 4  # digits of a number shown side by side, each with its image and probabilities
NOT_A_DIGIT_MESSAGE = "That doesn't look like a digit"
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "tif", "tiff", "bmp", "gif"]  # what read_image decodes: photos, scans, screenshots
HEADINGS = {"f1": "F1 score", "share_of_true": "Share of true label", "given_probability": "Probability of the given label",
            "suggested_probability": "Probability of the suggestion", "support": "Images", "mnist_test": "MNIST test",
            "unlike_mnist": "Unlike MNIST", "above": "Above 99% of MNIST", "below": "Below 99% of MNIST"}  # the rest: "a_name" as "A name"
MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
DEMO_STEPS = [  # the guided demo for stakeholders: the page's title and file, then the one sentence shown on it
    ("Draw", "pages/draw.py", "Draw any digit in the box, with the mouse or a finger: the model reads it at every stroke and shows how sure it is."),
    ("Explore", "pages/explore.py", "These are test images the model never trained on: it reads the green ones right and the red ones wrong; click one to see all ten probabilities."),
    ("Error analysis", "pages/error_analysis.py", "Pick a digit to compare the test images the model gets wrong with those it gets right, and how sure it was of each."),
]
# On a phone the charts' toolbars stood over the charts (a touch screen has no hover to hide them) and long chart
# titles ran off the screen: there the toolbar goes and titles shrink, to 13 px.
PHONE_STYLE = """<style>@media (max-width: 640px) {
    .js-plotly-plot .modebar-container { display: none !important; }
    .js-plotly-plot .gtitle { font-size: 13px !important; }
}</style>"""
API_URL = os.environ.get("DIGITLENS_API_URL")  # when set, predictions come from that running API
MODELS = {"Our CNN": MODEL_PATH, "The tutorial's MLP": MLP_PATH}  # the sidebar's model switch


# Streamlit runs a folder named pages/ as an old-style multipage app until st.navigation has run once in the
# process, so the first visitor of a fresh server who opens a page's URL would get that page without the router
# (no sidebar, no layout). Turning the old style off and rerunning sends every visit through dashboard.py.
if PagesManager.uses_pages_directory:
    PagesManager.uses_pages_directory = False
    st.rerun()


def model_choices() -> dict[str, Path]:
    """The sidebar's models that exist: ours, the tutorial's, and each version fine-tuned on feedback, newest first."""
    fine_tuned = {f"Fine-tuned on feedback, {path.parent.name}": path for path in versions()}
    return {name: path for name, path in {**MODELS, **fine_tuned}.items() if path.exists()}


def chosen_model() -> str:
    """The path of the model picked in the sidebar: ours unless another was chosen (and exists)."""
    path = model_choices().get(st.session_state.get("model"), MODEL_PATH)
    return str(MODEL_PATH if API_URL else path)


def get_predictor() -> Predictor | RemotePredictor:
    """The chosen model, loaded once per process and shared by every session (the predictor is thread-safe)."""
    return load_predictor(chosen_model())


@st.cache_resource(show_spinner="Loading the model...")
def load_predictor(model: str) -> Predictor | RemotePredictor:
    return RemotePredictor(API_URL) if API_URL else Predictor.load(model)


SPLIT_NAMES = {"test": "Test", "train": "Training"}


@st.cache_data(show_spinner="Reading MNIST...")
def get_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's test (10,000) or training (60,000) images (uint8, (N, 28, 28)) and their labels."""
    return data.load(split)


def get_test_data() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 MNIST test images and their labels."""
    return get_split("test")


def get_store():
    """The review store (a SQLite file, or DIGITLENS_DATABASE_URL's PostgreSQL), opened once per process and URL."""
    from digitlens.store import database_url  # here: SQLAlchemy stays unloaded until a page needs the database

    return open_store(database_url())


@st.cache_resource(show_spinner="Opening the review database...")
def open_store(url: str):
    from digitlens.store import Store

    return Store(url)


def get_metrics() -> dict | None:
    """The chosen model's metrics card written by training, or None before the first training run (or when unreadable)."""
    return model_metrics(chosen_model())


@st.cache_data
def model_metrics(model: str) -> dict | None:
    return metrics_card(model) or None


def get_test_predictions() -> tuple[np.ndarray, pd.DataFrame]:
    """The chosen model's probabilities (N, 10) for every test image and their summary table (index = test id)."""
    return test_predictions(chosen_model())


@st.cache_data(show_spinner="Scoring the 10,000 test images...")
def test_predictions(model: str) -> tuple[np.ndarray, pd.DataFrame]:
    images, labels = get_test_data()
    from digitlens import analysis  # here, not at the top: it brings pandas, which the Draw page, shown first, does without

    probabilities = analysis.cached_test_probabilities(load_predictor(model), images)  # on disk, once per model
    return probabilities, analysis.predictions_table(labels, probabilities)


def demo_link() -> None:
    """The sidebar's way into the guided demo."""
    if st.button("Guided demo", icon=":material/slideshow:", help="Three pages, one sentence each", width="stretch"):
        st.session_state.demo_step = 0
        st.switch_page(DEMO_STEPS[0][1])


def demo_banner(page_title: str) -> None:
    """On the demo's current page: its sentence and the way on; elsewhere, or when no demo runs, nothing."""
    step = st.session_state.get("demo_step")
    if step is None or DEMO_STEPS[step][0] != page_title:
        return
    with st.container(border=True, key="demo_banner"):
        st.markdown(f"**Demo, step {step + 1} of {len(DEMO_STEPS)}.** {DEMO_STEPS[step][2]}")
        back, forward, end = st.columns(3)
        if back.button("Back", icon=":material/arrow_back:", disabled=step == 0, width="stretch"):
            st.session_state.demo_step = step - 1
            st.switch_page(DEMO_STEPS[step - 1][1])
        if step + 1 < len(DEMO_STEPS) and forward.button("Next", icon=":material/arrow_forward:", type="primary", width="stretch"):
            st.session_state.demo_step = step + 1
            st.switch_page(DEMO_STEPS[step + 1][1])
        if end.button("End the demo" if step + 1 < len(DEMO_STEPS) else "Finish", icon=":material/close:", width="stretch"):
            del st.session_state.demo_step
            st.rerun()


@contextmanager
def errors_as_messages():
    """Turn a failing page into an st.error that says what to do, never a stack trace (which goes to the log)."""
    try:
        yield
    except (FileNotFoundError, data.DataError) as error:
        st.error(f"{error}", icon=":material/error:")
    except Exception as error:
        logging.getLogger(__name__).exception("page failed")
        st.error(
            f"Something went wrong: {error}. Reload the page; if it happens again, "
            "restart the dashboard and report the message above.",
            icon=":material/error:",
        )


def uploaded_images(upload, number: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
    """The upload as decoded, to show (upright, at most WORK_SIDE pixels, whatever its format: a browser shows no
    TIFF), and as the model's 28x28 input (K = 1), or with number one per digit of the number in it.

    None, with a message saying what to upload, when it is not an image or holds no ink.
    """
    wanted = "a number" if number else "one digit"
    try:
        picture = read_image(upload, name=upload.name)
        return picture, reading.mnist_images(picture, number, get_predictor())
    except ImageError as error:  # its message names the file and the reason: broken, too large, too thin
        st.error(f"{literal(str(error))}. Upload a PNG or JPEG photo or scan of {wanted}.")
    except NoInkError:
        st.error(f"No digit found in {literal(upload.name)}: it is blank or one flat colour. Upload a picture of {wanted}.")
    return None


def literal(text: str) -> str:
    """Text shown as written, not read as Markdown: a file named `[x](https://...)` must not become a link."""
    return MARKDOWN_SPECIALS.sub(r"\\\1", text)


def uploaded_digit(upload) -> np.ndarray | None:
    """The upload as the model's 28x28 input; None, with a message saying what to upload, when it has no digit."""
    decoded = uploaded_images(upload)
    return None if decoded is None else decoded[1][0]


def show_digit(image: np.ndarray, caption: str | None = None, scale: int = THUMBNAIL_SCALE) -> None:
    """A 28x28 image enlarged crisply, each pixel a scale x scale block (the browser would blur it scaled up)."""
    st.image(image.repeat(scale, axis=0).repeat(scale, axis=1), caption=caption)


def show_reading(found: reading.Reading, number: bool, key: str, hint: str) -> None:
    """What the model read, as a number digit by digit or as one digit; hint says what to do about a mark that is not a digit."""
    if number:
        show_number(found, key, hint)
    else:
        show_prediction(found.images[0], found.probabilities[0], bool(found.is_digit[0]), key, hint)


def show_prediction(image: np.ndarray, probabilities: np.ndarray, is_digit: bool, key: str, hint: str) -> None:
    """The predicted digit with its confidence, the ten probabilities, and the 28x28 input the model saw.

    For what is not a digit: a warning with the hint, and the top guess only as the closest digit, its bars dimmed.
    """
    predicted = int(probabilities.argmax())
    if not is_digit:
        st.warning(f"**{NOT_A_DIGIT_MESSAGE}.** {hint}", icon=":material/help:")
    prediction_column, confidence_column = st.columns(2)
    prediction_column.metric("Prediction" if is_digit else "Closest digit", predicted)
    confidence_column.metric("Confidence", f"{probabilities[predicted]:.1%}")
    prediction_charts(image, probabilities, not is_digit, key)


def show_empty_prediction(key: str) -> None:
    """The charts of show_prediction, empty, before the first stroke: the browser then loads Plotly with the page,
    not on the first prediction (whose charts stayed grey for ~1 s), and the page keeps its layout."""
    prediction_charts(np.zeros((IMAGE_SIDE, IMAGE_SIDE), np.uint8), np.zeros(NUM_CLASSES), False, key)


def prediction_charts(image: np.ndarray, probabilities: np.ndarray, not_a_digit: bool, key: str) -> None:
    """The ten probabilities beside the 28x28 input the model saw."""
    bars_column, image_column = st.columns(2)
    bars_column.plotly_chart(charts.probability_bars(probabilities, not_a_digit=not_a_digit), key=f"{key}_probabilities")
    image_column.plotly_chart(charts.digit_image(image, "What the model sees (28x28)"), key=f"{key}_model_input")


def show_number(found: reading.Reading, key: str, hint: str) -> None:
    """The number read, large, then each digit with the 28x28 image the model saw and its ten probabilities."""
    st.metric("Number", found.number)
    if not found.is_digit.all():
        st.warning(f"**{reading.NOT_A_DIGIT} marks what doesn't look like a digit.** {hint}", icon=":material/help:")
    digits = zip(found.images, found.digits, found.confidences, found.is_digit, found.probabilities)
    for index, (image, digit, confidence, is_digit, probabilities) in enumerate(digits):
        if index % NUMBER_COLUMNS == 0:
            columns = st.columns(NUMBER_COLUMNS)
        with columns[index % NUMBER_COLUMNS].container(border=True):
            show_digit(image)
            verdict = f"**{digit}** · {confidence:.0%}" if is_digit else f"**{reading.NOT_A_DIGIT}** · closest {digit}, {confidence:.0%}"
            st.caption(verdict)
            title = f"Digit {index + 1}" if is_digit else f"Digit {index + 1}: not a digit"
            bars = charts.probability_bars(probabilities, title=title, not_a_digit=not is_digit, compact=True)
            st.plotly_chart(bars, key=f"{key}_digit_{index}")


# --- The production loop: what the dashboard serves is logged, and people say whether it was right ---


def fine_tuning_summary(feedback: dict) -> str:
    """One line on a version fine-tuned on feedback (its metrics card's "feedback"): what it learned from, what it gained."""
    held_out = feedback["held_out_accuracy"]
    return (
        f"Fine-tuned on {feedback['trained']} collected drawings; on {feedback['held_out']} held out, "
        f"{held_out['before']:.0%} read right before, {held_out['after']:.0%} after."
    )


def get_prediction_log():
    """This process's prediction log, or None when DIGITLENS_LOG_PREDICTIONS=0 or predictions come from an API
    (which logs them itself)."""
    from digitlens import prediction_log
    from digitlens.store import database_url

    return None if API_URL or not prediction_log.enabled() else open_prediction_log(database_url())


@st.cache_resource(show_spinner=False)
def open_prediction_log(url: str):
    from digitlens.prediction_log import PredictionLog

    log = PredictionLog(open_store(url))
    atexit.register(log.close)  # a stopped dashboard writes what is queued
    return log


def log_served(source: str, found: reading.Reading, latency_s: float, key: str) -> None:
    """Log a reading shown to the user, once: a rerun for another widget shows the same drawing again."""
    digest = image_digest(found.images)
    if st.session_state.get(f"{key}_logged") == digest:
        return
    st.session_state[f"{key}_logged"] = digest
    log = get_prediction_log()
    if log is not None:
        log.record(source, get_predictor().fingerprint, found.images, found.probabilities, found.is_digit, latency_s)


def image_digest(images: np.ndarray) -> str:
    """A short name for the exact pixels shown: the same drawing shown again has the same one."""
    return hashlib.sha1(np.ascontiguousarray(images).tobytes()).hexdigest()[:16]


def ask_feedback(found: reading.Reading, source: str, key: str) -> None:
    """"Was this right?" under a one-digit reading: yes, another digit, or not a digit, saved with the 28x28 input;
    then thanks, for as long as the same input is shown."""
    image, probabilities = found.images[0], found.probabilities[0]
    answer, digest = int(probabilities.argmax()), image_digest(image)
    area = st.empty()
    said = st.session_state.get(f"{key}_feedback")
    if said is None or said[0] != digest:
        with area.container(border=True, key=f"{key}_feedback_form"):
            verdict, label = feedback_form(answer, f"{key}_feedback_{digest}")
        if verdict is None:
            return
        get_store().save_feedback(image, probabilities, verdict, label, source, get_predictor().fingerprint)
        said = digest, {"right": f"it is a {answer}", "wrong": f"it was a {label}, not a {answer}", "not_a_digit": "not a digit"}[verdict]
        st.session_state[f"{key}_feedback"] = said
    area.success(f"Thanks, saved: {said[1]}. The Collected page lists all feedback.", icon=":material/check_circle:")


def feedback_form(answer: int, key: str) -> tuple[str | None, int | None]:
    """The three answers to "Was this right?"; returns the verdict and digit given, or (None, None) before one is."""
    st.markdown("**Was this right?**")
    right, not_digit = st.columns(2)
    if right.button(f"Yes, it is a {answer}", key=f"{key}_right", icon=":material/thumb_up:", width="stretch"):
        return "right", None
    if not_digit.button("Not a digit", key=f"{key}_not_a_digit", icon=":material/block:", width="stretch"):
        return "not_a_digit", None
    other = st.pills("No, it was a", [digit for digit in range(NUM_CLASSES) if digit != answer], key=f"{key}_digit")
    return ("wrong", int(other)) if other is not None else (None, None)


def with_verdicts(table: pd.DataFrame, images: np.ndarray) -> pd.DataFrame:
    """The log's rows with a not-a-digit verdict wherever the chosen model served them: the API's /predict logs none
    (its answer needs none), so it is given now, by the same model (same fingerprint), from the logged input.

    Each input is judged once (given_verdicts), not on every rerun of the Monitoring page: 20,000 took 0.6 s."""
    predictor = get_predictor()
    fingerprint = getattr(predictor, "fingerprint", None)
    missing = np.flatnonzero((table["is_digit"].isna() & (table["model"] == fingerprint)).to_numpy())
    if not len(missing):
        return table
    known = given_verdicts()
    if len(known) > MAX_GIVEN_VERDICTS:
        known.clear()
    keys = [(fingerprint, images[row].tobytes()) for row in missing]
    given = {key: known.get(key) for key in keys}  # read once: another session may clear `known` meanwhile
    unseen = {key: row for key, row in zip(keys, missing) if given[key] is None}  # one row per input, repeats judged once
    if unseen:
        judged = dict(zip(unseen, predictor.is_digit(images[list(unseen.values())]).tolist()))
        given.update(judged)
        known.update(judged)
    verdicts = table["is_digit"].tolist()
    for row, key in zip(missing, keys):
        verdicts[row] = given[key]
    return table.assign(is_digit=verdicts)


@st.cache_resource
def given_verdicts() -> dict[tuple[str, bytes], bool]:
    """Verdicts given to logged inputs, by model fingerprint and the input's pixels: a verdict depends on nothing else."""
    return {}


@st.cache_data(show_spinner=False)
def get_test_features() -> pd.DataFrame:
    """Ink, stroke width and position of the MNIST test images: what recent inputs are compared with."""
    from digitlens import production

    return production.input_features(get_test_data()[0])


def far_from_mnist(images: np.ndarray) -> tuple[np.ndarray, float]:
    """Which inputs lie farther from MNIST's test images, in the chosen model's embedding, than 99 % of training images."""
    return inputs_far_from_mnist(chosen_model(), images)


@st.cache_data(show_spinner="Comparing the inputs' embeddings with MNIST's (loads TensorFlow the first time)...", max_entries=4)
def inputs_far_from_mnist(model: str, images: np.ndarray) -> tuple[np.ndarray, float]:
    from digitlens import analysis, production

    predictor = load_predictor(model)
    test = analysis.cached_embeddings(predictor, get_split("test")[0], "test")
    training = analysis.cached_embeddings(predictor, get_split("train")[0], "train")
    sample = training[np.random.default_rng(0).choice(len(training), FAR_REFERENCE_SAMPLE, replace=False)]
    recent = analysis.penultimate_embeddings(predictor.keras_model, images)
    return production.far_from_mnist(recent, test, sample)


# --- Error-analysis pages: embeddings, galleries, saliency ---


def get_embedding_umap() -> np.ndarray:
    """2-D UMAP of the test images' embeddings by the chosen model, disk-cached per model."""
    return embedding_umap(chosen_model())


@st.cache_data(show_spinner="Making the UMAP map of the test images (once per model: 1-3 minutes on a small machine)...")
def embedding_umap(model: str) -> np.ndarray:
    from digitlens import analysis  # see get_test_predictions

    return analysis.cached_test_umap(load_predictor(model), get_test_data()[0])


def get_embedding_projection() -> tuple[np.ndarray, np.ndarray]:
    """2-D PCA of the test images' embeddings by the chosen model (disk-cached per model) and each axis's variance share."""
    return embedding_projection(chosen_model())


@st.cache_data(show_spinner="Embedding the 10,000 test images (once per model, 5-15 s)...")
def embedding_projection(model: str) -> tuple[np.ndarray, np.ndarray]:
    from digitlens import analysis  # see get_test_predictions

    return analysis.cached_test_projection(load_predictor(model), get_test_data()[0])


def get_neighbour_index():
    """Nearest-neighbour search over the chosen model's embeddings of every training and test image."""
    return neighbour_index(chosen_model())


@st.cache_resource(show_spinner="Embedding all 70,000 MNIST images (once per model, about a minute)...")
def neighbour_index(model: str):
    from digitlens import analysis  # see get_test_predictions

    parts = []
    for split in SPLIT_NAMES:
        images, labels = get_split(split)
        parts.append((analysis.cached_embeddings(load_predictor(model), images, split), np.full(len(labels), split), np.arange(len(labels)), labels))
    return analysis.NeighbourIndex(*(np.concatenate(column) for column in zip(*parts)))


def show_neighbours(image: np.ndarray, known_as: tuple[str, int] | None = None, count: int = GALLERY_COLUMNS) -> None:
    """The MNIST images the model finds most alike (nearest in its embedding), with split, label and distance.

    known_as names the image when it is an MNIST one: its stored embedding is used and it is not its own neighbour;
    any other image (an upload, a drawing) is embedded by the model first.
    """
    from digitlens import analysis  # see get_test_predictions

    index = get_neighbour_index()
    if known_as is None:
        query = analysis.penultimate_embeddings(get_predictor().keras_model, image[None])[0]
    else:
        query = index.embeddings[(index.splits == known_as[0]) & (index.ids == known_as[1])][0]
    nearest = index.nearest(query, count, exclude=known_as)
    for column, row in zip(st.columns(len(nearest)), nearest.itertuples()):
        with column:
            show_digit(get_split(row.split)[0][row.id])
            st.caption(f"{SPLIT_NAMES[row.split].lower()} #{row.id} · label {row.label} · distance {row.distance:.1f}")


def percent_table(table: pd.DataFrame, columns: list[str]):
    """The table with headings for people ("share_of_true" as "Share of true label") and the share columns
    printed as percentages; the values stay numbers, so sorting still works."""
    headings = {column: heading(column) for column in table.columns}
    readable = table.rename(columns=headings).rename_axis(index=heading(table.index.name) if table.index.name else None)
    return readable.style.format({headings[column]: "{:.1%}" for column in columns})


def heading(name: str) -> str:
    return HEADINGS.get(name, str(name).replace("_", " ").capitalize())


@st.cache_data(show_spinner="Ranking the labels...")
def get_label_ranking(split: str) -> tuple[np.ndarray, pd.DataFrame] | None:
    """A split's out-of-sample probabilities (the models' mean) and its labels ranked by how strongly the models
    dispute them; None without the shipped cross-validation (model/crossval.npz)."""
    from digitlens import analysis, crossval  # see get_test_predictions

    result = crossval.load()
    if result is None:
        return None
    _, labels = get_split(split)
    opinions = crossval.opinions(result, split)
    return np.mean(opinions, axis=0), analysis.suspicious_labels(labels, opinions)


def show_reviewed_accuracy() -> None:
    """Test accuracy on the labels as reviewed, once any test label has a verdict; nothing before."""
    verdicts = get_store().latest("test")
    if not verdicts:
        return
    from digitlens import analysis  # see get_test_predictions

    _, predictions = get_test_predictions()
    labels = {image_id: review.label for (_, image_id), review in verdicts.items()}
    accuracy, left_out = analysis.corrected_accuracy(predictions["label"], predictions["predicted"], labels)
    corrected = sum(review.verdict == "label_wrong" for review in verdicts.values())
    st.metric(
        "On reviewed labels", f"{accuracy:.2%}",
        help=f"Test accuracy with the {corrected} labels reviewed as wrong corrected and the {left_out} images reviewed "
        "as ambiguous or not a digit left out (Review labels page)",
    )


def split_choice(key: str) -> str:
    """Test or training images: a two-way switch, "test" first."""
    return st.segmented_control("Images", list(SPLIT_NAMES), format_func=SPLIT_NAMES.get, default="test", required=True, key=key)


@st.dialog("MNIST image", width="large")
def open_image(image_id: int, split: str = "test") -> None:
    """One image large, with the model's ten probabilities, a link to review its label and, for a test image,
    one to why the model predicted it."""
    images, labels = get_split(split)
    image, label = images[image_id], int(labels[image_id])
    probabilities = get_predictor().predict_proba(image)[0]
    predicted = int(probabilities.argmax())
    image_column, chart_column = st.columns([1, 2])
    with image_column:
        show_digit(image, scale=DIALOG_SCALE)
        st.markdown(f"**#{image_id}** of the {SPLIT_NAMES[split].lower()} set: labelled **{label}**, predicted **{predicted}** ({probabilities[predicted]:.1%})")
        if split == "test":
            st.page_link("pages/why.py", label="Why this prediction?", icon=":material/psychology:", query_params={"id": image_id})
        st.page_link("pages/review.py", label="Review its label", icon=":material/rate_review:", query_params={"split": split, "id": image_id})
    with chart_column:
        st.plotly_chart(charts.probability_bars(probabilities, true_label=label), key="dialog_probabilities")


def image_gallery(images: np.ndarray, captions: list[str], under=None) -> None:
    """28x28 images as thumbnails, eight a row, each with its caption; under(i), when given, puts a widget between
    image i and its caption."""
    for start in range(0, len(images), GALLERY_COLUMNS):
        for column, index in zip(st.columns(GALLERY_COLUMNS), range(start, min(start + GALLERY_COLUMNS, len(images)))):
            with column:
                show_digit(images[index])
                if under is not None:
                    under(index)
                st.caption(captions[index])


def digit_gallery(rows: pd.DataFrame, key: str, captions: list[str] | None = None, split: str = "test") -> None:
    """Images (rows indexed by id, of the predictions table by default) as thumbnails, eight a row; each id button
    opens its probabilities."""
    if rows.empty:
        st.caption("No images here.")
        return
    images, _ = get_split(split)
    if captions is None:
        st.caption("Under each image: its label → the prediction · the prediction's probability. Click the id for all ten.")
        captions = [f"{row.label} → {row.predicted} · {row.confidence:.0%}" for row in rows.itertuples()]
    ids = [int(image_id) for image_id in rows.index]

    def open_button(index: int) -> None:
        if st.button(f"#{ids[index]}", key=f"{key}_{ids[index]}", help="Open its probabilities", width="stretch"):
            open_image(ids[index], split)

    image_gallery(images[ids], captions, under=open_button)


def show_why(image: np.ndarray, probabilities: np.ndarray, key: str) -> None:
    """Occlusion saliency of the predicted digit and the runner-up: which ink supported each, which argued against."""
    top_two = [int(digit) for digit in np.argsort(probabilities)[::-1][:2]]
    attributions = saliency.occlusion(get_predictor().predict_proba, image, top_two)
    titles = [f"For {digit} ({role}, {probabilities[digit]:.1%})" for digit, role in zip(top_two, ["predicted", "runner-up"])]
    st.plotly_chart(charts.saliency_maps(image, attributions, titles), key=f"{key}_saliency")
