"""Running the model as a service: our API under uvicorn, or a SavedModel for TensorFlow Serving."""

import os
import socket
import tempfile
from pathlib import Path

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from digitlens import IMAGE_SIDE, MODEL_ENV, MODEL_PATH
from digitlens.model import Predictor
from digitlens.telemetry import MULTIPROCESS_ENV


HEADER_TIMEOUT = 10  # seconds a client has to send a request's line and headers


class HeaderDeadline(HttpToolsProtocol):
    """uvicorn's HTTP protocol with a deadline for each request's line and headers, then 408 and close.

    uvicorn has none: 200 clients trickling a header line every few seconds held their connections (and the
    worker's sockets) for as long as they liked. The body has its own deadline, in the app (api.BodyLimits).
    """

    _deadline = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(HEADER_TIMEOUT, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            self.transport.close()


class Config(uvicorn.Config):
    """uvicorn's settings, with Nagle's algorithm off on the socket its worker processes share.

    uvicorn binds that socket without TCP_NODELAY (uvicorn issue #3149): under the asyncio loop every keep-alive
    request then waits ~40 ms for a delayed ACK (180 requests/s instead of thousands; uvloop happens to set the
    option itself). Accepted sockets inherit it from the listener.
    """

    def bind_socket(self) -> socket.socket:
        listener = super().bind_socket()
        if listener.family in (socket.AF_INET, socket.AF_INET6):
            listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return listener


def run(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, access_log: bool = False, model: Path | None = None) -> None:
    """Serve digitlens.api with uvicorn; each worker is a process with its own copy of the model.

    The model is loaded once here first, so that a missing or broken model file stops `serve` with an error
    naming it (FileNotFoundError, ValueError) before any worker starts: uvicorn's supervisor exits 0 when
    its workers die at start-up, and a platform would take that for a clean stop.
    """
    Predictor.load(model)
    if workers > 1 and not os.environ.get(MULTIPROCESS_ENV):  # the workers' metrics, summed by /metrics
        os.environ[MULTIPROCESS_ENV] = tempfile.mkdtemp(prefix="digitlens-metrics-")
    if model is not None:
        os.environ[MODEL_ENV] = str(Path(model).resolve())  # the workers' app reads it (they inherit the environment)
    config = Config("digitlens.api:app", host=host, port=port, workers=workers, access_log=access_log, http=HeaderDeadline)
    if workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()


def export_savedmodel(directory: Path | str, keras_path: Path | str = MODEL_PATH) -> Path:
    """Write the Keras model as a SavedModel whose `serving_default` takes float32 (None, 28, 28) pixels 0-255
    and returns named outputs: `probabilities` (None, 10) and `digit_score` (None, 1)."""
    import keras
    import tensorflow as tf

    from digitlens.model import load_keras

    keras_model = load_keras(keras_path)
    probabilities, digit_score = keras_model.outputs
    named = keras.Model(keras_model.inputs, {"probabilities": probabilities, "digit_score": digit_score})
    input_signature = [tf.TensorSpec((None, IMAGE_SIDE, IMAGE_SIDE), tf.float32, name="pixels")]
    named.export(str(directory), format="tf_saved_model", input_signature=input_signature, verbose=False)
    return Path(directory)
