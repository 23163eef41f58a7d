"""Writing model proposals, and finding the instances that still need one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from annotation_db.models import Instance, Project, Proposal, User, Verdict
from annotation_db.verdicts import counted_verdict


@dataclass
class NewProposal:
    """One model output for one item (exactly one of instance_id / clip_id)."""

    payload: dict
    instance_id: int | None = None
    clip_id: int | None = None
    uncertainty: float | None = None


def write_proposals(session: Session, project: Project, model: str, model_version: str,
                    proposals: list[NewProposal], model_version_id: int | None = None) -> int:
    """Store proposals stamped with the version that made them; returns how many."""
    session.add_all([Proposal(project_id=project.id, instance_id=p.instance_id, clip_id=p.clip_id,
                              model=model, model_version=model_version,
                              model_version_id=model_version_id, payload=p.payload,
                              uncertainty=p.uncertainty) for p in proposals])
    session.flush()
    return len(proposals)


def unreviewed_instances(session: Session, project: Project) -> list[Instance]:
    """Instances no person has given a verdict on yet."""
    reviewed = select(Verdict.instance_id).join(User).where(
        Verdict.project_id == project.id, Verdict.instance_id.is_not(None),
        User.is_system.is_(False), counted_verdict())
    return list(session.exec(select(Instance).where(Instance.project_id == project.id,
                                                    Instance.id.not_in(reviewed))
                             .order_by(Instance.raster_id, Instance.id)))

