"""the page keeps update intervals by impact and status, and how often an overdue promise
is told again

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 12:00:00

``update_cadence`` is ``{impact: {status: minutes}}``; NULL keeps the built-in defaults.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("page", sa.Column("update_cadence", sa.JSON(), nullable=True))
    op.add_column(
        "page",
        sa.Column("overdue_repeat_minutes", sa.Integer(), nullable=False, server_default="15"),
    )


def downgrade():
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.drop_column("overdue_repeat_minutes")
        batch_op.drop_column("update_cadence")
