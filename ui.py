"""What every dashboard page shares: the model and the test set, loaded once per process, and small widgets."""

import json
import logging
from contextlib import contextmanager

import numpy as np
import pandas as pd
import streamlit as st

from digitlens import METRICS_PATH, analysis, charts, data
from digitlens.model import Predictor

THUMBNAIL_SCALE = 3  # 28 px digits shown at 84 px, each pixel a crisp 3x3 block


@st.cache_resource(show_spinner="Loading the model...")
def get_predictor() -> Predictor:
    """The model, loaded once per process and shared by every session (the predictor is thread-safe)."""
    return Predictor.load()


@st.cache_data(show_spinner="Reading the MNIST test set...")
def get_test_data() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 MNIST test images (uint8, (N, 28, 28)) and their labels."""
    return data.load("test")


@st.cache_data
def get_metrics() -> dict | None:
    """The model's metrics card written by training, or None before the first training run."""
    try:
        return json.loads(METRICS_PATH.read_text())
    except FileNotFoundError:
        return None


@st.cache_data(show_spinner="Scoring the 10,000 test images...")
def get_test_predictions() -> tuple[np.ndarray, pd.DataFrame]:
    """Probabilities (N, 10) for every test image and their summary table (index = test id), computed once."""
    images, labels = get_test_data()
    probabilities = get_predictor().predict_proba(images)
    return probabilities, analysis.predictions_table(labels, probabilities)


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


def show_digit(image: np.ndarray, caption: str | None = None) -> None:
    """A test image as a crisp thumbnail (the browser would blur a 28 px image scaled up)."""
    st.image(image.repeat(THUMBNAIL_SCALE, axis=0).repeat(THUMBNAIL_SCALE, axis=1), caption=caption)


def show_prediction(image: np.ndarray, probabilities: np.ndarray, key: str) -> None:
    """The predicted digit with its confidence, the ten probabilities, and the 28x28 input the model saw."""
    predicted = int(probabilities.argmax())
    prediction_column, confidence_column = st.columns(2)
    prediction_column.metric("Prediction", predicted)
    confidence_column.metric("Confidence", f"{probabilities[predicted]:.1%}")
    st.plotly_chart(charts.probability_bars(probabilities), key=f"{key}_probabilities")
    st.plotly_chart(charts.digit_image(image, "What the model sees (28x28)"), key=f"{key}_model_input")
