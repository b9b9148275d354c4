"""How well are digits read that were drawn by someone else? Accuracy on random drawings, not MNIST.

Each drawing is one of the ten digits at a random size and place on a 280x280 canvas, slanted,
wobbly, with a pen from 6 to 35 px, in either polarity (digitlens.strokes.random_drawing).
Compares to_mnist with and without stroke-width normalisation, in the same run.
Run: python bench/robustness.py [COUNT]
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digitlens.model import Predictor  # noqa: E402
from digitlens.preprocess import MNIST_STROKE_WIDTH, to_mnist  # noqa: E402
from digitlens.strokes import random_drawing  # noqa: E402

SEED = 123


def main(count: int = 2000) -> None:
    predictor = Predictor.load()
    rng = np.random.default_rng(SEED)
    drawings = [random_drawing(rng) for _ in range(count)]
    labels = np.array([digit for _, digit in drawings])
    print(f"{count} random drawings (seed {SEED})")
    for name, widths in [("to_mnist (stroke width normalised)", MNIST_STROKE_WIDTH), ("to_mnist, strokes as drawn", None)]:
        right = predictor.predict(np.stack([to_mnist(image, widths) for image, _ in drawings])) == labels
        per_digit = " ".join(f"{digit}:{right[labels == digit].mean():.1%}" for digit in range(10))
        print(f"  {name:38} {right.mean():.2%}   {per_digit}")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:2]))
