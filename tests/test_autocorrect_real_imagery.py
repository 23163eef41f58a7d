"""AutoCorrect on real-style rasters: windowed reads at the model's GSD, abstention, self-check, adapt."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
import torch
from rasterio.transform import from_origin
from sqlmodel import select

from annotation_db.engine import session_scope
from annotation_db.import_geo import import_geo
from annotation_db.models import ModelVersion, Proposal, Role
from annotation_db.projects import get_project
from annotation_db.users import create_user
from core.autocorrect.geo_io import load_generated, model_scale, move_geometry, scaled, to_raster_motion
from core.autocorrect.memory_map import TileInput
from core.autocorrect.predictor import AutoCorrectPredictor
from core.autocorrect.raster import RasterWindows, read_rgb, stretch_limits
from core.config import get_settings
from core.autocorrect.rasterize import Shape
from core.autocorrect.se2 import affine_matrix, apply_to_points, se2_matrix
from core.autocorrect.selfcheck import Calibration
from core.synthetic.geo import generate_geo
from training.cli import main
from training.family import bundled_checkpoint
from training.jobs import job_details, submit_job
from training.worker import run_worker


def _geotiff(path, data: np.ndarray, gsd: float, nodata=None):
    profile = {"driver": "GTiff", "width": data.shape[2], "height": data.shape[1], "count": data.shape[0],
               "dtype": data.dtype, "crs": "EPSG:32616", "transform": from_origin(733600.0, 3725100.0, gsd, gsd)}
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


def test_a_correction_made_at_the_model_gsd_lands_exactly_in_the_source_crs():
    transform = tuple(from_origin(733600.0, 3725100.0, 0.5, 0.5))[:6]
    scale = model_scale(transform, 0.3)  # 0.5 m raster seen by a 0.3 m model
    assert scale == pytest.approx(0.5 / 0.3)
    square = Shape((np.array([[10.0, 10.0], [30.0, 10.0], [30.0, 25.0], [10.0, 25.0]]),), True)
    in_model = scaled(square, scale)
    motion = se2_matrix(6.0, -4.0, np.radians(3.0), tuple(in_model.centroid()))  # model px
    expected_px = in_model.moved(motion).vertices() / scale
    assert np.allclose(square.moved(to_raster_motion(motion, scale)).vertices(), expected_px)
    from shapely.geometry import Polygon

    geometry = Polygon(apply_to_points(affine_matrix(transform), square.parts[0]))
    moved = move_geometry(geometry, to_raster_motion(motion, scale), transform)
    assert np.allclose(np.asarray(moved.exterior.coords)[:-1], apply_to_points(affine_matrix(transform), expected_px))


@pytest.mark.parametrize("bands,dtype", [(1, np.uint16), (3, np.uint8), (4, np.float32)])
def test_windows_of_any_dtype_and_band_count_are_normalised_and_resampled(tmp_path, bands, dtype):
    rng = np.random.default_rng(0)
    data = (rng.uniform(50, 200, (bands, 64, 80))).astype(dtype)
    data[:, :8, :] = 0  # nodata strip along the top
    path = _geotiff(tmp_path / "r.tif", data, 0.5, nodata=0)
    windows = RasterWindows(path, scale=2.0)
    assert windows.size == (128, 160)
    inside = windows.window((80, 64), 32)
    assert inside.shape == (3, 32, 32) and inside.dtype == torch.float32
    assert -0.5 <= float(inside.min()) and float(inside.max()) <= 0.5 and float(inside.std()) > 0.01
    edge = windows.window((0, 0), 24)  # 3/4 outside the raster, the rest nodata
    assert float(edge.abs().max()) == 0.0


def test_people_see_full_resolution_chips_and_a_cached_overview_of_any_raster(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    data = np.arange(3 * 300 * 500, dtype=np.uint16).reshape(3, 300, 500) % 4000 + 1
    data[:, :10, :] = 0  # nodata strip
    path = _geotiff(tmp_path / "r.tif", data, 0.5, nodata=0)
    chip = read_rgb(path, (100, 50, 164, 98))
    assert chip.shape == (48, 64, 3) and chip.dtype == np.uint8
    with rasterio.open(path) as src:
        lo, hi = stretch_limits(src)
    expected = np.clip((data[:, 50:98, 100:164] - lo) / (hi - lo), 0, 1)
    assert np.abs(chip.astype(float) - np.round(np.moveaxis(expected, 0, -1) * 255)).max() <= 1  # real pixels
    assert (read_rgb(path, (0, 0, 40, 20))[:10] == 128).all()  # nodata mid-grey
    whole = read_rgb(path, max_side=128)
    assert max(whole.shape[:2]) <= 128
    assert list((tmp_path / "var" / "cache" / "overviews").glob("*.npz"))  # computed once, kept
    with pytest.raises(ValueError, match="outside"):
        read_rgb(path, (600, 0, 700, 10))
    get_settings.cache_clear()


def test_unsure_proposals_keep_the_input_and_sure_ones_move(tmp_path):
    _, tiles = load_generated(generate_geo(kind="buildings", tiles=1, size=256, seed=4, out=tmp_path / "g"))
    predictor = AutoCorrectPredictor.from_checkpoint(bundled_checkpoint("autocorrect-buildings"), "cpu")
    tile = TileInput(tiles[0].image, tiles[0].shapes)
    never = predictor.propose([tile], Calibration(None, 8.0))[0]
    assert not any(never.confident) and all(np.allclose(m, np.eye(3)) for m in never.matrices)
    always = predictor.propose([tile], Calibration(1e9, 8.0))[0]
    assert all(always.confident)
    assert any(not np.allclose(m, np.eye(3)) for m in always.matrices)


def test_self_check_on_generated_labels_calibrates_a_model_that_helps(tmp_path):
    kind, tiles = load_generated(generate_geo(kind="buildings", tiles=2, size=256, seed=5, out=tmp_path / "g"))
    predictor = AutoCorrectPredictor.from_checkpoint(bundled_checkpoint("autocorrect-buildings"), "cpu")
    # the generator's truth as the project's labels: the self-check knows exactly what it undid
    check = predictor.self_check([TileInput(t.image, t.truth) for t in tiles], max_shift_px=8.0, rounds=2)
    assert check.calibration.threshold_px is not None and check.confident_share > 0.3
    assert check.confident_recovery_pck["5"] > check.perturbed_pck["5"] + 0.1
    assert check.to_dict()["score"] == check.confident_recovery_pck["5"]


def test_an_adapt_job_self_checks_parent_and_child_and_activates_only_a_better_child(database, tmp_path):
    data = generate_geo(kind="buildings", tiles=2, size=256, seed=8, out=tmp_path / "g")
    with session_scope() as session:
        import_geo(session, "town", "buildings", data / "rasters", data / "annotations.geojson")
        project = get_project(session, "town")
        project.settings = {"max_shift_m": 2.4}
        rita = create_user(session, "rita", Role.researcher, "password1")
        job = submit_job(session, rita, "autocorrect", "adapt", project,
                         {"max_steps": 3, "check_rounds": 1, "batch_size": 4, "threads": 1})
    assert run_worker(until_idle=True, poll_s=0.1) >= 1
    with session_scope() as session:
        details = job_details(session, job.id)
        assert details["status"] == "succeeded", details["error"]
        metrics = details["version"]["metrics"]
        scores = {w: metrics["self_check"][w]["rank_key"] for w in ("parent", "child")}
        assert metrics["adapted"] and metrics["max_shift_m"] == 2.4
        assert metrics["activated"] == (scores["child"] > scores["parent"])
        active = get_project(session, "town").active_model_version_id
        assert (active == details["version"]["id"]) == metrics["activated"]


def test_versions_list_and_promote_from_the_command_line(database, tmp_path, capsys):
    data = generate_geo(kind="buildings", tiles=1, size=128, seed=9, out=tmp_path / "g")
    with session_scope() as session:
        import_geo(session, "town", "buildings", data / "rasters", data / "annotations.geojson")
    assert main(["predict", "autocorrect", "--project", "town"]) == 0
    capsys.readouterr()
    assert main(["versions", "list", "--project", "town", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["version"].startswith("autocorrect-buildings") and not rows[0]["active"]
    assert main(["versions", "promote", str(rows[0]["id"]), "--project", "town"]) == 0
    capsys.readouterr()
    assert main(["versions", "list", "--project", "town", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["active"]
    with session_scope() as session:
        assert get_project(session, "town").active_model_version_id == rows[0]["id"]
        proposals = session.exec(select(Proposal)).all()
        assert proposals and all("confident" in p.payload and "calibration_m" in p.payload for p in proposals)
        assert session.exec(select(ModelVersion)).first() is not None
