"""mail outbox keeps each mail's template and context, so organisers can resend it

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 05:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('context', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('resent', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_mails_status', ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mails', schema=None) as batch_op:
        batch_op.drop_index('ix_mails_status')
        batch_op.drop_column('resent')
        batch_op.drop_column('context')
        batch_op.drop_column('template')
