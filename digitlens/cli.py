"""The `python -m digitlens` commands: one per job."""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from digitlens import MLP_PATH, MODEL_DIR, MODEL_PATH, NUM_CLASSES


def train(args) -> int:
    from digitlens import train as training
    from digitlens.model import TUTORIAL_EPOCHS, VERSIONS_DIR
    from digitlens.store import Store

    if args.with_feedback:
        if args.arch == "mlp":
            print("error: --with-feedback fine-tunes our CNN; leave out --arch mlp", file=sys.stderr)
            return 2
        try:
            training.fine_tune_with_feedback(
                Store(args.database), epochs=args.epochs or training.FINE_TUNE_EPOCHS, share=args.share, out_root=args.out or VERSIONS_DIR
            )
        except ValueError as error:  # too little feedback: the message says how much there is and how much is needed
            print(f"error: {error}", file=sys.stderr)
            return 1
    elif args.detector:
        training.train_detector(args.epochs or training.DETECTOR_EPOCHS, (args.out or MODEL_DIR) / MODEL_PATH.name, args.share)
    elif args.arch == "mlp":
        training.train_mlp(args.epochs or TUTORIAL_EPOCHS, args.out or MLP_PATH.parent, args.share)
    else:
        training.train(args.epochs or training.EPOCHS, args.out or MODEL_DIR, args.share)
    return 0


def crossval(args) -> int:
    from digitlens.crossval import crossval as run_crossval

    run_crossval(args.folds, args.epochs, args.share, args.out)  # None: the module's defaults
    return 0


def evaluate(args) -> int:
    from digitlens import data
    from digitlens.model import Predictor

    images, labels = data.load("test")
    predicted = Predictor.load(args.model).predict(images)
    wrong = int((predicted != labels).sum())
    print(f"test accuracy: {1 - wrong / len(labels):.2%} ({len(labels) - wrong} of {len(labels)} right, {wrong} wrong)")
    return 0


def embedding_map(args) -> int:
    from digitlens import analysis, data
    from digitlens.model import Predictor

    path = analysis.ship_test_umap(Predictor.load(args.model), data.load("test")[0])
    print(f"wrote {path}: the Embedding page reads it for this model file instead of making the map")
    return 0


def predict(args) -> int:
    from digitlens import reading
    from digitlens.model import Predictor
    from digitlens.preprocess import read_image

    predictor = Predictor.load(args.model)
    status = 0
    for path in args.images:
        try:
            found = reading.read(predictor, reading.mnist_images(read_image(path), args.number, predictor), args.number)
        except ValueError as error:  # unreadable file or no digit in it: report it, go on with the others
            print(f"error: {error}", file=sys.stderr)
            status = 2
            continue
        print(as_json(path, found, args.number) if args.json else as_text(path, found, args.number))
    return status


def as_text(path: str, found, number: bool) -> str:
    """path, digit, confidence; path and "not a digit" with the closest digit; or with number, path and the number."""
    if number:
        return f"{path}\t{found.number}"
    digit, confidence = found.digits[0], found.confidences[0]
    if found.is_digit[0]:
        return f"{path}\t{digit}\t{confidence:.4f}"
    return f"{path}\tnot a digit\t(closest: {digit}, {confidence:.4f})"


def as_json(path: str, found, number: bool) -> str:
    """One JSON line: the digit, whether it is one and its ten probabilities; with number, the number and each digit so."""
    digits = [
        {"digit": int(digit), "is_digit": bool(is_digit), "probabilities": [round(float(p), 6) for p in probabilities]}
        for digit, is_digit, probabilities in zip(found.digits, found.is_digit, found.probabilities)
    ]
    return json.dumps({"path": path, "number": found.number, "digits": digits} if number else {"path": path, **digits[0]})


def export_csv(args) -> int:
    from digitlens import data

    images, labels = data.load("test")
    np.savetxt(args.path, data.to_csv_rows(images, labels), fmt="%d", delimiter=",")
    print(f"wrote {len(labels)} test images to {args.path} (label, then 784 pixels; no header)")
    return 0


def export_reviews(args) -> int:
    from digitlens.store import EXPORT_COLUMNS, Store

    count = Store(args.database).export_csv(args.path)
    print(f"wrote {count} verdicts to {args.path} (columns: {', '.join(EXPORT_COLUMNS)})")
    return 0


def serve(args) -> int:
    from digitlens import serving

    try:
        serving.run(args.host, args.port, args.workers, args.access_log, args.model)
    except (FileNotFoundError, ValueError) as error:  # no model, or a broken one: the message names the file
        print(f"error: cannot serve: {error}", file=sys.stderr)
        return 1
    return 0


def export_savedmodel(args) -> int:
    from digitlens import serving

    path = serving.export_savedmodel(args.directory)
    print(f"wrote a SavedModel to {path} (signature serving_default: float32 (N, 28, 28) pixels 0-255 -> (N, 10))")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m digitlens", description="Train, evaluate and use the digit classifier.")
    commands = root.add_subparsers(dest="command", required=True)

    command = commands.add_parser(
        "train",
        help="train the CNN and write model/ (27 min on 2 cores), or with --arch mlp the tutorial's network into model/mlp/, "
        "or with --with-feedback fine-tune it on the drawings corrected on the dashboard into a new version in model/versions/",
    )
    command.add_argument("--epochs", type=int, help="passes over the training set (default: EPOCHS, or FINE_TUNE_EPOCHS, in digitlens/train.py)")
    command.add_argument("--arch", choices=["cnn", "mlp"], default="cnn", help="cnn: our model; mlp: the tutorial's network and settings, 1.5 min (default: cnn)")
    command.add_argument(
        "--with-feedback", action="store_true",
        help="fine-tune the committed CNN on MNIST plus the drawings marked right or wrong in the feedback store, "
        "into a new version folder; the committed model is left as it is",
    )
    command.add_argument(
        "--detector", action="store_true",
        help="train only the CNN's not-a-digit branch anew (9-21 min on 2 cores), the classifier frozen; then run bench/calibrate_threshold.py",
    )
    command.add_argument("--database", help="feedback store for --with-feedback (default: DIGITLENS_DATABASE_URL, else the SQLite file digitlens.db)")
    command.add_argument("--out", type=Path, help="folder for the model files (default: model/, model/mlp/ for the MLP; model/versions/ for new versions)")
    command.add_argument("--share", type=float, default=1.0, help="train on this share of the data (of MNIST, with --with-feedback), for a quick trial (default: 1)")
    command.set_defaults(run=train)

    command = commands.add_parser(
        "crossval",
        help="out-of-sample probabilities of all 70,000 images for finding label errors (~1 h on 2 cores; resumes)",
    )
    command.add_argument("--folds", type=int, help="folds of the training set (default: FOLDS in digitlens/crossval.py, 5)")
    command.add_argument("--epochs", type=int, help="passes over each fold's training images, for every model (default: EPOCHS in digitlens/crossval.py)")
    command.add_argument("--share", type=float, default=1.0, help="use this share of the images, for a quick trial (default: 1)")
    command.add_argument("--out", type=Path, help="result file (default: model/crossval.npz)")
    command.set_defaults(run=crossval)

    command = commands.add_parser("evaluate", help="accuracy of the committed model on the 10,000 MNIST test images")
    command.add_argument("--model", help="path of a .keras model (default: the committed one)")
    command.set_defaults(run=evaluate)

    command = commands.add_parser(
        "embedding-map", help="make the test set's UMAP map beside a model file, to ship with it (1-3 min on 2 cores)"
    )
    command.add_argument("--model", help="path of a .keras model (default: the committed one)")
    command.set_defaults(run=embedding_map)

    command = commands.add_parser(
        "predict",
        help="predict the digit in image files (PNG, JPEG, ...)",
        description="Print path, digit and confidence per image, or 'not a digit' and the closest digit for a "
        "letter, a scribble or a doodle.",
    )
    command.add_argument("images", nargs="+", metavar="IMAGE")
    command.add_argument("--json", action="store_true", help=f"print all {NUM_CLASSES} probabilities as JSON lines")
    command.add_argument("--number", action="store_true", help="read each image as a number: path and its digits, ? for a non-digit")
    command.add_argument("--model", help="path of a .keras model (default: the committed one)")
    command.set_defaults(run=predict)

    command = commands.add_parser("export-csv", help="write the test set in the tutorial's CSV format")
    command.add_argument("path", metavar="PATH")
    command.set_defaults(run=export_csv)

    command = commands.add_parser("export-reviews", help="write every label verdict from the review store as CSV")
    command.add_argument("path", metavar="PATH")
    command.add_argument("--database", help="database URL (default: DIGITLENS_DATABASE_URL, else the SQLite file digitlens.db)")
    command.set_defaults(run=export_reviews)

    command = commands.add_parser("serve", help="run the HTTP prediction API (docs at /docs)")
    command.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 for every interface)")
    command.add_argument("--port", type=int, default=8000)
    command.add_argument("--workers", type=int, default=1, help="processes, each with its own model (about one per core)")
    command.add_argument("--access-log", action="store_true", help="log every request")
    command.add_argument("--model", type=Path, help="path of a .keras model, its .tflite twin beside it (default: the committed one)")
    command.set_defaults(run=serve)

    command = commands.add_parser("export-savedmodel", help="write the model as a TensorFlow SavedModel for TF Serving")
    command.add_argument("directory", metavar="DIR")
    command.set_defaults(run=export_savedmodel)
    return root


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)
