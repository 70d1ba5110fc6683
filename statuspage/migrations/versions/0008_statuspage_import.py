"""statuspage import: the source id of every imported record

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 19:08:43
"""

import sqlalchemy as sa
from alembic import op

import statuspage.models.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "imported_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("local_id", sa.String(length=64), nullable=False),
        sa.Column("imported_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_record")),
        sa.UniqueConstraint("source", "kind", "source_id", name="uq_imported_record_source"),
    )


def downgrade():
    op.drop_table("imported_record")
