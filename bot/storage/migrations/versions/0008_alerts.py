"""monitoring alerts: one row per alert group or alert storm, with its incident, posts and counts

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _utc(name: str, **kwargs) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kwargs)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(length=10), nullable=False, server_default="group"),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("group_key", sa.String(length=200), nullable=False),
        sa.Column("correlation_id", sa.String(length=240), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("environment", sa.String(length=100), nullable=True),
        sa.Column("project", sa.String(length=100), nullable=True),
        sa.Column("service", sa.String(length=100), nullable=True),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        _utc("first_seen", nullable=False),
        _utc("last_seen", nullable=False),
        _utc("received_at", nullable=False),
        _utc("updated_at", nullable=False),
        _utc("opened_at", nullable=True),
        sa.Column("storm_id", sa.Integer(), nullable=True),
        sa.Column("members", sa.Integer(), nullable=False),
        _utc("last_joined_at", nullable=True),
        sa.Column("assignment_group", sa.String(length=200), nullable=True),
        sa.Column("re_routes", sa.Integer(), nullable=False),
        sa.Column("sys_id", sa.String(length=32), nullable=True),
        sa.Column("number", sa.String(length=20), nullable=True),
        sa.Column("incident_url", sa.String(length=500), nullable=True),
        sa.Column("incident_state", sa.Integer(), nullable=True),
        sa.Column("incident_group", sa.String(length=200), nullable=True),
        sa.Column("incident_tries", sa.Integer(), nullable=False),
        sa.Column("teams_channel_id", sa.String(length=200), nullable=True),
        sa.Column("teams_message_id", sa.String(length=200), nullable=True),
        sa.Column("slack_channel_id", sa.String(length=200), nullable=True),
        sa.Column("slack_message_id", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("posted_teams_version", sa.Integer(), nullable=False),
        sa.Column("posted_slack_version", sa.Integer(), nullable=False),
        sa.Column("sync_pending", sa.Boolean(), nullable=False),
        _utc("lease_until", nullable=True),
        sa.Column("noted_count", sa.Integer(), nullable=False),
        sa.Column("noted_state", sa.String(length=20), nullable=True),
        _utc("last_note_at", nullable=True),
        _utc("acknowledged_at", nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_to", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("correlation_id", name="uq_alerts_correlation_id"),
        sa.UniqueConstraint("source", "group_key", name="uq_alerts_group"),
    )
    op.create_index("ix_alerts_received_at", "alerts", ["received_at"])
    op.create_index("ix_alerts_opened_at", "alerts", ["opened_at"])
    op.create_index("ix_alerts_storm_id", "alerts", ["storm_id"])


def downgrade() -> None:
    op.drop_index("ix_alerts_storm_id", table_name="alerts")
    op.drop_index("ix_alerts_opened_at", table_name="alerts")
    op.drop_index("ix_alerts_received_at", table_name="alerts")
    op.drop_table("alerts")
