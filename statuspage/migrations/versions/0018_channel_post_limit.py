"""the longest post a channel's far end takes, as the worker last read it

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28 14:00:00

Mastodon instances each set their own limit; kept on the channel row, the console's
compose preview fits a post to the same number the worker does.
"""

import sqlalchemy as sa
from alembic import op

import statuspage.models.types

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("channel") as batch:
        batch.add_column(sa.Column("post_limit", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("post_limit_read_at", statuspage.models.types.UTCDateTime(), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("channel") as batch:
        batch.drop_column("post_limit_read_at")
        batch.drop_column("post_limit")
