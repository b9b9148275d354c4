"""Read a picture as one digit or as a number: what the dashboard, the API and the CLI all show.

One place decides what a picture says, so the three agree: each digit with its probabilities and whether
it looks like a digit at all, and a number in which what does not look like a digit is NOT_A_DIGIT.
"""

from dataclasses import dataclass

import numpy as np

from digitlens.preprocess import to_mnist, to_mnist_sequence

NOT_A_DIGIT = "?"


@dataclass(frozen=True)
class Reading:
    """The 28x28 images the model saw, left to right, their ten probabilities each, and which are digits."""

    images: np.ndarray  # uint8 (K, 28, 28)
    probabilities: np.ndarray  # float (K, 10)
    is_digit: np.ndarray  # bool (K,)

    @property
    def digits(self) -> np.ndarray:
        """The most probable digit of each image: the closest digit where it is not a digit."""
        return self.probabilities.argmax(axis=1)

    @property
    def confidences(self) -> np.ndarray:
        return self.probabilities.max(axis=1)

    @property
    def number(self) -> str:
        """The digits as text, NOT_A_DIGIT where the model takes the mark for something else ("4?2")."""
        return "".join(str(digit) if ok else NOT_A_DIGIT for digit, ok in zip(self.digits, self.is_digit))


def mnist_images(image, number: bool = False, predictor=None) -> np.ndarray:
    """Uint8 (K, 28, 28): the one digit in a picture (K = 1), or with number the digits of the number in it.

    With a predictor, what the shapes leave open is read the way the model is surer of: a piece of a number
    that may be one broad digit or two touching ones, or a photo's digit chosen with a shadow or a grid in it.
    Raises NoInkError for a blank picture, as to_mnist does.
    """
    judge = None if predictor is None else lambda images: sureness(predictor, images)
    return to_mnist_sequence(image, judge) if number else to_mnist(image, judge)[None]


def sureness(predictor, images: np.ndarray) -> np.ndarray:
    """How surely each image is one digit: its top probability times its digit score."""
    probabilities, scores = predictor.outputs(images)
    return probabilities.max(axis=1) * scores


def read(predictor, images: np.ndarray) -> Reading:
    """Probabilities and the not-a-digit verdict of MNIST-style images in one pass of the predictor."""
    probabilities, scores = predictor.outputs(images)
    return Reading(np.asarray(images), probabilities, scores >= predictor.digit_threshold)
