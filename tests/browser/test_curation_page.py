"""Curation page: a researcher sees a finished curation and sends two least-sure clips to clip verification;
an annotator is then asked about exactly those clips first."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from annotation_db.curation import save_rules, store_decisions
from annotation_db.engine import session_scope
from annotation_db.import_clips import import_clips
from annotation_db.models import (Assignment, Clip, CurationDecision, JobKind, JobStatus, Role, TrainingJob, User,
                                  Verdict)
from annotation_db.projects import get_project
from annotation_db.users import create_user
from core.synthetic.curation import generate_curation

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
NO_DEMO = {"SEED_DEMO": "0"}
PASSWORD = "password123"


def _top(label: str, classes: list[str], rank: int) -> list[list]:
    """Scores of the classes with `label` at `rank` (1-based)."""
    others = [c for c in classes if c != label]
    order = others[:rank - 1] + [label] + others[rank - 1:]
    return [[name, round(0.5 / (i + 1), 3)] for i, name in enumerate(order)]


def _record(clip: Clip, n: int, classes: list[str]) -> dict:
    """A curate() record: every 4th clip removed by stage 3, the others ranked 1..4 by two two-fold models."""
    base = {"key": clip.key, "label": clip.label, "split": clip.split or "train"}
    if n % 4 == 0:
        return {**base, "kept": False, "decided_by": "stage3",
                "stage3": {"scores": {"speech": 0.8, "music": 0.1, "other": 0.1}, "rejected": True,
                           "rejections": [], "rule": "reject speech or music above 0.5", "model_version": "v0"}}
    ranks = {1: (1, 1), 2: (2, 4), 3: (4, 4)}[n % 4]  # (model a, model b): agree, disagree, agree
    ensemble = max(ranks)
    kept = ensemble <= 3
    return {**base, "kept": kept, "decided_by": "easy" if kept else "rejected",
            "twofold": {"predictions": [{"model": m, "model_version": f"v-{m}", "top": _top(clip.label, classes, r),
                                         "label_probability": round(0.5 / r, 3)} for m, r in zip(("r0h0", "r1h1"), ranks)],
                        "label_rank": ensemble, "label_probability": round(0.5 / ensemble, 3), "easy_positive": kept,
                        "ensemble_top": _top(clip.label, classes, ensemble)}}


@pytest.fixture
def project_data(app_db, tmp_path_factory) -> Path:
    """A clip-verification project of 24 generated clips in 4 classes with the generator's stage-3 rules
    (instruments allow music), a researcher and an annotator."""
    data = generate_curation(clips=24, classes=4, seed=3, out=tmp_path_factory.mktemp("cur") / "cur", seconds=2.0,
                             overlays=0.0, duplicates=0.0)
    with session_scope() as session:
        import_clips(session, "curation", "clip-verification", data / "clips", data / "labels.csv")
        rita = create_user(session, "rita", Role.researcher, PASSWORD)
        create_user(session, "ann", Role.annotator, PASSWORD)
        save_rules(session, rita, get_project(session, "curation").id, (data / "rules.json").read_text())
    return app_db


@pytest.fixture
def app_data(project_data) -> Path:
    """The project with a finished curation (its decisions stored)."""
    with session_scope() as session:
        project = get_project(session, "curation")
        rita = session.exec(select(User).where(User.name == "rita")).one()
        job = TrainingJob(kind=JobKind.curate, model="audioclass", project_id=project.id, launched_by=rita.id,
                          status=JobStatus.succeeded, progress_step=8, progress_total=8,
                          last_metric={"curation": {"counts": {"clips": 24}, "seconds": {"twofold": 1.0}}})
        session.add(job)
        session.flush()
        clips = session.exec(select(Clip).where(Clip.project_id == project.id).order_by(Clip.id)).all()
        classes = sorted({c.label for c in clips})
        records = [_record(clip, n, classes) for n, clip in enumerate(clips)]
        store_decisions(session, job.id, records, {clip.key: clip.id for clip in clips})
    return project_data


def _least_sure_ids() -> list[int]:
    """Clip ids the page lists as least sure (the models disagree, or the label ranks 4th), highest first."""
    with session_scope() as session:
        rows = session.exec(select(CurationDecision)).all()
        return sorted((r.clip_id for r in rows if r.record.get("twofold", {}).get("label_rank") == 4), reverse=True)


def test_send_least_sure_clips_to_clip_verification(log_in, page, streamlit_server, wait_for_app, app_data):
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=app_data)
    log_in(page, url, "rita", PASSWORD)
    page.get_by_role("link", name="Curation").click()
    wait_for_app(page, text="Latest curation (job 1)")
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2)  # per-class stages, label probabilities
    expect(page.get_by_role("button", name="Kept clips (VGG-Sound CSV)")).to_be_visible()
    expect(page.get_by_text("Stage-3 rules")).to_be_visible()

    # the stage-3 rules editor refuses a rule for a class the project lacks, and stores a good one
    rules = page.get_by_label("Rules (JSON)")
    with session_scope() as session:
        before = get_project(session, "curation").settings
    for text, shown in (('{"classes": {"playing cello": {"reject": ["speech"]}}}', "Rules not saved: no class"),
                        ('{"classes": {"playing flute": {"reject": ["speech"]}}}', "Stage-3 rules saved")):
        rules.fill(text)
        rules.press("Control+Enter")
        wait_for_app(page)
        save = page.get_by_role("button", name="Save rules")
        expect(save).to_have_count(1)  # the rerun that applies the text may still show the old button beside it
        save.click()
        wait_for_app(page, text=shown)
        with session_scope() as session:
            settings = get_project(session, "curation").settings
        if shown.startswith("Rules not saved"):
            assert settings == before
    assert settings["curation_rules"]["classes"] == {"playing flute": {"reject": ["speech"]}}

    # the two clips with the highest ids: without their request, clip verification would serve them last
    chosen = _least_sure_ids()[:2]
    assert len(chosen) == 2
    with session_scope() as session:
        keys = {clip_id: session.get(Clip, clip_id).key for clip_id in chosen}
    for clip_id in chosen:
        box = page.locator(f".st-key-cur_pick_1_{clip_id}")
        expect(box).to_contain_text(keys[clip_id])
        box.locator("label").click()
        expect(box.get_by_role("checkbox")).to_be_checked()
    page.get_by_role("button", name="Send to clip verification").click()
    wait_for_app(page, text="Sent 2 clip(s) to clip verification.")
    for clip_id in chosen:  # now listed as sent, without a checkbox
        expect(page.locator(f".st-key-cur_pick_1_{clip_id}")).to_have_count(0)
        expect(page.get_by_text(f"{keys[clip_id]} (sent · not answered yet)")).to_be_visible()
    with session_scope() as session:
        rita = session.exec(select(User).where(User.name == "rita")).one()
        sent = session.exec(select(CurationDecision).where(CurationDecision.requested_at.is_not(None))).all()
        assert sorted(r.clip_id for r in sent) == sorted(chosen)
        assert {r.requested_by for r in sent} == {rita.id}

    page.get_by_role("button", name="Log out").click()
    log_in(page, url, "ann", PASSWORD)
    expect(page.get_by_role("link", name="Curation")).to_have_count(0)  # researchers only
    page.get_by_role("link", name="Clip verification").click()
    answered = []
    for answer, word in (("no", "No"), ("yes", "Yes")):
        wait_for_app(page, text="Does this clip show")
        with session_scope() as session:
            ann_id = session.exec(select(User.id).where(User.name == "ann")).one()
            lease = session.exec(select(Assignment).where(Assignment.user_id == ann_id,
                                                          Assignment.completed_at.is_(None))).one()
            clip = session.get(Clip, lease.clip_id)
        assert clip.id in chosen and clip.id not in answered
        expect(page.get_by_text(clip.key).first).to_be_visible()
        expect(page.locator(".cv-label")).to_have_text(clip.label)
        page.locator(f".st-key-cv_{answer} button").click()
        wait_for_app(page, text=f"Saved {word} for")
        answered.append(clip.id)
    with session_scope() as session:
        verdicts = session.exec(select(Verdict).where(Verdict.user_id == ann_id).order_by(Verdict.id)).all()
        assert [(v.clip_id, v.answer.value) for v in verdicts] == list(zip(answered, ("no", "yes")))
        lease = session.exec(select(Assignment).where(Assignment.user_id == ann_id,
                                                      Assignment.completed_at.is_(None))).first()
        assert lease is None or lease.clip_id not in chosen  # then the random sample

    # back on the curation page, the sent clips show the annotator's answers
    page.get_by_role("button", name="Log out").click()
    log_in(page, url, "rita", PASSWORD)
    page.get_by_role("link", name="Curation").click()
    wait_for_app(page, text="Latest curation (job 1)")
    for clip_id, word in zip(answered, ("No", "Yes")):
        expect(page.get_by_text(f"{keys[clip_id]} (sent · {word})")).to_be_visible()


def test_run_a_curation_from_the_page_and_see_its_results(log_in, page, streamlit_server, wait_for_app,
                                                           project_data):
    url = streamlit_server(MAIN, env=NO_DEMO, data_dir=project_data)
    log_in(page, url, "rita", PASSWORD)
    page.get_by_role("link", name="Curation").click()
    wait_for_app(page, text="No finished curation of this project yet")
    page.get_by_label("Epochs per classifier").fill("1")
    page.get_by_label("Epochs per classifier").press("Enter")
    wait_for_app(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Network").click()
    page.get_by_role("option", name="micro", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="Run curation").click()
    wait_for_app(page, text="Queued curate job 1.")
    # the worker beside the app runs it; the page follows its progress and then shows the results
    wait_for_app(page, text="Latest curation (job 1)", timeout_ms=240_000)
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(2)
    with session_scope() as session:
        job = session.get(TrainingJob, 1)
        assert job.status is JobStatus.succeeded and job.params == {"epochs": 1, "config": "micro"}
        rows = session.exec(select(CurationDecision).where(CurationDecision.job_id == 1)).all()
        kept = job.last_metric["curation"]["counts"]["kept"]
        assert len(rows) == 24 and sum(r.kept for r in rows) == kept
    expect(page.get_by_test_id("stMetric").filter(has_text="Kept")).to_contain_text(str(kept))
