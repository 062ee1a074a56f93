"""inquiries know their people by name and their thread's link

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inquiries") as batch:
        batch.add_column(sa.Column("author_id", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("assigned_to_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("resolved_by_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("thread_url", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inquiries") as batch:
        batch.drop_column("thread_url")
        batch.drop_column("resolved_by_name")
        batch.drop_column("assigned_to_name")
        batch.drop_column("author_id")
