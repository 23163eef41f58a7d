"""curate jobs; per-clip curation decisions

A curate job (VGG-Sound curation stages 3 and 4 on a clip-verification project) stores one row per
clip: the stage that decided it, kept or not, and the record of scores and model versions behind it.
requested_at marks a decided clip a researcher sent to the clip verification queue.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 07:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':  # SQLite stores enums as plain strings
        op.execute("ALTER TYPE jobkind ADD VALUE IF NOT EXISTS 'curate'")
    op.create_table('curation_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('clip_id', sa.Integer(), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kept', sa.Boolean(), nullable=False),
    sa.Column('record', sa.JSON(), nullable=True),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clip_id'], ['clips.id'], ),
    sa.ForeignKeyConstraint(['job_id'], ['training_jobs.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job_id', 'clip_id')
    )
    op.create_index('ix_curation_decisions_job_id', 'curation_decisions', ['job_id'])
    op.create_index('ix_curation_decisions_clip_id', 'curation_decisions', ['clip_id'])
    op.create_index('ix_curation_decisions_requested', 'curation_decisions', ['project_id', 'requested_at'])


def downgrade() -> None:
    op.drop_index('ix_curation_decisions_requested', table_name='curation_decisions')
    op.drop_index('ix_curation_decisions_clip_id', table_name='curation_decisions')
    op.drop_index('ix_curation_decisions_job_id', table_name='curation_decisions')
    op.drop_table('curation_decisions')
