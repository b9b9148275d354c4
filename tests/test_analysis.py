"""The tutorial's error-analysis tables for one digit: sampling, the FALSE/TRUE counts, wrong labels, long table."""

import numpy as np
import pytest

from digitlens import analysis

LABELS = np.array([2, 2, 2, 2, 7, 7, 1, 2])


@pytest.fixture
def predictions():
    """Four images of 2: two right, one taken for 3 and one for 7."""
    probabilities = np.full((4, 10), 0.01)
    probabilities[[0, 1, 2, 3], [2, 2, 3, 7]] = 0.91
    return analysis.predictions_table([2, 2, 2, 2], probabilities)


def test_sample_ids_draws_only_the_chosen_digit_and_repeats_with_the_seed():
    ids = analysis.sample_ids(LABELS, 2, 3, seed=5)
    assert len(set(ids)) == 3 and (LABELS[ids] == 2).all()
    assert (ids == analysis.sample_ids(LABELS, 2, 3, seed=5)).all()
    assert list(ids) == sorted(ids)


def test_sample_ids_changes_with_the_seed(test_set):
    _, labels = test_set
    assert set(analysis.sample_ids(labels, 2, 300, seed=0)) != set(analysis.sample_ids(labels, 2, 300, seed=1))


def test_sample_ids_takes_any_digit_when_digit_is_none():
    assert sorted(analysis.sample_ids(LABELS, None, len(LABELS), seed=0)) == list(range(len(LABELS)))


@pytest.mark.parametrize("count", [0, 6])
def test_sample_ids_rejects_a_sample_larger_than_the_class_or_empty(count):
    with pytest.raises(ValueError, match=f"1 to 5 images of digit 2, got {count}"):
        analysis.sample_ids(LABELS, 2, count, seed=0)


def test_correctness_counts_is_the_tutorials_false_true_table(predictions):
    table = analysis.correctness_counts(predictions)
    assert table["correct"].tolist() == [False, True]
    assert table["images"].tolist() == [2, 2]
    assert table["share"].tolist() == [0.5, 0.5]


def test_correctness_counts_keeps_the_wrong_row_when_all_are_right(predictions):
    table = analysis.correctness_counts(predictions[predictions["correct"]])
    assert table["images"].tolist() == [0, 2]


def test_wrong_prediction_counts_lists_all_ten_labels(predictions):
    counts = analysis.wrong_prediction_counts(predictions)
    assert counts.index.tolist() == list(range(10))
    assert counts[3] == 1 and counts[7] == 1 and counts.sum() == 2


def test_probabilities_long_has_one_row_per_image_and_label():
    probabilities = np.arange(20, dtype=float).reshape(2, 10) / 100
    table = analysis.probabilities_long([42, 7], probabilities)
    assert len(table) == 20
    assert table.loc[(table["id"] == 7) & (table["label"] == 3), "probability"].item() == pytest.approx(0.13)


@pytest.mark.parametrize("damage", ["truncated", "flipped bytes", "empty", "not a zip"])
def test_a_broken_cache_file_is_computed_again(tmp_path, damage):
    """A file cut short by a crash or corrupted on disk heals itself instead of breaking the pages for good."""
    arrays = {"probabilities": np.arange(40, dtype=np.float32).reshape(4, 10)}
    calls = []

    def compute():
        calls.append(1)
        return arrays

    analysis.cached_arrays("test", "key", compute, tmp_path)
    path = tmp_path / "test-key.npz"
    content = path.read_bytes()
    broken = {
        "truncated": content[: len(content) // 2],
        "flipped bytes": content[:150] + bytes(b ^ 0xFF for b in content[150:160]) + content[160:],  # in the data: bad CRC
        "empty": b"",
        "not a zip": b"hello",
    }[damage]
    path.write_bytes(broken)
    again = analysis.cached_arrays("test", "key", compute, tmp_path)
    np.testing.assert_array_equal(again["probabilities"], arrays["probabilities"])
    assert len(calls) == 2
    assert analysis.cached_arrays("test", "key", compute, tmp_path) and len(calls) == 2  # healed: read, not computed
