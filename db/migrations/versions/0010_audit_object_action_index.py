"""audit trail indexed by (object, action): the idempotency check of repeatable requests read every record of the
action on SQLite (no planner statistics), which made each score sheet cost more than the one before

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:00:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_audit_log_object_action', 'audit_log', ['object_id', 'action'], unique=False)
    op.drop_index('ix_audit_log_object_id', table_name='audit_log')


def downgrade() -> None:
    op.create_index('ix_audit_log_object_id', 'audit_log', ['object_id'], unique=False)
    op.drop_index('ix_audit_log_object_action', table_name='audit_log')
