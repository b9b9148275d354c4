"""Our CNN beside the tutorial's MLP on the same 10,000 test images: accuracy, each digit, and where they disagree."""

import streamlit as st

import ui
from digitlens import analysis, charts

GALLERY_LIMIT = 48
OURS, TUTORIALS = ui.MODELS  # the two names, ours first

st.title("Compare models")
st.caption(
    "Our CNN and the tutorial's MLP read the same 10,000 test images: how often each is right, on which digits, "
    "whether the difference could be chance, and the images they read differently."
)
if not all(path.exists() for path in ui.MODELS.values()):
    st.warning("The tutorial's MLP is not trained yet: run `python -m digitlens train --arch mlp` (about 2 minutes).")
    st.stop()

(_, ours), (_, tutorials) = (ui.test_predictions(str(path)) for path in ui.MODELS.values())
labels = ours["label"]
test = analysis.mcnemar(labels, ours["predicted"], tutorials["predicted"])
columns = st.columns(3)
columns[0].metric(OURS, f"{ours['correct'].mean():.2%}", help="Test accuracy")
columns[1].metric(TUTORIALS, f"{tutorials['correct'].mean():.2%}", help="Test accuracy; the tutorial reports 98.46 %")
columns[2].metric("McNemar's test, p", f"{test['p_value']:.1e}", help="How likely so lopsided a split of the images only one model reads right is, were the two equally accurate")
st.markdown(
    f"Only ours reads **{test['only_a']}** images right, only the tutorial's **{test['only_b']}**: were the two "
    f"models equally good, a split this lopsided would happen with probability {test['p_value']:.1e} (McNemar's exact test)."
)
per_digit = {name: table.groupby("label")["correct"].mean().to_numpy() for name, table in zip(ui.MODELS, (ours, tutorials))}
st.plotly_chart(charts.per_digit_accuracy(per_digit), key="compare_per_digit")

st.subheader("Where they disagree")
disputed = analysis.disagreements(labels, ours["predicted"], tutorials["predicted"])
who = {"a": "Only our CNN is right", "b": "Only the tutorial's MLP is right", "neither": "Neither is right"}
counts = disputed["right"].value_counts()
choice = st.segmented_control(
    "Images", list(who), format_func=lambda key: f"{who[key]} ({counts.get(key, 0)})", default="b", required=True, key="compare_who"
)
shown = disputed[disputed["right"] == choice].head(GALLERY_LIMIT)
st.caption("Under each image: its label · ours → the tutorial's.")
ui.digit_gallery(shown, key=f"compare_{choice}", captions=[f"{row.label} · {row.a} → {row.b}" for row in shown.itertuples()])
