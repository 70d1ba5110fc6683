"""alert intake: integrations, rules, received alerts, drafts, the refused-payload log;
time to first post on incidents; operator alerts about things not public

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 18:07:27

An operator alert about a draft has no incident update behind it:
``operator_alert.update_id`` becomes nullable, and the delivery check constraint lets an
alert row carry neither an update nor a reply.
"""

import sqlalchemy as sa
from alembic import op

import statuspage.models.types

ONE_SUBJECT = (
    "((update_id IS NULL) <> (reply_id IS NULL)) OR "
    "(target_kind = 'alert' AND update_id IS NULL AND reply_id IS NULL)"
)


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "integration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("secret_prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("rotated_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("last_received_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("received_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_integration_secret_hash")),
    )
    op.create_table(
        "alert_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("component_ids", sa.JSON(), nullable=False),
        sa.Column("component_status", sa.String(length=32), nullable=False),
        sa.Column("impact", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_alert_rule_integration_id_integration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["incident_template.id"],
            name=op.f("fk_alert_rule_template_id_incident_template"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rule")),
    )
    with op.batch_alter_table("alert_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_rule_integration_id"), ["integration_id"], unique=False
        )

    op.create_table(
        "intake_log_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_intake_log_entry_integration_id_integration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_log_entry")),
    )
    with op.batch_alter_table("intake_log_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_log_entry_integration_id"), ["integration_id"], unique=False
        )

    op.create_table(
        "incident_draft",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("upstream_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("impact", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("notify", sa.Boolean(), nullable=False),
        sa.Column("problem_started_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("published_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("alerts_resolved_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["user.id"], name=op.f("fk_incident_draft_closed_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rule.id"],
            name=op.f("fk_incident_draft_rule_id_alert_rule"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_draft")),
    )
    with op.batch_alter_table("incident_draft", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_draft_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_draft_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_incident_draft_upstream_id"), ["upstream_id"], unique=False
        )

    op.create_table(
        "received_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("starts_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("ends_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("first_received_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("last_received_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("draft_id", sa.String(length=12), nullable=True),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["incident_draft.id"],
            name=op.f("fk_received_alert_draft_id_incident_draft"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_received_alert_integration_id_integration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rule.id"],
            name=op.f("fk_received_alert_rule_id_alert_rule"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_received_alert")),
        sa.UniqueConstraint("integration_id", "fingerprint", name="uq_received_alert_fingerprint"),
    )
    with op.batch_alter_table("received_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_received_alert_draft_id"), ["draft_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_received_alert_integration_id"), ["integration_id"], unique=False
        )

    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("problem_started_at", statuspage.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("first_posted_at", statuspage.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_incident_first_posted_at"), ["first_posted_at"], unique=False
        )

    with op.batch_alter_table("operator_alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("link", sa.String(length=255), nullable=True))
        batch_op.alter_column("update_id", existing_type=sa.VARCHAR(length=12), nullable=True)
        batch_op.create_unique_constraint(
            "uq_operator_alert_subject", ["subject", "kind", "channel_id"]
        )

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_delivery_one_subject"), type_="check")
        batch_op.create_check_constraint(op.f("ck_delivery_one_subject"), ONE_SUBJECT)


def downgrade():
    op.execute("DELETE FROM delivery WHERE update_id IS NULL AND reply_id IS NULL")
    op.execute("DELETE FROM operator_alert WHERE update_id IS NULL")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_delivery_one_subject"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_delivery_one_subject"), "(update_id IS NULL) <> (reply_id IS NULL)"
        )
    with op.batch_alter_table("operator_alert", schema=None) as batch_op:
        batch_op.drop_constraint("uq_operator_alert_subject", type_="unique")
        batch_op.alter_column("update_id", existing_type=sa.VARCHAR(length=12), nullable=False)
        batch_op.drop_column("link")
        batch_op.drop_column("subject")

    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_first_posted_at"))
        batch_op.drop_column("first_posted_at")
        batch_op.drop_column("problem_started_at")

    with op.batch_alter_table("received_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_received_alert_integration_id"))
        batch_op.drop_index(batch_op.f("ix_received_alert_draft_id"))

    op.drop_table("received_alert")
    with op.batch_alter_table("incident_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_draft_upstream_id"))
        batch_op.drop_index(batch_op.f("ix_incident_draft_state"))
        batch_op.drop_index(batch_op.f("ix_incident_draft_rule_id"))

    op.drop_table("incident_draft")
    with op.batch_alter_table("intake_log_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_log_entry_integration_id"))

    op.drop_table("intake_log_entry")
    with op.batch_alter_table("alert_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_rule_integration_id"))

    op.drop_table("alert_rule")
    op.drop_table("integration")
