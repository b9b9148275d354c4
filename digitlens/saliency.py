"""Why a prediction: occlusion saliency, computed with the fast predictor (no TensorFlow, ~70 ms an image).

Every PATCH x PATCH square of the image is blanked in turn (its ink removed) and the model is asked again.
A pixel's score for a digit is the mean drop in that digit's log-odds over the squares covering it: positive
where the ink supported the digit, negative where it argued against it. Log-odds keep a sure prediction and an
unlikely runner-up (p = 0.0001) on one readable scale, and, unlike log-probabilities, still move when the
prediction is so sure that its probability rounds to 1 (then the map was blank).
"""

import numpy as np

from digitlens import IMAGE_SIDE
from digitlens.model import as_batch

PATCH = 4  # pixels; about a stroke's width, so blanking a square removes a piece of one stroke
SMALLEST_PROBABILITY = 1e-30  # float32 softmax outputs reach 0; their log must stay finite


def occlusion_masks(patch: int = PATCH) -> np.ndarray:
    """Bool (K, 28, 28): one mask per position of the square, sliding one pixel at a time."""
    positions = IMAGE_SIDE - patch + 1
    masks = np.zeros((positions * positions, IMAGE_SIDE, IMAGE_SIDE), bool)
    for index in range(positions * positions):
        row, column = divmod(index, positions)
        masks[index, row : row + patch, column : column + patch] = True
    return masks


def occlusion(predict_proba, image, digits, patch: int = PATCH) -> np.ndarray:
    """Float (len(digits), 28, 28) support of each pixel's ink for each digit; predict_proba maps (N, 28, 28) to (N, 10)."""
    image = as_batch(image)[0]
    digits = list(digits)
    masks = occlusion_masks(patch)
    blanked = np.where(masks, 0, image)
    drops = log_odds(predict_proba(image[None]), digits) - log_odds(predict_proba(blanked), digits)  # (K, len(digits))
    return np.tensordot(drops.T, masks, axes=1) / masks.sum(axis=0)


def log_odds(probabilities: np.ndarray, digits: list[int]) -> np.ndarray:
    """(N, len(digits)) log(p / (1 - p)), with 1 - p summed from the other digits' probabilities: exact where p
    rounds to 1."""
    probabilities = np.asarray(probabilities, np.float64)
    rest = np.stack([np.delete(probabilities, digit, axis=1).sum(axis=1) for digit in digits], axis=1)
    return np.log(np.maximum(probabilities[:, digits], SMALLEST_PROBABILITY)) - np.log(np.maximum(rest, SMALLEST_PROBABILITY))
