"""digitlens dashboard, the router: `streamlit run dashboard.py`. Pages live in pages/, shared loaders in ui.py."""

import streamlit as st

import ui

# An emoji, not a :material/...: icon: Streamlit fetches a material favicon from fonts.gstatic.com on every visit
st.set_page_config(page_title="digitlens", page_icon="✏️", layout="wide")
st.html(ui.PHONE_STYLE)

page = st.navigation(
    [
        st.Page("pages/draw.py", title="Draw", icon=":material/draw:", default=True),
        st.Page("pages/explore.py", title="Explore", icon=":material/grid_view:"),
        st.Page("pages/error_analysis.py", title="Error analysis", icon=":material/troubleshoot:"),
        st.Page("pages/confusion.py", title="Confusion matrix", icon=":material/grid_on:"),
        st.Page("pages/confidence.py", title="Confidence", icon=":material/speed:"),
        st.Page("pages/suspicious.py", title="Suspicious labels", icon=":material/flag:"),
        st.Page("pages/review.py", title="Review labels", icon=":material/rate_review:"),
        st.Page("pages/embedding.py", title="Embedding map", icon=":material/scatter_plot:"),
        st.Page("pages/why.py", title="Why this prediction", icon=":material/psychology:"),
        st.Page("pages/compare.py", title="Compare models", icon=":material/compare_arrows:"),
        st.Page("pages/monitoring.py", title="Monitoring", icon=":material/monitoring:"),
        st.Page("pages/collected.py", title="Collected feedback", icon=":material/inbox:"),
    ]
)

with st.sidebar, ui.errors_as_messages():
    choices = ui.model_choices()
    switch = not ui.API_URL and len(choices) > 1
    if switch:
        st.selectbox("Model", list(choices), key="model", help="The model every page predicts with; Compare models puts ours beside the tutorial's")
    metrics = ui.get_metrics()
    if metrics is None:
        st.warning("No model metrics yet: train the model with `python -m digitlens train`.")
    else:
        if not switch:
            st.caption("Model")
        st.markdown(f"**{metrics['model']}**")
        st.metric("Test accuracy", f"{metrics['test_accuracy']:.2%}", help="Share of the 10,000 MNIST test images predicted right")
        if "feedback" in metrics:
            st.caption(ui.fine_tuning_summary(metrics["feedback"]))
    reviewed_accuracy = st.container()  # filled after the page, so opening the database never delays the canvas (a page that stops early leaves it empty)
    if ui.API_URL:
        st.caption(f"Predictions from the API at {ui.API_URL}")
    ui.demo_link()

with ui.errors_as_messages():
    ui.demo_banner(page.title)
    page.run()

with reviewed_accuracy, ui.errors_as_messages():
    if metrics is not None:
        ui.show_reviewed_accuracy()
