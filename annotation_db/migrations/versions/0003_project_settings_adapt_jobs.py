"""project settings; adapt jobs

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 01:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settings', sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':  # SQLite stores enums as plain strings
        op.execute("ALTER TYPE jobkind ADD VALUE IF NOT EXISTS 'adapt'")


def downgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('settings')
