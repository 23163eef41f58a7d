"""lease slots and the review queue

Assignments get released_at and slot, and one open lease per (item, slot) becomes a database
constraint (partial unique indexes, on SQLite and PostgreSQL alike). Rasters and clips get
queue_rank / queue_open, indexed with their project, so a claim reads the next free item from an
index instead of loading the project. Verdicts get indexes on their item.

Existing data: leases left open after they expired are released (the newest `annotators_per_item`
open leases of an item keep their places), ranks come from the latest proposals and an item is
closed once `annotators_per_item` leases on it were completed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 09:00:00
"""
from collections import defaultdict

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

UNSCORED_RANK = 1.0e30
OPEN_LEASE = "completed_at IS NULL AND released_at IS NULL"


def upgrade() -> None:
    # plain ADD COLUMN (no table copy: on SQLite a copy of a referenced table fails its foreign keys)
    op.add_column('assignments', sa.Column('released_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('assignments', sa.Column('slot', sa.Integer(), nullable=False, server_default='0'))
    for table in ('rasters', 'clips'):
        op.add_column(table, sa.Column('queue_rank', sa.Float(), nullable=False,
                                       server_default=sa.text(repr(UNSCORED_RANK))))
        op.add_column(table, sa.Column('queue_open', sa.Boolean(), nullable=False, server_default=sa.true()))

    _release_stale_leases()
    _fill_queue()

    op.create_index('ix_assignments_clip_id', 'assignments', ['clip_id'])
    op.create_index('ix_assignments_raster_id', 'assignments', ['raster_id'])
    for item in ('clip', 'raster'):
        where = sa.text(f"{item}_id IS NOT NULL AND {OPEN_LEASE}")
        op.create_index(f'ux_assignments_open_{item}_slot', 'assignments', [f'{item}_id', 'slot'],
                        unique=True, sqlite_where=where, postgresql_where=where)
    op.create_index('ix_assignments_open_by_user', 'assignments', ['user_id', 'project_id'],
                    sqlite_where=sa.text(OPEN_LEASE), postgresql_where=sa.text(OPEN_LEASE))
    op.create_index('ix_rasters_queue', 'rasters', ['project_id', 'queue_open', 'queue_rank', 'id'])
    op.create_index('ix_clips_queue', 'clips', ['project_id', 'queue_open', 'queue_rank', 'id'])
    op.create_index('ix_verdicts_clip_id', 'verdicts', ['clip_id'])
    op.create_index('ix_verdicts_instance_id', 'verdicts', ['instance_id'])


def _release_stale_leases() -> None:
    """Keep the newest annotators_per_item open leases of each item (slots 0, 1, ...); release the rest."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT a.id, a.raster_id, a.clip_id, a.expires_at, p.annotators_per_item "
        "FROM assignments a JOIN projects p ON p.id = a.project_id "
        "WHERE a.completed_at IS NULL ORDER BY a.id DESC")).all()
    by_item = defaultdict(list)
    for lease_id, raster_id, clip_id, expires_at, per_item in rows:
        by_item[(raster_id, clip_id)].append((lease_id, expires_at, per_item))
    for leases in by_item.values():
        per_item = max(int(leases[0][2] or 1), 1)
        for slot, (lease_id, _, _) in enumerate(leases[:per_item]):
            bind.execute(sa.text("UPDATE assignments SET slot = :slot WHERE id = :id"),
                         {"slot": slot, "id": lease_id})
        for lease_id, _, _ in leases[per_item:]:
            bind.execute(sa.text("UPDATE assignments SET released_at = expires_at WHERE id = :id"),
                         {"id": lease_id})


def _fill_queue() -> None:
    op.execute(sa.text(
        "UPDATE clips SET queue_rank = COALESCE((SELECT -p.uncertainty FROM proposals p WHERE p.id = "
        "(SELECT max(q.id) FROM proposals q WHERE q.clip_id = clips.id)), :unscored)"
    ).bindparams(unscored=UNSCORED_RANK))
    op.execute(sa.text(
        "UPDATE rasters SET queue_rank = COALESCE((SELECT min(-p.uncertainty) FROM proposals p "
        "WHERE p.id IN (SELECT max(q.id) FROM proposals q JOIN instances i ON i.id = q.instance_id "
        "WHERE i.raster_id = rasters.id GROUP BY q.instance_id)), :unscored)"
    ).bindparams(unscored=UNSCORED_RANK))
    for table, item in (('clips', 'clip_id'), ('rasters', 'raster_id')):
        op.execute(sa.text(
            f"UPDATE {table} SET queue_open = ((SELECT count(*) FROM assignments a "
            f"WHERE a.{item} = {table}.id AND a.completed_at IS NOT NULL) < "
            f"(SELECT p.annotators_per_item FROM projects p WHERE p.id = {table}.project_id))"))


def downgrade() -> None:
    for name, table in (('ix_verdicts_instance_id', 'verdicts'), ('ix_verdicts_clip_id', 'verdicts'),
                        ('ix_clips_queue', 'clips'), ('ix_rasters_queue', 'rasters'),
                        ('ix_assignments_open_by_user', 'assignments'),
                        ('ux_assignments_open_raster_slot', 'assignments'),
                        ('ux_assignments_open_clip_slot', 'assignments'),
                        ('ix_assignments_raster_id', 'assignments'),
                        ('ix_assignments_clip_id', 'assignments')):
        op.drop_index(name, table_name=table)
    for table, column in (('clips', 'queue_open'), ('clips', 'queue_rank'), ('rasters', 'queue_open'),
                          ('rasters', 'queue_rank'), ('assignments', 'slot'), ('assignments', 'released_at')):
        op.drop_column(table, column)  # SQLite >= 3.35 drops a column in place
