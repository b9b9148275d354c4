"""How well are digits read that were drawn with our own stroke font? Accuracy and refusals on random drawings.

Each drawing is one of the ten digits at a random size and place on a 280x280 canvas, slanted,
wobbly, with a pen from 6 to 35 px, in either polarity (digitlens.strokes.random_drawing).
This checks preprocessing across sizes, places and pens; it is drawn with our own generator, so it is no
measure of other people's handwriting: bench/real_world.py is.
Run: python bench/robustness.py [COUNT]
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digitlens.model import Predictor  # noqa: E402
from digitlens.preprocess import to_mnist  # noqa: E402
from digitlens.strokes import random_drawing  # noqa: E402

SEED = 123


def main(count: int = 2000) -> None:
    predictor = Predictor.load()
    rng = np.random.default_rng(SEED)
    drawings = [random_drawing(rng) for _ in range(count)]
    labels = np.array([digit for _, digit in drawings])
    probabilities, scores = predictor.outputs(np.stack([to_mnist(image) for image, _ in drawings]))
    right = probabilities.argmax(axis=1) == labels
    per_digit = " ".join(f"{digit}:{right[labels == digit].mean():.1%}" for digit in range(10))
    print(f"{count} random drawings (seed {SEED})")
    print(f"  read right      {right.mean():.2%}   {per_digit}")
    print(f"  refused as not a digit  {(scores < predictor.digit_threshold).mean():.2%}")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:2]))
