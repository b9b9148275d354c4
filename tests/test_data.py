import gzip
import shutil

import numpy as np
import pytest

from digitlens import DATA_DIR, data


def test_load_test_split_shapes_and_labels(test_set):
    images, labels = test_set
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10_000,) and set(np.unique(labels)) == set(range(10))
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_load_train_split():
    images, labels = data.load("train")
    assert images.shape == (60_000, 28, 28)
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]


def test_load_rejects_unknown_split():
    with pytest.raises(ValueError, match="split must be one of"):
        data.load("validation")


@pytest.fixture
def copied_data(tmp_path):
    for name in data.FILES["test"][:2]:
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def test_missing_file_names_the_file(copied_data):
    (copied_data / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DataError, match="t10k-labels-idx1-ubyte.gz: file is missing"):
        data.load("test", copied_data)


def test_truncated_file_gives_clear_error(copied_data):
    path = copied_data / "t10k-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[: len(raw) // 2]))
    with pytest.raises(data.DataError, match="t10k-images-idx3-ubyte.gz: truncated"):
        data.load("test", copied_data)


def test_corrupt_gzip_gives_clear_error(copied_data):
    path = copied_data / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(data.DataError, match="t10k-images-idx3-ubyte.gz: not a readable gzip file"):
        data.load("test", copied_data)


def test_wrong_magic_number_is_reported(copied_data):
    images, labels = copied_data / "t10k-images-idx3-ubyte.gz", copied_data / "t10k-labels-idx1-ubyte.gz"
    shutil.copy(labels, images)
    with pytest.raises(data.DataError, match="bad IDX header"):
        data.load("test", copied_data)


def test_csv_rows_are_label_then_pixels(test_set):
    images, labels = test_set
    rows = data.to_csv_rows(images[:3], labels[:3])
    assert rows.shape == (3, 785)
    assert rows[:, 0].tolist() == labels[:3].tolist()
    assert (rows[1, 1:] == images[1].ravel()).all()
