"""inquiries come from a chat platform (Teams, Slack)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inquiries") as batch:
        batch.add_column(sa.Column("platform", sa.String(length=20), nullable=False, server_default="teams"))


def downgrade() -> None:
    with op.batch_alter_table("inquiries") as batch:
        batch.drop_column("platform")
