"""Browse the test set through the model's eyes: a seeded sample as thumbnails, or any image by its id."""

import streamlit as st

import ui
from digitlens import analysis, charts

ALL_DIGITS = "All"


def resample() -> None:
    st.session_state.explore_seed += 1


def inspect(image_id: int) -> None:
    st.session_state.explore_image_id = image_id


def verdict(row) -> str:
    """A thumbnail's label: the prediction and its confidence, green when right and red when wrong."""
    return f":green[✓ {row.predicted} · {row.confidence:.0%}]" if row.correct else f":red[✗ {row.predicted} · {row.confidence:.0%}]"


st.title("Explore the test set")
images, labels = ui.get_test_data()
probabilities, predictions = ui.get_test_predictions()
st.session_state.setdefault("explore_seed", 0)

choice = st.segmented_control("Digit", [ALL_DIGITS, *range(10)], default=ALL_DIGITS, required=True, key="explore_digit")
count_column, seed_column, button_column = st.columns([3, 1, 1], vertical_alignment="bottom")
count = count_column.slider("Images", min_value=8, max_value=64, value=24, step=8)
seed = seed_column.number_input("Seed", min_value=0, step=1, key="explore_seed")
button_column.button("Resample", icon=":material/shuffle:", on_click=resample, width="stretch")

ids = analysis.sample_ids(labels, None if choice == ALL_DIGITS else choice, count, seed)
sample = predictions.loc[ids]
if st.session_state.get("explore_sample") != (choice, count, seed):  # a new sample opens its first image, not an old one
    st.session_state.explore_sample = (choice, count, seed)
    st.session_state.explore_image_id = int(ids[0])

gallery_column, detail_column = st.columns([3, 2], gap="large")
with gallery_column:
    st.caption(f"{sample['correct'].sum()} of {len(sample)} predicted right. Click a prediction to inspect its image.")
    gallery = st.grid("auto", min_column_width=90, gap="xsmall")
    for image_id, row in sample.iterrows():
        with gallery.cell():
            ui.show_digit(images[image_id])
            st.button(
                verdict(row),
                key=f"inspect_{image_id}",
                on_click=inspect,
                args=(image_id,),
                type="tertiary",
                help=f"Test image #{image_id}, true label {row.label}",
            )

with detail_column:
    last = len(labels) - 1
    image_id = st.number_input(f"Open a test image by id (0 to {last:,})", min_value=0, max_value=last, step=1, key="explore_image_id")
    row = predictions.loc[image_id]
    outcome = "right" if row.correct else "wrong"
    st.markdown(f"True label **{row.label}**, predicted **{row.predicted}** ({row.confidence:.1%}): **{outcome}**")
    st.plotly_chart(charts.digit_image(images[image_id], f"Test image #{image_id}"))
    st.plotly_chart(charts.probability_bars(probabilities[image_id], true_label=row.label))

if st.toggle("Show the images the model finds most alike", key="explore_neighbours", help="Nearest in the model's embedding, among all 70,000 MNIST images"):
    st.caption(f"The training and test images nearest test image #{image_id} in the model's embedding, nearest first.")
    ui.show_neighbours(images[image_id], known_as=("test", int(image_id)))
