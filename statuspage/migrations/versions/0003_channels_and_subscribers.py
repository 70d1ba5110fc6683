"""delivery channels, subscribers, thread state and operator alerts

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-24 13:11:18.665936

"""

import sqlalchemy as sa
from alembic import op

import statuspage.models.types

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("announce_updates", sa.Boolean(), nullable=False),
        sa.Column("operator_alerts", sa.Boolean(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("secrets_encrypted", sa.Text(), nullable=True),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("paused_until", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_success_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("last_test_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("last_test_ok", sa.Boolean(), nullable=True),
        sa.Column("last_test_message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel")),
    )
    op.create_table(
        "subscriber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=1024), nullable=False),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("link_nonce", sa.String(length=32), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=True),
        sa.Column("pending_filter", sa.JSON(), nullable=True),
        sa.Column("confirm_requested_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("confirm_sent_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriber")),
        sa.UniqueConstraint("kind", "address", name="uq_subscriber_address"),
    )
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscriber_confirmed_at"), ["confirmed_at"], unique=False
        )

    op.create_table(
        "channel_thread",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.String(length=12), nullable=False),
        sa.Column("last_external_id", sa.String(length=255), nullable=False),
        sa.Column("updated_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_channel_thread_incident_id_incident")
        ),
        sa.PrimaryKeyConstraint("channel_id", "incident_id", name=op.f("pk_channel_thread")),
    )
    op.create_table(
        "operator_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("update_id", sa.String(length=12), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["update_id"],
            ["incident_update.id"],
            name=op.f("fk_operator_alert_update_id_incident_update"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_alert")),
        sa.UniqueConstraint("update_id", "kind", "channel_id", name="uq_operator_alert_once"),
    )
    with op.batch_alter_table("operator_alert", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_operator_alert_update_id"), ["update_id"], unique=False
        )

    op.create_table(
        "subscriber_component",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["component.id"],
            name=op.f("fk_subscriber_component_component_id_component"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name=op.f("fk_subscriber_component_subscriber_id_subscriber"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "subscriber_id", "component_id", name=op.f("pk_subscriber_component")
        ),
    )
    with op.batch_alter_table("subscriber_component", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscriber_component_component_id"), ["component_id"], unique=False
        )

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transport", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("channel_id", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("channel_id")
        batch_op.drop_column("transport")

    with op.batch_alter_table("subscriber_component", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriber_component_component_id"))

    op.drop_table("subscriber_component")
    with op.batch_alter_table("operator_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_alert_update_id"))

    op.drop_table("operator_alert")
    op.drop_table("channel_thread")
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriber_confirmed_at"))

    op.drop_table("subscriber")
    op.drop_table("channel")
