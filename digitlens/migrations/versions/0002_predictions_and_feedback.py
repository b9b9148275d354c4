"""Predictions served (the production log) and feedback on them ("was this right?"), each with the 28x28 input.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

ROW_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite autoincrements only an INTEGER primary key


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("image", sa.LargeBinary, nullable=False),
        sa.Column("probabilities", sa.LargeBinary, nullable=False),
        sa.Column("answer", sa.SmallInteger, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("is_digit", sa.Boolean, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
    )
    op.create_index("predictions_by_time", "predictions", ["created_at"])
    op.create_table(
        "feedback",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("image", sa.LargeBinary, nullable=False),
        sa.Column("probabilities", sa.LargeBinary, nullable=False),
        sa.Column("answer", sa.SmallInteger, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("label", sa.SmallInteger, nullable=True),
        sa.Column("model", sa.String(64), nullable=False),
    )
    op.create_index("feedback_by_time", "feedback", ["created_at"])


def downgrade() -> None:
    op.drop_index("feedback_by_time", "feedback")
    op.drop_table("feedback")
    op.drop_index("predictions_by_time", "predictions")
    op.drop_table("predictions")
