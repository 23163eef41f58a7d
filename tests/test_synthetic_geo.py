"""The aerial GeoTIFF generator: determinism, georeferencing, the noise model and the imagery."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.features import rasterize
from scipy import ndimage
from shapely import affinity
from shapely.geometry import LineString, Polygon, box

from core.synthetic.__main__ import main
from core.synthetic.aerial import TrackFamily
from core.synthetic.geo import Motion, generate_geo, max_shift_px, rigid_motion

SIZE = 256
TILES = 3
CASES = {  # kind: (seed, exact_share, raster CRS, metres per pixel)
    "railway": (11, 0.2, "EPSG:27700", 0.5),
    "buildings": (5, 0.3, "EPSG:32630", 0.3),
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    """One small generated data set per kind."""
    return {kind: generate_geo(kind, TILES, SIZE, seed, tmp_path_factory.mktemp(kind), exact_share=share)
            for kind, (seed, share, _, _) in CASES.items()}


@pytest.fixture(params=sorted(CASES))
def dataset(request, generated) -> tuple[str, Path]:
    """Each kind's data set in turn."""
    return request.param, generated[request.param]


def _read(out: Path) -> tuple[dict, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    meta = json.loads((out / "meta.json").read_text())
    noisy = gpd.read_file(out / "annotations.geojson").sort_values("instance_id").reset_index(drop=True)
    truth = gpd.read_file(out / "truth.geojson").sort_values("instance_id").reset_index(drop=True)
    return meta, noisy, truth


def _in_pixels(out: Path, frame: gpd.GeoDataFrame, crs: str) -> list:
    """Each geometry in pixel coordinates of its own tile."""
    inverse = {}
    for name in frame.tile.unique():
        with rasterio.open(out / "rasters" / name) as src:
            inverse[name] = ~src.transform
    return [affinity.affine_transform(g, [inverse[t].a, inverse[t].b, inverse[t].d, inverse[t].e,
                                          inverse[t].c, inverse[t].f])
            for t, g in zip(frame.tile, frame.to_crs(crs).geometry)]


def _coords(geom) -> np.ndarray:
    return np.asarray(geom.exterior.coords if isinstance(geom, Polygon) else geom.coords)


def _first_edge_angle(geom) -> float:
    a, b = _coords(geom)[:2]
    return float(np.degrees(np.arctan2(b[1] - a[1], b[0] - a[0])))


def test_same_seed_gives_identical_files_and_other_seeds_differ(tmp_path):
    first = generate_geo("railway", 2, 128, 3, tmp_path / "a")
    again = generate_geo("railway", 2, 128, 3, tmp_path / "b")
    other = generate_geo("railway", 2, 128, 4, tmp_path / "c")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert {Path("rasters/tile_000.tif"), Path("annotations.geojson"), Path("truth.geojson"),
            Path("meta.json")} <= set(files)
    for rel in files:
        assert (first / rel).read_bytes() == (again / rel).read_bytes(), rel
    for rel in ("rasters/tile_000.tif", "rasters/tile_001.tif", "annotations.geojson"):
        assert (first / rel).read_bytes() != (other / rel).read_bytes(), rel


def test_rasters_are_georeferenced_rgb_tiles_apart(dataset):
    kind, out = dataset
    _, _, crs, res = CASES[kind]
    bounds = []
    for i in range(TILES):
        with rasterio.open(out / "rasters" / f"tile_{i:03d}.tif") as src:
            assert src.crs.to_string() == crs
            assert (src.width, src.height, src.count) == (SIZE, SIZE, 3)
            assert src.dtypes == ("uint8",) * 3
            assert src.res == pytest.approx((res, res))
            image = src.read()
            bounds.append(box(*src.bounds))
        assert image.std() > 10  # textured, not flat
    assert not any(a.intersects(b) for i, a in enumerate(bounds) for b in bounds[i + 1:])


def test_meta_describes_the_data_set(dataset):
    kind, out = dataset
    seed, share, crs, res = CASES[kind]
    meta, noisy, _ = _read(out)
    assert meta["kind"] == kind and meta["tiles"] == TILES and meta["size"] == SIZE
    assert meta["seed"] == seed and meta["exact_share"] == share
    assert meta["crs"] == crs and meta["pixel_size_m"] == res
    assert meta["max_shift_px"] == pytest.approx(max_shift_px(SIZE)) == pytest.approx(10.0)
    assert meta["max_rot_deg"] == 5.0 and meta["instances"] == len(noisy)


def test_annotations_are_valid_and_match_the_truth(dataset):
    kind, out = dataset
    _, noisy, truth = _read(out)
    expected = LineString if kind == "railway" else Polygon
    for frame in (noisy, truth):
        assert frame.crs.to_epsg() == 4326
        assert len(frame) >= TILES
        assert frame.geometry.is_valid.all() and not frame.geometry.is_empty.any()
        assert all(isinstance(g, expected) for g in frame.geometry)
        assert set(frame.tile) <= {p.name for p in (out / "rasters").iterdir()}
    assert noisy.instance_id.is_unique
    assert noisy.instance_id.tolist() == truth.instance_id.tolist()
    assert noisy.tile.tolist() == truth.tile.tolist()
    assert noisy.noisy.dtype == bool
    if kind == "buildings":
        assert all(g.exterior.is_ccw for frame in (noisy, truth) for g in frame.geometry)
        assert all(len(g.exterior.coords) in (5, 7) for g in truth.geometry)  # rectangles and L-shapes


def test_counts_scale_with_the_tile(dataset):
    kind, out = dataset
    _, _, truth = _read(out)
    per_tile = truth.groupby("tile").size()
    assert len(per_tile) == TILES
    low, high = (1, 5) if kind == "railway" else (1, 8)
    assert per_tile.between(low, high).all()


def test_displacements_respect_the_bounds_and_convention(dataset):
    kind, out = dataset
    _, _, crs, _ = CASES[kind]
    meta, noisy, truth = _read(out)
    moved_px, true_px = _in_pixels(out, noisy, crs), _in_pixels(out, truth, crs)
    noisy_map, true_map = noisy.to_crs(crs).geometry, truth.to_crs(crs).geometry
    tile = box(0, 0, SIZE, SIZE)
    for row, m, t, mm, tm in zip(noisy.itertuples(), moved_px, true_px, noisy_map, true_map):
        assert abs(row.dx_px) <= meta["max_shift_px"] and abs(row.dy_px) <= meta["max_shift_px"]
        assert abs(row.rot_deg) <= meta["max_rot_deg"]
        # A rigid motion about the centroid moves the centroid by exactly the shift.
        assert m.centroid.x - t.centroid.x == pytest.approx(row.dx_px, abs=1e-3)
        assert m.centroid.y - t.centroid.y == pytest.approx(row.dy_px, abs=1e-3)
        # Counter-clockwise positive on the map (y up), so clockwise in pixel rows (y down).
        turn_map = (_first_edge_angle(mm) - _first_edge_angle(tm) + 180) % 360 - 180
        turn_px = (_first_edge_angle(m) - _first_edge_angle(t) + 180) % 360 - 180
        assert turn_map == pytest.approx(row.rot_deg, abs=1e-3)
        assert turn_px == pytest.approx(-row.rot_deg, abs=1e-3)
        assert m.intersects(tile) and t.intersects(tile)
        largest = np.hypot(*(_coords(m) - _coords(t)).T).max()
        if row.noisy:
            assert largest > 1.0
        else:
            assert largest < 1e-6 and row.dx_px == row.dy_px == row.rot_deg == 0


def test_exact_share_is_respected(dataset):
    kind, out = dataset
    share = CASES[kind][1]
    _, noisy, _ = _read(out)
    exact = int((~noisy.noisy).sum())
    assert exact == round(share * len(noisy))
    assert noisy.noisy.any()


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_exact_share_extremes(tmp_path, share):
    _, noisy, _ = _read(generate_geo("buildings", 2, 128, 1, tmp_path, exact_share=share))
    assert (~noisy.noisy).sum() == round(share * len(noisy))


def _mean_colour(out: Path, frame: gpd.GeoDataFrame, crs: str, grow: float, outside_beyond: float,
                 chroma: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Mean RGB (or chroma) inside the grown geometries and on the ground `outside_beyond` away."""
    inside, outside = [], []
    projected = frame.to_crs(crs)
    for name in sorted(frame.tile.unique()):
        with rasterio.open(out / "rasters" / name) as src:
            image, transform = src.read().astype(float), src.transform
        if chroma:
            image = np.ptp(image, axis=0, keepdims=True)
        shapes = projected[projected.tile == name].geometry
        mask = rasterize(shapes.buffer(grow), out_shape=(SIZE, SIZE), transform=transform) > 0
        far = rasterize(shapes.buffer(outside_beyond), out_shape=(SIZE, SIZE), transform=transform) == 0
        inside.append(image[:, mask])
        outside.append(image[:, far])
    return np.hstack(inside).mean(axis=1), np.hstack(outside).mean(axis=1)


def test_imagery_shows_the_true_tracks(generated):
    out = generated["railway"]
    _, _, truth = _read(out)
    on_track, ground = _mean_colour(out, truth, "EPSG:27700", grow=1.0, outside_beyond=15.0, chroma=True)
    # Ballast, sleepers and rails are grey; grass, crops and soil are coloured.
    assert on_track < 0.6 * ground


def test_tiles_have_parallel_neighbouring_tracks(generated):
    _, _, truth = _read(generated["railway"])
    lines = truth.to_crs("EPSG:27700")
    neighbours = 0
    for _, group in lines.groupby("tile"):
        geoms = list(group.geometry)
        for i, a in enumerate(geoms):
            for b in geoms[i + 1:]:
                # Parallel: the gap is the same at both ends and a few metres wide.
                ends = [b.distance(a.interpolate(f, normalized=True)) for f in (0.2, 0.8)]
                if not a.intersects(b) and all(3 < d < 6 for d in ends) and abs(ends[0] - ends[1]) < 0.5:
                    neighbours += 1
    assert neighbours >= 1
    assert all(g.length > 0.6 * SIZE * 0.5 for g in lines.geometry)  # each crosses the tile


def test_imagery_shows_the_true_roofs(generated):
    out = generated["buildings"]
    _, noisy, truth = _read(out)
    roof, ground = _mean_colour(out, truth, "EPSG:32630", grow=-0.6, outside_beyond=1.0)
    assert np.abs(roof - ground).sum() > 25
    # True outlines run along roof edges; the moved ones mostly cross flat roof or ground.
    moved = noisy.noisy.to_numpy()
    on_truth = _edge_strength(out, truth[moved], _in_pixels(out, truth[moved], "EPSG:32630"))
    on_noisy = _edge_strength(out, noisy[moved], _in_pixels(out, noisy[moved], "EPSG:32630"))
    assert on_truth.mean() > 1.3 * on_noisy.mean()
    assert (on_truth > on_noisy).mean() > 0.75


def _edge_strength(out: Path, frame: gpd.GeoDataFrame, outlines: list) -> np.ndarray:
    """Mean image gradient magnitude along each outline (pixel coordinates), sampled every pixel."""
    gradients, strengths = {}, []
    for name, outline in zip(frame.tile, outlines):
        if name not in gradients:
            with rasterio.open(out / "rasters" / name) as src:
                grey = src.read().astype(float).mean(axis=0)
            gradients[name] = np.hypot(ndimage.sobel(grey, 0), ndimage.sobel(grey, 1))
        ring = outline.exterior
        points = np.array([ring.interpolate(d).coords[0] for d in np.arange(0, ring.length, 1.0)])
        points = points[((points >= 0) & (points < SIZE)).all(axis=1)].astype(int)
        strengths.append(gradients[name][points[:, 1], points[:, 0]].mean())
    return np.array(strengths)


def test_rigid_motion_turns_counter_clockwise_on_the_image():
    line = LineString([(0, 0), (10, 0)])  # pixel coordinates, y down
    turned = rigid_motion(line, Motion(rot_deg=90))
    assert np.allclose(turned.coords, [(5, 5), (5, -5)])  # the right end went up the image
    shifted = rigid_motion(line, Motion(dx=2, dy=-3))
    assert np.allclose(shifted.coords, [(2, -3), (12, -3)])


@pytest.mark.parametrize("curvature", [0.0, 1 / 900, -1 / 700])
def test_track_frame_agrees_with_the_centrelines(curvature):
    family = TrackFamily(origin=(100.0, 120.0), heading=0.7, curvature=curvature,
                         offsets=(-8.0, 0.0, 9.0))
    along = np.linspace(-150, 150, 31)
    for offset in family.offsets:
        x, y = family.centreline(offset, along).T
        s, d = family.coordinates(x, y)
        assert np.allclose(d, offset, atol=1e-6)
        assert np.all(np.diff(s) > 0)  # arc position grows along the track
    assert np.allclose(family.coordinates(*family.centreline(0.0, along).T)[0], along, atol=1e-6)


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError):
        generate_geo("roads", 1, 128, 0, tmp_path)
    with pytest.raises(ValueError):
        generate_geo("railway", 1, 128, 0, tmp_path, exact_share=1.5)


def test_cli_writes_a_data_set(tmp_path, capsys):
    out = tmp_path / "geo"
    assert main(["geo", "--kind", "buildings", "--tiles", "1", "--size", "128", "--seed", "2",
                 "--exact-share", "0.5", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["kind"] == "buildings" and meta["exact_share"] == 0.5 and meta["size"] == 128
    with rasterio.open(out / "rasters" / "tile_000.tif") as src:
        assert src.crs.to_string() == "EPSG:32630" and src.width == 128
