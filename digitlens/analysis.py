"""Error-analysis tables computed from labels and predicted probabilities (NumPy / pandas, no UI)."""

import numpy as np

from digitlens import NUM_CLASSES


def confusion_matrix(labels, predicted) -> np.ndarray:
    """Counts (10, 10): row = true label, column = predicted label."""
    matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, int), np.asarray(predicted, int)), 1)
    return matrix


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Recall of each true class: the share of its images predicted right."""
    totals = matrix.sum(axis=1)
    return np.divide(np.diag(matrix), totals, out=np.zeros(len(matrix)), where=totals > 0)
