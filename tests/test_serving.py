"""Serving outside our API: the `export-savedmodel` command writes a SavedModel that TensorFlow Serving can load."""

import subprocess
import sys

import numpy as np

from digitlens import ROOT


def test_export_savedmodel_writes_a_model_that_agrees_with_the_keras_model(tmp_path, test_set, predictor):
    import tensorflow as tf

    directory = tmp_path / "digitlens" / "1"  # TF Serving's layout: model name, then version
    subprocess.run([sys.executable, "-m", "digitlens", "export-savedmodel", str(directory)], cwd=ROOT, check=True)
    serving = tf.saved_model.load(str(directory)).signatures["serving_default"]
    images = test_set[0][:100].astype(np.float32)
    outputs = serving(pixels=tf.constant(images))
    keras_probabilities, keras_scores = predictor.keras_model.predict(images, verbose=0)
    assert outputs["probabilities"].shape == (100, 10) and outputs["digit_score"].shape == (100, 1)
    np.testing.assert_allclose(outputs["probabilities"].numpy(), keras_probabilities, atol=1e-5)
    np.testing.assert_allclose(outputs["digit_score"].numpy(), keras_scores, atol=1e-5)
