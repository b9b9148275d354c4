"""Map of the test images as the model's penultimate layer sees them; click a dot to open it, lasso to see many."""

import numpy as np
import streamlit as st

import ui
from digitlens import charts
from digitlens.store import VERDICTS

GALLERY_LIMIT = 48
COLOURINGS = ["True label", "Prediction", "Right or wrong", "Review verdict"]

st.title("Embedding map")
st.caption(
    "Each dot is a test image placed by its 128-number embedding, squeezed to two dimensions: images the model finds "
    "alike sit close, so crosses (mistakes) inside another colour's cloud are digits that look like that other digit "
    "to the model; click a dot to open it, or pick the lasso or the box in the chart's toolbar to see many."
)

_, predictions = ui.get_test_predictions()
method_column, colour_column = st.columns(2)
method = method_column.segmented_control(
    "Map", ["UMAP", "PCA"], default="UMAP", required=True, key="embedding_method",
    help="UMAP keeps neighbourhoods, so the digits come apart; PCA keeps the two widest directions of spread",
)
colouring = colour_column.segmented_control("Colour by", COLOURINGS, default=COLOURINGS[0], required=True, key="embedding_colour")
if method == "UMAP":
    coordinates, axes = ui.get_embedding_umap(), ("UMAP 1", "UMAP 2")
else:
    coordinates, explained = ui.get_embedding_projection()
    axes = (f"First principal component ({explained[0]:.0%} of variance)", f"Second principal component ({explained[1]:.0%} of variance)")
groups = {
    "True label": predictions["label"],
    "Prediction": predictions["predicted"],
    "Right or wrong": np.where(predictions["correct"], "right", "wrong"),
}.get(colouring)
if groups is None:  # review verdicts: each test image's latest, "not reviewed" for the rest
    verdicts = {image_id: VERDICTS[review.verdict] for (_, image_id), review in ui.get_store().latest("test").items()}
    groups = np.array([verdicts.get(image_id, "Not reviewed") for image_id in predictions.index])
event = st.plotly_chart(
    charts.embedding_map(coordinates, predictions["label"], predictions["predicted"], axes, method, groups, colouring),
    on_select="rerun",
    selection_mode=("points", "box", "lasso"),
    key="embedding_map",
)

selected = np.unique([int(point["customdata"]) for point in event.selection.points])
if selected.size == 1 and st.session_state.get("embedding_opened") != int(selected[0]):
    st.session_state.embedding_opened = int(selected[0])  # a click opens the image once, not at every rerun
    ui.open_image(int(selected[0]))
if selected.size == 0:
    st.info("Click a dot to open its image, or select many with the lasso or the box of the chart's toolbar (top right).", icon=":material/touch_app:")
else:
    rows = predictions.loc[selected]
    rows = rows.sort_values(["correct", "confidence"])  # mistakes first, then the least sure
    mistakes = int((~rows["correct"]).sum())
    st.subheader(f"{len(rows):,} selected {'image' if len(rows) == 1 else 'images'} ({mistakes} {'mistake' if mistakes == 1 else 'mistakes'})")
    ui.digit_gallery(rows.head(GALLERY_LIMIT), key="embedding_selection")
    if len(rows) > GALLERY_LIMIT:
        st.caption(f"Showing {GALLERY_LIMIT} of {len(rows):,}: mistakes first, then the least confident.")
