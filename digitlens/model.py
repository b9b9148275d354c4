"""The network: its architecture, and a fast predictor for the trained artefact.

The saved model takes raw pixels 0-255 shaped (N, 28, 28) and scales them itself,
so training and serving cannot disagree about normalisation.
"""

import hashlib
import json
import logging
import os
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from digitlens import IMAGE_SIDE, INK_THRESHOLD, MAX_PIXEL, METRICS_PATH, MODEL_DIR, MODEL_PATH, NUM_CLASSES, NUM_PIXELS

EMBEDDING_LAYER = "embedding"
DIGIT_OUTPUT = "digit"  # the detector's sigmoid: how much the image looks like any digit at all (outlier exposure)
DEFAULT_DIGIT_THRESHOLD = 0.5  # used when the metrics card names none
SPECK_SPAN = 10  # pixels of the 28x28 field: ink spanning less each way is a speck (is_speck)
BATCH_CHUNK = 128  # batch size of the fast interpreter; measured fastest on 2 cores (bench/predictor.py)
SMALL_BATCH = 32  # fewer images run one at a time: faster than one padded chunk (bench/predictor.py)
FINGERPRINT_LENGTH = 12  # hex digits of the fast model's SHA-256: enough to tell versions apart
BOTH, PROBABILITIES, DIGIT_SCORE, PIXELS = "both", "probabilities", "digit_score", "pixels"  # the fast twin's signatures and tensors
VERSIONS_DIR = MODEL_DIR / "versions"  # fine-tuned models (train --with-feedback), one folder each, named by UTC time


def build():
    """Two small CNNs on the same pixels, ~16.6M multiply-adds per image in all.

    The classifier (VGG-style, ~5.6M) gives the ten digit probabilities; the detector (~11M) gives the digit score,
    is this a digit at all? Apart, neither can spoil the other: when the score shared the classifier's embedding,
    thin-pen canvas drawings were read 90.7 % right (97.0 % by the model before; 95.9 % with the two apart).
    """
    import keras
    from keras import layers

    inputs = keras.Input((IMAGE_SIDE, IMAGE_SIDE), name="pixels")
    x = layers.Rescaling(1 / MAX_PIXEL)(inputs)
    pixels = x = layers.Reshape((IMAGE_SIDE, IMAGE_SIDE, 1))(x)
    # No batch norm on the first layer: its input is mostly blank background, whose normalised value then hung
    # on nearly-zero channel variances (a 5 % error in one moving mean dropped test accuracy from 99.6 % to 10 %).
    x = layers.Conv2D(32, 3, activation="relu")(x)
    for filters, stride in [(32, 2), (64, 1), (64, 2)]:
        x = layers.Conv2D(filters, 3, strides=stride, padding="same" if stride == 2 else "valid", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(128, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    embedding = layers.ReLU(name=EMBEDDING_LAYER)(x)
    x = layers.Dropout(0.3)(embedding)
    probabilities = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, [probabilities, detector(pixels)], name="digitlens_cnn")


TUTORIAL_EPOCHS, TUTORIAL_BATCH_SIZE = 20, 128  # how the tutorial trained its MLP (with RMSprop, no augmentation)


def build_mlp(detector_from=None):
    """The tutorial's network, 784-512-512-10 with dropout, as a model like ours: raw pixels in, the probabilities
    and a digit score out. The score comes from detector_from's detector (weights copied and frozen), so both
    models refuse the same non-digits and differ only in how they read digits; without it, the score branch is new.
    """
    import keras
    from keras import layers

    inputs = keras.Input((IMAGE_SIDE, IMAGE_SIDE), name="pixels")
    x = layers.Rescaling(1 / MAX_PIXEL)(inputs)
    pixels = layers.Reshape((IMAGE_SIDE, IMAGE_SIDE, 1))(x)
    x = layers.Flatten()(x)
    x = layers.Dense(512, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Dense(512, activation="relu", name=EMBEDDING_LAYER)(x)
    x = layers.Dropout(0.2)(x)
    probabilities = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, [probabilities, detector(pixels)], name="tutorial_mlp")
    if detector_from is not None:
        for layer in model.layers:
            if is_detector(layer):
                layer.set_weights(detector_from.get_layer(layer.name).get_weights())
                layer.trainable = False
    return model


def detector(pixels):
    """The digit-score branch on the rescaled (28, 28, 1) pixels; no batch norm, so nothing to drift.

    Five times the size it had until 28 November (~11M multiply-adds against ~2M): at 1 % of canvas drawings
    refused it refuses 81.0 % of dev non-digits, not 74.0 %, once enlarged low-resolution digits are among what
    it learns are digits (train.low_resolution_scans; without them it refused soft, enlarged digits too).
    """
    from keras import layers

    x = layers.Conv2D(32, 3, activation="relu", name="detector_conv1")(pixels)
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu", name="detector_conv2")(x)
    x = layers.Conv2D(64, 3, activation="relu", name="detector_conv3")(x)
    x = layers.Conv2D(128, 3, strides=2, padding="same", activation="relu", name="detector_conv4")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(128, activation="relu", name="detector_dense")(x)
    return layers.Dense(1, activation="sigmoid", name=DIGIT_OUTPUT)(x)


def is_detector(layer) -> bool:
    """A layer of the digit-score branch, known by the names detector() gives its weighted layers."""
    return layer.name.startswith("detector_") or layer.name == DIGIT_OUTPUT


def as_batch(images) -> np.ndarray:
    """Check and reshape one image (28, 28), a batch (N, 28, 28) or rows (N, 784) to float32 (N, 28, 28)."""
    try:
        array = np.asarray(images, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError("expected pixel values as numbers, got values that are not numbers") from None
    if array.shape == (IMAGE_SIDE, IMAGE_SIDE):
        array = array[None]
    elif array.ndim == 2 and array.shape[1] == NUM_PIXELS:
        array = array.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    elif array.ndim != 3 or array.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise ValueError(
            f"expected one image (28, 28), a batch (N, 28, 28) or rows (N, 784), got shape {array.shape}"
        )
    if len(array) == 0:
        raise ValueError("expected at least one image, got an empty batch")
    if not np.isfinite(array).all():
        raise ValueError("expected finite pixel values, got NaN or infinity")
    low, high = array.min(), array.max()
    if low < 0 or high > MAX_PIXEL:
        raise ValueError(f"expected pixel values from 0 to {MAX_PIXEL}, got values from {low:g} to {high:g}")
    return array


def is_speck(batch: np.ndarray) -> np.ndarray:
    """Bool (N,): ink (over INK_THRESHOLD of the image's brightest) spanning under SPECK_SPAN pixels each way. MNIST
    fitted every digit's longer side to 20 (none of its 70,000 spans under 13), so that much smaller is a dot, as
    preprocess leaves a dot on a page. A share of the brightest, not a fixed level: a thin pencil stroke shrunk into
    the field can stay fainter than MNIST's ink, beside one blot of it."""
    ink = batch > INK_THRESHOLD * batch.max(axis=(1, 2), keepdims=True)
    return (spans(ink.any(axis=2)) < SPECK_SPAN) & (spans(ink.any(axis=1)) < SPECK_SPAN)


def spans(lines: np.ndarray) -> np.ndarray:
    """Int (N,) from bool (N, L): how many places from the first True to the last, 0 where there is none."""
    first, last = lines.argmax(axis=1), lines.shape[1] - lines[:, ::-1].argmax(axis=1)
    return np.where(lines.any(axis=1), last - first, 0)


def fast_twin(keras_path: Path | str) -> Path:
    """Where a .keras model's fast LiteRT twin lives: beside it, same name, .tflite."""
    return Path(keras_path).with_suffix(".tflite")


def convert_to_fast(keras_model) -> bytes:
    """The model as a LiteRT flatbuffer with int8 weights (dynamic-range quantisation), served without TensorFlow.

    Measured: ~3x faster than float weights for batches, same test accuracy (bench/predictor.py).
    Activations stay float, so probabilities stay smooth for the confidence and calibration pages.
    Two signatures share the weights: BOTH gives the probabilities and the digit score, PROBABILITIES the
    classifier alone, which answers the tutorial's /predict ~30 % faster (the detector is left out).
    """
    import tempfile

    import keras
    import tensorflow as tf

    classifier = keras.Model(keras_model.inputs, keras_model.outputs[0])
    pixels = tf.TensorSpec((None, IMAGE_SIDE, IMAGE_SIDE), tf.float32, name=PIXELS)
    archive = keras.export.ExportArchive()
    archive.track(keras_model)
    archive.add_endpoint(BOTH, lambda pixels: dict(zip((PROBABILITIES, DIGIT_SCORE), keras_model(pixels))), input_signature=[pixels])
    archive.add_endpoint(PROBABILITIES, lambda pixels: {PROBABILITIES: classifier(pixels)}, input_signature=[pixels])
    with tempfile.TemporaryDirectory() as folder:
        archive.write_out(folder, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(folder, signature_keys=[BOTH, PROBABILITIES])
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        return converter.convert()


def metrics_card(keras_path: Path | str = MODEL_PATH) -> dict:
    """The metrics card beside a model, or {} when it is missing or unreadable (then logged: the model still serves)."""
    card = Path(keras_path).with_name(METRICS_PATH.name)
    try:
        found = json.loads(card.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        logging.getLogger(__name__).warning("%s is unreadable (%s); going on without the model's metrics card", card, error)
        return {}
    return found if isinstance(found, dict) else {}


def digit_thresholds(keras_path: Path) -> tuple[float, float]:
    """The not-a-digit thresholds from the metrics card beside the model, for one digit and for the marks of a
    number (its `not_a_digit.rule` and `number_rule` say how they were chosen); a card without the second, the first."""
    card = metrics_card(keras_path).get("not_a_digit", {})
    threshold = card.get("threshold")
    threshold = float(threshold) if isinstance(threshold, (int, float)) else DEFAULT_DIGIT_THRESHOLD
    in_numbers = card.get("number_threshold")
    return threshold, float(in_numbers) if isinstance(in_numbers, (int, float)) else threshold


class Predictor:
    """Probabilities and digit scores for MNIST-style images through the LiteRT interpreter; safe to share between threads."""

    def __init__(
        self, fast_model: bytes, keras_path: Path | None = None, digit_threshold: float = DEFAULT_DIGIT_THRESHOLD,
        number_threshold: float | None = None,
    ):
        from ai_edge_litert.interpreter import Interpreter

        self.keras_path = keras_path
        self.digit_threshold = digit_threshold
        self.number_threshold = digit_threshold if number_threshold is None else number_threshold  # see reading.read
        self.fingerprint = hashlib.sha256(fast_model).hexdigest()[:FINGERPRINT_LENGTH]  # names the model in the prediction log
        # by batch size: one image on one thread, chunks of BATCH_CHUNK on two; each with both signatures
        self._interpreters = {size: Interpreter(model_content=fast_model, num_threads=threads) for size, threads in ((1, 1), (BATCH_CHUNK, 2))}
        self._runners = {
            (size, signature): interpreter.get_signature_runner(signature)
            for size, interpreter in self._interpreters.items()
            for signature in (BOTH, PROBABILITIES)
        }
        with native_stderr_silenced():  # each runner's first call; LiteRT announces its XNNPACK delegate then
            for (size, _), runner in self._runners.items():
                runner(**{PIXELS: np.zeros((size, IMAGE_SIDE, IMAGE_SIDE), np.float32)})
        self._lock = threading.Lock()
        self._keras_model = None

    @classmethod
    def load(cls, path: Path | str | None = None) -> "Predictor":
        """Load the committed model (or the .keras file at path) with its fast twin and metrics card beside it."""
        keras_path = Path(path) if path else MODEL_PATH
        fast_path = fast_twin(keras_path)
        if not keras_path.exists():
            raise FileNotFoundError(f"{keras_path}: no trained model there; run `python -m digitlens train`")
        if not fast_path.exists():
            return cls(convert_to_fast(load_keras(keras_path)), keras_path, *digit_thresholds(keras_path))
        try:
            return cls(fast_path.read_bytes(), keras_path, *digit_thresholds(keras_path))
        except (ValueError, RuntimeError) as error:  # empty, truncated or not a LiteRT model at all
            raise ValueError(f"{fast_path}: not a readable LiteRT model ({error}); `python -m digitlens train` rebuilds it") from None

    def predict_proba(self, images) -> np.ndarray:
        """Float32 (N, 10) probabilities for pixels 0-255; raises ValueError on anything else."""
        return self._run(PROBABILITIES, as_batch(images))[PROBABILITIES]

    def predict(self, images) -> np.ndarray:
        """The most probable digit of each image."""
        return self.predict_proba(images).argmax(axis=1)

    def digit_scores(self, images) -> np.ndarray:
        """Float32 (N,) from 0 to 1: how much each image looks like a digit at all."""
        return self.outputs(images)[1]

    def is_digit(self, images) -> np.ndarray:
        """Bool (N,): False for what the model takes for a letter, a scribble or a doodle, not a digit."""
        return self.digit_scores(images) >= self.digit_threshold

    def outputs(self, images) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (N, 10) and digit scores (N,) in one pass, for callers that need both.

        A speck scores 0 whatever the detector says: the detector learnt dots drawn as large as digits, and a
        small one in the middle of the field can pass for a short 1.
        """
        batch = as_batch(images)
        found = self._run(BOTH, batch)
        return found[PROBABILITIES], np.where(is_speck(batch), 0, found[DIGIT_SCORE][:, 0])

    def _run(self, signature: str, batch: np.ndarray) -> dict[str, np.ndarray]:
        """The signature's outputs for a checked batch (as_batch): a few images one at a time, more in padded chunks
        of BATCH_CHUNK."""
        with self._lock:
            if len(batch) < SMALL_BATCH:
                runs = [
                    {name: array.copy() for name, array in self._runners[1, signature](**{PIXELS: image[None]}).items()}
                    for image in batch
                ]
                return {name: np.concatenate([run[name] for run in runs]) for name in runs[0]}
            found = {}
            for start in range(0, len(batch), BATCH_CHUNK):
                chunk = batch[start : start + BATCH_CHUNK]
                padded = np.zeros((BATCH_CHUNK, IMAGE_SIDE, IMAGE_SIDE), np.float32)
                padded[: len(chunk)] = chunk
                for name, array in self._runners[BATCH_CHUNK, signature](**{PIXELS: padded}).items():
                    if name not in found:
                        found[name] = np.empty((len(batch), *array.shape[1:]), np.float32)
                    found[name][start : start + len(chunk)] = array[: len(chunk)]
            return found

    @property
    def keras_model(self):
        """The full Keras model, loaded on first use (embeddings and saliency need its layers)."""
        if self._keras_model is None:
            self._keras_model = load_keras(self.keras_path)
        return self._keras_model


@contextmanager
def native_stderr_silenced():
    """File descriptor 2 pointed at /dev/null for the block: LiteRT's C++ code prints "INFO: Created TensorFlow Lite
    XNNPACK delegate for CPU." there, past Python and every logging setting, on every CLI command and server start."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def versions(root: Path = VERSIONS_DIR) -> list[Path]:
    """The .keras files of the fine-tuned versions under root, newest first (their folders are named by UTC time)."""
    return sorted(Path(root).glob("*/*.keras"), key=lambda path: path.parent.name, reverse=True)


def load_keras(path: Path | str = MODEL_PATH):
    """The saved Keras model, for training-side work and layer access."""
    import keras

    return keras.models.load_model(path)
