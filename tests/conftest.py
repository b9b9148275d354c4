"""Fixtures shared by the whole suite: the real test set and the committed model, loaded once."""

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from digitlens import data
from digitlens.model import Predictor

# The dashboard's pages and servers started by tests keep their reviews in a scratch database, never in the
# developer's digitlens.db.
os.environ["DIGITLENS_DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp(prefix='digitlens-tests-')) / 'digitlens.db'}"


@pytest.fixture(scope="session")
def test_set():
    """The 10,000 MNIST test images (uint8, (N, 28, 28)) and their labels."""
    return data.load("test")


@pytest.fixture(scope="session")
def predictor():
    return Predictor.load()


@pytest.fixture(scope="session")
def saturated_image_id(predictor, test_set) -> int:
    """The first test image the committed model reads with a probability that rounds to 1 in float32, where
    log-probabilities see no change (which image that is depends on the model)."""
    ids = np.flatnonzero(predictor.predict_proba(test_set[0]).max(axis=1) == 1.0)
    assert len(ids) > 0, "the committed model reads no test image at probability 1"
    return int(ids[0])


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server for the session (tests/databases.py)."""
    from databases import running_postgres

    with running_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each store test runs on a fresh SQLite file and on a fresh database of a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'digitlens.db'}"
    import sqlalchemy as sa

    from digitlens.store import database_url as driver_url

    url = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(driver_url(url), isolation_level="AUTOCOMMIT")
    name = f"test_{abs(hash(request.node.nodeid))}"
    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def store(tmp_path, monkeypatch):
    """The pages' store, a fresh SQLite file per test (a page opens it through DIGITLENS_DATABASE_URL)."""
    from digitlens.store import Store

    url = f"sqlite:///{tmp_path / 'digitlens.db'}"
    monkeypatch.setenv("DIGITLENS_DATABASE_URL", url)
    return Store(url)
