"""Why the model predicted what it did, for any test image or an uploaded digit: occlusion saliency."""

import streamlit as st

import ui
from digitlens import charts, reading

st.title("Why this prediction?")
st.caption(
    "Each piece of ink was blanked in turn and the model asked again: red marks ink whose removal lowers a digit's "
    "probability (it spoke for the digit) and blue ink whose removal raises it, shown for the prediction and the "
    "runner-up, so you can see which strokes decided between them."
)

images, labels = ui.get_test_data()
test_probabilities, predictions = ui.get_test_predictions()
requested = st.query_params.get("id", "")  # galleries link here with ?id=<test id>
first_mistake = int(predictions.index[~predictions["correct"]][0])
known = requested.isascii() and requested.isdigit() and int(requested) < len(images)  # "²" is a digit to isdigit()
default_id = int(requested) if known else first_mistake
if requested and not known:
    st.warning(f"There is no test image “{ui.literal(requested)}”: ids run from 0 to {len(images) - 1}. Showing the first mistake.")

source = st.segmented_control("Explain", ["Test image", "Upload"], default="Test image", required=True, key="why_source")
if source == "Upload":
    upload = st.file_uploader("A photo or scan of one handwritten digit", type=ui.UPLOAD_TYPES)
    if upload is None:
        st.info("Upload a picture of one digit, or draw one on the Draw page and open “Why this prediction?”.")
        st.stop()
    image = ui.uploaded_digit(upload)
    if image is None:
        st.stop()
    probabilities, true_label = reading.read(ui.get_predictor(), image[None]).probabilities[0], None  # as the Draw page reads it
else:
    image_id = st.number_input("Test image id", min_value=0, max_value=len(images) - 1, value=default_id, step=1)
    row = predictions.loc[image_id]
    verdict = "right" if row["correct"] else "wrong"
    st.markdown(f"Test image **#{image_id}**: labelled **{row['label']}**, predicted **{row['predicted']}** ({verdict}).")
    image, probabilities, true_label = images[image_id], test_probabilities[image_id], int(labels[image_id])

# one above the other: side by side, a laptop's width squeezed the bars' labels and the maps' titles into each other
ui.show_why(image, probabilities, key="why")
st.plotly_chart(charts.probability_bars(probabilities, true_label), key="why_probabilities")

if st.toggle("Show the MNIST images the model finds most alike", key="why_neighbours", help="Nearest in the model's embedding, among all 70,000 MNIST images"):
    st.caption("What the model compares this image to: the training and test images nearest it in its embedding, nearest first.")
    ui.show_neighbours(image, known_as=("test", int(image_id)) if source == "Test image" else None)
