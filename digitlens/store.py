"""The one database layer: label reviews, the log of served predictions, and feedback (SQLAlchemy + Alembic).

A SQLite file by default (WAL, so readers never block the writer), PostgreSQL when DIGITLENS_DATABASE_URL names one;
both run this code. Every verdict is a new row, committed before the call returns: two reviewers in two tabs never
overwrite each other, and killing the process loses nothing saved. An image's verdict is its latest row.
Predictions arrive in batches from digitlens.prediction_log, which writes them off the serving path.
"""

from __future__ import annotations

import csv
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import sqlalchemy as sa

from digitlens import IMAGE_SIDE, MAX_PIXEL, NUM_CLASSES, NUM_PIXELS, ROOT

if TYPE_CHECKING:
    import pandas as pd

DATABASE_ENV = "DIGITLENS_DATABASE_URL"
DEFAULT_DATABASE = ROOT / "digitlens.db"
MIGRATIONS = Path(__file__).with_name("migrations")
SPLITS = {"train": 60_000, "test": 10_000}  # MNIST's images per split
VERDICTS = {  # stored value: what a reviewer reads
    "label_right": "Label is right",
    "label_wrong": "Label is wrong",
    "ambiguous": "Ambiguous",
    "not_a_digit": "Not a digit",
}
EXPORT_COLUMNS = ["split", "id", "given_label", "verdict", "corrected_label", "tags", "note", "reviewer", "time"]
SOURCES = {  # stored value: where a served prediction came from, as people read it
    "api": "API /predict",
    "api_image": "API image upload",
    "draw": "Dashboard drawing",
    "upload": "Dashboard upload",
}
FEEDBACK_VERDICTS = {  # stored value: what the person answered to "Was this right?"
    "right": "Right",
    "wrong": "Wrong: it was another digit",
    "not_a_digit": "Not a digit",
}
NUMBER_COLUMNS = {"id": "int64", "answer": "int64", "confidence": "float64", "latency_ms": "float64"}  # read back as numbers
PREDICTION_COLUMNS = ("created_at", "source", "image", "probabilities", "answer", "confidence", "is_digit", "latency_ms", "model")
FEEDBACK_EXPORT_COLUMNS = ["id", "time", "source", "model", "answer", "confidence", "verdict", "label", "pixels"]

metadata = sa.MetaData()
reviews = sa.Table(  # the schema is made by migrations/versions; this mirrors it for queries
    "reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("split", sa.String(8), nullable=False),
    sa.Column("image_id", sa.Integer, nullable=False),
    sa.Column("given_label", sa.SmallInteger, nullable=False),
    sa.Column("verdict", sa.String(16), nullable=False),
    sa.Column("corrected_label", sa.SmallInteger),
    sa.Column("tags", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("reviewer", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
ROW_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
predictions = sa.Table(
    "predictions",
    metadata,
    sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("image", sa.LargeBinary, nullable=False),  # 784 bytes, uint8, row by row
    sa.Column("probabilities", sa.LargeBinary, nullable=False),  # 10 float32
    sa.Column("answer", sa.SmallInteger, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("is_digit", sa.Boolean),
    sa.Column("latency_ms", sa.Float, nullable=False),  # the whole request's, shared by the images it carried
    sa.Column("model", sa.String(64), nullable=False),  # Predictor.fingerprint
)
feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("image", sa.LargeBinary, nullable=False),
    sa.Column("probabilities", sa.LargeBinary, nullable=False),
    sa.Column("answer", sa.SmallInteger, nullable=False),
    sa.Column("verdict", sa.String(16), nullable=False),
    sa.Column("label", sa.SmallInteger),  # the right digit; None for not a digit
    sa.Column("model", sa.String(64), nullable=False),
)


@dataclass(frozen=True)
class Served:
    """Predictions served together (one request, one drawing), as queued for the log."""

    time: datetime
    source: str
    images: np.ndarray  # (N, 28, 28) or (N, 784), pixels 0-255
    probabilities: np.ndarray  # (N, 10)
    is_digit: np.ndarray | None  # (N,) bool, or None where the server did not ask
    latency_ms: float
    model: str


@dataclass(frozen=True)
class Logged:
    """Rows read back from the prediction log or the feedback table: a table, and its images and probabilities."""

    table: pd.DataFrame  # one row per prediction, its non-array columns; "time" in UTC
    images: np.ndarray  # uint8 (N, 28, 28), in the table's order
    probabilities: np.ndarray  # float32 (N, 10)

    def subset(self, mask) -> Logged:
        """The rows where mask (a boolean array over the rows) holds, renumbered from 0."""
        mask = np.asarray(mask, bool)
        return Logged(self.table[mask].reset_index(drop=True), self.images[mask], self.probabilities[mask])


@dataclass(frozen=True)
class Review:
    split: str
    image_id: int
    given_label: int
    verdict: str
    corrected_label: int | None
    tags: tuple[str, ...]
    note: str
    reviewer: str
    created_at: datetime

    @property
    def label(self) -> int | None:
        """The label this verdict stands for: the given one, the corrected one, or None (ambiguous, not a digit)."""
        return {"label_right": self.given_label, "label_wrong": self.corrected_label}.get(self.verdict)


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else DIGITLENS_DATABASE_URL, else the SQLite file beside the project."""
    url = url or os.environ.get(DATABASE_ENV) or f"sqlite:///{DEFAULT_DATABASE}"
    if url.startswith(("postgresql://", "postgres://")):  # no driver named: use psycopg 3, the one we install
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Store:
    """Open (and migrate to the newest schema) the database at url; see database_url for the default."""

    def __init__(self, url: str | None = None):
        self.url = database_url(url)
        self.engine = sa.create_engine(self.url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", configure_sqlite)
        migrate(self.engine)
        marker = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        self._insert_prediction = (
            f"INSERT INTO predictions ({', '.join(PREDICTION_COLUMNS)}) VALUES ({', '.join([marker] * len(PREDICTION_COLUMNS))})"
        )
        # the dialect's own conversion (SQLite: fixed-width text that sorts and compares as time), as SQLAlchemy would
        time_type = predictions.c.created_at.type.dialect_impl(self.engine.dialect)
        self._stored_time = time_type.bind_processor(self.engine.dialect) or (lambda time: time)

    def save_review(
        self,
        split: str,
        image_id: int,
        given_label: int,
        verdict: str,
        corrected_label: int | None = None,
        tags=(),
        note: str = "",
        reviewer: str = "",
    ) -> Review:
        """Record one verdict (committed on return); raises ValueError, saying what is expected, on a bad one."""
        review = Review(
            split, int(image_id), int(given_label), verdict, corrected_label, clean_tags(tags), note.strip(),
            reviewer.strip(), datetime.now(timezone.utc),
        )
        check(review)
        with self.engine.begin() as connection:
            connection.execute(reviews.insert().values(row(review)))
        return review

    def history(self, split: str | None = None, image_id: int | None = None) -> list[Review]:
        """Every verdict, oldest first, optionally of one split or one image."""
        query = reviews.select().order_by(reviews.c.id)
        if split is not None:
            query = query.where(reviews.c.split == split)
        if image_id is not None:
            query = query.where(reviews.c.image_id == int(image_id))
        with self.engine.connect() as connection:
            return [as_review(found) for found in connection.execute(query).mappings()]

    def latest(self, split: str | None = None) -> dict[tuple[str, int], Review]:
        """Each reviewed image's current verdict, keyed by (split, image id)."""
        return {(review.split, review.image_id): review for review in self.history(split)}

    def export_csv(self, path_or_file) -> int:
        """Write every verdict, oldest first, as CSV (EXPORT_COLUMNS); returns how many."""
        history = self.history()
        with writable(path_or_file) as file:
            write_csv(history, file)
        return len(history)

    # --- The prediction log ---

    def save_predictions(self, batches: list[Served]) -> int:
        """Write served predictions in one transaction; returns how many rows."""
        if not batches:
            return 0
        rows = prediction_rows(batches, self._stored_time)
        # straight to the driver's executemany: 8 us a row, mostly outside the interpreter's lock, where SQLAlchemy's
        # per-row parameter handling took 20 us holding it, and slowed the requests served meanwhile
        with self.engine.begin() as connection:
            connection.exec_driver_sql(self._insert_prediction, rows)
        return len(rows)

    def count_predictions(self, source: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(predictions)
        if source is not None:
            query = query.where(predictions.c.source == source)
        with self.engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def predictions(self, since: datetime | None = None, limit: int | None = None) -> Logged:
        """Logged predictions, oldest first: those since a time, or the latest `limit`."""
        return self._read(predictions, since, limit)

    def prune_predictions(self, keep: int) -> int:
        """Delete all but the newest `keep` predictions (the log's retention limit); returns how many went."""
        with self.engine.begin() as connection:
            newest = connection.execute(sa.select(sa.func.max(predictions.c.id))).scalar_one()
            if newest is None or newest <= keep:
                return 0
            return connection.execute(predictions.delete().where(predictions.c.id <= newest - keep)).rowcount

    # --- Feedback on predictions ---

    def save_feedback(
        self, image: np.ndarray, probabilities: np.ndarray, verdict: str, label: int | None = None,
        source: str = "draw", model: str = "",
    ) -> int:
        """Record what a person said of a prediction (committed on return); raises ValueError on a bad verdict."""
        answer = int(np.argmax(probabilities))
        check_feedback(verdict, label, answer, source)
        label = answer if verdict == "right" else label
        row = {
            "created_at": datetime.now(timezone.utc), "source": source, "image": as_pixels(image).tobytes(),
            "probabilities": np.asarray(probabilities, np.float32).tobytes(), "answer": answer, "verdict": verdict,
            "label": None if label is None else int(label), "model": model,
        }
        with self.engine.begin() as connection:
            return connection.execute(feedback.insert().values(row)).inserted_primary_key[0]

    def feedback(self, since: datetime | None = None) -> Logged:
        """Every piece of feedback, oldest first (or since a time)."""
        return self._read(feedback, since, None)

    def export_feedback_csv(self, path_or_file) -> int:
        """Write all feedback as CSV (FEEDBACK_EXPORT_COLUMNS, the 784 pixels space-separated); returns how many."""
        found = self.feedback()
        with writable(path_or_file) as file:
            write_feedback_csv(found, file)
        return len(found.table)

    def _read(self, table: sa.Table, since: datetime | None, limit: int | None) -> Logged:
        import pandas as pd  # here: the API, which only writes, never loads pandas

        # SQLite keeps times as text, which SQLAlchemy parses row by row (0.15 s per 1,000); pandas parses it at once
        times = sa.type_coerce(table.c.created_at, sa.String).label("created_at")
        query = sa.select(*(column for column in table.columns if column.name != "created_at"), times)
        if since is not None:
            query = query.where(table.c.created_at >= since)
        query = query.order_by(table.c.id.desc()).limit(limit) if limit else query.order_by(table.c.id)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        if limit:
            rows = rows[::-1]
        columns = [column.name for column in table.columns if column.name not in ("image", "probabilities", "created_at")]
        # object columns keep a NULL label or verdict as None (pandas would turn a column of ints with gaps into floats)
        frame = pd.DataFrame([{name: found[name] for name in columns} for found in rows], columns=columns, dtype=object)
        frame = frame.astype({name: kind for name, kind in NUMBER_COLUMNS.items() if name in columns})
        frame.insert(1, "time", pd.to_datetime([found["created_at"] for found in rows], utc=True, format="ISO8601"))
        images = np.frombuffer(b"".join(found["image"] for found in rows), np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
        probabilities = np.frombuffer(b"".join(found["probabilities"] for found in rows), np.float32).reshape(-1, NUM_CLASSES)
        return Logged(frame, images, probabilities)


def prediction_rows(batches: list[Served], stored_time) -> list[tuple]:
    """Batches as rows of PREDICTION_COLUMNS, converted all at once (most batches hold one image): pixels rounded
    into uint8, probabilities as float32 bytes, times as the database driver takes them (stored_time)."""
    images = np.concatenate([as_pixels(batch.images) for batch in batches])
    probabilities = np.concatenate([np.asarray(batch.probabilities, np.float32).reshape(-1, NUM_CLASSES) for batch in batches])
    shared, is_digit = [], []
    for batch in batches:
        size = len(batch.probabilities)
        shared += [(stored_time(batch.time), batch.source, batch.latency_ms, batch.model)] * size
        is_digit += [None] * size if batch.is_digit is None else np.asarray(batch.is_digit, bool).tolist()
    return [
        (time, source, image.tobytes(), row.tobytes(), answer, confidence, digit, latency_ms, model)
        for (time, source, latency_ms, model), image, row, answer, confidence, digit in zip(
            shared, images, probabilities, probabilities.argmax(axis=1).tolist(), probabilities.max(axis=1).tolist(), is_digit
        )
    ]


def as_pixels(images: np.ndarray) -> np.ndarray:
    """Images of any pixel type, 0-255, as uint8 rows of 784 (an image alone as one row)."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = np.clip(np.rint(images), 0, MAX_PIXEL).astype(np.uint8)
    return images.reshape(-1, NUM_PIXELS)


def check_feedback(verdict: str, label: int | None, answer: int, source: str) -> None:
    if verdict not in FEEDBACK_VERDICTS:
        raise ValueError(f"feedback must be one of {sorted(FEEDBACK_VERDICTS)}, got {verdict!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {list(SOURCES)}, got {source!r}")
    if verdict == "wrong":
        if label is None or not 0 <= label < NUM_CLASSES:
            raise ValueError("a wrong answer needs the right digit, 0-9, as label")
        if label == answer:
            raise ValueError(f"the right digit must differ from the answer given, {answer}")
    elif label is not None and not (verdict == "right" and label == answer):
        raise ValueError(f"only a wrong answer takes another digit as label, not {verdict!r}")


@contextmanager
def writable(path_or_file):
    """A path opened for CSV writing (closed after), or an open file passed through."""
    if isinstance(path_or_file, (str, Path)):
        with open(path_or_file, "w", newline="", encoding="utf-8") as file:
            yield file
    else:
        yield path_or_file


def configure_sqlite(connection, _record) -> None:
    """Each connection: durable on commit, and waiting for a busy writer instead of failing. The file is put in
    WAL mode once, by migrate: switching needs an exclusive lock that SQLite does not wait for while another
    connection writes, so two tabs opening at once lost one reviewer's verdicts (10 of 150 tries)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def migrate(engine) -> None:
    """Bring the schema to the newest migration; when several processes start at once (dashboard, API workers) the
    first migrates and the others wait for it, then find nothing to do."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    migrating = exclusive_sqlite(engine.url) if engine.dialect.name == "sqlite" else engine
    with migrating.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(20171214)"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    if migrating is not engine:
        use_wal(migrating)
        migrating.dispose()


def use_wal(engine) -> None:
    """Put the SQLite file in WAL mode (readers and one writer at once); it stays so. Outside a transaction, as
    SQLite requires: the migrating engine leaves BEGIN to us."""
    connection = engine.raw_connection()
    try:
        connection.driver_connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


def exclusive_sqlite(url):
    """An engine whose transactions lock the SQLite file at BEGIN: Python's sqlite3 commits each CREATE TABLE
    on its own, so a second process saw half a migration (the table made, its version not yet written) and
    failed making the table again."""
    engine = sa.create_engine(url)

    @sa.event.listens_for(engine, "connect")
    def manual_transactions(connection, _record):
        connection.isolation_level = None  # sqlite3 then leaves BEGIN and COMMIT to us
        connection.execute("PRAGMA busy_timeout=30000")

    @sa.event.listens_for(engine, "begin")
    def lock_at_begin(connection):
        connection.exec_driver_sql("BEGIN EXCLUSIVE")

    return engine


def clean_tags(tags) -> tuple[str, ...]:
    """Tags from a list or a comma-separated string: trimmed, empty ones dropped, each once, in order."""
    if isinstance(tags, str):
        tags = tags.split(",")
    return tuple(dict.fromkeys(tag.strip() for tag in tags if tag.strip()))


def check(review: Review) -> None:
    if review.split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {review.split!r}")
    if not 0 <= review.image_id < SPLITS[review.split]:
        raise ValueError(f"image id must be from 0 to {SPLITS[review.split] - 1} in {review.split}, got {review.image_id}")
    if not 0 <= review.given_label < NUM_CLASSES:
        raise ValueError(f"given label must be a digit 0-9, got {review.given_label}")
    if review.verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {sorted(VERDICTS)}, got {review.verdict!r}")
    if review.verdict == "label_wrong":
        if review.corrected_label is None or not 0 <= review.corrected_label < NUM_CLASSES:
            raise ValueError("a wrong label needs the right digit, 0-9, as corrected_label")
        if review.corrected_label == review.given_label:
            raise ValueError(f"the corrected label must differ from the given label {review.given_label}")
    elif review.corrected_label is not None:
        raise ValueError(f"only a wrong label takes a corrected label, not {review.verdict!r}")


def row(review: Review) -> dict:
    return {
        "split": review.split, "image_id": review.image_id, "given_label": review.given_label, "verdict": review.verdict,
        "corrected_label": review.corrected_label, "tags": ", ".join(review.tags), "note": review.note,
        "reviewer": review.reviewer, "created_at": review.created_at,
    }


def as_review(found) -> Review:
    created = found["created_at"]
    if created.tzinfo is None:  # SQLite keeps no zone; every time is written in UTC
        created = created.replace(tzinfo=timezone.utc)
    return Review(
        found["split"], found["image_id"], found["given_label"], found["verdict"], found["corrected_label"],
        clean_tags(found["tags"]), found["note"], found["reviewer"], created,
    )


def record(review: Review) -> dict:
    """One verdict as a flat row of EXPORT_COLUMNS, as the CSV export and the review page's table show it."""
    return {
        "split": review.split, "id": review.image_id, "given_label": review.given_label, "verdict": review.verdict,
        "corrected_label": "" if review.corrected_label is None else review.corrected_label, "tags": ", ".join(review.tags),
        "note": review.note, "reviewer": review.reviewer, "time": review.created_at.isoformat(timespec="milliseconds"),
    }


def write_feedback_csv(found: Logged, file) -> None:
    """Feedback rows as CSV (FEEDBACK_EXPORT_COLUMNS), each input's 784 pixels space-separated, row by row."""
    writer = csv.DictWriter(file, FEEDBACK_EXPORT_COLUMNS)
    writer.writeheader()
    for entry, image in zip(found.table.itertuples(), found.images):
        writer.writerow({
            "id": entry.id, "time": entry.time.isoformat(timespec="milliseconds"), "source": entry.source, "model": entry.model,
            "answer": entry.answer, "confidence": round(float(found.probabilities[entry.Index].max()), 4), "verdict": entry.verdict,
            "label": "" if entry.label is None else entry.label, "pixels": " ".join(map(str, image.ravel())),
        })


def write_csv(history: list[Review], file) -> None:
    writer = csv.DictWriter(file, EXPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(record(review) for review in history)
