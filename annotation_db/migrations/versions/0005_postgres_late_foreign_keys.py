"""the two late foreign keys on PostgreSQL

0001 declared projects.active_model_version_id and training_jobs.produced_version_id as foreign keys
created after both tables exist (use_alter), and create_table leaves such keys out: PostgreSQL
databases made by 0001 lack them. Add them there (SQLite cannot add a constraint to a table).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

LATE_KEYS = (('fk_projects_active_model_version', 'projects', 'active_model_version_id'),
             ('fk_training_jobs_produced_version', 'training_jobs', 'produced_version_id'))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    inspector = sa.inspect(bind)
    for name, table, column in LATE_KEYS:
        if name not in {key['name'] for key in inspector.get_foreign_keys(table)}:
            op.create_foreign_key(name, table, 'model_versions', [column], ['id'])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    inspector = sa.inspect(bind)
    for name, table, _ in LATE_KEYS:
        if name in {key['name'] for key in inspector.get_foreign_keys(table)}:
            op.drop_constraint(name, table, type_='foreignkey')
