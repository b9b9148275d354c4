"""Read the MNIST IDX files shipped in data/mnist, checking headers and sizes."""

import gzip
import struct
from pathlib import Path

import numpy as np

from digitlens import DATA_DIR, IMAGE_SIDE

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60_000),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10_000),
}
IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension


class DataError(RuntimeError):
    """An MNIST file is missing or not what it should be."""


def read_idx(path: Path, magic: int, count: int) -> np.ndarray:
    """Read one gzipped IDX file, failing with a message that names the file."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DataError(f"{path}: file is missing; copy it from the original MNIST files into {path.parent}") from None
    except (OSError, EOFError) as error:
        raise DataError(f"{path}: not a readable gzip file ({error})") from None
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    if len(raw) < header_size or struct.unpack(">I", raw[:4])[0] != magic:
        raise DataError(f"{path}: bad IDX header, expected magic number {magic:#010x}")
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    expected = (count, IMAGE_SIDE, IMAGE_SIDE)[:ndim]
    if shape != expected:
        raise DataError(f"{path}: IDX header says shape {shape}, expected {expected}")
    body = np.frombuffer(raw, dtype=np.uint8, offset=header_size)
    if body.size != np.prod(shape):
        raise DataError(f"{path}: truncated or padded, {body.size} bytes of data where the header promises {np.prod(shape)}")
    return body.reshape(shape)


def load(split: str = "test", data_dir: Path = DATA_DIR) -> tuple[np.ndarray, np.ndarray]:
    """Images as uint8 (N, 28, 28) and labels as uint8 (N,) for 'train' or 'test'."""
    if split not in FILES:
        raise ValueError(f"split must be one of {sorted(FILES)}, got {split!r}")
    images_file, labels_file, count = FILES[split]
    images = read_idx(Path(data_dir) / images_file, IMAGES_MAGIC, count)
    labels = read_idx(Path(data_dir) / labels_file, LABELS_MAGIC, count)
    return images, labels


def to_csv_rows(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The tutorial's CSV layout: the label, then the 784 pixels of each image."""
    return np.column_stack([labels, images.reshape(len(images), -1)])
