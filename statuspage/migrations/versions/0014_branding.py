"""the page's branding: logo, favicon, brand colour, footer links and custom CSS

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 12:00:00

Images are kept in the database (each at most 512 KiB, checked when saved), so every
worker that publishes the snapshot has them, wherever it runs.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

COLUMNS = (
    ("logo", sa.LargeBinary()),
    ("logo_type", sa.String(length=32)),
    ("favicon", sa.LargeBinary()),
    ("favicon_type", sa.String(length=32)),
    ("brand_colour", sa.String(length=7)),
    ("footer_links", sa.JSON()),
    ("custom_css", sa.Text()),
)


def upgrade():
    for name, kind in COLUMNS:
        op.add_column("page", sa.Column(name, kind, nullable=True))


def downgrade():
    with op.batch_alter_table("page", schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
