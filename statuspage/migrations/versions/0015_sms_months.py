"""texts sent per Twilio channel and month, against the channel's monthly cap

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 10:00:00

SMS subscribers are ``subscriber`` rows of kind ``sms`` and the Twilio account a ``channel``
of kind ``twilio``: both tables take them as they are. Only the count is new.
"""

import sqlalchemy as sa
from alembic import op

import statuspage.models.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sms_month",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("capped_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("channel_id", "month"),
    )


def downgrade():
    op.drop_table("sms_month")
