"""Train the CNN on MNIST with augmentation, then write the model, its fast twin and its metrics card.

Besides the digits, the detector branch learns from synthetic non-digits (outlier exposure, digitlens.nondigits):
their target is "no digit" for the digit score, and their probabilities weigh nothing, so that the classifier
learns from digits alone (the model that learned both in one network read thin-pen canvas drawings 90.7 %
right where the one before it read 97.0 %; apart, 95.9 %). The score's threshold is chosen on digits held out from training, written in the card.
Reads top to bottom: settings, data, augmentation, model, training, evaluation, artefacts; then the tutorial's MLP,
and fine-tuning on the drawings people corrected on the dashboard (a new version beside the shipped model).
"""

import json
import math
import platform
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from digitlens import IMAGE_SIDE, METRICS_PATH, MLP_PATH, MODEL_DIR, MODEL_PATH, NUM_CLASSES, ROOT, analysis, data, nondigits
from digitlens.model import (
    DIGIT_OUTPUT, TUTORIAL_BATCH_SIZE, TUTORIAL_EPOCHS, VERSIONS_DIR, Predictor, build, build_mlp, convert_to_fast, fast_twin,
    is_detector, load_keras, metrics_card,
)
from digitlens.preprocess import NoInkError, crop, to_mnist
from digitlens.strokes import random_drawing

SEED = 20171214  # the tutorial's publication date
EPOCHS = 20
BATCH_SIZE = 128
PEAK_LEARNING_RATE = 2e-3
MAX_ROTATION_DEGREES = 15
SCALE_RANGE = (0.8, 1.15)  # digits drawn smaller or larger than MNIST's 20-pixel box
ASPECT_RANGE = (0.85, 1.15)
MAX_SHEAR = 0.25
MAX_SHIFT_PIXELS = 3
# Pens draw from hairline to marker: each image gets one of these stroke changes (max/min filters of that size),
# so that thick, soft real handwriting is read as drawn instead of being thinned first.
STROKE_CHANGES = {"thinner": 0.1, "+1 px": 0.2, "+2 px": 0.06, "+3 px": 0.03, "+4 px": 0.01}
SOFTEN_PROBABILITY = 0.1  # blurred edges: felt pens, enlarged low-resolution scans
NON_DIGITS = 30_000  # synthetic non-digits mixed into each epoch, beside the 57,000 training digits
DETECTOR_EPOCHS = 12
HELD_OUT_DIGITS = 3_000  # the last training digits, kept out of training to choose the digit-score threshold
HELD_OUT_NON_DIGITS = 3_000
REFUSED_HELD_OUT_DIGITS = 0.01  # the threshold refuses this share of held-out digits (as stored and as drawn)
REDRAWN_DIGITS = 20_000  # training digits also drawn large and brought back by to_mnist, like every real input
PENNED_REDRAWN = 0.5  # of those, redrawn along their centre line with a round pen, as on the dashboard's canvas
REDRAW_SIDE = 112
FONT_DIGITS = 10_000  # digits rendered like the non-digit glyphs, so that rendering is no clue to "not a digit"
PEN_DIGITS = 5_000  # digits drawn with a round pen (digitlens.strokes), like the scribbles and doodles
HELD_OUT_RENDERED = 500  # of each, kept out of training to choose the digit-score threshold
LOW_RESOLUTION_DIGITS = 10_000  # training digits shrunk to a few pixels and enlarged again, like a small scan blown up
LOW_RESOLUTION_CELLS = (6, 10)  # the digit's longer side, in pixels of the low-resolution image (8x8 scans have ~8)
ENLARGED_HEIGHTS = (80, 301)
PRECISE_BN_IMAGES = 10_000  # augmented training images whose statistics replace BatchNorm's moving averages
MACHINE = f"{platform.machine()}, {platform.processor() or 'cpu'}"

FINE_TUNE_EPOCHS = 1
FINE_TUNE_LEARNING_RATE = 1e-4  # a twentieth of the peak: nudge the trained weights, do not retrain them
FEEDBACK_REPEATS = 20  # each collected drawing per epoch, augmented anew each time: 160 drawings weigh like 3,200 digits
HELD_OUT_EVERY = 5  # every 5th collected drawing, by id, is only scored, never trained on; a drawing keeps its side
MIN_FEEDBACK = 10  # collected drawings with a digit, enough for both sides of that split
VERSION_FORMAT = "%Y%m%d-%H%M%S"  # UTC, so that versions sort by name


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


def change_strokes(x: tf.Tensor) -> tf.Tensor:
    """Random stroke width (STROKE_CHANGES) and sometimes soft edges, on a (N, 28, 28, 1) batch of 0-255 images."""
    grow = lambda size: tf.nn.max_pool2d(x, size, 1, "SAME")  # noqa: E731
    variants = [-tf.nn.max_pool2d(-x, 2, 1, "SAME"), grow(2), grow(3), tf.nn.max_pool2d(grow(3), 2, 1, "SAME"), grow(5)]
    choice = tf.random.uniform((tf.shape(x)[0], 1, 1, 1))
    bounds = np.cumsum([0.0, *STROKE_CHANGES.values()])
    changed = x
    for variant, low, high in zip(variants, bounds[:-1], bounds[1:]):
        changed = tf.where((choice >= low) & (choice < high), variant, changed)
    x = changed
    blurred = tf.nn.avg_pool2d(x, 3, 1, "SAME")
    blurred = blurred * 255.0 / tf.maximum(tf.reduce_max(blurred, axis=[1, 2, 3], keepdims=True), 1.0)
    return tf.where(tf.random.uniform((tf.shape(x)[0], 1, 1, 1)) < SOFTEN_PROBABILITY, blurred, x)


def augment(images: tf.Tensor, *targets_and_weights):
    """Random strokes, then a random affine warp, on a batch of raw 0-255 images (targets and weights pass through)."""
    count = tf.shape(images)[0]
    x = tf.raw_ops.ImageProjectiveTransformV3(
        images=change_strokes(images[..., None]),
        transforms=random_affine(count),
        output_shape=[IMAGE_SIDE, IMAGE_SIDE],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    return x[..., 0], *targets_and_weights


def precise_batch_norm(model, images: np.ndarray) -> None:
    """Re-estimate every BatchNormalization layer's statistics in one pass over a large augmented sample.

    The moving averages kept during training follow the last few hundred batches; with digits and non-digits
    mixed in them they drifted enough to swing test accuracy between 99.6 % and 30 % from one epoch to the
    next. One pass over 10,000 images gives the population's statistics ("PreciseBN", Wu & Johnson 2021):
    measured stable to 0.01 % across samples.
    """
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0  # the pass below sets the statistics outright
    model(augment(tf.constant(images, tf.float32))[0], training=True)
    for layer, momentum in zip(layers, momenta):
        layer.momentum = momentum


def redrawn(images: np.ndarray, seed: int) -> np.ndarray:
    """MNIST digits enlarged onto a canvas, some redrawn with a round pen, and brought back by to_mnist.

    The non-digits are made this way; were the digits never, the digit score would learn to spot to_mnist's
    resampling instead of shapes (it did: a model trained so refused 97 % of drawn digits), or the pen.
    """
    rng = np.random.default_rng(seed)

    def one(image):
        large = np.asarray(Image.fromarray(image).resize((REDRAW_SIDE, REDRAW_SIDE), Image.Resampling.BILINEAR))
        if rng.random() < PENNED_REDRAWN:
            large = nondigits.penned(large, rng)
        return to_mnist(nondigits.as_canvas(large))

    return np.stack([one(image) for image in images])


def low_resolution_scans(images: np.ndarray, labels: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Digits shrunk to a few pixels (17 grey levels), enlarged smoothly, put on paper and brought back by to_mnist.

    Soft, thick, blocky digits, as from a low-resolution scan blown up. Without them among the digits, a larger
    detector learned to refuse such digits: 6.5 % of dev photos of scikit-learn's 8x8 digits, against 1.5 % with.
    """
    rng = np.random.default_rng(seed)
    chosen, made = rng.choice(len(images), count, replace=False), []
    for index in chosen:
        digit = crop(images[index])
        scale = int(rng.integers(*LOW_RESOLUTION_CELLS)) / max(digit.shape)
        size = (max(1, round(digit.shape[1] * scale)), max(1, round(digit.shape[0] * scale)))
        cells = np.round(np.asarray(Image.fromarray(digit).resize(size, Image.Resampling.BOX), float) / 255 * 16) / 16
        cells = np.pad(cells, int(rng.integers(1, 3)))
        height = int(rng.integers(*ENLARGED_HEIGHTS))
        width = max(1, round(cells.shape[1] * height / cells.shape[0]))
        resample = (Image.Resampling.BICUBIC, Image.Resampling.BILINEAR, Image.Resampling.LANCZOS)[rng.integers(3)]
        ink = np.asarray(Image.fromarray((cells * 255).astype(np.float32)).resize((width, height), resample)) / 255
        if rng.random() < 0.3:  # contrast raised: the soft edge cut back, thin parts may go
            ink = (ink - rng.uniform(0.2, 0.45)) / rng.uniform(0.1, 0.3)
        paper, level = (rng.uniform(215, 255), rng.uniform(0, 60)) if rng.random() < 0.6 else (rng.uniform(0, 40), rng.uniform(190, 255))
        try:
            made.append((to_mnist((paper + (level - paper) * np.clip(ink, 0, 1)).round().astype(np.uint8)), labels[index]))
        except NoInkError:  # every stroke thinner than a cell
            continue
    return np.stack([image for image, _ in made]), np.array([label for _, label in made])


def pen_digits(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Digits drawn with a round pen at any size, place, slant and width (digitlens.strokes), through to_mnist."""
    rng = np.random.default_rng(seed)
    drawings = [random_drawing(rng) for _ in range(count)]
    return np.stack([to_mnist(image) for image, _ in drawings]), np.array([digit for _, digit in drawings])


def targets(labels: np.ndarray, is_digit: bool) -> tuple[dict, dict]:
    """Targets and sample weights per output: one-hot probabilities and score 1 for digits; score 0 for
    non-digits, whose probabilities weigh nothing, so that the classifier branch learns from digits alone.

    (A weight, not an all-zero target: Keras's softmax cross-entropy takes its gradient as p - y, which
    assumes the target sums to one; all-zero targets pushed the classifier to 22 % in three epochs.)
    """
    if is_digit:
        probabilities = np.eye(NUM_CLASSES, dtype=np.float32)[labels]
    else:
        probabilities = np.full((len(labels), NUM_CLASSES), 1 / NUM_CLASSES, np.float32)
    score = np.full((len(labels), 1), float(is_digit), np.float32)
    weights = (np.full(len(labels), float(is_digit), np.float32), np.ones(len(labels), np.float32))  # in output order
    return {"probabilities": probabilities, DIGIT_OUTPUT: score}, weights


def batches(images: np.ndarray, targets: dict, weights: tuple) -> tf.data.Dataset:
    """Shuffled, augmented batches of raw 0-255 images with their targets and weights, as every CNN here learns."""
    return (
        tf.data.Dataset.from_tensor_slices((images.astype(np.float32, copy=False), targets, weights))
        .shuffle(len(images), seed=SEED)
        .batch(BATCH_SIZE)
        .map(augment, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def compile_for_training(model, optimizer) -> None:
    """Both outputs' losses; accuracy weighted, so that it counts digits only."""
    model.compile(
        optimizer=optimizer,
        loss={"probabilities": "categorical_crossentropy", DIGIT_OUTPUT: "binary_crossentropy"},
        weighted_metrics={"probabilities": "accuracy"},
    )


def provenance() -> dict:
    """The metrics card's last fields: which libraries made the model, and when."""
    return {
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def share_right(predictor: Predictor, images: np.ndarray, labels: np.ndarray) -> float:
    return float((predictor.predict(images) == labels).mean())


def save_and_score(model, model_path: Path, x_test, y_test) -> tuple[Predictor, dict]:
    """Write the model and its fast twin, then score the fast one, which serves every prediction, on the test set:
    the predictor and the metrics card's accuracy fields."""
    keras_probabilities = model.predict(x_test, batch_size=1000, verbose=0)[0]
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(model_path)
    fast_twin(model_path).write_bytes(convert_to_fast(model))
    predictor = Predictor.load(model_path)
    matrix = analysis.confusion_matrix(y_test, predictor.predict(x_test))
    scores = {
        "model": model_path.name,
        "test_accuracy": analysis.accuracy(matrix),
        "keras_test_accuracy": float((keras_probabilities.argmax(axis=1) == y_test).mean()),
        "test_errors": int(matrix.sum() - np.trace(matrix)),
        "per_class_accuracy": {str(d): float(a) for d, a in enumerate(analysis.per_class_accuracy(matrix))},
        "confusion_matrix": matrix.tolist(),
    }
    print(f"test accuracy: {scores['test_accuracy']:.2%} (served fast model), {scores['keras_test_accuracy']:.2%} (Keras model)")
    return predictor, scores


def train_mlp(epochs: int = TUTORIAL_EPOCHS, out_dir: Path = MLP_PATH.parent, share: float = 1.0) -> dict:
    """The tutorial's network trained as the tutorial trained it (RMSprop, batch 128, no augmentation) on the 60,000
    training digits, behind the shipped model's not-a-digit detector; writes out_dir/mnist_mlp.keras, its fast twin
    and metrics.json, and returns the metrics."""
    keras.utils.set_random_seed(SEED)
    x_train, y_train = data.load("train")
    x_test, y_test = data.load("test")
    x_train, y_train = x_train[: int(len(x_train) * share)], y_train[: int(len(y_train) * share)]
    model = build_mlp(detector_from=load_keras(MODEL_PATH))
    classifier = keras.Model(model.inputs, model.outputs[0])
    classifier.compile(optimizer=keras.optimizers.RMSprop(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    started = time.perf_counter()
    classifier.fit(x_train.astype(np.float32), y_train, batch_size=TUTORIAL_BATCH_SIZE, epochs=epochs, verbose=2)
    training_seconds = time.perf_counter() - started
    _, scores = save_and_score(model, Path(out_dir) / MLP_PATH.name, x_test, y_test)
    metrics = {
        **scores,
        # the detector is the shipped model's, so is its threshold
        "not_a_digit": {**metrics_card(MODEL_PATH).get("not_a_digit", {}), "detector": f"copied from {MODEL_PATH.name}"},
        "parameters": model.count_params(),
        "training": {
            "what": "the tutorial's MLP and settings: 784-512-512-10, ReLU, dropout 0.2, RMSprop, no augmentation",
            "seed": SEED, "epochs": epochs, "batch_size": TUTORIAL_BATCH_SIZE, "training_digits": len(x_train), "share": share,
            "seconds": round(training_seconds, 1), "machine": MACHINE,
        },
        **provenance(),
    }
    (Path(out_dir) / METRICS_PATH.name).write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"wrote {Path(out_dir) / MLP_PATH.name}, its fast twin and {METRICS_PATH.name}")
    return metrics


class Material(NamedTuple):
    """What the CNN learns from, and what its not-a-digit threshold was once chosen on."""

    x_train: np.ndarray  # digits: MNIST's training images, some redrawn, font and pen digits
    y_train: np.ndarray
    x_held_out: np.ndarray  # digits kept out of training, stored and drawn
    non_digits: np.ndarray  # synthetic: letters, signs, scribbles, doodles (digitlens.nondigits)
    held_out_non_digits: np.ndarray

    @property
    def images(self) -> np.ndarray:
        """Float32: the digits, then the non-digits, in the order their targets are made."""
        return np.concatenate([self.x_train, self.non_digits]).astype(np.float32)


def training_material(share: float = 1.0) -> Material:
    """The digits and non-digits both train() and train_detector() learn from, made reproducibly from SEED;
    share < 1 makes that share of each, for a quick trial run."""
    sized = lambda count: max(int(count * share), 100)  # noqa: E731
    x_digits, y_digits = data.load("train")
    x_held_out, x_train, y_train = x_digits[-HELD_OUT_DIGITS:], x_digits[:-HELD_OUT_DIGITS], y_digits[:-HELD_OUT_DIGITS]
    x_held_out, x_train, y_train = x_held_out[: sized(HELD_OUT_DIGITS)], x_train[: sized(len(x_train))], y_train[: sized(len(x_train))]
    copies = np.random.default_rng(SEED).choice(len(x_train), sized(REDRAWN_DIGITS), replace=False)
    fonts, font_labels = nondigits.font_digits(sized(FONT_DIGITS) + HELD_OUT_RENDERED, SEED)
    pens, pen_labels = pen_digits(sized(PEN_DIGITS) + HELD_OUT_RENDERED, SEED)
    non_digits = nondigits.generate(sized(NON_DIGITS) + HELD_OUT_NON_DIGITS, SEED)
    scans, scan_labels = low_resolution_scans(x_train, y_train, sized(LOW_RESOLUTION_DIGITS), SEED + 7)
    return Material(
        x_train=np.concatenate([x_train, redrawn(x_train[copies], SEED), fonts[HELD_OUT_RENDERED:], pens[HELD_OUT_RENDERED:], scans]),
        y_train=np.concatenate([y_train, y_train[copies], font_labels[HELD_OUT_RENDERED:], pen_labels[HELD_OUT_RENDERED:], scan_labels]),
        x_held_out=np.concatenate([x_held_out, redrawn(x_held_out, SEED + 1), fonts[:HELD_OUT_RENDERED], pens[:HELD_OUT_RENDERED]]),
        non_digits=non_digits[HELD_OUT_NON_DIGITS:],
        held_out_non_digits=non_digits[:HELD_OUT_NON_DIGITS],
    )


def cosine_schedule(epochs: int, count: int):
    """Warm up to PEAK_LEARNING_RATE over a twentieth of the steps, then decay to zero."""
    steps = epochs * math.ceil(count / BATCH_SIZE)
    return keras.optimizers.schedules.CosineDecay(0.0, steps, warmup_target=PEAK_LEARNING_RATE, warmup_steps=steps // 20)


def training_threshold(predictor: Predictor, material: Material, x_test: np.ndarray) -> dict:
    """The card's not_a_digit section as training leaves it: a threshold refusing REFUSED_HELD_OUT_DIGITS of the held-out
    digits, and what it refuses (bench/calibrate_threshold.py then chooses the served one on independent material)."""
    threshold = float(np.quantile(predictor.digit_scores(material.x_held_out), REFUSED_HELD_OUT_DIGITS))
    refusals = {
        "held_out_non_digits_refused": float((predictor.digit_scores(material.held_out_non_digits) < threshold).mean()),
        "held_out_digits_refused": float((predictor.digit_scores(material.x_held_out) < threshold).mean()),
        "test_digits_refused": float((predictor.digit_scores(x_test) < threshold).mean()),
    }
    print(f"not-a-digit threshold {threshold:.4f}: " + ", ".join(f"{name} {share:.2%}" for name, share in refusals.items()))
    return {
        "threshold": threshold,
        "rule": f"digit score below the threshold, which refuses {REFUSED_HELD_OUT_DIGITS:.1%} of held-out training digits",
        **refusals,
    }


def train(epochs: int = EPOCHS, out_dir: Path = MODEL_DIR, share: float = 1.0) -> dict:
    """Train, then write out_dir/mnist_cnn.keras, its fast twin and metrics.json; returns the metrics.

    share < 1 trains on that share of the digits and of the synthetic material, for a quick trial run.
    """
    model_path = Path(out_dir) / MODEL_PATH.name
    metrics_path = Path(out_dir) / METRICS_PATH.name

    keras.utils.set_random_seed(SEED)
    material = training_material(share)
    x_test, y_test = data.load("test")
    (digit_targets, digit_weights), (non_digit_targets, non_digit_weights) = (
        targets(material.y_train, True),
        targets(np.zeros(len(material.non_digits), int), False),
    )
    images = material.images
    all_targets = {name: np.concatenate([digit_targets[name], non_digit_targets[name]]) for name in digit_targets}
    all_weights = tuple(np.concatenate(pair) for pair in zip(digit_weights, non_digit_weights))

    model = build()
    compile_for_training(model, keras.optimizers.Adam(cosine_schedule(epochs, len(images))))
    model.summary()
    started = time.perf_counter()
    model.fit(batches(images, all_targets, all_weights), epochs=epochs, validation_data=(x_test, targets(y_test, True)[0]), verbose=2)
    precise_batch_norm(model, np.random.default_rng(SEED).choice(images, min(PRECISE_BN_IMAGES, len(images)), replace=False))
    training_seconds = time.perf_counter() - started

    predictor, scores = save_and_score(model, model_path, x_test, y_test)
    metrics = {
        **scores,
        "not_a_digit": training_threshold(predictor, material, x_test),
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
                "stroke_changes": STROKE_CHANGES,
                "soften_probability": SOFTEN_PROBABILITY,
            },
            "penned_share": {"redrawn_digits": PENNED_REDRAWN, "glyphs_and_font_digits": nondigits.PENNED_SHARE},
            "training_digits": len(material.x_train),
            "share": share,
            "redrawn_digits": REDRAWN_DIGITS, "font_digits": FONT_DIGITS, "pen_digits": PEN_DIGITS,  # before share
            "low_resolution_digits": LOW_RESOLUTION_DIGITS,
            "synthetic_non_digits": len(material.non_digits),
            "non_digit_fonts": [path.name for path in nondigits.training_fonts()] + ["Pillow's built-in font"],
            "seconds": round(training_seconds, 1),
            "machine": MACHINE,
        },
        **provenance(),
    }
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"wrote {model_path}, {fast_twin(model_path).name} and {metrics_path.name}")
    return metrics


def train_detector(epochs: int = DETECTOR_EPOCHS, model_path: Path = MODEL_PATH, share: float = 1.0) -> dict:
    """Train the model's digit-score branch anew, from fresh weights, on today's training_material(); the classifier,
    its batch-norm statistics and so every probability stay as they are. Rewrites the model, its fast twin and the
    card's not_a_digit section (with a `detector` note of how); then bench/calibrate_threshold.py chooses the served
    threshold, and `train --arch mlp` copies the new detector into the tutorial's model.

    Why apart: to try other non-digits (digitlens.nondigits) in 9-21 min on 2 cores, where a full training takes
    about three times as long and moves the classifier too. A detector trained so refused fewer dev non-digits than
    the one trained with the classifier (68.3 against 74.2 %, 27 November): compare a change against a control
    retrained this way too.
    """
    model_path = Path(model_path)
    keras.utils.set_random_seed(SEED)
    material = training_material(share)
    x_test, y_test = data.load("test")
    model = load_keras(model_path)
    fresh = build()
    for layer in model.layers:
        layer.trainable = is_detector(layer)
        if is_detector(layer):
            layer.set_weights(fresh.get_layer(layer.name).get_weights())
    scorer = keras.Model(model.inputs, model.get_layer(DIGIT_OUTPUT).output)
    images = material.images
    is_digit = np.concatenate([np.ones(len(material.x_train)), np.zeros(len(material.non_digits))]).astype(np.float32)[:, None]
    scorer.compile(optimizer=keras.optimizers.Adam(cosine_schedule(epochs, len(images))), loss="binary_crossentropy")
    started = time.perf_counter()
    scorer.fit(batches(images, is_digit, np.ones(len(images), np.float32)), epochs=epochs, verbose=2)
    training_seconds = time.perf_counter() - started

    card = metrics_card(model_path)
    predictor, scores = save_and_score(model, model_path, x_test, y_test)
    card.update(scores)
    card["not_a_digit"] = training_threshold(predictor, material, x_test)
    card["detector"] = {
        "what": "digit-score branch trained anew from fresh weights; classifier frozen",
        "epochs": epochs,
        "digits": len(material.x_train),
        "non_digits": len(material.non_digits),
        "glyphs": nondigits.GLYPHS,
        "kinds": list(nondigits.KINDS),
        "share": share,
        "seconds": round(training_seconds, 1),
        "machine": MACHINE,
        **provenance(),
    }
    model_path.with_name(METRICS_PATH.name).write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {model_path}, {fast_twin(model_path).name} and {METRICS_PATH.name}; now run bench/calibrate_threshold.py")
    return card


def fine_tune_with_feedback(
    store, base: Path = MODEL_PATH, epochs: int = FINE_TUNE_EPOCHS, share: float = 1.0, out_root: Path = VERSIONS_DIR
) -> tuple[Path, dict]:
    """Fine-tune the base model on MNIST's training digits plus the drawings people marked right or wrong (with the
    right digit) into a new version, out_root/<UTC time>/, with its fast twin and metrics card; the base is only read.

    Only the classifier learns: the detector, with the threshold bench/calibrate_threshold.py chose for it, and the
    batch-norm statistics stay the base's. So drawings marked not a digit are left out: digits alone would teach the
    detector that everything is one, and a handful of refusals cannot recalibrate it. share: of MNIST, for a trial.
    """
    base = Path(base).resolve()
    found = store.feedback()
    labelled = found.table["label"].notna().to_numpy()
    if labelled.sum() < MIN_FEEDBACK:
        raise ValueError(
            f"fine-tuning needs at least {MIN_FEEDBACK} feedback drawings marked right or wrong, found {labelled.sum()}"
            " (drawings marked not a digit do not count); collect more on the Draw page"
        )
    drawings, labels = found.images[labelled], found.table["label"][labelled].to_numpy(int)
    held_out = np.arange(len(labels)) % HELD_OUT_EVERY == HELD_OUT_EVERY - 1

    keras.utils.set_random_seed(SEED)
    x_mnist, y_mnist = data.load("train")
    x_mnist, y_mnist = x_mnist[: int(len(x_mnist) * share)], y_mnist[: int(len(y_mnist) * share)]
    x_test, y_test = data.load("test")
    x_train = np.concatenate([x_mnist, np.repeat(drawings[~held_out], FEEDBACK_REPEATS, axis=0)])
    y_train = np.concatenate([y_mnist, np.repeat(labels[~held_out], FEEDBACK_REPEATS)])

    before = Predictor.load(base)
    model = load_keras(base)
    for layer in model.layers:
        # frozen batch norm runs on its stored statistics, which a mix without non-digits would shift
        layer.trainable = not (is_detector(layer) or isinstance(layer, keras.layers.BatchNormalization))
    compile_for_training(model, keras.optimizers.Adam(FINE_TUNE_LEARNING_RATE))
    started = time.perf_counter()
    model.fit(batches(x_train, *targets(y_train, True)), epochs=epochs, verbose=2)
    training_seconds = time.perf_counter() - started

    version = Path(out_root) / datetime.now(timezone.utc).strftime(VERSION_FORMAT)
    version.mkdir(parents=True)  # fails rather than write into an existing version
    after, scores = save_and_score(model, version / MODEL_PATH.name, x_test, y_test)
    figures = {
        "mnist_test_accuracy": {"before": share_right(before, x_test, y_test), "after": scores["test_accuracy"]},
        "held_out_accuracy": {
            "before": share_right(before, drawings[held_out], labels[held_out]),
            "after": share_right(after, drawings[held_out], labels[held_out]),
        },
    }
    metrics = {
        **scores,
        "not_a_digit": {**metrics_card(base).get("not_a_digit", {}), "detector": f"unchanged from {base.name}: frozen while fine-tuning"},
        "parameters": model.count_params(),
        "training": {
            "what": "fine-tuned on MNIST and collected drawings; detector and batch-norm statistics frozen",
            "seed": SEED, "epochs": epochs, "batch_size": BATCH_SIZE, "learning_rate": FINE_TUNE_LEARNING_RATE,
            "training_digits": len(x_mnist), "share": share, "feedback_repeats": FEEDBACK_REPEATS,
            "seconds": round(training_seconds, 1), "machine": MACHINE,
        },
        "feedback": {
            "base_model": str(base.relative_to(ROOT)) if base.is_relative_to(ROOT) else str(base),
            "base_fingerprint": before.fingerprint,
            "trained": int((~held_out).sum()),
            "held_out": int(held_out.sum()),
            "held_out_rule": f"every {HELD_OUT_EVERY}th drawing marked right or wrong, by id",
            "not_a_digit_left_out": int((~labelled).sum()),
            **figures,
        },
        **provenance(),
    }
    (version / METRICS_PATH.name).write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"wrote {version / MODEL_PATH.name}, its fast twin and {METRICS_PATH.name}")
    for what, figure in zip(["MNIST test accuracy", f"{held_out.sum()} held-out drawings read right"], figures.values()):
        print(f"{what}: {figure['before']:.2%} before, {figure['after']:.2%} after")
    return version / MODEL_PATH.name, metrics
