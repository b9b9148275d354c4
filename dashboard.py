"""digitlens dashboard, the router: `streamlit run dashboard.py`. Pages live in pages/, shared loaders in ui.py."""

import streamlit as st

import ui

st.set_page_config(page_title="digitlens", page_icon=":material/draw:", layout="wide")

page = st.navigation(
    [
        st.Page("pages/draw.py", title="Draw", icon=":material/draw:", default=True),
        st.Page("pages/explore.py", title="Explore", icon=":material/grid_view:"),
        st.Page("pages/error_analysis.py", title="Error analysis", icon=":material/troubleshoot:"),
    ]
)

with st.sidebar:
    metrics = ui.get_metrics()
    if metrics is None:
        st.warning("No model metrics yet: train the model with `python -m digitlens train`.")
    else:
        st.caption("Model")
        st.markdown(f"**{metrics['model']}**")
        st.metric("Test accuracy", f"{metrics['test_accuracy']:.2%}", help="Share of the 10,000 MNIST test images predicted right")
    if ui.API_URL:
        st.caption(f"Predictions from the API at {ui.API_URL}")

with ui.errors_as_messages():
    page.run()
