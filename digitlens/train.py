"""Train the CNN on MNIST with augmentation, then write the model, its fast twin and its metrics card.

Reads top to bottom: settings, data, augmentation, model, training, evaluation, artefacts.
"""

import json
import math
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from digitlens import IMAGE_SIDE, METRICS_PATH, MODEL_DIR, MODEL_PATH, analysis, data
from digitlens.model import Predictor, build, convert_to_fast, fast_twin

SEED = 20171214  # the tutorial's publication date
EPOCHS = 30
BATCH_SIZE = 128
PEAK_LEARNING_RATE = 2e-3
MAX_ROTATION_DEGREES = 15
SCALE_RANGE = (0.8, 1.15)  # digits drawn smaller or larger than MNIST's 20-pixel box
ASPECT_RANGE = (0.85, 1.15)
MAX_SHEAR = 0.25
MAX_SHIFT_PIXELS = 3
THICKEN_PROBABILITY = 0.2  # pens and canvases draw thicker or thinner strokes than MNIST's
THIN_PROBABILITY = 0.1


def random_affine(count: int) -> tf.Tensor:
    """Per-image projective-transform rows mapping output pixels to input pixels (rotation, zoom, shear, shift)."""
    uniform = lambda low, high: tf.random.uniform((count,), low, high)  # noqa: E731
    angle = uniform(-1.0, 1.0) * math.radians(MAX_ROTATION_DEGREES)
    scale = uniform(*SCALE_RANGE)
    aspect = uniform(*ASPECT_RANGE)
    shear = uniform(-MAX_SHEAR, MAX_SHEAR)
    sx, sy = scale * tf.sqrt(aspect), scale / tf.sqrt(aspect)
    cos, sin = tf.cos(angle), tf.sin(angle)
    # forward map A = rotation @ shear @ scale; the transform op needs its inverse
    a00, a01 = cos * sx, (cos * shear - sin) * sy
    a10, a11 = sin * sx, (sin * shear + cos) * sy
    det = a00 * a11 - a01 * a10
    m00, m01, m10, m11 = a11 / det, -a01 / det, -a10 / det, a00 / det
    centre = (IMAGE_SIDE - 1) / 2
    tx, ty = uniform(-MAX_SHIFT_PIXELS, MAX_SHIFT_PIXELS), uniform(-MAX_SHIFT_PIXELS, MAX_SHIFT_PIXELS)
    ox, oy = centre + tx, centre + ty
    zeros = tf.zeros((count,))
    return tf.stack(
        [m00, m01, centre - m00 * ox - m01 * oy, m10, m11, centre - m10 * ox - m11 * oy, zeros, zeros], axis=1
    )


def augment(images: tf.Tensor, labels: tf.Tensor):
    """Random stroke thickness, then a random affine warp, on a batch of raw 0-255 images."""
    count = tf.shape(images)[0]
    x = images[..., None]
    thick = tf.nn.max_pool2d(x, 2, 1, "SAME")
    thin = -tf.nn.max_pool2d(-x, 2, 1, "SAME")
    choice = tf.random.uniform((count, 1, 1, 1))
    x = tf.where(choice < THICKEN_PROBABILITY, thick, x)
    x = tf.where(choice > 1 - THIN_PROBABILITY, thin, x)
    x = tf.raw_ops.ImageProjectiveTransformV3(
        images=x,
        transforms=random_affine(count),
        output_shape=[IMAGE_SIDE, IMAGE_SIDE],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    return x[..., 0], labels


def train(epochs: int = EPOCHS, out_dir: Path = MODEL_DIR) -> dict:
    """Train, then write out_dir/mnist_cnn.keras, its fast twin and metrics.json; returns the metrics."""
    model_path = Path(out_dir) / MODEL_PATH.name
    fast_model_path = fast_twin(model_path)
    metrics_path = Path(out_dir) / METRICS_PATH.name

    keras.utils.set_random_seed(SEED)
    x_train, y_train = data.load("train")
    x_test, y_test = data.load("test")

    train = (
        tf.data.Dataset.from_tensor_slices((x_train.astype(np.float32), y_train.astype(np.int32)))
        .shuffle(len(x_train), seed=SEED)
        .batch(BATCH_SIZE)
        .map(augment, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    steps = epochs * math.ceil(len(x_train) / BATCH_SIZE)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, steps, warmup_target=PEAK_LEARNING_RATE, warmup_steps=steps // 20
    )

    model = build()
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.summary()
    started = time.perf_counter()
    model.fit(train, epochs=epochs, validation_data=(x_test, y_test), verbose=2)
    training_seconds = time.perf_counter() - started

    keras_accuracy = float((model.predict(x_test, batch_size=1000, verbose=0).argmax(axis=1) == y_test).mean())
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(model_path)
    fast_model_path.write_bytes(convert_to_fast(model))
    # the metrics card describes the fast model, the one that serves every prediction
    predicted = Predictor.load(model_path).predict(x_test)
    matrix = analysis.confusion_matrix(y_test, predicted)
    accuracy = analysis.accuracy(matrix)
    print(f"test accuracy: {accuracy:.2%} (served fast model), {keras_accuracy:.2%} (Keras model)")

    metrics = {
        "model": model_path.name,
        "test_accuracy": accuracy,
        "keras_test_accuracy": keras_accuracy,
        "test_errors": int(matrix.sum() - np.trace(matrix)),
        "per_class_accuracy": {str(d): float(a) for d, a in enumerate(analysis.per_class_accuracy(matrix))},
        "confusion_matrix": matrix.tolist(),
        "parameters": model.count_params(),
        "training": {
            "seed": SEED,
            "epochs": epochs,
            "batch_size": BATCH_SIZE,
            "peak_learning_rate": PEAK_LEARNING_RATE,
            "augmentation": {
                "max_rotation_degrees": MAX_ROTATION_DEGREES,
                "scale_range": SCALE_RANGE,
                "aspect_range": ASPECT_RANGE,
                "max_shear": MAX_SHEAR,
                "max_shift_pixels": MAX_SHIFT_PIXELS,
                "thicken_probability": THICKEN_PROBABILITY,
                "thin_probability": THIN_PROBABILITY,
            },
            "seconds": round(training_seconds, 1),
            "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        },
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"wrote {model_path}, {fast_model_path.name} and {metrics_path.name}")
    return metrics
