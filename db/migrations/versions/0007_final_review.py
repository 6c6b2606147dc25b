"""final review and awards: score rounds, roadshow slots, organisation awards, ceremony

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 02:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('round', sa.String(length=32), server_default='first_round', nullable=False))
    op.create_table('roadshow_slots',
    sa.Column('project_id', sa.String(length=100), nullable=False),
    sa.Column('competition_code', sa.String(length=64), nullable=False),
    sa.Column('track_code', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('qa_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('room', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('planned_by', sa.String(length=254), nullable=False),
    sa.Column('planned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['competition_code'], ['competitions.code'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id'),
    sa.UniqueConstraint('competition_code', 'track_code', 'position')
    )
    with op.batch_alter_table('roadshow_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roadshow_slots_competition_code'), ['competition_code'], unique=False)
    op.create_table('organisation_awards',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('competition_code', sa.String(length=64), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('citation', sa.String(length=1000), nullable=False),
    sa.Column('granted_by', sa.String(length=254), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['competition_code'], ['competitions.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('competition_code', 'recipient')
    )
    with op.batch_alter_table('organisation_awards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_awards_competition_code'), ['competition_code'], unique=False)
    op.create_table('ceremonies',
    sa.Column('competition_code', sa.String(length=64), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('venue', sa.String(length=300), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('planned_by', sa.String(length=254), nullable=False),
    sa.Column('planned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['competition_code'], ['competitions.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('competition_code')
    )


def downgrade() -> None:
    op.drop_table('ceremonies')
    with op.batch_alter_table('organisation_awards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_awards_competition_code'))
    op.drop_table('organisation_awards')
    with op.batch_alter_table('roadshow_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roadshow_slots_competition_code'))
    op.drop_table('roadshow_slots')
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_column('round')
