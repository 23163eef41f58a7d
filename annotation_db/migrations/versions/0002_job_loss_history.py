"""job loss history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 00:52:20.950577
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('training_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('loss_history', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('training_jobs', schema=None) as batch_op:
        batch_op.drop_column('loss_history')

