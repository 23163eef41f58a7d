"""newest-first indexes on an item's proposals and verdicts

"The latest proposal (or verdict) of this clip" is max(id) / ORDER BY id DESC with clip_id = X.
With an index on clip_id alone, PostgreSQL walks the primary key backwards and filters, which costs
the whole table on old items; (clip_id, id) answers it at once on both engines. The queue ranks, the
review pages and the claims read these per item.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 11:00:00
"""
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

INDEXES = (('ix_proposals_clip_newest', 'proposals', ['clip_id', 'id']),
           ('ix_proposals_instance_newest', 'proposals', ['instance_id', 'id']),
           ('ix_verdicts_clip_newest', 'verdicts', ['clip_id', 'id']),
           ('ix_verdicts_instance_newest', 'verdicts', ['instance_id', 'id']))


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.drop_index('ix_verdicts_clip_id', table_name='verdicts')  # (clip_id, id) serves every use
    op.drop_index('ix_verdicts_instance_id', table_name='verdicts')


def downgrade() -> None:
    op.create_index('ix_verdicts_instance_id', 'verdicts', ['instance_id'])
    op.create_index('ix_verdicts_clip_id', 'verdicts', ['clip_id'])
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
