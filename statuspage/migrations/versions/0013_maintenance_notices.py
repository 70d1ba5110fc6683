"""advance notices of maintenance windows: the page's offsets, and one row per notice sent

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 13:00:00

``maintenance_notice`` is unique on (incident, window start, offset): each notice goes out
once per window, and a moved window (a new start) is noticed again.
"""

import sqlalchemy as sa
from alembic import op

import statuspage.models.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("page", sa.Column("maintenance_notice_minutes", sa.JSON(), nullable=True))
    op.create_table(
        "maintenance_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.String(length=12), nullable=False),
        sa.Column("scheduled_for", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("update_id", sa.String(length=12), nullable=False),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["update_id"], ["incident_update.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "incident_id", "scheduled_for", "offset_minutes", name="uq_maintenance_notice_once"
        ),
    )


def downgrade():
    op.drop_table("maintenance_notice")
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.drop_column("maintenance_notice_minutes")
