"""Occlusion saliency: it finds the ink a toy model looks at, and the real model's evidence on real digits."""

import numpy as np
import pytest

from digitlens import saliency


def corner_model(images):
    """Probability of 0 grows with the ink in the top-left 8x8 corner; the other digits share the rest."""
    ink = np.asarray(images, float)[:, :8, :8].sum(axis=(1, 2)) / 255
    logits = np.zeros((len(ink), 10))
    logits[:, 0] = ink / 10
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def test_masks_cover_every_pixel_with_squares_of_the_patch_size():
    masks = saliency.occlusion_masks(patch=4)
    assert masks.shape == (25 * 25, 28, 28)
    assert (masks.sum(axis=(1, 2)) == 16).all()
    assert masks.any(axis=0).all()


def test_occlusion_credits_the_ink_the_model_looks_at():
    image = np.zeros((28, 28))
    image[2:6, 2:6] = 255  # ink in the corner the toy model reads
    image[20:24, 20:24] = 255  # ink it ignores
    support = saliency.occlusion(corner_model, image, [0, 5])
    assert support.shape == (2, 28, 28)
    assert support[0, 3, 3] > 0  # the corner ink supports 0 ...
    assert support[1, 3, 3] < 0  # ... and argues against 5
    assert support[:, 21, 21] == pytest.approx([0, 0], abs=1e-9)  # ignored ink
    assert support[:, 14, 14] == pytest.approx([0, 0], abs=1e-9)  # no ink


def test_occlusion_of_a_model_that_ignores_the_image_is_zero():
    constant = lambda images: np.full((len(images), 10), 0.1)  # noqa: E731
    image = np.random.default_rng(0).integers(0, 256, (28, 28))
    assert np.abs(saliency.occlusion(constant, image, [3])).max() == 0


def test_real_digits_are_mostly_evidence_for_their_prediction(predictor, test_set):
    images, _ = test_set
    for image in images[:5]:
        predicted = int(predictor.predict(image)[0])
        support = saliency.occlusion(predictor.predict_proba, image, [predicted])[0]
        assert support[image > 0].sum() > 0


def test_a_digit_read_at_probability_1_still_shows_the_ink_behind_it(predictor, test_set, saturated_image_id):
    """An image read with a probability that rounds to 1 in float32: log-probabilities saw no change."""
    image = test_set[0][saturated_image_id]
    support = saliency.occlusion(predictor.predict_proba, image, [int(predictor.predict(image)[0])])[0]
    assert support.max() > 1  # log-odds lost where a square of ink is blanked
