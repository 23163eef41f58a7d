"""AutoCorrect on the real SpaceNet Atlanta tile of solaris 0.4.0, fetched from the package registry at test time.

Tuned on the west half only (centroid column < 450), so that is where these tests look. Skipped,
with the reason, only when the registry cannot be reached.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from shapely.geometry import Polygon

from annotation_db.engine import session_scope
from annotation_db.import_geo import import_geo
from annotation_db.models import Role
from annotation_db.projects import get_project
from annotation_db.users import create_user
from core.autocorrect.geo_io import geometry_to_shape, model_scale, scaled, to_raster_motion
from core.autocorrect.memory_map import TileInput
from core.autocorrect.metrics import pck
from core.autocorrect.predictor import AutoCorrectPredictor
from core.autocorrect.raster import RasterWindows
from core.autocorrect.se2 import affine_matrix, apply_to_points, se2_matrix
from core.samples import SPACENET_ATLANTA, SampleUnavailable, fetch
from training.family import bundled_checkpoint
from training.jobs import job_details, submit_job
from training.worker import run_worker

pytestmark = pytest.mark.slow
WEST_COLUMN = 450


@pytest.fixture(scope="module")
def atlanta(tmp_path_factory):
    """(raster path, affine, true footprints as raster-px shapes)."""
    try:
        root = fetch(SPACENET_ATLANTA, tmp_path_factory.mktemp("samples"))
    except SampleUnavailable as error:
        pytest.skip(f"the real sample could not be fetched: {error}")
    raster = root / "solaris/data/sample_geotiff.tif"
    with rasterio.open(raster) as src:
        transform, crs = tuple(src.transform)[:6], src.crs
    frame = gpd.read_file(root / "solaris/data/geotiff_labels.geojson").to_crs(crs)
    return raster, transform, [geometry_to_shape(g, transform) for g in frame.geometry]


def _noisy(shapes: list, seed: int = 0) -> list:
    """Up to 10 px in x and y and 5 degrees about the centroid, uniform (the benchmark's noise)."""
    rng = np.random.default_rng(seed)
    out = []
    for shape in shapes:
        dx, dy = rng.uniform(-10, 10, 2)
        out.append(shape.moved(se2_matrix(dx, dy, np.radians(rng.uniform(-5, 5)), tuple(shape.centroid()))))
    return out


def _west_pck(shapes: list, truth: list) -> dict[str, float]:
    west = [i for i, s in enumerate(truth) if s.centroid()[0] < WEST_COLUMN]
    return pck(np.concatenate([np.hypot(*(shapes[i].vertices() - truth[i].vertices()).T) for i in west]),
               tuple(range(1, 11)))


def _with_abstention(raster, transform, labels: list) -> list:
    """The bundled buildings model, calibrated by a self-check on the labels themselves."""
    predictor = AutoCorrectPredictor.from_checkpoint(bundled_checkpoint("autocorrect-buildings"), "cpu")
    scale = model_scale(transform, predictor.config.gsd_m)
    tile = TileInput(RasterWindows(raster, scale), [scaled(s, scale) for s in labels])
    bound_px = 5.0 / predictor.config.gsd_m  # the project's expected misalignment: 5 m
    check = predictor.self_check([tile], bound_px, rounds=2)
    result = predictor.propose([tile], check.calibration)[0]
    return [s.moved(to_raster_motion(m, scale)) for s, m in zip(labels, result.matrices)]


def test_the_bundled_model_with_abstention_never_makes_the_noisy_labels_worse(atlanta):
    raster, transform, truth = atlanta
    labels = _noisy(truth)
    before, after = _west_pck(labels, truth), _west_pck(_with_abstention(raster, transform, labels), truth)
    assert all(after[k] >= before[k] for k in before), (before, after)


def test_true_footprints_stay_where_they_are(atlanta):
    raster, transform, truth = atlanta
    assert _west_pck(_with_abstention(raster, transform, truth), truth)["2"] >= 0.95


def test_an_adapt_job_on_the_real_tile_runs_end_to_end(atlanta, database, tmp_path):
    raster, transform, truth = atlanta
    with rasterio.open(raster) as src:
        crs = src.crs
    to_map = affine_matrix(transform)
    rows = [{"geometry": Polygon(apply_to_points(to_map, s.parts[0]))} for s in _noisy(truth)]
    (tmp_path / "rasters").mkdir()
    (tmp_path / "rasters" / "atlanta.tif").write_bytes(raster.read_bytes())
    gpd.GeoDataFrame(rows, crs=crs).to_file(tmp_path / "noisy.geojson", driver="GeoJSON")
    with session_scope() as session:
        import_geo(session, "atlanta", "buildings", tmp_path / "rasters", tmp_path / "noisy.geojson")
        project = get_project(session, "atlanta")
        project.settings = {"max_shift_m": 5.0}
        rita = create_user(session, "rita", Role.researcher, "password1")
        job = submit_job(session, rita, "autocorrect", "adapt", project,
                         {"max_steps": 10, "check_rounds": 1, "batch_size": 8, "threads": 1})
    assert run_worker(until_idle=True, poll_s=0.1) >= 1
    with session_scope() as session:
        details = job_details(session, job.id)
        assert details["status"] == "succeeded", details["error"]
        metrics = details["version"]["metrics"]
        # the self-checks run on the labels adapt never trained on (each label checked once per round)
        assert metrics["self_check"]["parent"]["instances"] == metrics["held_out_labels"] > 0
        checks = metrics["self_check"]
        assert metrics["activated"] == (checks["child"]["rank_key"] > checks["parent"]["rank_key"])
