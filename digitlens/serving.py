"""Running the model as a service: our API under uvicorn, or a SavedModel for TensorFlow Serving."""

import socket
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess

from digitlens import IMAGE_SIDE, MODEL_PATH


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


def run(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, access_log: bool = False) -> None:
    """Serve digitlens.api with uvicorn; each worker is a process with its own copy of the model."""
    config = Config("digitlens.api:app", host=host, port=port, workers=workers, access_log=access_log)
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
