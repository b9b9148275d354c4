"""RemotePredictor against the real API served by uvicorn in a background thread."""

import socket
import threading
import time

import numpy as np
import pytest
import uvicorn

from digitlens import ROOT, reading
from digitlens import client as client_module
from digitlens.api import app
from digitlens.client import RemotePredictor
from shapes import written


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def api_url():
    """The API on a free loopback port, in this process (uvicorn in a thread), for the module's tests."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def test_remote_predictor_matches_the_local_predictor(api_url, test_set, predictor):
    images, _ = test_set
    remote = RemotePredictor(api_url).predict_proba(images[:50])
    assert remote.dtype == np.float32 and remote.shape == (50, 10)
    np.testing.assert_allclose(remote, predictor.predict_proba(images[:50]), atol=1e-6)


def test_remote_predictor_accepts_one_image_and_fractional_pixels(api_url, test_set, predictor):
    image = test_set[0][0] * 0.5
    np.testing.assert_allclose(RemotePredictor(api_url).predict_proba(image), predictor.predict_proba(image), atol=1e-6)


def test_remote_predictor_splits_large_batches_into_several_requests(api_url, test_set, monkeypatch):
    images, labels = test_set
    monkeypatch.setattr(client_module, "REQUEST_IMAGES", 7)
    predicted = RemotePredictor(api_url + "/").predict(images[:20])
    assert (predicted == labels[:20]).mean() >= 0.95


def test_remote_predictor_tells_digits_from_other_shapes_as_the_local_predictor(api_url, test_set, predictor):
    star = reading.mnist_images(written("*"))
    images = np.concatenate([test_set[0][:5], star])
    remote = RemotePredictor(api_url)
    probabilities, scores = remote.outputs(images)
    local_probabilities, local_scores = predictor.outputs(images)
    np.testing.assert_allclose(probabilities, local_probabilities, atol=1e-6)
    np.testing.assert_array_equal(scores, local_scores)
    assert remote.digit_threshold == predictor.digit_threshold
    assert remote.is_digit(images).tolist() == [True] * 5 + [False]
    np.testing.assert_array_equal(remote.digit_scores(images), local_scores)


def test_a_number_is_read_through_the_api(api_url):
    found = reading.read(RemotePredictor(api_url), reading.mnist_images(written("4*2"), number=True))
    assert found.number == "4?2"


def test_remote_predictor_rejects_bad_images_before_the_network():
    unreachable = RemotePredictor("http://127.0.0.1:9")  # nothing listens there: a request would fail otherwise
    with pytest.raises(ValueError, match="expected pixel values from 0 to 255"):
        unreachable.predict_proba(np.full((28, 28), 300))


def test_remote_predictor_says_when_the_api_is_unreachable():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConnectionError, match=f"cannot reach the digitlens API at {url}"):
        RemotePredictor(url, timeout=5).predict_proba(np.zeros((28, 28)))


def test_remote_predictor_reports_the_apis_health(api_url):
    health = RemotePredictor(api_url).health()
    assert health["model_loaded"] is True


def test_remote_predictor_takes_layers_from_the_local_model_file(predictor):
    remote = RemotePredictor("http://127.0.0.1:9")
    assert remote.keras_path == predictor.keras_path
    assert remote.keras_model.get_layer("embedding") is not None


def test_dashboard_predicts_through_the_api_when_its_url_is_set(api_url, monkeypatch):
    from streamlit.testing.v1 import AppTest

    import ui

    monkeypatch.setattr(ui, "API_URL", api_url)  # as DIGITLENS_API_URL would set it at start-up
    ui.load_predictor.clear()
    try:
        app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60).run()
        assert not app.exception, app.exception
        assert any(api_url in caption.value for caption in app.sidebar.caption)
        assert isinstance(ui.get_predictor(), RemotePredictor)
    finally:
        ui.load_predictor.clear()
