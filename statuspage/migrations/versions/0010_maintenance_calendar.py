"""maintenance windows carry a calendar sequence and when they were cancelled

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 10:00:00

``calendar_sequence`` is the iCalendar ``SEQUENCE`` of the window: calendars that imported
``/maintenance.ics`` replace their copy only when it grows, so every move bumps it.
``cancelled_at`` tells a window called off before it began from one that was carried out.
"""

import sqlalchemy as sa
from alembic import op

import statuspage.models.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "incident",
        sa.Column("calendar_sequence", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "incident",
        sa.Column("cancelled_at", statuspage.models.types.UTCDateTime(), nullable=True),
    )


def downgrade():
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("calendar_sequence")
