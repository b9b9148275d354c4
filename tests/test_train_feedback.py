"""Fine-tuning on collected feedback (train --with-feedback): a new version beside the shipped model, scored before and after."""

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from digitlens import METRICS_PATH, MODEL_PATH, NUM_CLASSES, ROOT
from digitlens.model import Predictor, fast_twin, versions
from digitlens.store import Store
from digitlens.train import MIN_FEEDBACK, fine_tune_with_feedback

SMOKE_SHARE = 0.02  # 1,200 MNIST training digits: one epoch in seconds


def collected(url: str, test_set, digits: int, not_digits: int = 0) -> Store:
    """A store holding feedback on MNIST test digits, every third marked wrong (answered as the next digit), and noise
    marked not a digit."""
    store = Store(url)
    images, labels = test_set
    for index in range(digits):
        label = int(labels[index])
        answer = (label + 1) % NUM_CLASSES if index % 3 == 0 else label
        probabilities = np.full(NUM_CLASSES, 0.01) + 0.9 * np.eye(NUM_CLASSES)[answer]
        store.save_feedback(images[index], probabilities, "wrong" if answer != label else "right", label if answer != label else None)
    noise = np.random.default_rng(0).integers(0, 256, (not_digits, 28, 28))
    for image in noise:
        store.save_feedback(image, np.full(NUM_CLASSES, 0.1), "not_a_digit")
    return store


def digests() -> dict:
    return {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in (MODEL_PATH, fast_twin(MODEL_PATH), METRICS_PATH)}


def test_fine_tuning_writes_a_new_version_and_leaves_the_shipped_model_alone(tmp_path, test_set, predictor):
    store = collected(f"sqlite:///{tmp_path / 'feedback.db'}", test_set, digits=30, not_digits=3)
    shipped = digests()

    path, card = fine_tune_with_feedback(store, share=SMOKE_SHARE, out_root=tmp_path / "versions")

    assert digests() == shipped
    assert versions(tmp_path / "versions") == [path]
    assert {found.name for found in path.parent.iterdir()} == {"mnist_cnn.keras", "mnist_cnn.tflite", "metrics.json"}
    assert json.loads((path.parent / "metrics.json").read_text()) == card
    assert {"model", "test_accuracy", "trained_at", "per_class_accuracy", "confusion_matrix", "not_a_digit"} <= card.keys()
    feedback = card["feedback"]
    assert (feedback["trained"], feedback["held_out"], feedback["not_a_digit_left_out"]) == (24, 6, 3)
    assert feedback["base_fingerprint"] == predictor.fingerprint
    assert feedback["mnist_test_accuracy"]["before"] == pytest.approx(json.loads(METRICS_PATH.read_text())["test_accuracy"], abs=0.001)
    assert feedback["mnist_test_accuracy"]["after"] == card["test_accuracy"] > 0.98  # nudged, not retrained
    assert all(0 <= figure <= 1 for figure in feedback["held_out_accuracy"].values())

    images, labels = test_set
    version = Predictor.load(path)
    assert (version.predict(images[:500]) == labels[:500]).mean() > 0.98
    assert version.digit_threshold == predictor.digit_threshold  # the detector is the base's, and so its threshold
    assert np.array_equal(version.digit_scores(images[:50]), predictor.digit_scores(images[:50]))


def test_fine_tuning_refuses_too_little_feedback(tmp_path, test_set):
    store = collected(f"sqlite:///{tmp_path / 'feedback.db'}", test_set, digits=MIN_FEEDBACK - 1, not_digits=5)
    with pytest.raises(ValueError, match=f"at least {MIN_FEEDBACK} feedback drawings marked right or wrong, found {MIN_FEEDBACK - 1}"):
        fine_tune_with_feedback(store, out_root=tmp_path / "versions")
    assert not (tmp_path / "versions").exists()


def test_versions_lists_the_newest_first(tmp_path):
    for name in ["20261126-120000", "20261201-080000", "20261127-235959"]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "mnist_cnn.keras").touch()
    assert [path.parent.name for path in versions(tmp_path)] == ["20261201-080000", "20261127-235959", "20261126-120000"]
    assert versions(tmp_path / "none yet") == []


def test_train_with_feedback_prints_the_new_version_and_the_figures(tmp_path, test_set):
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    collected(url, test_set, digits=20)
    command = [sys.executable, "-m", "digitlens", "train", "--with-feedback", "--share", str(SMOKE_SHARE), "--database", url]
    result = subprocess.run([*command, "--out", str(tmp_path / "versions")], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    (path,) = versions(tmp_path / "versions")
    assert f"wrote {path}" in result.stdout
    assert "MNIST test accuracy: " in result.stdout and "4 held-out drawings read right: " in result.stdout
