"""inquiries keep the poster's e-mail (Slack gives one), so the incident's caller can be found by it

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inquiries") as batch:
        batch.add_column(sa.Column("author_email", sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inquiries") as batch:
        batch.drop_column("author_email")
