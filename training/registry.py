"""Model versions: bundled demo checkpoints, registration, and which version a project uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from annotation_db.engine import session_scope
from annotation_db.models import JobKind, ModelVersion, Project, Role, TrainingJob, User
from annotation_db.users import require_role
from core.checkpoints import checkpoint_version, file_sha256, load_checkpoint
from training.family import ModelFamily
from training.families import family_for_kind
from training.jobs import submit_job


@dataclass(frozen=True)
class ResolvedModel:
    """A checkpoint to predict with, and the version its predictions are stamped with."""

    path: Path
    version: str
    version_id: int | None


def register_version(session: Session, model: str, path: str | Path, *, project_id: int | None = None,
                     parent_id: int | None = None, job_id: int | None = None,
                     metrics: dict | None = None, **fields) -> ModelVersion:
    """Record a checkpoint as a model version (its config is read from the JSON beside it)."""
    path = Path(path).resolve()
    _, config = load_checkpoint(path)
    digest = file_sha256(path)
    version = checkpoint_version(path)
    if session.exec(select(ModelVersion).where(ModelVersion.model == model,
                                               ModelVersion.version == version)).first():
        version = f"{version}-{digest[:8]}"  # same name, other weights (e.g. a retrain)
    row = ModelVersion(model=model, version=version, project_id=project_id,
                       path=str(path), sha256=digest, parent_id=parent_id,
                       job_id=job_id, config=config, metrics=metrics, **fields)
    session.add(row)
    session.flush()
    return row


def version_for_checkpoint(session: Session, model: str, path: str | Path) -> ModelVersion:
    """The registered version of a checkpoint file, registering it on first use.

    The first use registers it in a short write transaction of its own (BEGIN IMMEDIATE waits for
    the lock), after committing `session`: upgrading a read that began before another process
    wrote would fail at once on SQLite.
    """
    digest = file_sha256(path)
    query = select(ModelVersion).where(ModelVersion.model == model, ModelVersion.sha256 == digest)
    row = session.exec(query).first()
    if row is not None:
        return row
    session.commit()
    with session_scope(immediate=True) as own:
        version_id = (own.exec(query).first() or register_version(own, model, path)).id
    return session.get(ModelVersion, version_id)


def resolve_model(session: Session, project: Project, family: ModelFamily,
                  checkpoint: str | Path | None = None) -> ResolvedModel:
    """The checkpoint to use: the one given, else the project's active version, else the bundled one."""
    if checkpoint is None and project.active_model_version_id is not None:
        active = session.get(ModelVersion, project.active_model_version_id)
        return ResolvedModel(Path(active.path), active.version, active.id)
    path = Path(checkpoint) if checkpoint else family.bundled_for(project.kind.value)
    row = version_for_checkpoint(session, family.name, path)
    return ResolvedModel(path, row.version, row.id)


def promote_version(session: Session, user: User, project: Project, version_id: int) -> TrainingJob:
    """Make a version the project's active model and queue a predict job to refresh proposals."""
    require_role(user, Role.researcher, Role.admin)
    version = session.get(ModelVersion, version_id)
    if version is None:
        raise ValueError(f"no model version {version_id}")
    family = family_for_kind(project.kind.value)
    if family is None or version.model != family.name:
        raise ValueError(f"{version.model} cannot serve a {project.kind.value} project")
    project.active_model_version_id = version.id
    session.add(project)
    return submit_job(session, user, version.model, JobKind.predict, project)


def versions_of(session: Session, model: str) -> list[ModelVersion]:
    """Every registered version of a model family, newest first."""
    return list(session.exec(select(ModelVersion).where(ModelVersion.model == model)
                             .order_by(ModelVersion.id.desc())))
