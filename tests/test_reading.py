"""A picture read as one digit or as a number, the same for the dashboard, the API and the CLI."""

import numpy as np
import pytest

from digitlens import reading
from digitlens.preprocess import NoInkError
from shapes import written


def test_number_marks_what_is_not_a_digit_with_a_question_mark():
    probabilities = np.eye(10)[[4, 7, 2]]
    found = reading.Reading(np.zeros((3, 28, 28), np.uint8), probabilities, np.array([True, False, True]))
    assert found.number == "4?2"
    assert found.digits.tolist() == [4, 7, 2] and found.confidences.tolist() == [1, 1, 1]


def test_one_digit_is_one_image_and_a_number_one_image_per_digit():
    assert reading.mnist_images(written("42")).shape == (1, 28, 28)
    assert reading.mnist_images(written("42"), number=True).shape == (2, 28, 28)


def test_a_blank_picture_holds_no_digit():
    with pytest.raises(NoInkError):
        reading.mnist_images(np.full((40, 100), 255, np.uint8), number=True)


def test_read_uses_the_models_digit_threshold(predictor):
    images = reading.mnist_images(written("4*2"), number=True)
    found = reading.read(predictor, images)
    assert found.number == "4?2"
    assert found.is_digit.tolist() == predictor.is_digit(images).tolist()
    np.testing.assert_allclose(found.probabilities, predictor.predict_proba(images))
