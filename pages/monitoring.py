"""The model in production: what the API and the dashboard served, how fast, and whether the inputs still look like MNIST."""

import pandas as pd
import streamlit as st

import ui
from digitlens import production
from digitlens.charts import production as charts
from digitlens.store import SOURCES

GALLERY_LIMIT = 48
SHOWN_LIMIT = 20_000  # newest predictions of the window read from the log
BUCKET_NAMES = {"2min": "2 minutes", "30min": "30 minutes", "6h": "6 hours", "1D": "day"}


def remember(chart: str) -> None:
    """Keep the clicked bar's meaning: later reruns (other widgets) must not lose which inputs are shown."""
    points = st.session_state[chart].selection.points
    st.session_state.monitoring_selected = (chart, points[-1]["customdata"]) if points else None


def clickable(figure, key: str, where=st) -> None:
    """A chart whose clicked bar or point is remembered, to show the inputs behind it."""
    where.plotly_chart(figure, on_select=lambda: remember(key), selection_mode="points", key=key)


def selected_rows(table: pd.DataFrame, features: pd.DataFrame, bucket: str) -> tuple[pd.Series, str] | None:
    """The clicked bar's or point's inputs as a mask of the table, and what they are, or None before a click."""
    chosen = st.session_state.get("monitoring_selected")
    if chosen is None:
        return None
    chart, value = chosen
    if chart in ("monitoring_traffic", "monitoring_refused", "monitoring_latency"):
        start = pd.Timestamp(value[0] if chart == "monitoring_traffic" else value)
        mask = (table["time"] >= start) & (table["time"] < start + pd.Timedelta(bucket))
        during = f"{start:%Y-%m-%d, %H:%M} to {start + pd.Timedelta(bucket):%H:%M} UTC"
        if chart == "monitoring_traffic":
            return mask & (table["source"] == value[1]), f"from {SOURCES.get(value[1], value[1]).lower()}, {during}"
        if chart == "monitoring_refused":
            return mask & (table["is_digit"] == False), f'answered "not a digit", {during}'  # noqa: E712
        return mask, f"served {during}"
    if chart == "monitoring_answers":
        return table["answer"] == int(value), f"answered {int(value)}"
    if chart == "monitoring_features":
        name, low, high = value[0], float(value[1]), float(value[2])
        return features[name].between(low, high), f"with {production.FEATURES[name][0].lower()} from {low:.2f} to {high:.2f}"
    low = float(value)
    return table["confidence"].between(low, low + charts.CONFIDENCE_BIN, inclusive="left"), f"answered with {low:.0%} to {low + charts.CONFIDENCE_BIN:.0%} confidence"


st.title("Monitoring")
st.caption(
    "Every prediction the API and this dashboard serve is logged with its 28x28 input (unless DIGITLENS_LOG_PREDICTIONS=0). "
    "Here: how many, how fast, what the model answered and how sure it was, beside the MNIST test set, and whether the "
    "inputs still look like MNIST. Click a bar or a point to see the inputs behind it."
)
window_column, source_column = st.columns([1, 2])
window = window_column.selectbox("Window", list(production.WINDOWS), index=1, key="monitoring_window")
bucket = production.WINDOWS[window][1]
span = production.window_start(window), pd.Timestamp.now(tz="UTC")
logged = ui.get_store().predictions(since=span[0], limit=SHOWN_LIMIT)
table = logged.table
sources = source_column.pills(
    "Sources", sorted(table["source"].unique()), selection_mode="multi", default=sorted(table["source"].unique()),
    format_func=lambda source: SOURCES.get(source, source), key=f"monitoring_sources_{window}",
)
keep = table["source"].isin(sources).to_numpy()
images = logged.images[keep]
table = ui.with_verdicts(table[keep].reset_index(drop=True), images)
if table.empty:
    st.info(
        f"No predictions logged in the {window.lower()}. Draw on the Draw page or send images to the API's /predict; "
        "they appear here within a second.", icon=":material/monitoring:",
    )
    st.stop()

served = production.requests(table)
judged = table["is_digit"].dropna().astype(bool)
recent_features = production.input_features(images)
drift = production.feature_drift(recent_features, ui.get_test_features())
far = None
if st.toggle("Also compare the inputs with MNIST as the model sees them (its embeddings; loads TensorFlow, about 10 s)", key="monitoring_embeddings"):
    far, far_limit = ui.far_from_mnist(images)
unlike, verdict = production.drift_verdict(drift, len(table), None if far is None else float(far.mean()))
count_column, latency_column, tail_column, refused_column = st.columns(4)
count_column.metric("Predictions", f"{len(table):,}", help=f"in {len(served):,} requests" + (" (the newest shown)" if len(logged.table) == SHOWN_LIMIT else ""))
latency_column.metric("Median latency", f"{served['latency_ms'].median():.1f} ms", help="Per request: input to answer, inside the server")
tail_column.metric("99th percentile latency", f"{served['latency_ms'].quantile(0.99):.1f} ms")
refused_column.metric("Refused as not a digit", f"{1 - judged.mean():.1%}" if len(judged) else "n/a", help=f"of {len(judged):,} inputs with a verdict")
if unlike is None:
    st.info(verdict, icon=":material/hourglass_empty:")
elif unlike:
    st.warning(f"**Drift.** {verdict}", icon=":material/warning:")
else:
    st.success(verdict, icon=":material/check_circle:")

bucket_label = BUCKET_NAMES[bucket]
# the whole width for traffic over time: its bars are wide enough to click
clickable(charts.traffic(production.traffic(table, bucket), span, bucket, bucket_label), "monitoring_traffic")
latency_column, refused_chart_column = st.columns(2)
clickable(charts.latency(production.latency_percentiles(table, bucket), span, bucket, bucket_label), "monitoring_latency", latency_column)
refused_share = production.refused_share(table, bucket)
if not refused_share.empty:
    clickable(charts.refused(refused_share, span, bucket, bucket_label), "monitoring_refused", refused_chart_column)
_, test_predictions = ui.get_test_predictions()
answers_column, confidence_column = st.columns(2)
clickable(charts.answer_mix(production.answer_mix(table["answer"], test_predictions["predicted"])), "monitoring_answers", answers_column)
clickable(charts.confidence(table["confidence"].to_numpy(), test_predictions["confidence"].to_numpy()), "monitoring_confidence", confidence_column)

selection = selected_rows(table, recent_features, bucket)
if selection is None:
    st.info("Click a bar or a point of any chart on this page to see the inputs behind it.", icon=":material/touch_app:")
else:
    mask, described = selection
    shown = table[mask.to_numpy()].iloc[::-1]  # newest first
    count = len(shown)
    st.subheader(f"{count:,} {'input' if count == 1 else 'inputs'} {described}")
    shown = shown.head(GALLERY_LIMIT)
    answers = [f"{row.answer}" if row.is_digit is not False else f"not a digit ({row.answer}?)" for row in shown.itertuples()]
    ui.image_gallery(images[shown.index], [f"{answer} · {row.confidence:.0%} · {row.time:%H:%M:%S}" for answer, row in zip(answers, shown.itertuples())])
    st.caption("Under each input: the answer · its probability · the time (UTC)" + (f"; the newest {GALLERY_LIMIT} of {count:,}." if count > GALLERY_LIMIT else "."))

st.subheader("Do the inputs still look like MNIST?")
shown_drift = drift.drop(columns=["change"] if unlike is not None else ["change", "unlike_mnist"])  # too few inputs: no flags
st.dataframe(
    shown_drift.rename(columns=ui.heading).style.format(
        {"Recent": "{:.2f}", "MNIST test": "{:.2f}", "Shift": "{:+.1f} sd", "Above 99% of MNIST": "{:.0%}", "Below 99% of MNIST": "{:.0%}"}
    ),
    hide_index=True,
)
st.caption(
    f"Recent and MNIST test: the means. Shift: how far the recent mean moved, in standard deviations of the MNIST test set. "
    f"Above and below 99% of MNIST: the share of recent inputs beyond MNIST's 99th or 1st percentile (1% each on MNIST itself). "
    f"A shift beyond ±{production.SHIFT_LIMIT} or more than {production.TAIL_LIMIT:.0%} beyond either end is flagged."
)
clickable(charts.feature_histograms(recent_features, ui.get_test_features()), "monitoring_features")
if far is not None:
    st.caption(
        f"Embeddings: {far.mean():.1%} of the recent inputs are farther from every MNIST test image than 99% of MNIST's "
        f"own training images are (distance {far_limit:.1f} in the model's 128-number embedding); on MNIST itself, 1%."
    )
