"""The one database layer: label reviews now, served predictions and feedback next (SQLAlchemy + Alembic).

A SQLite file by default (WAL, so readers never block the writer), PostgreSQL when DIGITLENS_DATABASE_URL names one;
both run this code. Every verdict is a new row, committed before the call returns: two reviewers in two tabs never
overwrite each other, and killing the process loses nothing saved. An image's verdict is its latest row.
"""

import csv
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from digitlens import NUM_CLASSES, ROOT

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
        if isinstance(path_or_file, (str, Path)):
            with open(path_or_file, "w", newline="", encoding="utf-8") as file:
                write_csv(history, file)
        else:
            write_csv(history, path_or_file)
        return len(history)


def configure_sqlite(connection, _record) -> None:
    """WAL: readers and one writer at once, durable on commit; wait for a busy writer instead of failing."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def migrate(engine) -> None:
    """Bring the schema to the newest migration; when two processes start at once (dashboard and API) one waits."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    for attempt in range(2):
        try:
            with engine.begin() as connection:
                if engine.dialect.name == "postgresql":
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(20171214)"))
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            return
        except sa.exc.OperationalError:  # SQLite: the other process made the same table first; its work is done
            if attempt:
                raise


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


def write_csv(history: list[Review], file) -> None:
    writer = csv.DictWriter(file, EXPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(record(review) for review in history)
