"""Reviews: one row per verdict on one MNIST image; a later verdict on the same image supersedes, never overwrites.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("split", sa.String(8), nullable=False),
        sa.Column("image_id", sa.Integer, nullable=False),
        sa.Column("given_label", sa.SmallInteger, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("corrected_label", sa.SmallInteger, nullable=True),
        sa.Column("tags", sa.Text, nullable=False, server_default=""),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("reviewer", sa.String(100), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("reviews_by_image", "reviews", ["split", "image_id", "id"])


def downgrade() -> None:
    op.drop_index("reviews_by_image", "reviews")
    op.drop_table("reviews")
