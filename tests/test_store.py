"""The review store on a SQLite file and on a real PostgreSQL server (the database_url fixture gives both)."""

import csv
import io
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing

import pytest
import sqlalchemy as sa

from digitlens import ROOT
from digitlens.store import DATABASE_ENV, EXPORT_COLUMNS, Store, clean_tags, database_url as resolved_url


def test_saved_verdict_reads_back_with_clean_tags(database_url):
    store = Store(database_url)
    store.save_review("test", 947, 8, "label_wrong", 9, tags="looks like 9, ,  thin ,looks like 9", note=" a 9 ", reviewer="ann")
    (review,) = store.history()
    assert (review.split, review.image_id, review.given_label, review.verdict) == ("test", 947, 8, "label_wrong")
    assert (review.corrected_label, review.label, review.tags, review.note) == (9, 9, ("looks like 9", "thin"), "a 9")
    assert review.created_at.tzinfo is not None


def test_a_later_verdict_supersedes_and_history_keeps_both(database_url):
    store = Store(database_url)
    store.save_review("train", 10, 3, "ambiguous", reviewer="ann")
    store.save_review("train", 10, 3, "label_right", reviewer="bob")
    store.save_review("test", 10, 3, "not_a_digit")
    latest = store.latest()
    assert latest[("train", 10)].verdict == "label_right" and latest[("train", 10)].label == 3
    assert latest[("test", 10)].label is None
    assert [review.reviewer for review in store.history("train", 10)] == ["ann", "bob"]


def test_two_reviewers_at_once_lose_nothing(database_url):
    """Two tabs are two sessions writing at the same moment; every verdict of both must be kept."""
    tabs = [Store(database_url), Store(database_url)]

    def review(store, reviewer):
        for image_id in range(40):
            store.save_review("test", image_id, 1, "label_right", reviewer=reviewer)

    threads = [threading.Thread(target=review, args=(store, name)) for store, name in zip(tabs, ["ann", "bob"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    history = Store(database_url).history()
    assert sorted((r.reviewer, r.image_id) for r in history) == sorted((n, i) for n in ["ann", "bob"] for i in range(40))


def test_a_saved_verdict_survives_kill_9(database_url):
    saver = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time; from digitlens.store import Store\n"
            f"Store({database_url!r}).save_review('test', 321, 2, 'label_wrong', 7, reviewer='ann')\n"
            "print('saved', flush=True); time.sleep(60)"
        )],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    assert saver.stdout.readline().strip() == "saved"
    saver.kill()
    saver.wait()
    assert Store(database_url).latest()[("test", 321)].corrected_label == 7


@pytest.mark.parametrize(
    "verdict, message",
    [
        (dict(split="valid"), "split must be one of"),
        (dict(image_id=10_000), "image id must be from 0 to 9999 in test"),
        (dict(image_id=-1), "image id must be from 0 to 9999"),
        (dict(given_label=10), "given label must be a digit"),
        (dict(verdict="wrong"), "verdict must be one of"),
        (dict(verdict="label_wrong"), "needs the right digit"),
        (dict(verdict="label_wrong", corrected_label=4), "must differ from the given label 4"),
        (dict(verdict="label_wrong", corrected_label=12), "needs the right digit, 0-9"),
        (dict(verdict="ambiguous", corrected_label=3), "only a wrong label takes a corrected label"),
    ],
)
def test_a_bad_verdict_is_refused_with_a_message_and_nothing_is_written(verdict, message, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'digitlens.db'}")
    arguments = {"split": "test", "image_id": 5, "given_label": 4, "verdict": "label_right", **verdict}
    with pytest.raises(ValueError, match=message):
        store.save_review(**arguments)
    assert store.history() == []


def test_export_writes_every_verdict_as_csv(database_url):
    store = Store(database_url)
    store.save_review("test", 2462, 2, "label_wrong", 0, tags=["open loop"], note='said "0", plainly', reviewer="ann")
    store.save_review("train", 7, 3, "label_right", reviewer="bob")
    file = io.StringIO()
    assert store.export_csv(file) == 2
    rows = list(csv.DictReader(io.StringIO(file.getvalue())))
    assert list(rows[0]) == EXPORT_COLUMNS
    assert rows[0] | {"time": ""} == {
        "split": "test", "id": "2462", "given_label": "2", "verdict": "label_wrong", "corrected_label": "0",
        "tags": "open loop", "note": 'said "0", plainly', "reviewer": "ann", "time": "",
    }
    assert rows[1]["corrected_label"] == "" and rows[1]["time"].endswith("+00:00")


def test_sqlite_runs_in_wal_mode_at_the_newest_migration(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'digitlens.db'}")
    Store(store.url)  # opening again migrates nothing and breaks nothing
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0002"


def test_a_new_sqlite_file_is_in_wal_mode_before_any_tab_connects(tmp_path):
    """Switching to WAL takes a lock SQLite does not wait for while another connection writes: when each tab's
    first connection switched, two tabs opening a new file at once lost one reviewer's verdicts (10 of 150 tries)."""
    path = tmp_path / "digitlens.db"
    Store(f"sqlite:///{path}")
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_database_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(DATABASE_ENV, "postgresql://someone@db.example/reviews")
    assert resolved_url() == "postgresql+psycopg://someone@db.example/reviews"
    monkeypatch.delenv(DATABASE_ENV)
    assert resolved_url().startswith("sqlite:///") and resolved_url().endswith("digitlens.db")


def test_tags_are_trimmed_and_kept_once():
    assert clean_tags(" a, b ,,a, c") == ("a", "b", "c")
    assert clean_tags(["x ", "", "x"]) == ("x",)


def test_processes_opening_a_new_database_at_once_all_find_it_migrated(database_url):
    """The API's workers and the dashboard start together; the first migrates, the others wait and find it done."""
    opening = "import sys; from digitlens.store import Store; Store(sys.argv[1]).count_predictions()"
    processes = [subprocess.Popen([sys.executable, "-c", opening, database_url], cwd=ROOT, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    failures = [process.communicate()[1] for process in processes if process.wait() != 0]
    assert not failures, failures[0][-600:]
    assert Store(database_url).count_predictions() == 0
