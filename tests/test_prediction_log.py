"""The prediction log and feedback in the store, on a SQLite file and on a real PostgreSQL server."""

import csv
import io
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import sqlalchemy as sa

from digitlens import prediction_log, telemetry
from digitlens.prediction_log import PredictionLog
from digitlens.store import FEEDBACK_EXPORT_COLUMNS, MIGRATIONS, Served, Store


def served(count: int, source: str = "api", is_digit=None, **changes) -> Served:
    rng = np.random.default_rng(count)
    return Served(
        changes.get("time", datetime.now(timezone.utc)), source, rng.uniform(0, 255, (count, 784)),
        rng.dirichlet(np.ones(10), count), is_digit, 2.5, "abc123",
    )


def test_predictions_read_back_as_served(database_url):
    store = Store(database_url)
    batch = served(3, is_digit=np.array([True, False, True]))
    single = served(1, source="draw")
    assert store.save_predictions([batch, single]) == 4
    found = store.predictions()
    assert list(found.table["source"]) == ["api"] * 3 + ["draw"]
    assert list(found.table["is_digit"]) == [True, False, True, None]
    assert np.array_equal(found.images[:3].reshape(3, -1), np.rint(batch.images).astype(np.uint8))
    assert np.allclose(found.probabilities[:3], batch.probabilities, atol=1e-7)
    assert list(found.table["answer"][:3]) == list(batch.probabilities.argmax(axis=1))
    assert found.table["time"].dt.tz is not None and (found.table["latency_ms"] == 2.5).all()
    assert store.count_predictions() == 4 and store.count_predictions("draw") == 1


def test_predictions_since_a_time_or_the_newest_few_oldest_first(database_url):
    store = Store(database_url)
    hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    store.save_predictions([served(2, time=hour_ago - timedelta(minutes=1)), served(3), served(4)])
    assert len(store.predictions(since=hour_ago).table) == 7
    newest = store.predictions(limit=5).table
    assert len(newest) == 5 and newest["id"].is_monotonic_increasing and newest["id"].iloc[-1] == 9


def test_retention_keeps_the_newest_predictions(database_url):
    store = Store(database_url)
    store.save_predictions([served(30)])
    assert store.prune_predictions(keep=10) == 20
    assert store.prune_predictions(keep=10) == 0
    assert list(store.predictions().table["id"]) == list(range(21, 31))


def test_the_log_writes_in_the_background_within_its_flush_interval(database_url):
    store = Store(database_url)
    log = PredictionLog(store, flush_seconds=0.1)
    log.record("api", "abc123", np.zeros((2, 28, 28), np.uint8), np.eye(10)[:2], np.array([True, True]), 0.003)
    deadline = time.monotonic() + 3
    while store.count_predictions() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.count_predictions() == 2
    log.record("draw", "abc123", np.zeros((1, 28, 28), np.uint8), np.eye(10)[:1])
    log.close()  # writes what is still queued
    assert store.count_predictions() == 3


def test_a_log_that_cannot_write_counts_the_loss_and_serving_goes_on(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'log.db'}")
    with store.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE predictions"))
    log = PredictionLog(store, flush_seconds=3600)
    before = telemetry.LOG_DROPPED._value.get()
    log.record("api", "abc123", np.zeros((3, 784)), np.eye(10)[:3])
    assert log.flush() == 0
    assert telemetry.LOG_DROPPED._value.get() == before + 3
    log.close()


def test_the_log_is_on_unless_turned_off_and_its_retention_is_checked(monkeypatch):
    monkeypatch.delenv(prediction_log.LOG_ENV, raising=False)
    assert prediction_log.enabled()
    for off in ("0", "false", "OFF", " no "):
        monkeypatch.setenv(prediction_log.LOG_ENV, off)
        assert not prediction_log.enabled()
    monkeypatch.setenv(prediction_log.KEEP_ENV, "5000")
    assert prediction_log.retention() == 5000
    monkeypatch.setenv(prediction_log.KEEP_ENV, "lots")
    with pytest.raises(ValueError, match="DIGITLENS_LOG_KEEP must be a whole number"):
        prediction_log.retention()


def test_feedback_reads_back_and_exports_with_its_pixels(database_url):
    store = Store(database_url)
    image = np.arange(784).reshape(28, 28) % 256
    store.save_feedback(image, np.eye(10)[3], "wrong", 5, source="draw", model="abc123")
    store.save_feedback(image, np.eye(10)[3], "right")
    store.save_feedback(image, np.eye(10)[3], "not_a_digit", source="upload")
    table = store.feedback().table
    assert list(table["verdict"]) == ["wrong", "right", "not_a_digit"]
    assert list(table["label"]) == [5, 3, None]
    file = io.StringIO()
    assert store.export_feedback_csv(file) == 3
    rows = list(csv.DictReader(io.StringIO(file.getvalue())))
    assert list(rows[0]) == FEEDBACK_EXPORT_COLUMNS
    assert (rows[0]["answer"], rows[0]["label"], rows[2]["label"], rows[0]["model"]) == ("3", "5", "", "abc123")
    assert [int(value) for value in rows[0]["pixels"].split()] == list(image.ravel())


@pytest.mark.parametrize(
    "verdict, label, message",
    [("maybe", None, "feedback must be one of"), ("wrong", None, "needs the right digit"), ("wrong", 3, "must differ"),
     ("wrong", 12, "needs the right digit"), ("not_a_digit", 4, "only a wrong answer takes")],
)
def test_bad_feedback_is_refused_with_a_message_and_nothing_is_written(tmp_path, verdict, label, message):
    store = Store(f"sqlite:///{tmp_path / 'feedback.db'}")
    with pytest.raises(ValueError, match=message):
        store.save_feedback(np.zeros((28, 28)), np.eye(10)[3], verdict, label)
    assert store.feedback().table.empty


def test_a_database_made_by_the_first_version_keeps_its_reviews_when_upgraded(tmp_path):
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO reviews (split, image_id, given_label, verdict, tags, note, reviewer, created_at) "
            "VALUES ('test', 947, 8, 'label_right', '', '', 'ann', '2026-11-01 10:00:00.000000')"
        ))
    store = Store(url)
    assert [review.image_id for review in store.history()] == [947]
    assert store.count_predictions() == 0 and store.feedback().table.empty


def test_times_on_a_whole_second_read_back_and_count_from_that_second(database_url):
    store = Store(database_url)
    whole = datetime(2026, 11, 26, 11, 54, 50, tzinfo=timezone.utc)
    store.save_predictions([served(1, time=whole.replace(microsecond=123456)), served(2, time=whole + timedelta(seconds=1)), served(3, time=whole)])
    assert list(store.predictions().table["time"]) == [whole.replace(microsecond=123456)] + [whole + timedelta(seconds=1)] * 2 + [whole] * 3
    assert len(store.predictions(since=whole).table) == 6


def test_the_writer_lives_on_when_the_retention_check_fails(tmp_path, monkeypatch):
    store = Store(f"sqlite:///{tmp_path / 'log.db'}")
    monkeypatch.setattr(prediction_log, "PRUNE_EVERY", 1)
    monkeypatch.setattr(store, "prune_predictions", lambda keep: (_ for _ in ()).throw(sa.exc.OperationalError("DELETE", {}, "locked")))
    log = PredictionLog(store, flush_seconds=0.05)
    for _ in range(3):
        log.record("api", "abc123", np.zeros((1, 784)), np.eye(10)[:1])
        time.sleep(0.15)
    log.close()
    assert store.count_predictions() == 3


def test_a_full_queue_drops_and_counts_predictions_not_requests(tmp_path, monkeypatch):
    monkeypatch.setattr(prediction_log, "MAX_QUEUED", 1_000)
    log = PredictionLog(Store(f"sqlite:///{tmp_path / 'log.db'}"), flush_seconds=3600)
    before = telemetry.LOG_DROPPED._value.get()
    log.record("api", "abc123", np.zeros((800, 784)), np.eye(10)[np.zeros(800, int)])
    log.record("api", "abc123", np.zeros((300, 784)), np.eye(10)[np.zeros(300, int)])  # 1,100 > 1,000: dropped
    log.record("api", "abc123", np.zeros((200, 784)), np.eye(10)[np.zeros(200, int)])
    assert telemetry.LOG_DROPPED._value.get() == before + 300
    assert log.flush() == 1_000
    log.close()
