"""received events have a source (teams, slack, an alert sender); what cannot be processed becomes a
dead letter (received events and outbox jobs)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("received_activities") as batch:
        batch.add_column(sa.Column("source", sa.String(length=20), nullable=False, server_default="teams"))
        batch.add_column(sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(length=300), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("dead_at")
    with op.batch_alter_table("received_activities") as batch:
        batch.drop_column("last_error")
        batch.drop_column("dead_at")
        batch.drop_column("source")
