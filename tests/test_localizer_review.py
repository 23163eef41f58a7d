"""DB services of the VGG-SS review pages: box queue with overlap, verdicts, agreement, consensus."""

import json

import pytest
from sqlmodel import select

from annotation_db import localization_review as lr
from annotation_db.engine import session_scope
from annotation_db.export_vggss import vggss_entries
from annotation_db.localization_review import (agreement_by_class, clip_consensus, next_box_task,
                                               next_sound_task, pair_ciou, save_boxes, save_sound,
                                               set_overlap)
from annotation_db.models import Assignment, Clip, Project, ProjectKind, Role, Verdict, VerdictKind
from annotation_db.users import create_user, system_user


@pytest.fixture
def project(session, tmp_path):
    return _birds_project(session, tmp_path)


def _birds_project(session, tmp_path):
    media = tmp_path / "a.mp4"
    media.write_bytes(b"")  # never decoded here
    target = Project(name="birds", kind=ProjectKind.localization)
    session.add(target)
    session.flush()
    session.add_all([Clip(project_id=target.id, key="a_000001", label="dog barking", media_path=str(media)),
                     Clip(project_id=target.id, key="b_000002", label="dog barking", media_path=str(media)),
                     Clip(project_id=target.id, key="c_000003", label="playing flute")])
    session.flush()
    reference = system_user(session)
    clip_c = session.exec(select(Clip).where(Clip.key == "c_000003")).one()
    session.add(Verdict(project_id=target.id, user_id=reference.id, kind=VerdictKind.boxes,
                        clip_id=clip_c.id, boxes=[[0.1, 0.1, 0.2, 0.2]], cannot_localise=False))
    session.flush()
    return target


def test_pair_ciou_is_the_iou_of_two_annotators():
    # 112 x 112 and a box shifted by half: overlap 56 x 112 over a union of 168 x 112
    assert pair_ciou([[0.0, 0.0, 0.5, 0.5]], [[0.25, 0.0, 0.75, 0.5]]) == pytest.approx(1 / 3)


def test_two_annotators_box_each_clip_and_their_agreement_is_reported(session, project):
    set_overlap(session, project, 2)
    ann = create_user(session, "ann", Role.annotator, "password123")
    bob = create_user(session, "bob", Role.annotator, "password123")
    first = next_box_task(session, project, ann)
    assert first.reference_boxes is None and first.starting_boxes() == []
    save_boxes(session, ann, project, first.clip.id, [[0.0, 0.0, 0.5, 0.5]], assignment_id=first.assignment_id)
    second = next_box_task(session, project, bob)
    assert second.clip.id == first.clip.id  # overlap: the same clip goes to a second person
    save_boxes(session, bob, project, second.clip.id, [[0.25, 0.0, 0.75, 0.5]],
               assignment_id=second.assignment_id)
    third = next_box_task(session, project, ann)
    assert third.clip.id != first.clip.id
    save_boxes(session, ann, project, third.clip.id, [], cannot_localise=True, assignment_id=third.assignment_id)

    [row] = agreement_by_class(session, project)
    assert (row.label, row.clips) == ("dog barking", 1)
    assert row.mean_ciou == pytest.approx(1 / 3)
    mask = clip_consensus(session, project, first.clip.id, size=4)
    assert mask[0].tolist() == [0.5, 1.0, 0.5, 0.0]  # C = 2

    sound = next_sound_task(session, project, ann)
    assert sound.clip.id == first.clip.id  # the cannot-localise clip is not sound-checked
    save_sound(session, ann, project, sound.clip.id, "yes")
    assert next_sound_task(session, project, ann) is None

    entries = {e["file"]: e["bbox"] for e in vggss_entries(session, "birds")}
    assert entries[third.clip.key] == [] and entries["c_000003"] == [[0.1, 0.1, 0.2, 0.2]]
    assert entries[first.clip.key] == [[0.25, 0.0, 0.75, 0.5]]  # the latest person's boxes win


def test_reference_boxes_open_the_editor(session, project):
    ann = create_user(session, "ann", Role.annotator, "password123")
    tasks = []
    for _ in range(3):
        task = next_box_task(session, project, ann)
        tasks.append(task)
        save_boxes(session, ann, project, task.clip.id, [[0.2, 0.2, 0.4, 0.4]], assignment_id=task.assignment_id)
    boxed = next(t for t in tasks if t.clip.key == "c_000003")
    assert boxed.starting_boxes() == [[0.1, 0.1, 0.2, 0.2]] and not boxed.has_media


def test_page_services_take_names_and_ids_and_return_plain_values(database, tmp_path):
    with session_scope() as session:
        _birds_project(session, tmp_path)
        ann = create_user(session, "ann", Role.annotator, "password123")
        bob = create_user(session, "bob", Role.annotator, "password123")
    assert lr.localization_projects() == ["birds"]
    lr.change_overlap("birds", 2)
    first = lr.claim_box_task("birds", ann.id)
    assert isinstance(first.clip, lr.ClipInfo) and first.proposal is None and first.my_boxes is None
    verdict_id = lr.save_box_verdict("birds", ann.id, first.clip.id, [[0.0, 0.0, 0.5, 0.5]],
                                     assignment_id=first.assignment_id)
    second = lr.claim_box_task("birds", bob.id)
    assert second.clip == first.clip
    lr.save_box_verdict("birds", bob.id, second.clip.id, [[0.25, 0.0, 0.75, 0.5]],
                        assignment_id=second.assignment_id)
    skipped = lr.claim_box_task("birds", ann.id)
    lr.skip_leased_clip(bob.id, skipped.assignment_id)  # not bob's lease: kept
    with session_scope() as session:
        assert session.get(Verdict, verdict_id).boxes == [[0.0, 0.0, 0.5, 0.5]]
        assert session.get(Assignment, skipped.assignment_id).completed_at is None
    lr.skip_leased_clip(ann.id, skipped.assignment_id)
    with session_scope() as session:
        assert session.get(Assignment, skipped.assignment_id).completed_at is not None

    overview = lr.agreement_overview("birds")
    assert overview.annotators_per_item == 2 and [c.id for c in overview.clips] == [first.clip.id]
    assert overview.agreement[0].mean_ciou == pytest.approx(1 / 3)
    assert set(overview.boxes[first.clip.id]) == {ann.id, bob.id}
    assert overview.names[ann.id] == "ann"
    assert lr.project_consensus("birds", first.clip.id, size=4)[0].tolist() == [0.5, 1.0, 0.5, 0.0]

    sound = lr.sound_task("birds", ann.id)
    assert sound.clip.id == first.clip.id and sound.people_boxes == [[0.25, 0.0, 0.75, 0.5]]
    lr.save_sound_answer("birds", ann.id, sound.clip.id, "yes")
    assert lr.sound_task("birds", ann.id) is None
    out = tmp_path / "birds.json"
    assert lr.export_boxes("birds", out) == 2  # the clips with boxes: people's and the reference's
    assert {e["file"] for e in json.loads(out.read_text())} == {first.clip.key, "c_000003"}
