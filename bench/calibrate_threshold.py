"""Choose the not-a-digit threshold on independent material, and write it into the model's metrics card.

Training picks a threshold on digits held out of its own training material; digits drawn on the canvas score
lower than those, so that threshold refused several per cent of them. This script picks it instead on the dev
split of bench/material.py (sources the model never trained on): the score below which REFUSED_CANVAS of the
canvas drawings fall, and reports what that refuses of every other dev set. The final split stays untouched.

Run after training: python bench/calibrate_threshold.py [--model model/mnist_cnn.keras]
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import material  # noqa: E402
from digitlens import MODEL_PATH, METRICS_PATH, data, preprocess  # noqa: E402
from digitlens.model import Predictor  # noqa: E402

REFUSED_CANVAS = 0.01  # half the 2 % the project allows for drawn digits: held-out material scores a little lower
LONGEST_NUMBER = 5  # digits: each mark of a number is refused at 1/5 of that, so a whole number no more often than one digit
SETS = {"canvas": "canvas_digits", "photos": "photographed_digits", "handwriting": "handwritten_digits", "non_digits": "non_digits"}


def digit_scores(predictor: Predictor, images: list) -> np.ndarray:
    """Digit scores of the images through to_mnist; an image with no ink found scores 0 (it is refused anyway)."""
    scores = np.zeros(len(images), np.float32)
    for index, image in enumerate(images):
        try:
            scores[index] = predictor.digit_scores(preprocess.to_mnist(image))[0]
        except preprocess.NoInkError:
            pass
    return scores


def shares_below(scores: dict[str, np.ndarray], cut: float) -> dict[str, float]:
    """The share of each set scoring below the cut, under the set's name in the card."""
    return {SETS[name]: round(float((values < cut).mean()), 4) for name, values in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    predictor = Predictor.load(args.model)
    sets = material.build("dev")
    scores = {name: digit_scores(predictor, sets[name][0]) for name in SETS}
    threshold = float(np.quantile(scores["canvas"], REFUSED_CANVAS))
    number_threshold = float(np.quantile(scores["canvas"], REFUSED_CANVAS / LONGEST_NUMBER))
    refused, in_numbers = shares_below(scores, threshold), shares_below(scores, number_threshold)
    refused["mnist_test"] = round(float((predictor.digit_scores(data.load("test")[0]) < threshold).mean()), 4)

    card_path = args.model.with_name(METRICS_PATH.name)
    card = json.loads(card_path.read_text())
    training = card["not_a_digit"]
    if "training_rule" not in training:  # as train.py wrote it: keep its choice beside ours, renamed
        training = {"training_rule_threshold": training.pop("threshold"), "training_rule": training.pop("rule"), **training}
    training = {key: value for key, value in training.items() if key.startswith(("training_", "held_out_", "test_"))}
    card["not_a_digit"] = {
        "threshold": threshold,
        "rule": (
            f"digit score below the threshold; chosen by bench/calibrate_threshold.py on bench/material.py's dev split "
            f"(digits drawn, photographed and handwritten from sources the model never trained on) so that "
            f"{REFUSED_CANVAS:.0%} of canvas drawings are refused"
        ),
        "dev_refused": refused,
        "number_threshold": number_threshold,
        "number_rule": (
            f"in a number of two or more marks, a mark is not a digit below this lower threshold, at which "
            f"{REFUSED_CANVAS / LONGEST_NUMBER:.1%} of canvas drawings are refused: a number of up to {LONGEST_NUMBER} digits "
            f"is then refused no more often than one digit, and a sign among digits still is"
        ),
        "dev_refused_in_numbers": in_numbers,
        **training,
    }
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    print(f"threshold {threshold:.4g}; refused: " + ", ".join(f"{name} {share:.1%}" for name, share in refused.items()))
    print(f"in numbers {number_threshold:.4g}; refused: " + ", ".join(f"{name} {share:.1%}" for name, share in in_numbers.items()))
    print(f"wrote {card_path}")


if __name__ == "__main__":
    main()
