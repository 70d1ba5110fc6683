"""incidents and their updates are found by when they last changed

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28 22:00:00

A publish renders what changed since the served snapshot, found by ``updated_at``; without
an index that lookup reads every incident and every update of the history.
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_incident_updated_at", "incident", ["updated_at"])
    op.create_index("ix_incident_update_updated_at", "incident_update", ["updated_at"])


def downgrade():
    op.drop_index("ix_incident_update_updated_at", table_name="incident_update")
    op.drop_index("ix_incident_updated_at", table_name="incident")
