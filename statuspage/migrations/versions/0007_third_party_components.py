"""third-party components: followed vendor pages and their components

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 18:56:39
"""

import sqlalchemy as sa
from alembic import op

import statuspage.models.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "upstream",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summary_url", sa.String(length=1024), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("page_url", sa.String(length=1024), nullable=True),
        sa.Column("poll_seconds", sa.Integer(), nullable=False),
        sa.Column("open_drafts", sa.Boolean(), nullable=False),
        sa.Column("notify_subscribers", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.String(length=255), nullable=True),
        sa.Column("last_modified", sa.String(length=64), nullable=True),
        sa.Column("next_poll_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("last_polled_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("last_ok_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream")),
        sa.UniqueConstraint("summary_url", name=op.f("uq_upstream_summary_url")),
    )
    with op.batch_alter_table("upstream", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_upstream_next_poll_at"), ["next_poll_at"], unique=False
        )

    op.create_table(
        "upstream_component",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upstream_id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("group_name", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("followed", sa.Boolean(), nullable=False),
        sa.Column("changed_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upstream_id"],
            ["upstream.id"],
            name=op.f("fk_upstream_component_upstream_id_upstream"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_component")),
        sa.UniqueConstraint("upstream_id", "vendor_id", name="uq_upstream_component_vendor_id"),
    )
    with op.batch_alter_table("upstream_component", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_upstream_component_upstream_id"), ["upstream_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("upstream_component", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upstream_component_upstream_id"))

    op.drop_table("upstream_component")
    with op.batch_alter_table("upstream", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upstream_next_poll_at"))

    op.drop_table("upstream")
