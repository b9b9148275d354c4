"""How sure the model is, whether its confidence can be trusted, and where it is most wrong."""

import streamlit as st

import ui
from digitlens import analysis, charts

GALLERY_SIZE = 24

st.title("Confidence and calibration")
st.caption(
    "The histogram compares how sure the model was on its right and wrong answers; in the reliability diagram a "
    "calibrated model's bars reach the dashed diagonal, and bars below it mean the model is more confident than right."
)

_, predictions = ui.get_test_predictions()
ece = analysis.expected_calibration_error(predictions["confidence"], predictions["correct"])

accuracy_column, confidence_column, ece_column = st.columns(3)
accuracy_column.metric("Accuracy", f"{predictions['correct'].mean():.2%}")
confidence_column.metric("Mean confidence", f"{predictions['confidence'].mean():.2%}")
ece_column.metric("Expected calibration error", f"{ece:.2%}", help="Image-weighted mean gap between confidence and accuracy over 10 bins")

histogram_column, reliability_column = st.columns(2, gap="large")
histogram_column.plotly_chart(charts.confidence_histogram(predictions["confidence"], predictions["correct"]))
reliability_column.plotly_chart(
    charts.reliability_diagram(analysis.reliability_table(predictions["confidence"], predictions["correct"]), ece)
)

st.subheader("Most confident mistakes")
st.caption("Wrong answers the model was surest of: often a badly written or wrongly labelled digit.")
ui.digit_gallery(analysis.confident_mistakes(predictions, GALLERY_SIZE), key="confident_mistakes")

st.subheader("Least confident right answers")
st.caption("Right answers the model nearly got wrong: the runner-up shows what it hesitated over.")
unsure = analysis.unsure_successes(predictions, GALLERY_SIZE)
ui.digit_gallery(
    unsure,
    key="unsure_successes",
    captions=[f"{row.label} at {row.confidence:.0%} · else {row.runner_up} at {row.runner_up_probability:.0%}" for row in unsure.itertuples()],
)
