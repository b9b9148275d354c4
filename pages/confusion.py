"""Confusion matrix over the whole test set; clicking a cell shows its images."""

import streamlit as st

import ui
from digitlens import analysis, charts

GALLERY_LIMIT = 48


def remember_cell() -> None:
    """Keep the clicked (true, predicted) cell, so it survives the count/share toggle, which redraws the chart."""
    points = st.session_state.confusion_matrix.selection.points
    st.session_state.confusion_cell = tuple(int(v) for v in points[-1]["customdata"][:2]) if points else None


st.title("Confusion matrix")
st.caption(
    "Each row is a true label and each column the model's prediction, so the grey diagonal holds the right answers "
    "and every red cell off it is a kind of mistake (darker = more); click a cell to see its images."
)

_, predictions = ui.get_test_predictions()
matrix = analysis.confusion_matrix(predictions["label"], predictions["predicted"])
cell = st.session_state.get("confusion_cell")

toggle_column, accuracy_column, mistakes_column = st.columns([3, 1, 1], vertical_alignment="bottom")
normalised = toggle_column.toggle("Row-normalised: share of each true label", key="confusion_normalised")
accuracy_column.metric("Accuracy", f"{analysis.accuracy(matrix):.2%}")
mistakes_column.metric("Mistakes", f"{(~predictions['correct']).sum():,}", help=f"of {len(predictions):,} test images")
# the whole width for the matrix: its cells stay large enough to read and to click, and the images open below it
st.plotly_chart(
    charts.confusion_heatmap(matrix, normalised, selected=cell),
    on_select=remember_cell,
    selection_mode="points",
    key="confusion_matrix",
)

if cell is None:
    st.info("Click a cell of the matrix to see the images behind it.", icon=":material/touch_app:")
else:
    true, predicted = cell
    shown = analysis.cell_images(predictions, true, predicted)
    order = "least confident first" if true == predicted else "most confident first"
    st.subheader(f"True {true}, predicted {predicted}: {len(shown):,} images ({order})")
    ui.digit_gallery(shown.head(GALLERY_LIMIT), key=f"cell_{true}_{predicted}")
    if len(shown) > GALLERY_LIMIT:
        st.caption(f"Showing the first {GALLERY_LIMIT} of {len(shown):,}.")

report_column, confusions_column = st.columns([3, 2], gap="large")
with report_column:
    st.markdown("**Per digit**")
    st.dataframe(ui.percent_table(analysis.classification_report(matrix), ["precision", "recall", "f1"]))
with confusions_column:
    st.markdown("**Top confusions**")
    st.dataframe(ui.percent_table(analysis.top_confusions(matrix), ["share_of_true"]), hide_index=True)
