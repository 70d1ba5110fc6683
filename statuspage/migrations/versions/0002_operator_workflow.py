"""operator workflow: incident templates, login throttling, cadence flags, publish requests,
channels chosen per update

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 13:20:00

"""

import sqlalchemy as sa
from alembic import op

import statuspage.models.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminded_at", statuspage.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("overdue_at", statuspage.models.types.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("incident_update", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notify_channel_ids", sa.JSON(), nullable=True))

    op.create_table(
        "incident_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_template")),
        sa.UniqueConstraint("name", name=op.f("uq_incident_template_name")),
    )
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempt_email_at", ["email", "created_at"], unique=False)
        batch_op.create_index("ix_login_attempt_ip_at", ["ip", "created_at"], unique=False)

    op.create_table(
        "publish_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("published_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publish_request")),
    )
    with op.batch_alter_table("publish_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_publish_request_published_at"), ["published_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("publish_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publish_request_published_at"))
    op.drop_table("publish_request")
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempt_ip_at")
        batch_op.drop_index("ix_login_attempt_email_at")
    op.drop_table("login_attempt")
    op.drop_table("incident_template")
    with op.batch_alter_table("incident_update", schema=None) as batch_op:
        batch_op.drop_column("notify_channel_ids")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("overdue_at")
        batch_op.drop_column("reminded_at")
