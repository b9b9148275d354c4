"""Draw a digit or a number, or upload a picture of one, and see what the model reads after every stroke."""

import time

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

import ui
from digitlens import reading
from digitlens.preprocess import NoInkError

CANVAS_SIDE = 280
NUMBER_CANVAS_WIDTH = 700  # room for a few digits side by side
DEFAULT_PEN_WIDTH = 18  # px on the 280 px canvas: strokes about as wide, for the digit's size, as MNIST's
ONE_DIGIT, A_NUMBER = "One digit", "A number"
HINT = "Draw a digit (0-9) in the box"
CLEAR_HINT = "Undo, redo or start again (the bin) with the buttons above the canvas."
NUMBER_HINT = "Write a number in the box, its digits side by side"
DRAWING_HINT = {ONE_DIGIT: "Draw one digit, 0-9, filling the box.", A_NUMBER: "Write digits 0-9 side by side, a little apart."}
UPLOAD_HINT = {ONE_DIGIT: "Upload a picture of one digit, 0-9.", A_NUMBER: "Upload a picture of a number written in digits 0-9."}


def drawn_images(canvas, number: bool) -> np.ndarray | None:
    """The drawing as the model's 28x28 inputs (one, or one per digit), or None while the canvas is empty."""
    if canvas.image_data is None:
        return None
    try:
        return reading.mnist_images(canvas.image_data, number, ui.get_predictor())
    except NoInkError:
        return None


st.title("Draw a digit")
mode = st.segmented_control("Read", [ONE_DIGIT, A_NUMBER], default=ONE_DIGIT, required=True, key="draw_mode")
number = mode == A_NUMBER
# a number needs a wide canvas, so the results go below it; one digit keeps them beside the canvas
canvas_area, result_area = (st.container(), st.container()) if number else st.columns([1, 2], gap="large")

with canvas_area:
    # the canvas' own toolbar floats just above it: room for it, and the pen width below the canvas (above, the
    # toolbar covered the slider's right end)
    st.space("medium")
    stroke_width = st.session_state.get("pen_width", DEFAULT_PEN_WIDTH)
    canvas = st_canvas(
        stroke_width=stroke_width,
        stroke_color="#FFFFFF",
        background_color="#000000",
        width=NUMBER_CANVAS_WIDTH if number else CANVAS_SIDE,
        height=CANVAS_SIDE,
        update_streamlit=True,
        return_image_data=True,
        key=f"canvas_{mode}",
    )
    # clearing is the toolbar's bin, in the browser: a Clear button here replaced the canvas after a round trip to
    # the server, and strokes begun in that ~0.4 s vanished with the old canvas
    st.caption(CLEAR_HINT, width=CANVAS_SIDE if not number else "stretch")
    st.slider("Pen width (px)", min_value=8, max_value=32, value=DEFAULT_PEN_WIDTH, width=CANVAS_SIDE, key="pen_width")

with result_area:
    started = time.perf_counter()
    images = drawn_images(canvas, number)
    if images is None:
        st.info(NUMBER_HINT if number else HINT, icon=":material/gesture:")
        if not number:
            ui.show_empty_prediction(key="drawing")
    else:
        found = reading.read(ui.get_predictor(), images, number)
        latency = time.perf_counter() - started
        ui.show_reading(found, number, key="drawing", hint=DRAWING_HINT[mode])
        if not number:
            ui.ask_feedback(found, "draw", key="drawing")
    # shown on an empty canvas too (greyed), so that it stays on from one drawing to the next
    why = not number and st.toggle("Why this prediction?", key="drawing_why", disabled=images is None, help="Which strokes pushed the model to its answer")
    if why and images is not None:
        ui.show_why(found.images[0], found.probabilities[0], key="drawing_why")
    alike = not number and st.toggle(
        "Show the MNIST images most alike", key="drawing_alike", disabled=images is None,
        help="What the model compares your digit to: the nearest of all 70,000 MNIST images in its embedding",
    )
    if alike and images is not None:
        ui.show_neighbours(found.images[0], count=ui.NEIGHBOURS_ON_DRAW)

st.divider()
st.subheader("Or upload a picture of a number" if number else "Or upload a picture of a digit")
# one label in both modes: the same upload stays and is read again when the mode changes
upload = st.file_uploader("A photo or scan", type=ui.UPLOAD_TYPES)
upload_started = time.perf_counter()
if upload is not None and (decoded := ui.uploaded_images(upload, number)) is not None:
    picture, upload_images = decoded
    uploaded = reading.read(ui.get_predictor(), upload_images, number)
    upload_latency = time.perf_counter() - upload_started
    upload_area, upload_result_area = (st.container(), st.container()) if number else st.columns([1, 2], gap="large")
    upload_area.image(picture, caption=ui.literal(upload.name), width=NUMBER_CANVAS_WIDTH if number else CANVAS_SIDE)
    with upload_result_area:
        ui.show_reading(uploaded, number, key="upload", hint=UPLOAD_HINT[mode])
        if not number:
            ui.ask_feedback(uploaded, "upload", key="upload")
    ui.log_served("upload", uploaded, upload_latency, key="upload")

# last, so that opening the database never delays the prediction on screen
if images is not None:
    ui.log_served("draw", found, latency, key="drawing")
