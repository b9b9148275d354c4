"""Draw a digit, or upload a picture of one, and see what the model predicts after every stroke."""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

import ui
from digitlens.preprocess import NoInkError, to_mnist

CANVAS_SIDE = 280
HINT = "Draw a digit (0-9) in the box"


def drawn_digit(canvas) -> np.ndarray | None:
    """The drawing as the model's 28x28 input, or None while the canvas is empty (an empty canvas predicts nothing)."""
    if canvas.image_data is None:
        return None
    try:
        return to_mnist(canvas.image_data)
    except NoInkError:
        return None


def clear_canvas() -> None:
    """A new canvas key gives a fresh, empty canvas."""
    st.session_state.canvas_generation = st.session_state.get("canvas_generation", 0) + 1


st.title("Draw a digit")
canvas_column, result_column = st.columns([1, 2], gap="large")

with canvas_column:
    stroke_width = st.slider("Pen width (px)", min_value=8, max_value=32, value=18)
    canvas = st_canvas(
        stroke_width=stroke_width,
        stroke_color="#FFFFFF",
        background_color="#000000",
        width=CANVAS_SIDE,
        height=CANVAS_SIDE,
        update_streamlit=True,
        return_image_data=True,
        key=f"canvas_{st.session_state.get('canvas_generation', 0)}",
    )
    st.button("Clear", icon=":material/delete:", on_click=clear_canvas)

with result_column:
    digit = drawn_digit(canvas)
    if digit is None:
        st.info(HINT, icon=":material/gesture:")
    else:
        probabilities = ui.get_predictor().predict_proba(digit)[0]
        ui.show_prediction(digit, probabilities, key="drawing")
        if st.toggle("Why this prediction?", key="drawing_why", help="Which strokes pushed the model to its answer"):
            ui.show_why(digit, probabilities, key="drawing_why")

st.divider()
st.subheader("Or upload a picture of a digit")
upload = st.file_uploader("A PNG or JPEG of one handwritten digit", type=["png", "jpg", "jpeg"])
if upload is not None and (digit := ui.uploaded_digit(upload)) is not None:
    upload_column, upload_result_column = st.columns([1, 2], gap="large")
    upload_column.image(upload, caption=upload.name, width=CANVAS_SIDE)
    with upload_result_column:
        ui.show_prediction(digit, ui.get_predictor().predict_proba(digit)[0], key="upload")
