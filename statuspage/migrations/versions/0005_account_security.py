"""account security: server-side sessions, second factor, forced password change

Revision ID: 0005
Revises: 0002, 0003, 0004
Create Date: 2026-12-01 10:00:00

Joins the three branches that grew from the initial schema into one head.
"""

import sqlalchemy as sa
from alembic import op

import statuspage.models.types

revision = "0005"
down_revision = ("0002", "0003", "0004")
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("totp_secret_encrypted", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("totp_enabled_at", statuspage.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("two_factor_roles", sa.String(length=64), nullable=False, server_default="")
        )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("factor", sa.String(length=16), nullable=False, server_default="password")
        )
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("ended_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_session_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", statuspage.models.types.UTCDateTime(), nullable=False),
        sa.Column("used_at", statuspage.models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_recovery_code_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_code_user_id"), ["user_id"], unique=False)


def downgrade():
    op.drop_table("recovery_code")
    op.drop_table("user_session")
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_column("factor")
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.drop_column("two_factor_roles")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret_encrypted")
        batch_op.drop_column("must_change_password")
