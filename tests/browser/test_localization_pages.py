"""VGG-SS stages 2 and 3 in chromium: edit boxes, answer the video check, find both in DB and export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.export_vggss import export_vggss
from annotation_db.import_clips import import_clips
from annotation_db.localization_review import next_box_task, save_boxes, set_overlap
from annotation_db.models import Role, User, Verdict, VerdictKind
from annotation_db.projects import get_project
from annotation_db.users import create_user
from core.synthetic.localization import generate_localization
from training.cli import main as training_main
from training.localizer.predict import predict_project

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
NO_DEMO = {"SEED_DEMO": "0"}
EDITOR_IFRAME = 'iframe[title*="box_editor"]'
FRAME_SIDE = 128  # px of the generated clips' frames


@pytest.fixture
def app_data(app_db, tmp_path) -> Path:
    """A data dir with a localisation project of 2 clips, model proposals and an annotator."""
    clips = generate_localization(clips=2, seed=11, out=tmp_path / "gen", duration=6.0, size=128)
    checkpoint = tmp_path / "micro.pt"
    assert training_main(["train", "localizer", "--data", str(clips), "--out", str(checkpoint),
                          "--config", "micro", "--max-steps", "1", "--batch-size", "2"]) == 0
    with session_scope() as session:
        import_clips(session, "birds", "localization", clips / "clips", clips / "labels.csv")
        predict_project(session, get_project(session, "birds"), checkpoint=checkpoint)
        create_user(session, "ann", Role.annotator, "password123")
    return tmp_path


def _verdicts(kind: VerdictKind) -> list[Verdict]:
    with session_scope() as session:
        return list(session.exec(select(Verdict).where(Verdict.kind == kind).order_by(Verdict.id)))


def test_box_then_sound_check_reach_the_database_and_the_export(log_in, page, streamlit_server, wait_for_app,
                                                                app_data):
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_data)
    log_in(page, url, "ann", "password123")

    page.get_by_role("link", name="Sound-source boxes").click()
    wait_for_app(page, text="0 of 2 clips boxed · yours 0")
    editor = page.frame_locator(EDITOR_IFRAME)
    canvas = editor.locator("canvas")
    expect(canvas).to_be_visible()  # the box editor renders offline
    width, height = canvas.evaluate("c => [c.width, c.height]")
    assert width >= 640
    delete = editor.get_by_role("button", name="Delete box")
    while delete.is_enabled():  # the model's boxes, if it proposed any
        delete.click()
    page.wait_for_timeout(500)  # the editor reports the edit after 250 ms: let that rerun start, then end
    wait_for_app(page)
    canvas.scroll_into_view_if_needed()
    # draw from (0.25, 0.25) to (0.5, 0.75) of the frame, shown square and centred on the canvas
    place = canvas.bounding_box()
    side = min(width, height)
    left, top = place["x"] + (width - side) / 2, place["y"] + (height - side) / 2
    page.mouse.move(left + 0.25 * side, top + 0.25 * side)
    page.mouse.down()
    page.mouse.move(left + 0.4 * side, top + 0.5 * side, steps=5)
    page.mouse.move(left + 0.5 * side, top + 0.75 * side, steps=5)
    page.mouse.up()
    expect(editor.get_by_text("1 box · box 1 selected")).to_be_visible()
    page.keyboard.press("Shift+ArrowRight")  # 10 px of the frame to the right
    page.keyboard.press("ArrowDown")  # and 1 px down
    page.keyboard.press("s")  # one step: the editor's own save
    wait_for_app(page, text="1 box(es)")
    [first] = _verdicts(VerdictKind.boxes)
    shift = 10 / FRAME_SIDE
    [box] = first.boxes
    assert box == pytest.approx([0.25 + shift, 0.25 + 1 / FRAME_SIDE, 0.5 + shift, 0.75 + 1 / FRAME_SIDE], abs=0.012)
    assert not first.cannot_localise and first.proposal_id is not None
    wait_for_app(page, text="1 of 2 clips boxed · yours 1")

    page.get_by_role("button", name="Cannot be localised").click()
    wait_for_app(page, text="cannot be localised")
    second = _verdicts(VerdictKind.boxes)[1]
    assert second.cannot_localise and second.boxes == []
    wait_for_app(page, text="Every clip of this project has its boxes")

    page.get_by_role("link", name="Sound check").click()
    wait_for_app(page, text="0 of 1 boxed clips checked · yours 0")
    expect(page.locator("video")).to_be_visible()
    # playback is asked to start by itself, or has (no click on the player)
    page.wait_for_function("() => [...document.querySelectorAll('video')].some(v => v.autoplay || v.currentTime > 0)",
                           timeout=20000)
    expect(page.get_by_text("Spectrogram of these 5 s")).to_be_visible()
    page.get_by_text("Play each clip automatically").click()  # the setting: no autoplay
    wait_for_app(page)
    expect(page.locator("video:not([autoplay])")).to_have_count(1)
    page.get_by_role("button", name="Yes").click()
    wait_for_app(page, text="No boxed clip waits")
    [sound] = _verdicts(VerdictKind.sound)
    assert sound.clip_id == first.clip_id and sound.answer.value == "yes"

    with session_scope() as session:
        export_vggss(session, "birds", app_data / "export.json")
    exported = {e["file"]: e["bbox"] for e in json.loads((app_data / "export.json").read_text())}
    assert sorted(exported.values(), key=len) == [[], first.boxes]


def test_researchers_see_agreement_per_class_and_set_the_overlap(log_in, page, streamlit_server, wait_for_app,
                                                                 app_data):
    with session_scope(immediate=True) as session:
        project = get_project(session, "birds")
        set_overlap(session, project, 2)
        rita = create_user(session, "rita", Role.researcher, "password123")
        ann = session.exec(select(User).where(User.name == "ann")).one()
        for user, box in ((ann, [0.0, 0.0, 0.5, 0.5]), (rita, [0.25, 0.0, 0.75, 0.5])):
            task = next_box_task(session, project, user)
            save_boxes(session, user, project, task.clip.id, [box], assignment_id=task.assignment_id)
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_data)
    log_in(page, url, "rita", "password123")
    page.get_by_role("link", name="Box agreement").click()
    wait_for_app(page, text="Agreement per class")
    expect(page.get_by_text("Consensus (C = 2)")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    spin = page.get_by_label("Annotators per clip (2 for an agreement study)")
    spin.fill("3")
    spin.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("button", name="Apply")).to_have_count(0)  # saved: the button goes
    wait_for_app(page, text="Agreement per class")
    with session_scope() as session:
        assert get_project(session, "birds").annotators_per_item == 3
