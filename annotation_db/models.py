"""SQLModel tables: everything the product stores.

Items to review are raster tiles with their vector instances (geo projects) or clips
(audio-visual projects). Models write proposals; people write verdicts against them.
Verdicts are append-only: a later verdict by the same person on the same item supersedes
an earlier one, and nothing is overwritten.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import (JSON, CheckConstraint, Column, ForeignKey, Index, Integer, UniqueConstraint, event,
                        func, select, text, true, update)
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Field, SQLModel

# Review queue order of an item without a scored proposal: after every scored one (rank = -uncertainty).
UNSCORED_RANK = 1.0e30
# A lease still counts (it holds its place on the item) until it is completed or released.
OPEN_LEASE = "completed_at IS NULL AND released_at IS NULL"


def utcnow() -> datetime:
    """Timezone-aware UTC now (SQLModel stores aware datetimes as UTC)."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime (SQLite hands some back naive; they are UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _json_column() -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=True))


def _queue_rank() -> Any:
    """Where a unit of work (raster or clip) stands in its project's review queue (lowest first)."""
    return Field(default=UNSCORED_RANK, sa_column_kwargs={"server_default": text(repr(UNSCORED_RANK))})


def _queue_open() -> Any:
    """Whether a unit of work still needs annotators (False once annotators_per_item leases are done)."""
    return Field(default=True, sa_column_kwargs={"server_default": true()})


def _late_foreign_key(target: str, name: str) -> Any:
    """A nullable FK created after both tables exist (breaks project/version/job cycles)."""
    return Field(default=None, sa_column=Column(
        Integer, ForeignKey(target, use_alter=True, name=name), nullable=True))


class Role(str, enum.Enum):
    annotator = "annotator"
    researcher = "researcher"
    admin = "admin"


class ProjectKind(str, enum.Enum):
    railway = "railway"
    buildings = "buildings"
    localization = "localization"
    sync = "sync"
    clip_verification = "clip-verification"

    @property
    def is_geo(self) -> bool:
        return self in (ProjectKind.railway, ProjectKind.buildings)


class VerdictKind(str, enum.Enum):
    geometry = "geometry"  # AutoCorrect: final geometry of one instance
    boxes = "boxes"  # VGG-SS stage 2: boxes on the centre frame
    sound = "sound"  # VGG-SS stage 3: does the boxed object make this sound?
    sync = "sync"  # AVST: category, in-sync flag, offset
    clip = "clip"  # VGG-Sound stage 4: is the label right for this clip?


class GeometryAction(str, enum.Enum):
    accepted = "accepted"  # the model's correction is right
    original = "original"  # the noisy input was right after all
    adjusted = "adjusted"  # a person moved / rotated it
    not_visible = "not_visible"  # nothing in the image to align to
    obsolete = "obsolete"  # the object no longer exists


class Answer(str, enum.Enum):
    yes = "yes"
    no = "no"
    not_sure = "not_sure"


class SyncCategory(str, enum.Enum):
    """Thesis Table 6.1."""

    evident = "evident"  # audio-visually evident
    uniform_ambient = "uniform_ambient"  # uniform or ambient sound
    no_source = "no_source"  # no sound or no visible source


class JobStatus(str, enum.Enum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class JobKind(str, enum.Enum):
    train = "train"
    evaluate = "evaluate"
    predict = "predict"
    adapt = "adapt"  # self-supervised training on a project's own labels, kept only if its self-check improves
    curate = "curate"  # VGG-Sound curation stages 3 and 4 on a clip-verification project's clips


class User(SQLModel, table=True):
    __tablename__ = "users"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, min_length=1)
    password_hash: Optional[str] = None  # None: a system account that cannot log in
    role: Role = Field(default=Role.annotator)
    is_system: bool = False  # e.g. the source of imported reference annotations
    created_at: datetime = Field(default_factory=utcnow)


class Project(SQLModel, table=True):
    __tablename__ = "projects"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, min_length=1)
    kind: ProjectKind
    description: str = ""
    annotators_per_item: int = Field(default=1, ge=1)  # 2 asks for overlap (consensus)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: Optional[int] = Field(default=None, foreign_key="users.id")
    active_model_version_id: Optional[int] = _late_foreign_key(
        "model_versions.id", "fk_projects_active_model_version")
    # e.g. {"max_shift_m": 5.0}: the expected misalignment of a geo project (default: the model card's)
    settings: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    # while an import writes a new project in short transactions: the importer (host:pid); the project
    # is hidden from everyone until its last transaction clears this (annotation_db/staged_import.py)
    importing: Optional[str] = None


class Raster(SQLModel, table=True):
    """A georeferenced image tile; the unit of work on geo projects."""

    __tablename__ = "rasters"
    __table_args__ = (UniqueConstraint("project_id", "name"),
                      Index("ix_rasters_queue", "project_id", "queue_open", "queue_rank", "id"))
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    name: str
    path: str
    crs: str  # WKT of the raster's CRS: instance geometries are stored in it
    width: int
    height: int
    band_count: int
    transform: list[float] = Field(sa_column=Column(JSON, nullable=False))  # affine a..f
    created_at: datetime = Field(default_factory=utcnow)
    # the review queue: -(largest uncertainty of its instances' latest proposals), UNSCORED_RANK if none;
    # queue_open turns False once annotators_per_item leases on it are completed
    queue_rank: float = _queue_rank()
    queue_open: bool = _queue_open()


class Instance(SQLModel, table=True):
    """One vector annotation (railway track, building) as imported, in its raster's CRS."""

    __tablename__ = "instances"
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    raster_id: int = Field(foreign_key="rasters.id", index=True)
    source_id: str = ""  # feature id in the imported file
    geometry_wkt: str  # as imported, reprojected to the raster CRS: the noisy input
    source_crs: str  # the annotation file's CRS (WKT); exports go back to it
    source_geometry_wkt: str  # as imported, in source_crs: untouched instances export exactly
    properties: Optional[dict] = _json_column()
    created_at: datetime = Field(default_factory=utcnow)


class Clip(SQLModel, table=True):
    """An audio-visual clip; the unit of work on localisation, sync and verification projects."""

    __tablename__ = "clips"
    __table_args__ = (UniqueConstraint("project_id", "key"),
                      Index("ix_clips_queue", "project_id", "queue_open", "queue_rank", "id"))
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    key: str  # "<youtube id>_<start, 6 digits>" (the VGG-Sound / VGG-SS naming) or the file stem
    media_path: Optional[str] = None  # None when the media is missing (e.g. VGG-SS boxes only)
    label: Optional[str] = Field(default=None, index=True)
    split: Optional[str] = None
    youtube_id: Optional[str] = None
    start_seconds: Optional[float] = None
    duration: Optional[float] = None
    fps: Optional[float] = None
    sample_rate: Optional[int] = None
    width: Optional[int] = None
    height: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)
    # the review queue: -(uncertainty of the latest proposal), UNSCORED_RANK if none; see Raster
    queue_rank: float = _queue_rank()
    queue_open: bool = _queue_open()


class ModelVersion(SQLModel, table=True):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model", "version"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    model: str = Field(index=True)  # autocorrect | localizer | avst
    version: str  # human-readable, e.g. "autocorrect-railway-demo-1"
    project_id: Optional[int] = Field(default=None, foreign_key="projects.id")
    path: str
    sha256: str
    parent_id: Optional[int] = Field(default=None, foreign_key="model_versions.id")
    job_id: Optional[int] = Field(default=None, foreign_key="training_jobs.id")
    config: Optional[dict] = _json_column()
    metrics: Optional[dict] = _json_column()
    data_cutoff: Optional[datetime] = None
    verdict_ids: Optional[list] = _json_column()
    created_at: datetime = Field(default_factory=utcnow)


class Proposal(SQLModel, table=True):
    """A model's output for one item, stamped with the version that made it."""

    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint("(instance_id IS NULL) <> (clip_id IS NULL)", name="one_item"),
        Index("ix_proposals_clip_newest", "clip_id", "id"),  # an item's latest proposal, at once
        Index("ix_proposals_instance_newest", "instance_id", "id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    instance_id: Optional[int] = Field(default=None, foreign_key="instances.id", index=True)
    clip_id: Optional[int] = Field(default=None, foreign_key="clips.id", index=True)
    model: str
    model_version: str
    model_version_id: Optional[int] = Field(default=None, foreign_key="model_versions.id")
    # autocorrect: {"geometry_wkt", "transform": [dx_px, dy_px, theta_rad]}; localizer:
    # {"boxes": [[x1,y1,x2,y2,score]], "heatmap_path"}; avst: {"offset_frames", "scores"}
    payload: Optional[dict] = _json_column()
    uncertainty: Optional[float] = None  # review queues show the most uncertain first
    created_at: datetime = Field(default_factory=utcnow)


class Verdict(SQLModel, table=True):
    """A person's decision on one item; who, when and against which proposal."""

    __tablename__ = "verdicts"
    __table_args__ = (
        CheckConstraint("(instance_id IS NULL) <> (clip_id IS NULL)", name="one_item"),
        Index("ix_verdicts_item", "project_id", "kind", "instance_id", "clip_id"),
        Index("ix_verdicts_clip_newest", "clip_id", "id"),  # an item's latest verdicts, at once
        Index("ix_verdicts_instance_newest", "instance_id", "id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: VerdictKind
    instance_id: Optional[int] = Field(default=None, foreign_key="instances.id")
    clip_id: Optional[int] = Field(default=None, foreign_key="clips.id")
    proposal_id: Optional[int] = Field(default=None, foreign_key="proposals.id")
    source: str = "app"  # app | cli | import:<file name>
    created_at: datetime = Field(default_factory=utcnow, index=True)
    # geometry
    action: Optional[GeometryAction] = None
    final_geometry_wkt: Optional[str] = None  # raster CRS
    dx_m: Optional[float] = None
    dy_m: Optional[float] = None
    rotation_deg: Optional[float] = None
    # boxes: [[x1, y1, x2, y2], ...] normalised to the centre frame
    boxes: Optional[list] = _json_column()
    cannot_localise: Optional[bool] = None
    # sound and clip verdicts
    answer: Optional[Answer] = None
    # sync
    category: Optional[SyncCategory] = None
    in_sync: Optional[bool] = None
    offset_frames: Optional[int] = None  # at 25 fps; positive when the audio comes late
    note: str = ""


class Assignment(SQLModel, table=True):
    """An item leased to one annotator; others do not get it until the lease expires.

    A lease is open until it is completed (the annotator's verdict is in) or released (it expired and
    the item went to someone else, or it was handed back). Each open lease holds one of the item's
    `annotators_per_item` slots, and the database refuses a second open lease on a slot: one-annotator
    items (slot 0 only) can never have two open leases, whatever the claims do.
    """

    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint("(raster_id IS NULL) <> (clip_id IS NULL)", name="one_item"),
        Index("ix_assignments_item", "project_id", "raster_id", "clip_id"),
        Index("ix_assignments_clip_id", "clip_id"),
        Index("ix_assignments_raster_id", "raster_id"),
        Index("ux_assignments_open_clip_slot", "clip_id", "slot", unique=True,
              sqlite_where=text(f"clip_id IS NOT NULL AND {OPEN_LEASE}"),
              postgresql_where=text(f"clip_id IS NOT NULL AND {OPEN_LEASE}")),
        Index("ux_assignments_open_raster_slot", "raster_id", "slot", unique=True,
              sqlite_where=text(f"raster_id IS NOT NULL AND {OPEN_LEASE}"),
              postgresql_where=text(f"raster_id IS NOT NULL AND {OPEN_LEASE}")),
        Index("ix_assignments_open_by_user", "user_id", "project_id",
              sqlite_where=text(OPEN_LEASE), postgresql_where=text(OPEN_LEASE)),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    raster_id: Optional[int] = Field(default=None, foreign_key="rasters.id")
    clip_id: Optional[int] = Field(default=None, foreign_key="clips.id")
    leased_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    completed_at: Optional[datetime] = None
    released_at: Optional[datetime] = None  # ended without a verdict: expired and taken over, or handed back
    slot: int = 0  # which of the item's annotators_per_item places the lease holds (0 on one-annotator items)


class TrainingJob(SQLModel, table=True):
    __tablename__ = "training_jobs"
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: JobKind
    model: str  # autocorrect | localizer | avst
    project_id: Optional[int] = Field(default=None, foreign_key="projects.id")
    params: Optional[dict] = _json_column()
    launched_by: Optional[int] = Field(default=None, foreign_key="users.id")
    status: JobStatus = Field(default=JobStatus.queued, index=True)
    progress_step: int = 0
    progress_total: int = 0
    current_loss: Optional[float] = None
    loss_history: Optional[list] = _json_column()  # [[step, loss], ...] for the live curve
    last_metric: Optional[dict] = _json_column()
    worker: Optional[str] = None
    attempts: int = 0
    heartbeat_at: Optional[datetime] = None
    cancel_requested: bool = False
    log_path: Optional[str] = None
    error: Optional[str] = None
    produced_version_id: Optional[int] = _late_foreign_key(
        "model_versions.id", "fk_training_jobs_produced_version")
    created_at: datetime = Field(default_factory=utcnow)
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None


class CurationDecision(SQLModel, table=True):
    """What one curate job decided for one clip, with the scores and model versions behind it.

    A researcher may ask annotators about a decided clip (requested_at): clip verification then
    serves it before the random sample.
    """

    __tablename__ = "curation_decisions"
    __table_args__ = (UniqueConstraint("job_id", "clip_id"),
                      Index("ix_curation_decisions_requested", "project_id", "requested_at"))
    id: Optional[int] = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="training_jobs.id", index=True)
    project_id: int = Field(foreign_key="projects.id")
    clip_id: int = Field(foreign_key="clips.id", index=True)
    decided_by: str  # stage3 | easy | hard | final | duplicate | rejected
    kept: bool
    # the curation's per-clip record: stage-3 scores and rule, two-fold predictions, retrieval, final, duplicate
    record: Optional[dict] = _json_column()
    requested_by: Optional[int] = Field(default=None, foreign_key="users.id")
    requested_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)


# ---- the review queue's ranks follow the proposals, however they are written ----

RANK_CHUNK = 500  # ids per UPDATE ... WHERE id IN (...)


def refresh_queue_ranks(connection: Any, clip_ids: Iterable[int] = (),
                        instance_ids: Iterable[int] = ()) -> None:
    """Set queue_rank of these clips and of the rasters of these instances from their latest proposals.

    A clip ranks by its latest proposal's uncertainty, a raster by the largest uncertainty among its
    instances' latest proposals (most uncertain first); items without one rank last (UNSCORED_RANK).
    """
    proposals, clips, rasters = Proposal.__table__, Clip.__table__, Raster.__table__
    instances = Instance.__table__
    newer = proposals.alias("newer")
    clip_rank = select(-proposals.c.uncertainty).where(proposals.c.id == select(func.max(newer.c.id)).where(
        newer.c.clip_id == clips.c.id).correlate(clips).scalar_subquery()).correlate(clips).scalar_subquery()
    latest_per_instance = select(func.max(newer.c.id)).select_from(
        newer.join(instances, instances.c.id == newer.c.instance_id)).where(
        instances.c.raster_id == rasters.c.id).group_by(newer.c.instance_id).correlate(rasters)
    raster_rank = select(func.min(-proposals.c.uncertainty)).where(
        proposals.c.id.in_(latest_per_instance)).correlate(rasters).scalar_subquery()
    clip_ids = sorted({int(i) for i in clip_ids if i is not None})
    for start in range(0, len(clip_ids), RANK_CHUNK):
        connection.execute(update(clips).where(clips.c.id.in_(clip_ids[start:start + RANK_CHUNK]))
                           .values(queue_rank=func.coalesce(clip_rank, UNSCORED_RANK)))
    instance_ids = sorted({int(i) for i in instance_ids if i is not None})
    raster_ids: set[int] = set()
    for start in range(0, len(instance_ids), RANK_CHUNK):
        raster_ids.update(connection.execute(select(instances.c.raster_id).where(
            instances.c.id.in_(instance_ids[start:start + RANK_CHUNK])).distinct()).scalars())
    ordered = sorted(raster_ids)
    for start in range(0, len(ordered), RANK_CHUNK):
        connection.execute(update(rasters).where(rasters.c.id.in_(ordered[start:start + RANK_CHUNK]))
                           .values(queue_rank=func.coalesce(raster_rank, UNSCORED_RANK)))


@event.listens_for(OrmSession, "after_flush")
def _rank_new_proposals(session: OrmSession, _context: Any) -> None:
    """After a flush that stored proposals, re-rank their items (the lists still show what was new)."""
    clip_ids, instance_ids = set(), set()
    for obj in session.new:
        if isinstance(obj, Proposal):
            (clip_ids if obj.clip_id is not None else instance_ids).add(obj.clip_id or obj.instance_id)
    if clip_ids or instance_ids:
        refresh_queue_ranks(session.connection(), clip_ids, instance_ids)
