"""Running the model as a service: our API under uvicorn, or a SavedModel for TensorFlow Serving."""

from pathlib import Path

from digitlens import IMAGE_SIDE, MODEL_PATH


def run(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, access_log: bool = False) -> None:
    """Serve digitlens.api with uvicorn; each worker is a process with its own copy of the model."""
    import uvicorn

    uvicorn.run("digitlens.api:app", host=host, port=port, workers=workers, access_log=access_log)


def export_savedmodel(directory: Path | str, keras_path: Path | str = MODEL_PATH) -> Path:
    """Write the Keras model as a SavedModel whose `serving_default` takes float32 (None, 28, 28) pixels 0-255."""
    import tensorflow as tf

    from digitlens.model import load_keras

    keras_model = load_keras(keras_path)
    input_signature = [tf.TensorSpec((None, IMAGE_SIDE, IMAGE_SIDE), tf.float32, name="pixels")]
    keras_model.export(str(directory), format="tf_saved_model", input_signature=input_signature, verbose=False)
    return Path(directory)
