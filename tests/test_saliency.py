"""Integrated gradients: exact on a linear model, consistent with the saved model's softmax."""

import numpy as np
import pytest

from digitlens import saliency

tf = pytest.importorskip("tensorflow")


def test_integrated_gradients_are_exact_for_a_linear_score():
    weights = np.random.default_rng(0).normal(size=(784, 10)).astype(np.float32)
    linear = lambda images: tf.reshape(images, (-1, 784)) @ weights  # noqa: E731
    image = np.random.default_rng(1).integers(0, 256, (28, 28)).astype(np.float32)
    attributions = saliency.integrated_gradients(linear, image, [3, 7], steps=4)
    assert attributions.shape == (2, 28, 28)
    assert attributions[0] == pytest.approx(image * weights[:, 3].reshape(28, 28), rel=1e-4, abs=1e-2)
    assert attributions[1] == pytest.approx(image * weights[:, 7].reshape(28, 28), rel=1e-4, abs=1e-2)


def test_black_pixels_get_no_attribution():
    linear = lambda images: tf.reshape(images, (-1, 784)) @ np.ones((784, 10), np.float32)  # noqa: E731
    image = np.zeros((28, 28), np.float32)
    image[10:15, 12] = 200
    attributions = saliency.integrated_gradients(linear, image, [0], steps=2)
    assert (attributions[0][image == 0] == 0).all()
    assert (attributions[0][image > 0] > 0).all()


def test_class_scores_are_the_logits_behind_the_models_softmax():
    from digitlens.model import build

    model = build()
    images = np.random.default_rng(2).integers(0, 256, (3, 28, 28)).astype(np.float32)
    logits = np.asarray(saliency.class_scores(model)(images))
    expected = model.predict(images, verbose=0)
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
    assert softmax / softmax.sum(axis=1, keepdims=True) == pytest.approx(expected, abs=1e-5)


def test_attributions_add_up_to_the_score_difference_on_the_real_model(predictor, test_set):
    images, _ = test_set
    scores = saliency.class_scores(predictor.keras_model)
    image = images[0].astype(np.float32)
    digit = int(predictor.predict(image)[0])
    attributions = saliency.integrated_gradients(scores, image, [digit])
    gained = float(np.asarray(scores(image[None]))[0, digit] - np.asarray(scores(np.zeros((1, 28, 28), np.float32)))[0, digit])
    assert attributions.sum() == pytest.approx(gained, rel=0.05)
