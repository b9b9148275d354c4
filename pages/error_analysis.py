"""The tutorial's R/Shiny error analysis, interactive: sample the test images of one digit and look at the mistakes."""

import streamlit as st

import ui
from digitlens import analysis, charts

DEFAULT_SAMPLES = 300


st.title("Error analysis")
st.caption("As in the tutorial: sample test images of one digit, predict them, and see which ones the model gets wrong.")
images, labels = ui.get_test_data()
probabilities, predictions = ui.get_test_predictions()

digit_column, count_column, seed_column = st.columns([3, 1, 1], vertical_alignment="bottom")
digit = digit_column.segmented_control("Digit", range(10), default=2, required=True, key="analysis_digit")
available = int((labels == digit).sum())
# the sample size carries over to another digit: all of them stays all of them, more than there are becomes all
chosen, before = st.session_state.get("analysis_samples", DEFAULT_SAMPLES), st.session_state.get("analysis_available")
st.session_state.analysis_samples = available if chosen == before else min(chosen, available)
st.session_state.analysis_available = available
n_samples = count_column.number_input(f"Samples (max {available})", min_value=1, max_value=available, key="analysis_samples")
seed = seed_column.number_input("Seed", min_value=0, value=0, step=1, key="analysis_seed")

ids = analysis.sample_ids(labels, digit, n_samples, seed)
sample = predictions.loc[ids]
wrong_ids = sample.index[~sample["correct"]].to_numpy()
right_ids = sample.index[sample["correct"]].to_numpy()

table_column, chart_column = st.columns([1, 2], gap="large")
with table_column:
    st.subheader("Right and wrong")
    counts = analysis.correctness_counts(sample).drop(columns="correct")  # "wrong"/"right" says it: no FALSE/TRUE beside
    st.table(ui.percent_table(counts, ["share"]), hide_index=True)
with chart_column:
    if len(wrong_ids):
        st.plotly_chart(charts.wrong_predictions_bar(analysis.wrong_prediction_counts(sample), digit))
    else:
        st.success(f"All {len(ids)} sampled images of digit {digit} were classified correctly: no mistakes to show.")

if len(wrong_ids):
    st.plotly_chart(charts.misclassified_heatmap(analysis.probabilities_long(wrong_ids, probabilities[wrong_ids])))

    st.subheader("Inspect a misclassified image")
    choices = {image_id: f"#{image_id}: predicted {row.predicted} ({row.confidence:.0%})" for image_id, row in sample.loc[wrong_ids].iterrows()}
    chosen = st.selectbox("Misclassified image", list(choices), format_func=choices.get, key="analysis_inspect")
    image_column, bars_column = st.columns([1, 2], gap="large")
    image_column.plotly_chart(charts.digit_image(images[chosen], f"Test image #{chosen}"))
    bars_column.plotly_chart(charts.probability_bars(probabilities[chosen], true_label=digit))

if len(right_ids):
    st.plotly_chart(charts.correct_probability_strip(analysis.probabilities_long(right_ids, probabilities[right_ids])))
else:
    st.info(f"None of the {len(ids)} sampled images of digit {digit} was classified correctly.")
