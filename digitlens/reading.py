"""Read a picture as one digit or as a number: what the dashboard, the API and the CLI all show.

One place decides what a picture says, so the three agree: each digit with its probabilities and whether
it looks like a digit at all, and a number in which what does not look like a digit is NOT_A_DIGIT.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from digitlens import INK_PIXEL
from digitlens.preprocess import to_mnist, to_mnist_sequence

NOT_A_DIGIT = "?"
TURNS = (-10, 10)  # degrees: each digit is also read turned this much, as a slanted hand writes it
THICK_INNER_SHARE = 0.5  # a stroke w px wide keeps (w - 2) / w of its ink through a 3x3 erosion: over half, over 4 px


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


def views(images: np.ndarray) -> np.ndarray:
    """Float32 (V, N, 28, 28): the images as given, with strokes thinner, and turned by TURNS.

    People's blobby or slanted digits sit at the edge of what the model learnt; read in a few views, a digit
    one view gets wrong is outvoted (dev split: photos 95.8 -> 96.5 %, numbers 86.7 -> 87.3 %). Strokes are a pixel
    thinner, or two where they are thick: a felt pen's 1 with a broad flag, a pixel thinner, still passes for an 8
    (dev split: photos 96.7 -> 96.8 %, handwriting 98.8 -> 99.0 %).
    """
    given = np.asarray(images, np.float32).reshape(-1, *np.shape(images)[-2:])
    thinner = ndimage.grey_erosion(given, size=(1, 2, 2))
    thick = is_thick(given)
    thinner[thick] = ndimage.grey_erosion(given[thick], size=(1, 3, 3))
    turned = [ndimage.rotate(given, angle, axes=(1, 2), reshape=False, order=1) for angle in TURNS]
    return np.stack([given, thinner, *turned])


def is_thick(images: np.ndarray) -> np.ndarray:
    """Bool (N,): strokes over 4 pixels wide, where most ink (THICK_INNER_SHARE) is over a pixel from the paper."""
    ink = images >= INK_PIXEL
    inner = ndimage.binary_erosion(ink, structure=np.ones((1, 3, 3)))
    return inner.sum(axis=(1, 2)) > THICK_INNER_SHARE * np.maximum(ink.sum(axis=(1, 2)), 1)


def outputs(predictor, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities (N, 10), the geometric mean over the views, and digit scores (N,) of the images as given
    (the threshold was chosen on those)."""
    seen = views(images)
    probabilities, scores = predictor.outputs(seen.reshape(-1, *seen.shape[2:]))
    log_mean = np.log(probabilities.reshape(len(seen), -1, probabilities.shape[1]) + 1e-9).mean(axis=0)
    mean = np.exp(log_mean)
    return mean / mean.sum(axis=1, keepdims=True), scores[: seen.shape[1]]


def sureness(predictor, images: np.ndarray) -> np.ndarray:
    """How surely each image is one digit: its top probability times its digit score.

    The score as it is, not softened: under its square root the halves of a sign pass for digits ("4x2" read
    "4762"), though numbers of digits alone read better (dev split, 89.3 against 88.0 %, 28 November).
    """
    probabilities, scores = outputs(predictor, images)
    return probabilities.max(axis=1) * scores


def read(predictor, images: np.ndarray, number: bool = False) -> Reading:
    """Probabilities and the not-a-digit verdict of MNIST-style images in one pass of the predictor.

    With number, the images are the marks of one number: among other digits a mark is likelier a digit than a
    mark alone is, and one refused makes the whole number unreadable, so with two or more marks the model's lower
    number_threshold applies (dev split: numbers read whole 87.3 -> 88.0 %, and "4*2" still reads "4?2").
    """
    probabilities, scores = outputs(predictor, images)
    threshold = predictor.number_threshold if number and len(scores) > 1 else predictor.digit_threshold
    return Reading(np.asarray(images), probabilities, scores >= threshold)
