"""the page's default language

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 11:00:00

The language of the page at "/", of feeds, social posts and emails; readers choose any
shipped language on the page itself.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "page",
        sa.Column("default_language", sa.String(length=8), nullable=False, server_default="en"),
    )


def downgrade():
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.drop_column("default_language")
