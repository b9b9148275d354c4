"""Feedback people gave on the Draw page ("Was this right?"): filter it, look at the inputs, export it for training."""

import io

import streamlit as st

import ui
from digitlens.store import FEEDBACK_VERDICTS, SOURCES, write_feedback_csv

GALLERY_LIMIT = 48

st.title("Collected feedback")
st.caption(
    'Each answer to "Was this right?" on the Draw page, stored with the 28x28 input the model saw. The corrected ones '
    "teach the model: `python -m digitlens train --with-feedback` fine-tunes a new version on MNIST plus these."
)
found = ui.get_store().feedback()
if found.table.empty:
    st.info('No feedback yet. Draw a digit on the Draw page and answer "Was this right?" under the prediction.', icon=":material/inbox:")
    st.stop()

table = found.table
verdict_column, digit_column, source_column = st.columns([2, 2, 1])
verdicts = verdict_column.pills("Answer", list(FEEDBACK_VERDICTS), selection_mode="multi", default=list(FEEDBACK_VERDICTS),
                                format_func=FEEDBACK_VERDICTS.get, key="collected_verdicts")
digits = digit_column.multiselect("Digit (as the person said)", list(range(10)), key="collected_digits", placeholder="All digits")
sources = source_column.pills("From", sorted(table["source"].unique()), selection_mode="multi", default=sorted(table["source"].unique()),
                              format_func=lambda source: SOURCES.get(source, source), key="collected_sources")
keep = table["verdict"].isin(verdicts) & table["source"].isin(sources)
if digits:
    keep &= table["label"].isin(digits)
shown = found.subset(keep.to_numpy())

total_column, right_column, corrected_column, refused_column = st.columns(4)
total_column.metric("Feedback", f"{len(shown.table):,}", help=f"of {len(table):,} in all")
right_column.metric("The model was right", f"{(shown.table['verdict'] == 'right').mean():.0%}" if len(shown.table) else "n/a")
corrected_column.metric("Corrected digits", f"{(shown.table['verdict'] == 'wrong').sum():,}", help="Inputs given the digit they really are: training material")
refused_column.metric("Not a digit", f"{(shown.table['verdict'] == 'not_a_digit').sum():,}")

newest = shown.table.iloc[::-1].head(GALLERY_LIMIT)
said = {"right": "right", "wrong": "it was {label}", "not_a_digit": "not a digit"}
ui.image_gallery(
    shown.images[newest.index],
    [f"model {row.answer} · {said[row.verdict].format(label=row.label)} · {row.time:%b %d %H:%M}" for row in newest.itertuples()],
)
st.caption("Under each input: the model's answer · what the person said · when (UTC); newest first" +
           (f", the newest {GALLERY_LIMIT} of {len(shown.table):,}." if len(shown.table) > GALLERY_LIMIT else "."))

csv = io.StringIO()
write_feedback_csv(shown, csv)
st.download_button("Download the feedback shown, with each input's 784 pixels (CSV)", csv.getvalue(), "digitlens-feedback.csv", "text/csv",
                   icon=":material/download:", key="collected_export", on_click="ignore")  # above the table: see pages/review.py
st.dataframe(
    shown.table.assign(verdict=shown.table["verdict"].map(FEEDBACK_VERDICTS), confidence=shown.probabilities.max(axis=1))
    .iloc[::-1].rename(columns=ui.heading),
    hide_index=True,
    column_config={"Confidence": st.column_config.NumberColumn(format="percent"), "Time": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")},
)
