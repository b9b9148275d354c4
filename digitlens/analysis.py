"""Error-analysis tables computed from labels and predicted probabilities (NumPy / pandas, no UI)."""

import hashlib
import logging
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from digitlens import NUM_CLASSES, ROOT
from digitlens.model import EMBEDDING_LAYER, fast_twin

CONFIDENCE_BINS = 10
CACHE_DIR = Path(os.environ.get("DIGITLENS_CACHE_DIR", ROOT / "cache"))  # the benchmark points it at an empty folder
EMBEDDING_BATCH = 1000
UMAP_CACHE = "test-umap"  # file name stem of a UMAP map, in the cache or shipped beside a model


def confusion_matrix(labels, predicted) -> np.ndarray:
    """Counts (10, 10): row = true label, column = predicted label."""
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, int), np.asarray(predicted, int)), 1)
    return matrix


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Recall of each true class: the share of its images predicted right."""
    totals = matrix.sum(axis=1)
    return np.divide(np.diag(matrix), totals, out=np.zeros(len(matrix)), where=totals > 0)


# --- Error analysis over the whole test set ---


def accuracy(matrix: np.ndarray) -> float:
    """Share of all images on the diagonal of a confusion matrix."""
    return float(np.trace(matrix) / matrix.sum()) if matrix.sum() else 0.0


def classification_report(matrix: np.ndarray) -> pd.DataFrame:
    """Precision, recall, F1 and support of each digit; undefined ratios (no images) count as 0."""
    hits = np.diag(matrix).astype(float)
    predicted, support = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros(len(hits)), where=predicted > 0)
    recall = per_class_accuracy(matrix)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros(len(hits)), where=both > 0)
    report = pd.DataFrame({"precision": precision, "recall": recall, "f1": f1, "support": support})
    report.index.name = "digit"
    return report


def top_confusions(matrix: np.ndarray, count: int = 10) -> pd.DataFrame:
    """The most frequent (true, predicted) mistakes, largest first, with their share of the true label."""
    mistakes = matrix.astype(float)
    np.fill_diagonal(mistakes, 0)
    true, predicted = np.nonzero(mistakes)
    table = pd.DataFrame({"true": true, "predicted": predicted, "count": matrix[true, predicted]})
    table["share_of_true"] = table["count"] / matrix.sum(axis=1)[true]
    return table.sort_values(["count", "true", "predicted"], ascending=[False, True, True]).head(count).reset_index(drop=True)


def predictions_table(labels, probabilities) -> pd.DataFrame:
    """One row per image (index = test id): given label, prediction, its probability, the runner-up and correctness."""
    probabilities = np.asarray(probabilities)
    ranked = np.argsort(-probabilities, axis=1, kind="stable")
    rows = np.arange(len(probabilities))
    table = pd.DataFrame(
        {
            "label": np.asarray(labels, int),
            "predicted": ranked[:, 0],
            "confidence": probabilities[rows, ranked[:, 0]],
            "runner_up": ranked[:, 1],
            "runner_up_probability": probabilities[rows, ranked[:, 1]],
        }
    )
    table["correct"] = table["label"] == table["predicted"]
    table.index.name = "id"
    return table


def cell_images(predictions: pd.DataFrame, true: int, predicted: int) -> pd.DataFrame:
    """Rows of one confusion cell, the most telling first: mistakes most confident first, successes least confident."""
    cell = predictions[(predictions["label"] == true) & (predictions["predicted"] == predicted)]
    return cell.sort_values("confidence", ascending=true == predicted, kind="stable")


def confident_mistakes(predictions: pd.DataFrame, count: int) -> pd.DataFrame:
    """The wrong predictions the model was surest of: bad labels or real blind spots."""
    return predictions[~predictions["correct"]].sort_values("confidence", ascending=False, kind="stable").head(count)


def unsure_successes(predictions: pd.DataFrame, count: int) -> pd.DataFrame:
    """The right predictions the model was least sure of: digits one stroke away from a mistake."""
    return predictions[predictions["correct"]].sort_values("confidence", kind="stable").head(count)


def reliability_table(confidence, correct, bins: int = CONFIDENCE_BINS) -> pd.DataFrame:
    """Per equal-width confidence bin: how many images, their mean confidence and their accuracy (empty bins dropped)."""
    confidence = np.asarray(confidence, float)
    correct = np.asarray(correct, float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    table = (
        pd.DataFrame({"bin": which, "confidence": confidence, "correct": correct})
        .groupby("bin")
        .agg(count=("correct", "size"), mean_confidence=("confidence", "mean"), accuracy=("correct", "mean"))
    )
    table["lower"], table["upper"] = edges[table.index], edges[table.index + 1]
    return table.reset_index(drop=True)[["lower", "upper", "count", "mean_confidence", "accuracy"]]


def expected_calibration_error(confidence, correct, bins: int = CONFIDENCE_BINS) -> float:
    """ECE: the image-weighted mean gap between confidence and accuracy over the bins (0 = perfectly calibrated)."""
    table = reliability_table(confidence, correct, bins)
    gaps = (table["accuracy"] - table["mean_confidence"]).abs()
    return float((gaps * table["count"]).sum() / table["count"].sum())


def suspicious_labels(labels, opinions) -> pd.DataFrame:
    """Every image ranked by how strongly the models dispute its given label, most suspicious first.

    opinions: one (N, 10) array of out-of-sample probabilities per model (family). An image's score, given_probability,
    is the highest probability any model gives its label (confident learning's self-confidence, Northcutt et al.
    2021, asked of a committee): a label is only as suspicious as the model most inclined to believe it allows, so
    one weak model's doubt does not rank an image high. suggested is the other digit the models give most on
    average; disputed marks images whose label every model gives less than even odds.
    """
    labels = np.asarray(labels, int)
    stacked = np.stack([np.asarray(opinion, float) for opinion in ([opinions] if np.ndim(opinions) == 2 else opinions)])
    rows = np.arange(len(labels))
    given = stacked[:, rows, labels].max(axis=0)
    mean = stacked.mean(axis=0)
    others = mean.copy()
    others[rows, labels] = -np.inf
    suggested = others.argmax(axis=1)
    table = pd.DataFrame(
        {
            "label": labels,
            "suggested": suggested,
            "given_probability": given,
            "suggested_probability": mean[rows, suggested],
            "margin": mean[rows, labels] - mean[rows, suggested],
        }
    )
    table["disputed"] = table["given_probability"] < 0.5
    table.index.name = "id"
    return table.sort_values(["given_probability", "margin"], kind="stable")


def projection_2d(embeddings) -> tuple[np.ndarray, np.ndarray]:
    """PCA onto the two main axes: (N, 2) coordinates and the share of variance each axis explains.

    Signs are fixed (largest loading positive) so the map does not flip between runs.
    """
    centred = np.asarray(embeddings, float) - np.mean(embeddings, axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    main = axes[:2]
    main = main * np.sign(main[np.arange(2), np.abs(main).argmax(axis=1)])[:, None]
    variance = singular**2
    return centred @ main.T, variance[:2] / variance.sum()


def umap_2d(embeddings, seed: int = 0) -> np.ndarray:
    """UMAP onto two dimensions, (N, 2): keeps neighbourhoods where PCA keeps only the widest spread, so the
    ten digits come apart. Seeded and single-threaded, so the same embeddings give the same map (~1 min for 10,000)."""
    import umap  # here: it compiles with numba on import, ~20 s, paid only when a map is first made

    reducer = umap.UMAP(n_neighbors=15, min_dist=0.1, random_state=seed, n_jobs=1)
    return reducer.fit_transform(np.asarray(embeddings, np.float32)).astype(np.float32)


def mcnemar(labels, predicted_a, predicted_b) -> dict:
    """McNemar's exact test of two models on the same images: only_a and only_b count the images one model gets
    right and the other wrong; p_value (two-sided binomial) says how likely so lopsided a split is if the two
    models were equally accurate."""
    from scipy.stats import binomtest

    right_a, right_b = np.asarray(predicted_a) == labels, np.asarray(predicted_b) == labels
    only_a, only_b = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    p_value = binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    return {"only_a": only_a, "only_b": only_b, "p_value": float(p_value)}


def disagreements(labels, predicted_a, predicted_b) -> pd.DataFrame:
    """The images two models read differently (index = id): label, each model's digit, and who is right."""
    labels, predicted_a, predicted_b = (np.asarray(values) for values in (labels, predicted_a, predicted_b))
    ids = np.flatnonzero(predicted_a != predicted_b)
    right_a, right_b = predicted_a[ids] == labels[ids], predicted_b[ids] == labels[ids]
    who = np.select([right_a, right_b], ["a", "b"], "neither")
    table = pd.DataFrame({"label": labels[ids], "a": predicted_a[ids], "b": predicted_b[ids], "right": who}, index=ids)
    table.index.name = "id"
    return table


def corrected_accuracy(labels, predicted, verdict_labels: dict[int, int | None]) -> tuple[float, int]:
    """Accuracy against the labels as reviewed, and how many images it leaves out.

    verdict_labels maps an image id to the label its review stands for: a corrected label replaces the given
    one; None (ambiguous, not a digit) leaves the image out, as a test set cleaned of it would.
    """
    labels = np.array(labels, int)
    kept = np.ones(len(labels), bool)
    for image_id, label in verdict_labels.items():
        if label is None:
            kept[image_id] = False
        else:
            labels[image_id] = label
    return float((np.asarray(predicted)[kept] == labels[kept]).mean()), int((~kept).sum())


# --- Predictions cache: the model's outputs on the test set, computed once per model file ---


def file_fingerprint(*paths) -> str:
    """Short SHA-256 of the files' bytes: a retrained or re-exported model gets a new cache entry, an unchanged one reuses it."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def cached_path(name: str, key: str, cache_dir=CACHE_DIR) -> Path:
    """Where cached_arrays keeps the arrays of this name and key."""
    return Path(cache_dir) / f"{name}-{key}.npz"


def cached_arrays(name: str, key: str, compute, cache_dir=CACHE_DIR) -> dict[str, np.ndarray]:
    """Arrays stored as cache_dir/name-key.npz; compute() (returning a dict of arrays) runs only on a miss.

    A broken file (truncated, corrupted: the zip's CRC catches it) is logged, deleted and computed again.
    """
    path = cached_path(name, key, cache_dir)
    if path.exists():
        try:
            with np.load(path) as stored:
                return {field: stored[field] for field in stored.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as error:
            logging.getLogger(__name__).warning("cache file %s is broken (%s); computing it again", path, error)
            path.unlink(missing_ok=True)
    arrays = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    with open(partial, "wb") as file:
        np.savez(file, **arrays)
    os.replace(partial, path)  # atomic: another process never reads half a file
    return arrays


def penultimate_embeddings(keras_model, images) -> np.ndarray:
    """Float32 (N, 128) activations of the layer before the classifier, where the model has sorted the digits."""
    import keras

    embedder = keras.Model(keras_model.input, keras_model.get_layer(EMBEDDING_LAYER).output)
    return embedder.predict(np.asarray(images, np.float32), batch_size=EMBEDDING_BATCH, verbose=0)


def cached_test_probabilities(predictor, images, cache_dir=CACHE_DIR) -> np.ndarray:
    """Float32 (N, 10) probabilities of the test images, cached on disk per model: the .keras file and its fast twin.

    The fast twin is part of the key because it gives the probabilities and can be re-exported (say, quantised)
    from an unchanged .keras file.
    """
    fast_model = fast_twin(predictor.keras_path)
    key = file_fingerprint(predictor.keras_path, *([fast_model] if fast_model.exists() else []))
    compute = lambda: {"probabilities": predictor.predict_proba(images)}  # noqa: E731
    return cached_arrays("test-probabilities", key, compute, cache_dir)["probabilities"]


def cached_embeddings(predictor, images, split: str = "test", cache_dir=CACHE_DIR) -> np.ndarray:
    """Float32 (N, 128) embeddings of a split's images, cached on disk per model file (a miss loads TensorFlow)."""
    key = file_fingerprint(predictor.keras_path)
    compute = lambda: {"embeddings": penultimate_embeddings(predictor.keras_model, images)}  # noqa: E731
    return cached_arrays(f"{split}-embeddings", key, compute, cache_dir)["embeddings"]


class NeighbourIndex:
    """Exact nearest neighbours among embeddings (Euclidean), all of MNIST at once: 70,000 x 128 is one matrix
    product per query, a few milliseconds with NumPy, so no approximate index is needed."""

    def __init__(self, embeddings: np.ndarray, splits: np.ndarray, ids: np.ndarray, labels: np.ndarray):
        self.embeddings = np.ascontiguousarray(embeddings, np.float32)
        self.squared_norms = np.einsum("ij,ij->i", self.embeddings, self.embeddings)
        self.splits, self.ids, self.labels = splits, ids, labels

    def nearest(self, query: np.ndarray, count: int, exclude: tuple[str, int] | None = None) -> pd.DataFrame:
        """The count images nearest the query embedding (128,), nearest first: split, id, label, distance."""
        query = np.asarray(query, np.float32).reshape(-1)
        squared = self.squared_norms - 2 * (self.embeddings @ query) + query @ query
        if exclude is not None:
            squared[(self.splits == exclude[0]) & (self.ids == exclude[1])] = np.inf
        closest = np.argpartition(squared, count)[:count]
        closest = closest[np.argsort(squared[closest])]
        return pd.DataFrame(
            {"split": self.splits[closest], "id": self.ids[closest], "label": self.labels[closest],
             "distance": np.sqrt(np.maximum(squared[closest], 0))}
        )


def cached_test_projection(predictor, images, cache_dir=CACHE_DIR) -> tuple[np.ndarray, np.ndarray]:
    """The embeddings' 2-D PCA (coordinates, variance shares), cached too: the map then opens without the 5 MB read."""

    def compute():
        coordinates, explained = projection_2d(cached_embeddings(predictor, images, "test", cache_dir))
        return {"coordinates": coordinates.astype(np.float32), "explained": explained}

    projection = cached_arrays("test-projection", file_fingerprint(predictor.keras_path), compute, cache_dir)
    return projection["coordinates"], projection["explained"]


def cached_test_umap(predictor, images, cache_dir=CACHE_DIR) -> np.ndarray:
    """The test embeddings' UMAP map, computed once per model file and cached on disk, or read from beside the
    model file when it was shipped there (ship_test_umap): making one takes 1-3 minutes on a new 2-core machine."""
    key, beside = file_fingerprint(predictor.keras_path), Path(predictor.keras_path).parent
    folder = beside if cached_path(UMAP_CACHE, key, beside).exists() else cache_dir
    compute = lambda: {"coordinates": umap_2d(cached_embeddings(predictor, images, "test", cache_dir))}  # noqa: E731
    return cached_arrays(UMAP_CACHE, key, compute, folder)["coordinates"]


def ship_test_umap(predictor, images, cache_dir=CACHE_DIR) -> Path:
    """Write the test set's UMAP map beside the model file, named by its fingerprint, so that the Embedding page
    opens at once on a new machine; maps there of earlier model files are deleted."""
    key, beside = file_fingerprint(predictor.keras_path), Path(predictor.keras_path).parent
    shipped = cached_path(UMAP_CACHE, key, beside)
    cached_arrays(UMAP_CACHE, key, lambda: {"coordinates": cached_test_umap(predictor, images, cache_dir)}, beside)
    for stale in beside.glob(f"{UMAP_CACHE}-*.npz"):
        if stale != shipped:
            stale.unlink()
    return shipped


# --- The tutorial's error analysis of one digit ---


def sample_ids(labels, digit: int | None, count: int, seed: int) -> np.ndarray:
    """Sorted ids of `count` images of `digit` (None: any digit), drawn without replacement; a seed fixes the sample."""
    labels = np.asarray(labels)
    candidates = np.arange(len(labels)) if digit is None else np.flatnonzero(labels == digit)
    if not 1 <= count <= len(candidates):
        subject = "images" if digit is None else f"images of digit {digit}"
        raise ValueError(f"expected a sample of 1 to {len(candidates)} {subject}, got {count}")
    return np.sort(np.random.default_rng(seed).choice(candidates, size=count, replace=False))


def correctness_counts(predictions: pd.DataFrame) -> pd.DataFrame:
    """The tutorial's FALSE/TRUE table: how many predictions were wrong and right, both rows always present."""
    counts = predictions["correct"].value_counts().reindex([False, True], fill_value=0).to_numpy()
    return pd.DataFrame(
        {
            "prediction": ["wrong", "right"],
            "correct": [False, True],
            "images": counts,
            "share": counts / max(len(predictions), 1),
        }
    )


def wrong_prediction_counts(predictions: pd.DataFrame) -> pd.Series:
    """How often each label 0-9 was predicted wrongly, zeros kept so that a chart shows all ten labels."""
    wrong = predictions.loc[~predictions["correct"], "predicted"]
    return wrong.value_counts().reindex(range(NUM_CLASSES), fill_value=0).rename_axis("predicted").rename("images")


def probabilities_long(ids, probabilities) -> pd.DataFrame:
    """The tutorial's long table: one row per image and label, with the probability the model gave that label."""
    probabilities = np.asarray(probabilities).reshape(-1, NUM_CLASSES)
    return pd.DataFrame(
        {
            "id": np.repeat(np.asarray(ids), NUM_CLASSES),
            "label": np.tile(np.arange(NUM_CLASSES), len(probabilities)),
            "probability": probabilities.ravel(),
        }
    )
