"""Error-analysis computations (issue 6) on small inputs whose answers are known by hand."""

import numpy as np
import pytest

from digitlens import analysis, charts


def hand_made_matrix():
    labels = [0, 0, 0, 1, 1, 2, 2, 2, 2]
    predicted = [0, 0, 1, 1, 1, 2, 2, 0, 1]
    return analysis.confusion_matrix(labels, predicted)


def one_hot_probabilities(labels, confidence=0.95):
    probabilities = np.full((len(labels), 10), (1 - confidence) / 9)
    probabilities[np.arange(len(labels)), labels] = confidence
    return probabilities


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    matrix = hand_made_matrix()
    assert matrix[:3, :3].tolist() == [[2, 1, 0], [0, 2, 0], [1, 1, 2]]
    assert matrix.sum() == 9


def test_accuracy_is_the_diagonal_share():
    assert analysis.accuracy(hand_made_matrix()) == pytest.approx(6 / 9)


def test_row_normalised_rows_sum_to_one_and_empty_rows_stay_zero():
    shares = charts.row_normalised(hand_made_matrix())
    assert shares[0, :3] == pytest.approx([2 / 3, 1 / 3, 0])
    assert shares[:3].sum(axis=1) == pytest.approx([1, 1, 1])
    assert (shares[3:] == 0).all()


def test_classification_report_precision_recall_f1():
    report = analysis.classification_report(hand_made_matrix())
    assert report.loc[1, "precision"] == pytest.approx(2 / 4)
    assert report.loc[1, "recall"] == pytest.approx(1.0)
    assert report.loc[1, "f1"] == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert report.loc[2, "support"] == 4
    assert report.loc[5].tolist() == [0, 0, 0, 0]


def test_top_confusions_ranks_mistakes_by_count_and_skips_the_diagonal():
    matrix = analysis.confusion_matrix([7] * 5 + [4] * 4 + [9] * 3, [1, 1, 1, 7, 7] + [9, 9, 4, 4] + [4, 9, 9])
    table = analysis.top_confusions(matrix, count=2)
    assert table[["true", "predicted", "count"]].values.tolist() == [[7, 1, 3], [4, 9, 2]]
    assert table.loc[0, "share_of_true"] == pytest.approx(3 / 5)


def test_predictions_table_names_prediction_runner_up_and_correctness():
    probabilities = np.zeros((2, 10))
    probabilities[0, [3, 8]] = [0.7, 0.3]
    probabilities[1, [1, 7]] = [0.4, 0.6]
    table = analysis.predictions_table([3, 1], probabilities)
    assert table["predicted"].tolist() == [3, 7]
    assert table["runner_up"].tolist() == [8, 1]
    assert table["confidence"].tolist() == pytest.approx([0.7, 0.6])
    assert table["correct"].tolist() == [True, False]
    assert table.index.name == "id"


def test_ece_of_a_perfectly_calibrated_toy_is_zero():
    confidence = [0.25] * 4 + [0.75] * 4
    correct = [1, 0, 0, 0] + [1, 1, 1, 0]
    assert analysis.expected_calibration_error(confidence, correct) == pytest.approx(0)


def test_ece_of_an_overconfident_toy_is_its_gap():
    assert analysis.expected_calibration_error([0.95] * 10, [1] * 5 + [0] * 5) == pytest.approx(0.45)


def test_reliability_table_bins_by_confidence_and_drops_empty_bins():
    table = analysis.reliability_table([0.15, 0.18, 0.92, 0.99, 1.0], [0, 1, 1, 1, 0], bins=10)
    assert table["count"].tolist() == [2, 3]
    assert table["lower"].tolist() == pytest.approx([0.1, 0.9])
    assert table["accuracy"].tolist() == pytest.approx([0.5, 2 / 3])


def test_suspicious_labels_rank_a_deliberately_flipped_label_first():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 20)
    probabilities = one_hot_probabilities(labels, confidence=0.9) + rng.uniform(0, 0.01, (200, 10))
    probabilities[57, [2, 8]] = [0.45, 0.4]  # a doubtful 2
    probabilities[58] = one_hot_probabilities([3], 0.6)[0]  # a 2 the model takes for a 3
    flipped = 123
    probabilities[flipped] = one_hot_probabilities([4], 0.99)[0]  # a clear 4 labelled 6
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    ranking = analysis.suspicious_labels(labels, probabilities)
    assert ranking.index[:3].tolist() == [flipped, 58, 57]
    assert ranking.loc[flipped, ["label", "suggested"]].tolist() == [6, 4]
    assert ranking.loc[flipped, "given_probability"] == pytest.approx(0.001, abs=0.01)
    assert ranking.loc[flipped, "margin"] == pytest.approx(-0.98, abs=0.02)
    assert ranking["disputed"].tolist().count(True) == 3 and len(ranking) == 200


def test_suspicious_labels_doubt_a_label_only_as_far_as_the_most_believing_model():
    labels = np.array([0, 1, 2])
    sure_it_is_wrong = one_hot_probabilities([5, 5, 5], 0.99)
    believes_the_second = sure_it_is_wrong.copy()
    believes_the_second[1] = one_hot_probabilities([1], 0.8)[0]
    ranking = analysis.suspicious_labels(labels, [sure_it_is_wrong, believes_the_second])
    assert ranking.index[-1] == 1 and ranking.loc[1, "given_probability"] == pytest.approx(0.8)
    assert ranking["disputed"].tolist() == [True, True, False]
    assert (ranking["suggested"] == 5).all()  # the mean of the two still points at 5


def test_suspicious_labels_dispute_nothing_when_the_model_agrees_with_every_label():
    labels = np.arange(10).repeat(3)
    assert not analysis.suspicious_labels(labels, one_hot_probabilities(labels))["disputed"].any()


def test_projection_2d_finds_the_direction_of_spread():
    along = np.linspace(-5, 5, 50)
    points = np.zeros((50, 8))
    points[:, 2] = along
    points[:, 5] = 0.01 * np.sin(along)
    coordinates, explained = analysis.projection_2d(points)
    assert coordinates.shape == (50, 2)
    assert explained[0] > 0.999
    assert coordinates[:, 0] == pytest.approx(along, abs=1e-3)  # sign fixed: the largest loading is positive


def test_cached_arrays_computes_once_then_reads_the_file(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"probabilities": np.eye(3, dtype=np.float32)}

    first = analysis.cached_arrays("outputs", "abc", compute, tmp_path)
    second = analysis.cached_arrays("outputs", "abc", compute, tmp_path)
    assert len(calls) == 1
    assert (second["probabilities"] == first["probabilities"]).all()
    assert [path.name for path in tmp_path.iterdir()] == ["outputs-abc.npz"]


def test_cached_arrays_recomputes_for_a_new_key(tmp_path):
    analysis.cached_arrays("outputs", "old", lambda: {"x": np.zeros(2)}, tmp_path)
    fresh = analysis.cached_arrays("outputs", "new", lambda: {"x": np.ones(2)}, tmp_path)
    assert fresh["x"].tolist() == [1, 1]


def test_file_fingerprint_changes_with_the_content(tmp_path):
    model = tmp_path / "model.keras"
    model.write_bytes(b"weights v1")
    before = analysis.file_fingerprint(model)
    model.write_bytes(b"weights v2")
    assert analysis.file_fingerprint(model) != before
    assert len(before) == 16


def small_predictions():
    probabilities = np.full((6, 10), 0.0)
    labels = [7, 7, 7, 7, 1, 1]
    predicted = [7, 7, 1, 1, 1, 1]
    confidence = [0.99, 0.6, 0.7, 0.9, 0.95, 0.5]
    for row, (digit, p) in enumerate(zip(predicted, confidence)):
        probabilities[row, digit] = p
        probabilities[row, (digit + 1) % 10] = 1 - p
    return analysis.predictions_table(labels, probabilities)


def test_cell_images_put_confident_mistakes_and_unsure_successes_first():
    predictions = small_predictions()
    assert analysis.cell_images(predictions, 7, 1).index.tolist() == [3, 2]
    assert analysis.cell_images(predictions, 7, 7).index.tolist() == [1, 0]
    assert analysis.cell_images(predictions, 3, 5).empty


def test_confident_mistakes_and_unsure_successes():
    predictions = small_predictions()
    assert analysis.confident_mistakes(predictions, 1).index.tolist() == [3]
    assert analysis.unsure_successes(predictions, 2).index.tolist() == [5, 1]


class CountingPredictor:
    """A stand-in predictor that counts how often it is asked, with a real file to fingerprint."""

    def __init__(self, keras_path):
        self.keras_path = keras_path
        self.calls = 0

    def predict_proba(self, images):
        self.calls += 1
        return np.full((len(images), 10), 0.1, np.float32)


def test_test_set_probabilities_are_computed_once_per_model_and_fast_model(tmp_path):
    model = tmp_path / "model.keras"
    model.write_bytes(b"weights v1")
    predictor = CountingPredictor(model)
    images = np.zeros((4, 28, 28), np.uint8)
    first = analysis.cached_test_probabilities(predictor, images, tmp_path / "cache")
    again = analysis.cached_test_probabilities(predictor, images, tmp_path / "cache")
    model.write_bytes(b"weights v2, retrained")
    analysis.cached_test_probabilities(predictor, images, tmp_path / "cache")
    model.with_suffix(".tflite").write_bytes(b"the same weights, quantised for the fast predictor")
    analysis.cached_test_probabilities(predictor, images, tmp_path / "cache")
    assert predictor.calls == 3
    assert again.shape == first.shape == (4, 10)


def test_test_set_projection_is_computed_from_the_cached_embeddings_and_cached_itself(tmp_path):
    model = tmp_path / "model.keras"
    model.write_bytes(b"weights")
    predictor = CountingPredictor(model)  # has no Keras model: the embeddings must come from the cache
    key = analysis.file_fingerprint(model)
    embeddings = np.zeros((6, 128), np.float32)
    embeddings[:, 0] = np.arange(6)
    analysis.cached_arrays("test-embeddings", key, lambda: {"embeddings": embeddings}, tmp_path)
    coordinates, explained = analysis.cached_test_projection(predictor, np.zeros((6, 28, 28)), tmp_path)
    assert coordinates[:, 0] == pytest.approx(np.arange(6) - 2.5)
    assert explained[0] == pytest.approx(1)
    assert (tmp_path / f"test-projection-{key}.npz").exists()


def test_neighbour_index_finds_the_nearest_like_brute_force_and_can_leave_the_query_out():
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(500, 16)).astype(np.float32)
    splits, ids = np.array(["train"] * 400 + ["test"] * 100), np.r_[np.arange(400), np.arange(100)]
    index = analysis.NeighbourIndex(embeddings, splits, ids, rng.integers(0, 10, 500))
    query = embeddings[420]
    found = index.nearest(query, 5)
    brute = np.argsort(np.linalg.norm(embeddings - query, axis=1))[:5]
    assert found["id"].tolist() == ids[brute].tolist() and found["split"].tolist() == splits[brute].tolist()
    assert found["distance"].iloc[0] == pytest.approx(0, abs=1e-3) and found["distance"].is_monotonic_increasing
    without = index.nearest(query, 5, exclude=("test", 20))
    assert ("test", 20) not in set(zip(without["split"], without["id"]))
    assert without["id"].tolist()[:4] == ids[brute[1:5]].tolist()


def test_mcnemar_counts_the_images_only_one_model_gets_right_and_tests_the_split():
    labels = np.zeros(100, int)
    ours, theirs = np.zeros(100, int), np.zeros(100, int)
    ours[:2] = 1  # ours wrong on 2 images
    theirs[2:14] = 1  # theirs wrong on 12 others
    test = analysis.mcnemar(labels, ours, theirs)
    assert (test["only_a"], test["only_b"]) == (12, 2)
    assert test["p_value"] == pytest.approx(0.012939, abs=1e-5)  # two-sided exact binomial, 2 of 14 at 1/2
    assert analysis.mcnemar(labels, ours, ours)["p_value"] == 1.0


def test_disagreements_say_who_is_right():
    table = analysis.disagreements([1, 2, 3, 4], [1, 5, 3, 6], [7, 2, 3, 8])
    assert table.index.tolist() == [0, 1, 3]
    assert table["right"].tolist() == ["a", "b", "neither"]
    assert table.loc[3, ["label", "a", "b"]].tolist() == [4, 6, 8]


def test_a_umap_map_shipped_beside_the_model_is_read_and_stale_ones_are_deleted(tmp_path, monkeypatch):
    model = tmp_path / "model" / "model.keras"
    model.parent.mkdir()
    model.write_bytes(b"weights")
    stale = model.parent / "test-umap-0123456789abcdef.npz"
    stale.write_bytes(b"the map of an earlier model file")
    made = []
    monkeypatch.setattr(analysis, "umap_2d", lambda embeddings: made.append(1) or np.asarray(embeddings)[:, :2])
    embeddings = np.arange(12, dtype=np.float32).reshape(6, 2)
    cache = tmp_path / "cache"
    analysis.cached_arrays("test-embeddings", analysis.file_fingerprint(model), lambda: {"embeddings": embeddings}, cache)

    shipped = analysis.ship_test_umap(CountingPredictor(model), np.zeros((6, 28, 28)), cache)
    assert shipped == model.parent / f"test-umap-{analysis.file_fingerprint(model)}.npz" and shipped.exists()
    assert not stale.exists() and made == [1]

    (cache / shipped.name).unlink()  # a new machine: nothing cached, the shipped map is all there is
    monkeypatch.setattr(analysis, "umap_2d", lambda embeddings: pytest.fail("made a map where one was shipped"))
    assert analysis.cached_test_umap(CountingPredictor(model), np.zeros((6, 28, 28)), cache).tolist() == embeddings.tolist()


@pytest.mark.parametrize("model", ["model/mnist_cnn.keras", "model/mlp/mnist_mlp.keras"])
def test_each_committed_model_ships_the_umap_map_of_its_own_file(model):
    from digitlens import ROOT, data

    path = ROOT / model
    shipped = list(path.parent.glob("test-umap-*.npz"))
    assert [file.name for file in shipped] == [f"test-umap-{analysis.file_fingerprint(path)}.npz"], (
        f"run: python -m digitlens embedding-map --model {model}"
    )
    with np.load(shipped[0]) as stored:
        coordinates = stored["coordinates"]
    assert coordinates.shape == (len(data.load("test")[1]), 2) and np.isfinite(coordinates).all()
