"""listening: inbox items, replies through the outbox, reply templates, polling state,
metric rollups

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-24 14:30:00

A delivery now carries either an incident update or a reply to a customer: ``update_id``
becomes nullable, ``reply_id`` is added, and a check constraint keeps exactly one set.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import statuspage.models.types

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None

DEFAULT_TEMPLATES = [
    (
        "We are aware",
        "We know about this and are working on it ({incident_name}). "
        "Follow {incident_url} for updates.",
    ),
    (
        "Ask for details",
        "Sorry about the trouble. Could you tell us more at {report_url}? We will look into it.",
    ),
    (
        "Resolved",
        "This is resolved: {incident_name}. Thank you for your patience. "
        "What happened: {incident_url}",
    ),
]


def upgrade():
    reply_template = op.create_table(
        "reply_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_template")),
        sa.UniqueConstraint("name", name=op.f("uq_reply_template_name")),
    )
    at = datetime.now(UTC)
    op.bulk_insert(
        reply_template,
        [
            {"name": name, "body": body, "created_at": at, "updated_at": at}
            for name, body in DEFAULT_TEMPLATES
        ],
    )

    op.create_table(
        "inbox_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.Column("author_id", sa.String(length=64), nullable=True),
        sa.Column("author_handle", sa.String(length=255), nullable=True),
        sa.Column("author_name", sa.String(length=255), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=True),
        sa.Column("posted_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("received_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("incident_id", sa.String(length=12), nullable=True),
        sa.Column("component_id", sa.String(length=12), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("first_response_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("updated_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["component.id"],
            name=op.f("fk_inbox_item_component_id_component"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_inbox_item_incident_id_incident")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_item")),
        sa.UniqueConstraint("channel_id", "external_id", name="uq_inbox_item_once"),
    )
    with op.batch_alter_table("inbox_item", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_item_listing", ["state", "received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbox_item_incident_id"), ["incident_id"])
        batch_op.create_index(batch_op.f("ix_inbox_item_posted_at"), ["posted_at"])
        batch_op.create_index(batch_op.f("ix_inbox_item_received_at"), ["received_at"])

    op.create_table(
        "inbox_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_inbox_reply_author_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["inbox_item.id"], name=op.f("fk_inbox_reply_item_id_inbox_item")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_reply")),
    )
    with op.batch_alter_table("inbox_reply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_reply_item_id"), ["item_id"])

    op.create_table(
        "listening_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("since_id", sa.String(length=64), nullable=True),
        sa.Column("sweep_newest_id", sa.String(length=64), nullable=True),
        sa.Column("sweep_until_id", sa.String(length=64), nullable=True),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("polling_until", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("next_poll_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("rate_limited_until", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_polled_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("last_success_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("items_found", sa.Integer(), nullable=False),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listening_source")),
        sa.UniqueConstraint("channel_id", "name", name="uq_listening_source_name"),
    )

    op.create_table(
        "metric_rollup",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("watermark", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_metric_rollup")),
    )

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_sent_at"), ["sent_at"], unique=False)
        batch_op.alter_column("update_id", existing_type=sa.String(length=12), nullable=True)
        batch_op.add_column(sa.Column("reply_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_delivery_reply_id_inbox_reply"), "inbox_reply", ["reply_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_delivery_reply_id"), ["reply_id"], unique=False)
        batch_op.create_unique_constraint(
            "uq_delivery_reply_target", ["reply_id", "target_kind", "target_id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_delivery_one_subject"), "(update_id IS NULL) <> (reply_id IS NULL)"
        )


def downgrade():
    op.execute("DELETE FROM delivery WHERE reply_id IS NOT NULL")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_delivery_one_subject"), type_="check")
        batch_op.drop_constraint("uq_delivery_reply_target", type_="unique")
        batch_op.drop_index(batch_op.f("ix_delivery_reply_id"))
        batch_op.drop_constraint(op.f("fk_delivery_reply_id_inbox_reply"), type_="foreignkey")
        batch_op.drop_column("reply_id")
        batch_op.alter_column("update_id", existing_type=sa.String(length=12), nullable=False)
        batch_op.drop_index(batch_op.f("ix_delivery_sent_at"))

    op.drop_table("metric_rollup")
    op.drop_table("listening_source")
    with op.batch_alter_table("inbox_reply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_reply_item_id"))
    op.drop_table("inbox_reply")
    with op.batch_alter_table("inbox_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_item_received_at"))
        batch_op.drop_index(batch_op.f("ix_inbox_item_posted_at"))
        batch_op.drop_index(batch_op.f("ix_inbox_item_incident_id"))
        batch_op.drop_index("ix_inbox_item_listing")
    op.drop_table("inbox_item")
    op.drop_table("reply_template")
