"""Review disputed labels one image at a time; each verdict is saved in the review store at once (digitlens.store)."""

import io

import streamlit as st

import ui
from digitlens import charts
from digitlens.store import VERDICTS, record, write_csv

st.title("Review labels")
st.caption(
    "Go through the images whose label the models dispute and say, for each, whether the label is right; every "
    "verdict is saved at once, with your name, for everyone."
)


def save(split: str, image_id: int, given: int, queue: list[int], verdict: str, corrected: int | None = None) -> None:
    """Store the verdict with the tags, note and name typed so far, then move on to the next image."""
    try:
        ui.get_store().save_review(
            split, image_id, given, verdict, corrected, tags=st.session_state.review_tags,
            note=st.session_state.review_note, reviewer=st.session_state.reviewer,
        )
    except ValueError as error:
        st.session_state.review_problem = str(error)
        return
    st.toast(f"Saved #{image_id}: {described(verdict, corrected)}", icon=":material/check:")
    st.session_state.review_tags = st.session_state.review_note = ""
    st.session_state.review_other = None
    move(split, image_id, queue, 1)


def described(verdict: str, corrected: int | None) -> str:
    return VERDICTS[verdict] + (f": it is a {corrected}" if corrected is not None else "")


def move(split: str, image_id: int, queue: list[int], step: int) -> None:
    """Open the image step places along the queue from this one; past its end (or off it), the queue's first."""
    place = queue.index(image_id) + step if image_id in queue else 0
    st.session_state.review_current[split] = queue[place] if 0 <= place < len(queue) else None


def save_other(split: str, image_id: int, given: int, queue: list[int]) -> None:
    if st.session_state.review_other is not None:
        save(split, image_id, given, queue, "label_wrong", st.session_state.review_other)


st.session_state.setdefault("review_current", {})  # split -> the image open there
asked_split, asked_id = st.query_params.get("split"), st.query_params.get("id")  # "Review its label" links here
if asked_id is not None and "review_opened" not in st.session_state:
    st.session_state.review_opened = True
    if asked_split in ui.SPLIT_NAMES and asked_id.isdigit() and int(asked_id) < len(ui.get_split(asked_split)[1]):
        st.session_state.review_split = asked_split
        st.session_state.review_current[asked_split] = int(asked_id)
    else:
        st.warning(f"There is no image {ui.literal(asked_id)} in a split named {ui.literal(str(asked_split))}; the disputed images follow.")
split = ui.split_choice("review_split")

ranked = ui.get_label_ranking(split)
if ranked is None:
    st.warning("The cross-validated probabilities (model/crossval.npz) are missing: run `python -m digitlens crossval`.")
    st.stop()
probabilities, ranking = ranked
images, _ = ui.get_split(split)
store = ui.get_store()
latest = store.latest(split)

settings = st.columns([2, 2, 3], vertical_alignment="bottom")
settings[0].text_input("Your name", key="reviewer", placeholder="saved with each verdict")
st.session_state.setdefault("review_hide_done", True)
settings[1].toggle("Hide reviewed images", key="review_hide_done")
queue = [int(i) for i in ranking.index[ranking["disputed"]] if not (st.session_state.review_hide_done and (split, i) in latest)]
settings[2].markdown(f"{ui.SPLIT_NAMES[split]} images reviewed: **{len(latest)}** · disputed ones to go: **{len(queue)}**")
image_id = st.session_state.review_current.get(split)
if image_id is None and queue:
    image_id = queue[0]

if image_id is None:
    st.success("Every disputed label in this split has a verdict. Turn off **Hide reviewed images** to see them again.")
else:
    position = queue.index(image_id) if image_id in queue else None
    row = ranking.loc[image_id]
    given, suggested = int(row["label"]), int(row["suggested"])
    if position is not None:
        st.progress((position + 1) / len(queue), text=f"Image {position + 1} of {len(queue)}")

    image_column, verdict_column = st.columns([2, 3], gap="large")
    with image_column:
        ui.show_digit(images[image_id], scale=ui.REVIEW_SCALE)
        st.markdown(
            f"**#{image_id}** ({ui.SPLIT_NAMES[split].lower()} set): labelled **{given}**; the models suggest "
            f"**{suggested}** ({row['suggested_probability']:.0%}) and give the label {row['given_probability']:.1%}."
        )
        earlier = latest.get((split, image_id))
        if earlier is not None:
            by = f" by {earlier.reviewer}" if earlier.reviewer else ""
            when = f"{earlier.created_at:%Y-%m-%d %H:%M} UTC"
            st.info(f"Reviewed{by} on {when}: {described(earlier.verdict, earlier.corrected_label).lower()}", icon=":material/history:")
    with verdict_column:
        arguments = (split, image_id, given, queue)
        st.button(f"Label is wrong: it is a {suggested}", type="primary", width="stretch", icon=":material/close:",
                  on_click=save, args=(*arguments, "label_wrong", suggested))
        st.button(f"Label is right: it is a {given}", width="stretch", icon=":material/check:", on_click=save, args=(*arguments, "label_right"))
        st.pills("Label is wrong: it is another digit", [digit for digit in range(10) if digit not in (given, suggested)],
                 key="review_other", on_change=save_other, args=arguments)
        left, right = st.columns(2)
        left.button("Ambiguous", width="stretch", icon=":material/help:", on_click=save, args=(*arguments, "ambiguous"))
        right.button("Not a digit", width="stretch", icon=":material/block:", on_click=save, args=(*arguments, "not_a_digit"))
        st.text_input("Tags, comma-separated (optional)", key="review_tags", placeholder="e.g. thick stroke, cut off")
        st.text_input("Note (optional)", key="review_note")
        back, skip = st.columns(2)
        back.button("Previous", width="stretch", icon=":material/arrow_back:", on_click=move, args=(split, image_id, queue, -1), disabled=position == 0)
        skip.button("Skip", width="stretch", icon=":material/arrow_forward:", on_click=move, args=(split, image_id, queue, 1), disabled=position == len(queue) - 1)
        if problem := st.session_state.pop("review_problem", None):
            st.error(f"Not saved: {problem}.")
    chart = charts.probability_bars(
        probabilities[image_id], true_label=given, title="What the models that never saw it predict", label_name="given label"
    )
    st.plotly_chart(chart, key="review_probabilities")

history = store.history()
with st.expander(f"All verdicts, every split ({len(history)})"):
    exported = io.StringIO()
    write_csv(history, exported)  # the verdicts just read, not a second query
    # above the table, which lays itself out after the page has run: below it, the button sat at the window's bottom
    # edge, and a click in the browser test now and then started no download. The click only downloads: rerunning
    # the page for it is needless work (Streamlit's default)
    st.download_button(
        "Download all verdicts (CSV)", exported.getvalue(), file_name="digitlens-reviews.csv", mime="text/csv",
        icon=":material/download:", on_click="ignore",
    )
    rows = [record(review) | {"verdict": VERDICTS[review.verdict]} for review in reversed(history)]
    st.dataframe([{ui.heading(column): value for column, value in row.items()} for row in rows], hide_index=True)
