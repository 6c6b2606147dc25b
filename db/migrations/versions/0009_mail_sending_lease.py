"""mail outbox notes when an attempt claimed a mail, so a later attempt knows whether it may still be sending

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 05:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sending_since', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.drop_column('sending_since')
