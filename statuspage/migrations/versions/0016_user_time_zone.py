"""operators choose the time zone the admin shows and takes times in

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 22:00:00

``time_zone`` is an IANA name; empty means the page's time zone.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("user", sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("user") as batch:
        batch.drop_column("time_zone")
