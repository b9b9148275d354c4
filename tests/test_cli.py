import json
import os
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image

from digitlens import METRICS_PATH, MODEL_PATH, ROOT, analysis
from digitlens.model import fast_twin
from digitlens.strokes import draw
from shapes import written


TIMEOUT = 1200  # seconds: a one-epoch training on a fifth of the data took over 300 on a busy 2-core machine


def run(*args):
    return subprocess.run([sys.executable, "-m", "digitlens", *args], capture_output=True, text=True, cwd=ROOT, timeout=TIMEOUT)


def test_predict_prints_path_digit_confidence_and_keeps_going_after_a_bad_file(tmp_path):
    seven = tmp_path / "seven.png"
    Image.fromarray(draw(7, rgba=False, dark_on_light=True)).save(seven)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    three = tmp_path / "three.jpg"
    Image.fromarray(draw(3, rgba=False)).save(three)

    result = run("predict", str(seven), str(broken), str(three))

    assert result.returncode == 2
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert [(path, digit) for path, digit, _ in lines] == [(str(seven), "7"), (str(three), "3")]
    assert all(0.5 < float(confidence) <= 1 for _, _, confidence in lines)
    assert "broken.jpg: not a readable image" in result.stderr
    assert result.stderr.strip().splitlines() == [line for line in result.stderr.strip().splitlines() if "broken.jpg" in line]  # nothing else, no LiteRT INFO


def test_predict_json_prints_ten_probabilities(tmp_path):
    zero = tmp_path / "zero.png"
    Image.fromarray(draw(0, rgba=False)).save(zero)
    result = run("predict", "--json", str(zero))
    assert result.returncode == 0
    record = json.loads(result.stdout)
    assert record["digit"] == 0 and record["is_digit"] is True and len(record["probabilities"]) == 10
    assert abs(sum(record["probabilities"]) - 1) < 1e-3


def test_predict_says_not_a_digit_with_the_closest_digit(tmp_path):
    star = tmp_path / "star.png"
    Image.fromarray(written("*")).save(star)
    text, as_json = run("predict", str(star)), run("predict", "--json", str(star))
    assert text.returncode == as_json.returncode == 0
    path, verdict, closest = text.stdout.rstrip("\n").split("\t")
    record = json.loads(as_json.stdout)
    assert (path, verdict) == (str(star), "not a digit")
    assert closest == f"(closest: {record['digit']}, {max(record['probabilities']):.4f})"
    assert record["is_digit"] is False


def test_predict_number_prints_each_images_number(tmp_path):
    paths = [tmp_path / name for name in ("forty-two.png", "with-a-cross.png", "seven.png")]
    for path, text in zip(paths, ["42", "4x2", "7"]):
        Image.fromarray(written(text)).save(path)
    result = run("predict", "--number", *map(str, paths))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{paths[0]}\t42", f"{paths[1]}\t4?2", f"{paths[2]}\t7"]


def test_predict_number_json_gives_each_digit(tmp_path):
    path = tmp_path / "number.png"
    Image.fromarray(written("4x2")).save(path)
    record = json.loads(run("predict", "--number", "--json", str(path)).stdout)
    assert record["number"] == "4?2"
    assert [(digit["digit"], digit["is_digit"]) for digit in record["digits"]][::2] == [(4, True), (2, True)]
    assert record["digits"][1]["is_digit"] is False and len(record["digits"][1]["probabilities"]) == 10


def test_predict_blank_image_says_draw_a_digit(tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("L", (40, 40), 255).save(blank)
    result = run("predict", str(blank))
    assert result.returncode == 2 and "no digit found" in result.stderr


def test_evaluate_prints_test_accuracy():
    result = run("evaluate")
    assert result.returncode == 0
    accuracy = float(result.stdout.split("test accuracy: ")[1].split("%")[0])
    assert accuracy >= 99.5


def test_export_csv_writes_the_tutorial_format(tmp_path, test_set):
    path = tmp_path / "mnist_test.csv"
    assert run("export-csv", str(path)).returncode == 0
    rows = np.loadtxt(path, delimiter=",", dtype=int, max_rows=2)
    images, labels = test_set
    assert rows.shape == (2, 785)
    assert rows[0, 0] == labels[0] and (rows[0, 1:] == images[0].ravel()).all()


def test_train_writes_a_working_model_and_metrics_card(tmp_path):
    """One epoch on a fifth of the data into a scratch folder: the training script runs end to end and its model serves."""
    result = run("train", "--epochs", "1", "--share", "0.2", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert {path.name for path in tmp_path.iterdir()} == {"mnist_cnn.keras", "mnist_cnn.tflite", "metrics.json"}
    assert metrics["training"]["epochs"] == 1 and metrics["training"]["share"] == 0.2 and len(metrics["confusion_matrix"]) == 10
    assert metrics["test_accuracy"] > 0.9  # it learnt, and its batch-norm statistics were measured afterwards
    assert 0 < metrics["not_a_digit"]["threshold"] < 1
    assert abs(metrics["test_accuracy"] - metrics["keras_test_accuracy"]) < 0.01  # the fast twin is the same model
    evaluated = run("evaluate", "--model", str(tmp_path / "mnist_cnn.keras"))
    assert f"{metrics['test_accuracy']:.2%}" in evaluated.stdout


def test_train_detector_learns_the_digit_score_anew_and_leaves_every_probability_as_it_was(tmp_path, test_set):
    """One epoch on 2 % of the material, on a copy of the shipped model: only the digit score changes."""
    from digitlens.model import Predictor, is_detector

    for path in (MODEL_PATH, fast_twin(MODEL_PATH), METRICS_PATH):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    shipped = Predictor.load()
    result = run("train", "--detector", "--epochs", "1", "--share", "0.02", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    card = json.loads((tmp_path / "metrics.json").read_text())
    assert card["detector"]["epochs"] == 1 and card["detector"]["share"] == 0.02 and "glyph" in card["detector"]["kinds"]
    assert card["test_accuracy"] == json.loads(METRICS_PATH.read_text())["test_accuracy"]
    images, _ = test_set
    retrained = Predictor.load(tmp_path / MODEL_PATH.name)
    for layer in shipped.keras_model.layers:  # the classifier's weights, bit for bit
        if not is_detector(layer):
            for kept, shipped_weights in zip(retrained.keras_model.get_layer(layer.name).get_weights(), layer.get_weights()):
                assert np.array_equal(kept, shipped_weights), layer.name
    # The fast twin, converted anew on this machine, may fold batch norm into the convolutions with other rounding
    # and move an int8 weight by a step (an AVX-512 machine: two probabilities of 2,000, of one ambiguous digit, off
    # by 1.4e-5, where the machine before gave the same bits).
    before, after = shipped.predict_proba(images[:200]), retrained.predict_proba(images[:200])
    np.testing.assert_allclose(after, before, atol=1e-4)
    assert np.array_equal(after.argmax(axis=1), before.argmax(axis=1))
    assert not np.array_equal(retrained.digit_scores(images[:200]), shipped.digit_scores(images[:200]))
    assert card["not_a_digit"]["threshold"] == retrained.digit_threshold


def test_crossval_writes_out_of_sample_probabilities_and_resumes(tmp_path):
    """Two folds of one epoch on 5 % of the images, for each model family: every training image gets probabilities
    from the fold models that left it out."""
    out = tmp_path / "crossval.npz"
    environment = {**os.environ, "DIGITLENS_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "digitlens", "crossval", "--folds", "2", "--epochs", "1", "--share", "0.05", "--out", str(out)]
    first = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=environment, timeout=TIMEOUT)
    assert first.returncode == 0, first.stderr[-2000:]
    card = json.loads(out.with_suffix(".json").read_text())
    with np.load(out) as result:
        assert sorted(result.files) == sorted(f"{split}_{arch}" for split in ("train", "test") for arch in ("cnn", "plain_cnn", "mlp"))
        assert result["train_mlp"].shape == (3000, 10) and result["test_cnn"].shape == (500, 10) and result["train_cnn"].dtype == np.float16
        assert np.allclose(result["train_cnn"].astype(float).sum(axis=1), 1, atol=0.01)
    assert card["folds"] == 2 and card["share"] == 0.05 and card["epochs"] == {"cnn": 1, "plain_cnn": 1, "mlp": 1}
    assert card["accuracy"]["mlp"]["out_of_fold_train_accuracy"] > 0.5  # it learnt
    assert all(family["out_of_fold_train_accuracy"] > 0.2 for family in card["accuracy"].values())  # all beat chance
    resumed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=environment, timeout=TIMEOUT)
    assert "Epoch" not in resumed.stdout and resumed.stdout.count("held-out accuracy") == 6  # all folds read back, none trained


def test_export_reviews_writes_the_stores_verdicts(tmp_path):
    from digitlens.store import Store

    url = f"sqlite:///{tmp_path / 'reviews.db'}"
    Store(url).save_review("test", 947, 8, "label_wrong", 9, reviewer="ann")
    result = run("export-reviews", str(tmp_path / "reviews.csv"), "--database", url)
    assert result.returncode == 0, result.stderr
    assert "wrote 1 verdicts" in result.stdout
    lines = (tmp_path / "reviews.csv").read_text().splitlines()
    assert lines[0] == "split,id,given_label,verdict,corrected_label,tags,note,reviewer,time"
    assert lines[1].startswith("test,947,8,label_wrong,9,,,ann,")


def test_train_mlp_writes_the_tutorials_network_behind_our_detector(tmp_path, predictor, test_set):
    """One epoch on a tenth of the data: the tutorial's MLP is written with its card and serves like our model."""
    from digitlens.model import Predictor

    result = run("train", "--arch", "mlp", "--epochs", "1", "--share", "0.1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert {path.name for path in tmp_path.iterdir()} == {"mnist_mlp.keras", "mnist_mlp.tflite", "metrics.json"}
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.8 and metrics["training"]["epochs"] == 1  # learned (chance is 0.1): over 0.85 behind the smaller detector, 0.8465 behind today's
    assert metrics["not_a_digit"]["threshold"] == predictor.digit_threshold  # the shipped detector, and its threshold
    images, _ = test_set
    mlp = Predictor.load(tmp_path / "mnist_mlp.keras")
    assert np.array_equal(mlp.digit_scores(images[:50]), predictor.digit_scores(images[:50]))


def test_embedding_map_ships_the_map_beside_the_model_file_and_deletes_stale_ones(tmp_path):
    shipped_map = analysis.cached_path(analysis.UMAP_CACHE, analysis.file_fingerprint(MODEL_PATH), MODEL_PATH.parent)
    for path in (MODEL_PATH, fast_twin(MODEL_PATH), METRICS_PATH, shipped_map):  # the map made already: the command only tidies up
        shutil.copy(path, tmp_path / path.name)
    stale = tmp_path / "test-umap-0123456789abcdef.npz"
    stale.write_bytes(b"the map of an earlier model file")
    result = run("embedding-map", "--model", str(tmp_path / MODEL_PATH.name))
    assert result.returncode == 0, result.stderr
    assert f"wrote {tmp_path / shipped_map.name}" in result.stdout
    assert sorted(path.name for path in tmp_path.glob("test-umap-*.npz")) == [shipped_map.name]
