"""a send is marked started before the network call, with what it sent

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 18:00:00

``send_started_at`` tells a row claimed but never sent (back to the queue) from one whose
outcome is unknown; ``attempt`` keeps what that send carried (X: its text and the post it
answered) so the account's posts can be read back to settle it.
"""

import sqlalchemy as sa
from alembic import op

import statuspage.models.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "delivery",
        sa.Column("send_started_at", statuspage.models.types.UTCDateTime(), nullable=True),
    )
    op.add_column("delivery", sa.Column("attempt", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("attempt")
        batch_op.drop_column("send_started_at")
