"""Running dashboard pages headless with Streamlit's AppTest, as the router opens them."""

import json

from streamlit.testing.v1 import AppTest

from digitlens import ROOT

TIMEOUT = 120  # the first page of a process loads the model and the test set


def open_page(page: str, **query) -> AppTest:
    """The page opened through dashboard.py (the router), with query parameters; no exception, no error shown."""
    app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    app.run()
    app.query_params.update(query)
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert not app.error, [error.value for error in app.error]
    return app


def chart_spec(app: AppTest, key: str) -> dict:
    """The Plotly figure of the chart with that key, as sent to the browser."""
    return json.loads(next(chart for chart in app.get("plotly_chart") if chart.key == key).proto.spec)
