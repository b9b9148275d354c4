"""Test images ranked by how strongly the model disputes their given label."""

import streamlit as st

import ui
from digitlens import analysis

st.title("Suspicious labels")
st.caption(
    "Test images ranked by how strongly the model disputes their given label, most suspicious first: each shows the "
    "given label, the digit the model suggests instead and the margin, the given label's probability minus the "
    "suggestion's (-100% = sure the label is wrong)."
)

probabilities, predictions = ui.get_test_predictions()
ranking = analysis.suspicious_labels(predictions["label"], probabilities)
st.markdown(
    f"The model predicts another digit than the label for **{ranking['disputed'].sum()}** of {len(ranking):,} test "
    "images. The ranking is confident learning's normalised margin "
    "([Northcutt et al. 2021](https://arxiv.org/abs/1911.00068)): a label the model calls wrong with 99% "
    "certainty ranks above one it merely doubts. Open an image to see all ten probabilities."
)
count = st.slider("Images to show", min_value=8, max_value=200, value=40, step=8)
shown = ranking.head(count)
st.caption("Under each image: its given label → the digit the model suggests · the margin.")
ui.digit_gallery(
    predictions.loc[shown.index],
    key="suspicious",
    captions=[f"{row.label} → {row.suggested} · {row.margin:+.0%}" for row in shown.itertuples()],
)
with st.expander("The ranking as a table"):
    st.dataframe(ui.percent_table(shown, ["given_probability", "suggested_probability", "margin"]))
