"""Schema, SQLite settings, users, verdict checks, leases and stats (most on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from annotation_db.assignment import complete_assignment, next_assignment
from annotation_db.cli import main as cli
from annotation_db.engine import get_engine, session_scope
from annotation_db.models import (UNSCORED_RANK, Assignment, Clip, Instance, Project, ProjectKind, Proposal,
                                  Raster, Role, User, VerdictKind, utcnow)
from annotation_db.projects import ProjectError, ensure_project, project_kinds
from annotation_db.reports import ImportReport, run_import
from annotation_db.stats import project_stats, read_stats
from annotation_db.users import (AccessDenied, Account, accounts, add_account, authenticate, check_login,
                                 count_accounts, count_login_users, create_user, require_role,
                                 system_user)
from annotation_db.verdicts import VerdictError, latest_verdicts, record_verdict


def test_init_creates_every_table_with_sqlite_pragmas(database):
    engine = get_engine(database)
    tables = set(inspect(engine).get_table_names())
    assert {"users", "projects", "rasters", "instances", "clips", "proposals", "verdicts",
            "assignments", "training_jobs", "model_versions", "alembic_version"} <= tables
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() > 0


@pytest.mark.both_databases
def test_cli_init_is_idempotent(database, capsys):
    assert cli(["init"]) == 0
    assert cli(["init"]) == 0
    assert "database ready" in capsys.readouterr().out


@pytest.mark.both_databases
def test_foreign_keys_are_enforced(session):
    session.add(Clip(project_id=999, key="x"))
    with pytest.raises(Exception, match="(?i)foreign key"):
        session.flush()
    session.rollback()


@pytest.mark.both_databases
def test_users_hash_passwords_and_check_roles(session):
    user = create_user(session, "ann", Role.annotator, "correct horse")
    assert user.password_hash and "correct horse" not in user.password_hash
    assert authenticate(session, "ann", "correct horse").id == user.id
    assert authenticate(session, "ann", "wrong password") is None
    assert authenticate(session, "nobody", "correct horse") is None
    with pytest.raises(ValueError, match="already exists"):
        create_user(session, "ann", Role.admin, "another password")
    with pytest.raises(ValueError, match="at least"):
        create_user(session, "bob", Role.admin, "short")
    with pytest.raises(AccessDenied):
        require_role(user, Role.researcher, Role.admin)
    reference = system_user(session)
    assert authenticate(session, reference.name, "") is None
    assert count_login_users(session) == 1


def test_cli_create_user_reads_password_from_env(database, monkeypatch, capsys):
    monkeypatch.setenv("NEW_PASSWORD", "s3cret-enough")
    assert cli(["create-user", "rita", "--role", "researcher", "--password-env", "NEW_PASSWORD"]) == 0
    assert cli(["create-user", "rita", "--role", "researcher", "--password-env", "NEW_PASSWORD"]) == 2
    assert "already exists" in capsys.readouterr().err
    with session_scope() as session:
        assert authenticate(session, "rita", "s3cret-enough").role is Role.researcher


@pytest.mark.both_databases
def test_project_kind_is_fixed(session):
    ensure_project(session, "p", ProjectKind.sync)
    with pytest.raises(ProjectError, match="sync project"):
        ensure_project(session, "p", ProjectKind.localization)


def _clip_project(session, clips: int = 3, overlap: int = 1) -> Project:
    project = ensure_project(session, "clips", ProjectKind.sync, annotators_per_item=overlap)
    session.add_all([Clip(project_id=project.id, key=f"c{i}") for i in range(clips)])
    session.flush()
    return project


@pytest.mark.both_databases
def test_verdicts_are_checked_against_kind_item_and_proposal(session):
    user = create_user(session, "ann", Role.annotator, "password1")
    project = _clip_project(session)
    clip = session.exec(select(Clip)).first()
    with pytest.raises(VerdictError, match="in_sync"):
        record_verdict(session, user, project, "sync", clip_id=clip.id, category="evident")
    with pytest.raises(VerdictError, match="-15..15"):
        record_verdict(session, user, project, "sync", clip_id=clip.id, category="evident",
                       in_sync=False, offset_frames=40)
    with pytest.raises(VerdictError, match="instance_id"):
        record_verdict(session, user, project, "geometry", clip_id=clip.id, action="accepted")
    with pytest.raises(VerdictError, match="inside"):
        record_verdict(session, user, project, "boxes", clip_id=clip.id, boxes=[[0.5, 0.5, 0.2, 0.9]])
    other = session.exec(select(Clip).where(Clip.id != clip.id)).first()
    proposal = Proposal(project_id=project.id, clip_id=other.id, model="avst", model_version="v1")
    session.add(proposal)
    session.flush()
    with pytest.raises(VerdictError, match="not about this item"):
        record_verdict(session, user, project, "clip", clip_id=clip.id, proposal_id=proposal.id,
                       answer="yes")
    first = record_verdict(session, user, project, "sync", clip_id=clip.id, category="evident",
                           in_sync=False, offset_frames=-3)
    second = record_verdict(session, user, project, "sync", clip_id=clip.id,
                            category="uniform_ambient")
    latest = latest_verdicts(session, project.id, VerdictKind.sync)
    assert latest[clip.id].id == second.id != first.id
    assert first.user_id == user.id and first.created_at is not None


@pytest.mark.both_databases
def test_leases_hand_an_item_to_one_annotator_until_expiry(session):
    project = _clip_project(session, clips=2)
    ann, bob, cat = (create_user(session, n, Role.annotator, "password1") for n in ("ann", "bob", "cat"))
    first = next_assignment(session, project, ann)
    assert next_assignment(session, project, ann).id == first.id  # resumes the open lease
    second = next_assignment(session, project, bob)
    assert second.clip_id != first.clip_id
    assert next_assignment(session, project, cat) is None  # both leased
    later = utcnow() + timedelta(hours=2)
    assert next_assignment(session, project, cat, now=later).clip_id == first.clip_id
    complete_assignment(session, first)
    assert next_assignment(session, project, ann, now=later + timedelta(hours=2)).clip_id != first.clip_id


@pytest.mark.both_databases
def test_overlap_projects_hand_each_item_to_two_annotators(session):
    project = _clip_project(session, clips=1, overlap=2)
    ann, bob, cat = (create_user(session, n, Role.annotator, "password1") for n in ("ann", "bob", "cat"))
    assert next_assignment(session, project, ann) is not None
    assert next_assignment(session, project, bob) is not None
    assert next_assignment(session, project, cat) is None


@pytest.mark.both_databases
def test_queue_puts_the_most_uncertain_item_first(session):
    project = _clip_project(session, clips=3)
    clips = session.exec(select(Clip).order_by(Clip.id)).all()
    for clip, uncertainty in zip(clips, (0.1, 0.9, None)):
        session.add(Proposal(project_id=project.id, clip_id=clip.id, model="avst",
                             model_version="v1", uncertainty=uncertainty))
    session.flush()
    ann = create_user(session, "ann", Role.annotator, "password1")
    assert next_assignment(session, project, ann).clip_id == clips[1].id


@pytest.mark.both_databases
def test_stats_count_items_proposals_and_human_verdicts(session):
    project = _clip_project(session, clips=3)
    clip = session.exec(select(Clip)).first()
    ann = create_user(session, "ann", Role.annotator, "password1")
    record_verdict(session, ann, project, "clip", clip_id=clip.id, answer="yes")
    record_verdict(session, ann, project, "clip", clip_id=clip.id, answer="no")
    record_verdict(session, system_user(session), project, "clip", clip_id=clip.id, answer="yes")
    counts = project_stats(session, project)
    assert counts["items"] == {"clips": 3, "clips_with_media": 0}
    assert counts["verdicts"] == {"clip": 2}
    assert counts["reference_verdicts"] == 1
    assert counts["reviewed_items"] == 1
    assert counts["annotators"] == {"ann": {"verdicts": 2, "items": 1}}


@pytest.mark.both_databases
def test_geometry_verdict_needs_final_geometry(session):
    project = ensure_project(session, "geo", ProjectKind.railway)
    raster = Raster(project_id=project.id, name="t.tif", path="/x/t.tif", crs="EPSG:27700",
                    width=8, height=8, band_count=3, transform=[1, 0, 0, 0, -1, 8])
    session.add(raster)
    session.flush()
    instance = Instance(project_id=project.id, raster_id=raster.id, geometry_wkt="LINESTRING (0 0, 1 1)",
                        source_crs="EPSG:27700", source_geometry_wkt="LINESTRING (0 0, 1 1)")
    session.add(instance)
    session.flush()
    ann = create_user(session, "ann", Role.annotator, "password1")
    with pytest.raises(VerdictError, match="final_geometry_wkt"):
        record_verdict(session, ann, project, "geometry", instance_id=instance.id, action="adjusted")
    verdict = record_verdict(session, ann, project, "geometry", instance_id=instance.id,
                             action="not_visible")
    assert verdict.final_geometry_wkt is None


def test_read_then_write_sessions_survive_a_commit_in_between(database):
    """A deferred session whose read snapshot went stale cannot write (SQLite fails at once, whatever
    busy_timeout says); an immediate session, as the pages use for saves, takes the lock first."""
    from sqlalchemy.exc import OperationalError

    with session_scope() as session:
        create_user(session, "ann", Role.annotator, "secret-password")

    def read_others_commit_then_write(immediate: bool) -> None:
        with session_scope(immediate=immediate) as session:
            session.exec(select(User)).all()  # the read that fixes the snapshot
            if not immediate:  # an immediate session holds the write lock, so nobody can commit here
                with get_engine(database).begin() as other:
                    other.execute(text("UPDATE users SET name = name"))
            session.add(User(name=f"new-{immediate}", role=Role.annotator, password_hash="x"))

    with pytest.raises(OperationalError, match="locked"):
        read_others_commit_then_write(immediate=False)
    read_others_commit_then_write(immediate=True)
    with session_scope() as session:
        assert [u.name for u in session.exec(select(User)).all()] == ["ann", "new-True"]


@pytest.mark.both_databases
def test_account_services_return_plain_accounts(database):
    assert count_accounts() == 0
    admin = add_account("boss", Role.admin, "password1")
    assert isinstance(admin, Account) and admin.role is Role.admin
    with pytest.raises(ValueError, match="already exists"):
        add_account("boss", Role.annotator, "password2")
    with session_scope() as session:
        system_user(session)
    assert count_accounts() == 1
    assert check_login("boss", "password1") == admin
    assert check_login("boss", "wrong password") is None
    assert [a.name for a in accounts()] == ["boss"]


@pytest.mark.both_databases
def test_project_and_stats_services_read_in_their_own_transaction(database):
    with session_scope() as session:
        _clip_project(session, clips=2)
        ensure_project(session, "geo", ProjectKind.railway)
    assert project_kinds() == {"clips": "sync", "geo": "railway"}
    assert [row["project"] for row in read_stats()] == ["clips", "geo"]
    assert read_stats("clips")[0]["items"] == {"clips": 2, "clips_with_media": 0}


@pytest.mark.both_databases
def test_run_import_keeps_nothing_when_the_import_fails(database):
    def importer(session, name: str, fail: bool) -> ImportReport:
        ensure_project(session, name, ProjectKind.sync)
        session.flush()
        if fail:
            raise ValueError("bad input")
        return ImportReport(project=name, source="test")

    with pytest.raises(ValueError, match="bad input"):
        run_import(importer, "broken", True)
    assert project_kinds() == {}
    assert run_import(importer, "fine", False).project == "fine"
    assert project_kinds() == {"fine": "sync"}


@pytest.mark.both_databases
def test_migration_0004_releases_stale_leases_and_fills_the_queue(database):
    """An existing database (at 0003) with leases left open after they expired, as the old claims left
    them: the upgrade keeps the newest open lease per one-annotator item and ranks the items."""
    from alembic import command

    from annotation_db.migrate import alembic_config

    command.downgrade(alembic_config(database), "0003")
    get_engine.cache_clear()
    engine = get_engine(database)
    old, newer = utcnow() - timedelta(days=2), utcnow() - timedelta(days=1)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO users (name, role, is_system, created_at) VALUES "
                                "('ann', 'annotator', false, :t), ('bob', 'annotator', false, :t)"), {"t": old})
        connection.execute(text("INSERT INTO projects (name, kind, description, annotators_per_item, created_at) "
                                "VALUES ('p', 'sync', '', 1, :t)"), {"t": old})
        for key in ("a", "b", "c"):
            connection.execute(text("INSERT INTO clips (project_id, key, created_at) VALUES (1, :k, :t)"),
                               {"k": key, "t": old})
        connection.execute(text(
            "INSERT INTO assignments (project_id, user_id, clip_id, leased_at, expires_at, completed_at) VALUES "
            "(1, 1, 1, :old, :old, NULL), (1, 2, 1, :newer, :newer, NULL), (1, 1, 2, :old, :old, :newer)"),
            {"old": old, "newer": newer})
        connection.execute(text(
            "INSERT INTO proposals (project_id, clip_id, model, model_version, uncertainty, created_at) VALUES "
            "(1, 3, 'avst', 'v1', 0.25, :t), (1, 1, 'avst', 'v1', 0.75, :t)"), {"t": old})
    command.upgrade(alembic_config(database), "head")
    get_engine.cache_clear()
    with session_scope() as session:
        leases = {a.id: a for a in session.exec(select(Assignment))}
        assert leases[1].released_at is not None and leases[2].released_at is None and leases[2].slot == 0
        assert leases[3].completed_at is not None and leases[3].released_at is None
        clips = {c.key: c for c in session.exec(select(Clip))}
        assert (clips["a"].queue_rank, clips["c"].queue_rank) == (-0.75, -0.25)
        assert clips["b"].queue_rank == UNSCORED_RANK
        assert [clips[k].queue_open for k in "abc"] == [True, False, True]
        project, ann = session.get(Project, 1), session.get(User, 1)
        assert next_assignment(session, project, ann).clip_id == clips["a"].id  # bob's lease expired
