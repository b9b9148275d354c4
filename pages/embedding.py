"""Map of the test images as the model's penultimate layer sees them; lasso a region to see its images."""

import numpy as np
import streamlit as st

import ui
from digitlens import charts

GALLERY_LIMIT = 48

st.title("Embedding map")
st.caption(
    "Each dot is a test image placed by its 128-number embedding, squeezed to two dimensions by PCA: images the "
    "model finds alike sit close, so crosses (mistakes) inside another colour's cloud are digits that look like "
    "that other digit to the model; drag a lasso or box, or click a dot, to see the images."
)

_, predictions = ui.get_test_predictions()
coordinates, explained = ui.get_embedding_projection()
event = st.plotly_chart(
    charts.embedding_map(coordinates, predictions["label"], predictions["predicted"], explained),
    on_select="rerun",
    selection_mode=("points", "box", "lasso"),
    key="embedding_map",
)

selected = np.unique([int(point["customdata"]) for point in event.selection.points])
if selected.size == 0:
    st.info("Select dots on the map (lasso, box or click) to see their images.", icon=":material/touch_app:")
else:
    rows = predictions.loc[selected]
    rows = rows.sort_values(["correct", "confidence"])  # mistakes first, then the least sure
    mistakes = int((~rows["correct"]).sum())
    st.subheader(f"{len(rows):,} selected images ({mistakes} {'mistake' if mistakes == 1 else 'mistakes'})")
    ui.digit_gallery(rows.head(GALLERY_LIMIT), key="embedding_selection")
    if len(rows) > GALLERY_LIMIT:
        st.caption(f"Showing {GALLERY_LIMIT} of {len(rows):,}: mistakes first, then the least confident.")
