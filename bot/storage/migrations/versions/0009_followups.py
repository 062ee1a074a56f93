"""follow-up issues: one row per incident, claimed by the first "Follow-up issue" press

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("correlation_id", sa.String(length=240), nullable=False),
        sa.Column("subject", sa.String(length=20), server_default="inquiry", nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=True),
        sa.Column("tracker", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issue_key", sa.String(length=100), nullable=True),
        sa.Column("issue_url", sa.String(length=500), nullable=True),
        sa.Column("issue_state", sa.String(length=60), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("thread_message_id", sa.String(length=200), nullable=True),
        sa.Column("noted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_followups"),
        sa.UniqueConstraint("correlation_id", name="uq_followups_correlation_id"),
    )
    op.create_index("ix_followups_inquiry_id", "followups", ["inquiry_id"])


def downgrade() -> None:
    op.drop_index("ix_followups_inquiry_id", table_name="followups")
    op.drop_table("followups")
