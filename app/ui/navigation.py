"""The app's pages, their sections and who may see them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from annotation_db.models import Role

APP_DIR = Path(__file__).resolve().parents[1]
EVERYONE = (Role.annotator, Role.researcher, Role.admin)
RESEARCHERS = (Role.researcher, Role.admin)


@dataclass(frozen=True)
class PageSpec:
    """One page: its script under app/pages/, title, icon, section and roles."""

    script: str
    title: str
    icon: str
    section: str
    roles: tuple[Role, ...] = EVERYONE


PAGES = (
    PageSpec("pages/home.py", "Projects", ":material/dashboard:", "Work"),
    PageSpec("pages/autocorrect_review.py", "Geometry review", ":material/map:", "Work"),
    PageSpec("pages/localization_boxes.py", "Sound-source boxes", ":material/crop_free:", "Work"),
    PageSpec("pages/localization_sound.py", "Sound check", ":material/hearing:", "Work"),
    PageSpec("pages/sync_review.py", "Sync review", ":material/sync:", "Work"),
    PageSpec("pages/clip_verification.py", "Clip verification", ":material/task_alt:", "Work"),
    PageSpec("pages/localization_agreement.py", "Box agreement", ":material/join_inner:",
             "Research", RESEARCHERS),
    PageSpec("pages/curation.py", "Curation", ":material/filter_alt:", "Research", RESEARCHERS),
    PageSpec("pages/jobs.py", "Jobs & models", ":material/model_training:", "Research",
             RESEARCHERS),
    PageSpec("pages/data.py", "Import & export", ":material/upload_file:", "Data", RESEARCHERS),
    PageSpec("pages/users.py", "Users", ":material/group:", "Admin", (Role.admin,)),
)


def pages_for(role: Role) -> dict[str, list[PageSpec]]:
    """The pages a role may open, by section, in menu order (pages not built yet are left out)."""
    sections: dict[str, list[PageSpec]] = {}
    for spec in PAGES:
        if role in spec.roles and (APP_DIR / spec.script).is_file():
            sections.setdefault(spec.section, []).append(spec)
    return sections
