"""Fixtures shared by the whole suite: the real test set and the committed model, loaded once."""

import pytest

from digitlens import data
from digitlens.model import Predictor


@pytest.fixture(scope="session")
def test_set():
    """The 10,000 MNIST test images (uint8, (N, 28, 28)) and their labels."""
    return data.load("test")


@pytest.fixture(scope="session")
def predictor():
    return Predictor.load()
