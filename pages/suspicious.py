"""Images whose label the models dispute, in both splits, most suspicious first; each can be opened and reviewed."""

import streamlit as st

import ui

st.title("Suspicious labels")
st.caption(
    "Images whose given label is disputed by models that never saw them, most suspicious first: under each, its "
    "given label → the digit the models suggest · the probability they give the label."
)

split = ui.split_choice("suspicious_split")
ranked = ui.get_label_ranking(split)
if ranked is None:
    st.warning(
        "The cross-validated probabilities (model/crossval.npz) are missing or were made from other MNIST files. "
        "Make them with `python -m digitlens crossval` (about 40 minutes on 2 cores)."
    )
    st.stop()
_, ranking = ranked
disputed = ranking[ranking["disputed"]]
st.markdown(
    f"Every model that never trained on them gives the label less than even odds for **{len(disputed)}** of "
    f"{len(ranking):,} {ui.SPLIT_NAMES[split].lower()} images; only those are shown, the label the most believing "
    "model gives the least probability first (confident learning's self-confidence, "
    "[Northcutt et al. 2021](https://arxiv.org/abs/1911.00068), asked of a committee). The committee: our CNN and "
    "the tutorial's MLP, both trained without augmentation (which teaches a model to accept what makes a label "
    "doubtful), each by 5-fold cross-validation on the training set. Open an image for all ten probabilities, or "
    "go through them on the **Review labels** page."
)
count = st.slider("Images to show", min_value=1, max_value=max(len(disputed), 2), value=min(40, len(disputed)))
shown = disputed.head(count)
ui.digit_gallery(
    shown,
    key=f"suspicious_{split}",
    captions=[f"{row.label} → {row.suggested} · {row.given_probability:.0%}" for row in shown.itertuples()],
    split=split,
)
with st.expander("The ranking as a table"):
    st.dataframe(ui.percent_table(shown.drop(columns="disputed"), ["given_probability", "suggested_probability", "margin"]))
