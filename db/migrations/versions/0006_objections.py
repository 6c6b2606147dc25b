"""notices: objections

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 23:35:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('objections',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('competition_code', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=100), nullable=False),
    sa.Column('stage', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('id_number_encrypted', sa.String(length=200), nullable=False),
    sa.Column('id_number_masked', sa.String(length=18), nullable=False),
    sa.Column('phone_encrypted', sa.String(length=200), nullable=False),
    sa.Column('phone_masked', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('relation', sa.String(length=32), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('refusal_code', sa.String(length=64), nullable=True),
    sa.Column('reasons', sa.Text(), nullable=True),
    sa.Column('ruled_by', sa.String(length=254), nullable=True),
    sa.Column('ruled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['competition_code'], ['competitions.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objections_competition_code'), ['competition_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_objections_project_id'), ['project_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objections_project_id'))
        batch_op.drop_index(batch_op.f('ix_objections_competition_code'))
    op.drop_table('objections')
