"""Why a prediction: integrated gradients of the Keras model's class scores with respect to the pixels.

Attributions start from a black image (no ink), so each pixel's value says how much its ink raised (+) or
lowered (-) a digit's score; over all pixels they add up to score(image) - score(black image).
"""

from functools import lru_cache

import numpy as np

from digitlens.model import EMBEDDING_LAYER, as_batch

CLASSIFIER_LAYER = "probabilities"
STEPS = 64  # points on the path from black to the image; enough for the sums to match within a few percent


@lru_cache(maxsize=2)
def class_scores(keras_model):
    """A function images -> (N, 10) logits, the scores before softmax, which keep their gradient when p is near 1."""
    import keras

    embedder = keras.Model(keras_model.input, keras_model.get_layer(EMBEDDING_LAYER).output)
    classifier = keras_model.get_layer(CLASSIFIER_LAYER)
    return lambda images: keras.ops.matmul(embedder(images, training=False), classifier.kernel) + classifier.bias


def integrated_gradients(scores, image, digits, steps: int = STEPS) -> np.ndarray:
    """Float32 (len(digits), 28, 28) attribution of each digit's score to each pixel (Sundararajan et al. 2017)."""
    import tensorflow as tf

    image = tf.constant(as_batch(image)[0])
    digits = list(digits)
    alphas = (tf.range(steps, dtype=tf.float32) + 0.5) / steps  # midpoint rule
    path = tf.tile(alphas[:, None, None] * image, [len(digits), 1, 1])
    targets = tf.repeat(tf.constant(digits), steps)
    with tf.GradientTape() as tape:
        tape.watch(path)
        chosen = tf.gather(scores(path), targets[:, None], batch_dims=1)
    gradients = tape.gradient(chosen, path)  # each image on the path only moves its own score
    mean_gradients = tf.reduce_mean(tf.reshape(gradients, (len(digits), steps, *image.shape)), axis=1)
    return (image * mean_gradients).numpy()


def explain(keras_model, image, digits) -> np.ndarray:
    """Attributions of the model's logits for digits (e.g. the prediction and the runner-up) on one image."""
    return integrated_gradients(class_scores(keras_model), image, digits)
