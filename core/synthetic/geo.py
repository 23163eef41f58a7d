"""Georeferenced aerial tiles with their true annotations and rigidly perturbed (noisy) copies.

Instances are laid out in pixel coordinates of their tile (x right, y down the image) and
carried to map coordinates through the raster's affine transform. The noisy copy of an
instance is the true one rotated about its own centroid by `rot_deg`, positive meaning
counter-clockwise as seen on the image (and so also counter-clockwise on the map, whose y
runs up), then shifted by (`dx_px`, `dy_px`) pixels, +x right and +y down the image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from affine import Affine
from scipy import ndimage
from shapely import affinity
from shapely.geometry import GeometryCollection, LineString, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.ops import unary_union

from core.synthetic.aerial import (
    RURAL_GROUND,
    SUBURBAN_GROUND,
    Layer,
    Roof,
    Sun,
    TrackFamily,
    Tree,
    finish,
    paint_ground,
    paint_lineside,
    paint_roads,
    paint_roofs,
    paint_shadows,
    paint_tracks,
    paint_trees,
    shadow_of_roofs,
    shadow_of_trees,
    track_style,
)

REFERENCE_SIZE = 640  # tile side at which the shift bound below applies; it scales linearly
MAX_SHIFT_AT_REFERENCE = 25.0
MAX_ROT_DEG = 5.0
ANNOTATION_CRS = "EPSG:4326"
TREE_GREENS = ((52, 76, 38), (60, 86, 44), (46, 68, 36), (70, 90, 50), (58, 74, 40), (84, 94, 52))
PITCHED_ROOFS = ((168, 86, 62), (146, 72, 56), (124, 62, 52), (78, 80, 88), (98, 98, 104),
                 (122, 94, 74), (158, 140, 120))
FLAT_ROOFS = ((186, 186, 180), (162, 162, 156), (204, 200, 190), (96, 96, 98))


@dataclass(frozen=True)
class Kind:
    """Where and at what resolution tiles of one kind are georeferenced."""

    crs: str
    metres_per_px: float
    origin: tuple[float, float]  # easting, northing near which the tiles lie


KINDS = {
    "railway": Kind("EPSG:27700", 0.5, (530000.0, 180000.0)),     # British National Grid, London
    "buildings": Kind("EPSG:32630", 0.3, (440000.0, 4474000.0)),  # UTM 30N, Madrid
}


@dataclass(frozen=True)
class Motion:
    """A rigid motion in pixels: rotation about the instance centroid, then a shift."""

    dx: float = 0.0
    dy: float = 0.0
    rot_deg: float = 0.0


def generate_geo(kind: str, tiles: int, size: int, seed: int, out: Path,
                 exact_share: float = 0.2) -> Path:
    """Write `tiles` GeoTIFF tiles of `kind`, true and noisy annotations and meta.json to `out`."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, not {kind!r}")
    if tiles < 1 or size < 32 or not 0 <= exact_share <= 1:
        raise ValueError("need tiles >= 1, size >= 32 and 0 <= exact_share <= 1")
    spec, out = KINDS[kind], Path(out)
    (out / "rasters").mkdir(parents=True, exist_ok=True)
    scene_rng, world_rng, motion_rng = np.random.default_rng(seed).spawn(3)
    sun = random_sun(world_rng)
    paint = railway_scene if kind == "railway" else buildings_scene
    instances: list[tuple[str, Affine, BaseGeometry]] = []
    for index, rng in enumerate(scene_rng.spawn(tiles)):
        name, transform = f"tile_{index:03d}.tif", tile_transform(world_rng, spec, index, size)
        image, shapes = paint(rng, size, spec.metres_per_px, sun)
        write_geotiff(out / "rasters" / name, image, transform, spec.crs)
        instances += [(name, transform, shape) for shape in shapes]
    max_shift = max_shift_px(size)
    shapes = [shape for _, _, shape in instances]
    motions = draw_motions(motion_rng, shapes, size, max_shift, MAX_ROT_DEG, exact_share)
    truth, noisy = annotation_frames(instances, motions, spec.crs)
    _write_geojson(noisy, out / "annotations.geojson")
    _write_geojson(truth, out / "truth.geojson")
    meta = {"kind": kind, "tiles": tiles, "size": size, "seed": seed, "exact_share": exact_share,
            "crs": spec.crs, "annotation_crs": ANNOTATION_CRS, "pixel_size_m": spec.metres_per_px,
            "max_shift_px": max_shift, "max_rot_deg": MAX_ROT_DEG, "instances": len(instances),
            "rotation": "positive rot_deg is counter-clockwise on the image, about the centroid"}
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return out


def max_shift_px(size: int) -> float:
    """The largest shift along each image axis for tiles of `size` pixels."""
    return MAX_SHIFT_AT_REFERENCE * size / REFERENCE_SIZE


def random_sun(rng: np.random.Generator) -> Sun:
    """A mid-day northern-hemisphere sun: somewhere between south-east and south-west."""
    azimuth = np.radians(rng.uniform(135, 225))  # clockwise from north; image y points south
    toward = (float(np.sin(azimuth)), float(-np.cos(azimuth)))
    return Sun(toward=toward, elevation_deg=float(rng.uniform(45, 65)))


def tile_transform(rng: np.random.Generator, spec: Kind, index: int, size: int) -> Affine:
    """Affine of tile `index`: tiles sit on a grid, well apart, with whole-metre jitter."""
    extent = size * spec.metres_per_px
    spacing = max(1000.0, 100.0 * np.ceil(2 * extent / 100))
    jitter = np.round(rng.uniform(0, spacing - extent, 2) / 2)
    west = spec.origin[0] + (index % 10) * spacing + jitter[0]
    north = spec.origin[1] - (index // 10) * spacing - jitter[1]
    return Affine(spec.metres_per_px, 0.0, west, 0.0, -spec.metres_per_px, north)


def write_geotiff(path: Path, image: np.ndarray, transform: Affine, crs: str) -> None:
    """Write an (h, w, 3) uint8 image as a deflated RGB GeoTIFF."""
    h, w = image.shape[:2]
    profile = {"driver": "GTiff", "width": w, "height": h, "count": 3, "dtype": "uint8",
               "crs": crs, "transform": transform, "photometric": "RGB", "compress": "deflate",
               "interleave": "pixel"}
    if h >= 256 and w >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.moveaxis(image, -1, 0))


# ---------------------------------------------------------------- perturbation


def rigid_motion(geom: BaseGeometry, motion: Motion) -> BaseGeometry:
    """`geom` (in pixels) turned counter-clockwise on the image about its centroid, then shifted."""
    c, s = np.cos(np.radians(motion.rot_deg)), np.sin(np.radians(motion.rot_deg))
    cx, cy = geom.centroid.x, geom.centroid.y
    # With y down the image, a counter-clockwise turn on screen is x' = c x + s y, y' = -s x + c y.
    xoff = cx - (c * cx + s * cy) + motion.dx
    yoff = cy - (-s * cx + c * cy) + motion.dy
    return affinity.affine_transform(geom, [c, s, -s, c, xoff, yoff])


def draw_motions(rng: np.random.Generator, shapes: list[BaseGeometry], size: int, max_shift: float,
                 max_rot: float, exact_share: float) -> list[Motion]:
    """One motion per shape: identity for a random `exact_share` of them, else a visible one."""
    n = len(shapes)
    exact = np.zeros(n, bool)
    exact[rng.permutation(n)[: int(round(exact_share * n))]] = True
    tile = box(0, 0, size, size)
    return [Motion() if keep else _visible_motion(rng, shape, tile, max_shift, max_rot)
            for shape, keep in zip(shapes, exact)]


def _visible_motion(rng: np.random.Generator, shape: BaseGeometry, tile: Polygon, max_shift: float,
                    max_rot: float) -> Motion:
    """A random motion that moves `shape` by at least a fifth of `max_shift` and keeps it on `tile`."""
    for _ in range(1000):
        dx, dy = np.round(rng.uniform(-max_shift, max_shift, 2), 3)
        motion = Motion(float(dx), float(dy), float(np.round(rng.uniform(-max_rot, max_rot), 4)))
        moved = rigid_motion(shape, motion)
        if moved.intersects(tile) and _largest_move(shape, moved) >= max(1.0, 0.2 * max_shift):
            return motion
    raise RuntimeError("no visible motion keeps the instance on its tile")


def _largest_move(before: BaseGeometry, after: BaseGeometry) -> float:
    a, b = np.asarray(_coords(before)), np.asarray(_coords(after))
    return float(np.hypot(*(b - a).T).max())


def _coords(geom: BaseGeometry) -> list:
    return list(geom.exterior.coords) if isinstance(geom, Polygon) else list(geom.coords)


def annotation_frames(instances: list[tuple[str, Affine, BaseGeometry]], motions: list[Motion],
                      crs: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """True and noisy annotations in EPSG:4326 from pixel-space instances and their motions."""
    truth, noisy = [], []
    for i, ((tile, transform, shape), m) in enumerate(zip(instances, motions)):
        moved = bool(m != Motion())
        truth.append({"instance_id": i, "tile": tile, "geometry": to_map(shape, transform)})
        noisy.append({"instance_id": i, "tile": tile, "noisy": moved, "dx_px": m.dx, "dy_px": m.dy,
                      "rot_deg": m.rot_deg, "geometry": to_map(rigid_motion(shape, m), transform)})
    frames = (gpd.GeoDataFrame(rows, geometry="geometry", crs=crs) for rows in (truth, noisy))
    return tuple(f.to_crs(ANNOTATION_CRS) for f in frames)


def to_map(geom: BaseGeometry, transform: Affine) -> BaseGeometry:
    """`geom` from pixel to map coordinates; polygons come out counter-clockwise on the map."""
    t = transform
    mapped = affinity.affine_transform(geom, [t.a, t.b, t.d, t.e, t.c, t.f])
    return orient(mapped, 1.0) if isinstance(mapped, Polygon) else mapped


def _write_geojson(frame: gpd.GeoDataFrame, path: Path) -> None:
    path.unlink(missing_ok=True)
    frame.to_file(path, driver="GeoJSON")


# ---------------------------------------------------------------- railway tiles


def railway_scene(rng: np.random.Generator, size: int, res: float,
                  sun: Sun) -> tuple[np.ndarray, list[LineString]]:
    """A rural tile crossed by parallel railway tracks, and the track centrelines."""
    family, lines = _track_family(rng, size, res)
    style = track_style(rng, res)
    along, lateral = family.frame(size)
    gap = np.abs(lateral[None] - np.float32(family.offsets)[:, None, None]).min(axis=0)
    parcels = max(2, int(round(rng.uniform(3, 7) * (size / 512) ** 2)))
    image, parcel = paint_ground(rng, size, RURAL_GROUND, parcels, stripes=0.6)
    image = paint_lineside(image, rng, gap, style, verge=rng.uniform(5, 14) / res)
    roads, widths = _country_roads(rng, size, res, family.heading)
    image = paint_roads(image, rng, roads, widths, kerb=0.0, dashed=False)
    image = paint_tracks(image, rng, along, gap, style)
    keep_out = (gap < style.ballast_half * 1.7) | (_road_cover(size, roads, widths) > 0)
    spots = _rural_tree_spots(rng, size, res, parcel, gap, style.ballast_half)
    trees = _accept_trees(spots, keep_out, 1.2)
    image = paint_shadows(image, shadow_of_trees(size, trees, sun))
    image = paint_trees(image, rng, trees, sun)
    return finish(image, rng), lines


def _track_family(rng: np.random.Generator, size: int,
                  res: float) -> tuple[TrackFamily, list[LineString]]:
    """Parallel tracks crossing the tile, and their centrelines clipped to it."""
    offsets = _track_offsets(rng, max(1, int(round(rng.integers(3, 9) * size / 512))), res)
    for attempt in range(400):
        if attempt % 40 == 39 and len(offsets) > 1:
            offsets = offsets[:-1]  # too wide for this tile: drop the outermost track
        shift = rng.uniform(-0.12, 0.12) * size - offsets.mean()
        family = TrackFamily(origin=tuple(size * (0.5 + rng.uniform(-0.12, 0.12, 2))),
                             heading=float(rng.uniform(0, np.pi)), curvature=_curvature(rng, size, res),
                             offsets=tuple(float(o + shift) for o in offsets))
        lines = _centrelines(family, size)
        if lines:
            return family, lines
    raise RuntimeError("could not lay tracks across the tile")


def _track_offsets(rng: np.random.Generator, count: int, res: float) -> np.ndarray:
    """Lateral offsets of `count` tracks: groups of 1-4 a few metres apart, groups further apart."""
    offsets, position = [], 0.0
    while len(offsets) < count:
        for _ in range(min(count - len(offsets), int(rng.choice([1, 2, 2, 3, 3, 4])))):
            offsets.append(position)
            position += rng.uniform(3.6, 4.6) / res
        position += rng.uniform(8, 30) / res
    return np.array(offsets)


def _curvature(rng: np.random.Generator, size: int, res: float) -> float:
    """Zero (straight) or the signed inverse of a gentle radius, never tighter than 1.5 tiles."""
    if rng.random() < 0.35:
        return 0.0
    radius = max(rng.uniform(500, 1500) / res, 1.5 * size)
    return float(rng.choice([-1, 1]) / radius)


def _centrelines(family: TrackFamily, size: int) -> list[LineString]:
    """Each track clipped to the tile, or [] when one does not cross it as a single long line."""
    tile = box(0, 0, size, size)
    points = 2 if family.curvature == 0 else int(2.6 * size / 6) + 1  # a vertex every 6 px on curves
    along = np.linspace(-1.3 * size, 1.3 * size, points)
    lines = []
    for offset in family.offsets:
        clipped = LineString(family.centreline(offset, along)).intersection(tile)
        if not isinstance(clipped, LineString) or clipped.length < 0.6 * size:
            return []
        lines.append(clipped)
    return lines


def _country_roads(rng: np.random.Generator, size: int, res: float,
                   railway: float) -> tuple[list[np.ndarray], list[float]]:
    """None or one straight lane across the tile, crossing the railway at a fair angle."""
    if rng.random() < 0.4:
        return [], []
    angle = railway + np.radians(rng.uniform(35, 145))
    return [_through(rng, size, angle)], [rng.uniform(5, 7) / res]


def _through(rng: np.random.Generator, size: int, angle: float, spread: float = 0.35) -> np.ndarray:
    """End points, well outside the tile, of a straight line at `angle` passing near its middle."""
    centre = size * (0.5 + rng.uniform(-spread, spread, 2))
    unit = np.array([np.cos(angle), np.sin(angle)])
    return np.array([centre - 2 * size * unit, centre + 2 * size * unit])


def _road_cover(size: int, roads: list[np.ndarray], widths: list[float]) -> np.ndarray:
    layer = Layer(size, False)
    for ends, width in zip(roads, widths):
        layer.polygon(LineString(ends).buffer(width / 2, cap_style="flat").exterior.coords)
    return layer.coverage()


def _rural_tree_spots(rng: np.random.Generator, size: int, res: float, parcel: np.ndarray,
                      gap: np.ndarray, ballast_half: float) -> list[Tree]:
    """Candidate trees: hedgerows on parcel edges, scrub along the railway, a few in the open."""
    edge = np.zeros_like(parcel, bool)
    edge[:, 1:] |= parcel[:, 1:] != parcel[:, :-1]
    edge[1:, :] |= parcel[1:, :] != parcel[:-1, :]
    hedge = np.argwhere(edge)[:, ::-1] + 0.5
    hedge = hedge[rng.random(len(hedge)) < rng.uniform(0.1, 0.3)]
    side = np.argwhere((gap > ballast_half + 2 / res) & (gap < ballast_half + 14 / res))[:, ::-1] + 0.5
    side = side[rng.random(len(side)) < rng.uniform(0.0005, 0.004)]
    loose = rng.uniform(0, size, (int(rng.uniform(5, 25) * (size / 512) ** 2), 2))
    spots = np.vstack([hedge, side, loose])
    spots += rng.normal(0, 1.0 / res, spots.shape)
    return [_tree(rng, x, y, res) for x, y in spots]


def _tree(rng: np.random.Generator, x: float, y: float, res: float,
          radius_m: tuple[float, float] = (1.8, 4.5)) -> Tree:
    """A tree of a random green with a crown of a central lobe and a ring of smaller ones."""
    colour = np.asarray(TREE_GREENS[rng.integers(len(TREE_GREENS))]) * rng.uniform(0.9, 1.1)
    k = int(rng.integers(3, 7))
    angle = rng.uniform(0, 2 * np.pi) + np.arange(k) * 2 * np.pi / k + rng.normal(0, 0.3, k)
    reach = rng.uniform(0.35, 0.55, k)
    lobes = [(0.0, 0.0, 0.7)] + [(float(r * np.cos(a)), float(r * np.sin(a)), float(rad))
                                 for a, r, rad in zip(angle, reach, rng.uniform(0.4, 0.55, k))]
    radius = rng.uniform(*radius_m) / res
    return Tree(float(x), float(y), radius, radius * rng.uniform(2.2, 3.2),
                tuple(float(c) for c in colour), tuple(lobes))


def _accept_trees(trees: list[Tree], keep_out: np.ndarray, margin: float) -> list[Tree]:
    """The trees whose centre is more than `margin` crown radii away from `keep_out`."""
    if not trees:
        return []
    clearance = ndimage.distance_transform_edt(~keep_out)
    last = keep_out.shape[0] - 1
    cols = np.clip(np.array([t.x for t in trees]), 0, last).astype(int)
    rows = np.clip(np.array([t.y for t in trees]), 0, last).astype(int)
    ok = clearance[rows, cols] > margin * np.array([t.radius for t in trees])
    return [t for t, keep in zip(trees, ok) if keep]


# ---------------------------------------------------------------- building tiles


def buildings_scene(rng: np.random.Generator, size: int, res: float,
                    sun: Sun) -> tuple[np.ndarray, list[Polygon]]:
    """A suburban tile of streets, gardens and houses, and the roof outlines."""
    grid = float(rng.uniform(0, np.pi))
    roads, widths = _streets(rng, size, res, grid)
    kerb = 1.8 / res
    occupied = unary_union([LineString(e).buffer(w / 2 + kerb + 1.5 / res, cap_style="flat")
                            for e, w in zip(roads, widths)] or [GeometryCollection()])
    roofs, outlines = _place_buildings(rng, size, res, roads, widths, occupied)
    if not roofs:  # a small tile with no room beside its streets: drop the streets
        roads, widths = [], []
        roofs, outlines = _place_buildings(rng, size, res, roads, widths, GeometryCollection())
    parcels = max(3, int(round(rng.uniform(8, 16) * (size / 512) ** 2)))
    image, _ = paint_ground(rng, size, SUBURBAN_GROUND, parcels, stripes=0.5)
    image = paint_roads(image, rng, roads, widths, kerb=kerb, dashed=bool(rng.random() < 0.35))
    image = paint_shadows(image, shadow_of_roofs(size, roofs, sun))
    image = paint_roofs(image, rng, roofs, sun)
    roof_cover = Layer(size, False)
    for outline in outlines:
        roof_cover.polygon(np.asarray(outline.exterior.coords))
    keep_out = (roof_cover.coverage() > 0) | (_road_cover(size, roads, widths) > 0)
    loose = rng.uniform(0, size, (int(rng.uniform(25, 70) * (size / 512) ** 2), 2))
    trees = _accept_trees([_tree(rng, x, y, res, (1.5, 4.0)) for x, y in loose], keep_out, 0.8)
    trees += _occluding_trees(rng, outlines, res)
    image = paint_shadows(image, shadow_of_trees(size, trees, sun))
    image = paint_trees(image, rng, trees, sun)
    return finish(image, rng), outlines


def _streets(rng: np.random.Generator, size: int, res: float,
             grid: float) -> tuple[list[np.ndarray], list[float]]:
    """One street along the building grid and often a cross street."""
    roads = [_through(rng, size, grid, 0.3)]
    if rng.random() < 0.6:
        roads.append(_through(rng, size, grid + np.pi / 2, 0.3))
    return roads, [rng.uniform(5.5, 7.5) / res for _ in roads]


def _place_buildings(rng: np.random.Generator, size: int, res: float, roads: list[np.ndarray],
                     widths: list[float], occupied: BaseGeometry) -> tuple[list[Roof], list[Polygon]]:
    """Non-overlapping buildings, mostly fronting a street and aligned with it, clear of the streets."""
    target = max(1, int(round(rng.integers(8, 26) * (size / 512) ** 2)))
    roofs, outlines = [], []
    for _ in range(60 * target):
        if len(roofs) == target:
            break
        if roads:
            i = int(rng.integers(len(roads)))
            centre, angle = _frontage(rng, size, res, roads[i], widths[i])
        else:
            centre, angle = size * rng.uniform(0.06, 0.94, 2), float(rng.uniform(0, np.pi))
        if not (0.04 * size < centre).all() or not (centre < 0.96 * size).all():
            continue
        roof, outline = _building(rng, centre, angle + np.radians(rng.normal(0, 2)), res)
        if not outline.buffer(2.5 / res).intersects(occupied):
            roofs.append(roof)
            outlines.append(outline)
            occupied = occupied.union(outline)
    return roofs, outlines


def _frontage(rng: np.random.Generator, size: int, res: float, road: np.ndarray,
              width: float) -> tuple[np.ndarray, float]:
    """A building centre set back from `road` (or, now and then, anywhere) and its street angle."""
    d = road[1] - road[0]
    angle = float(np.arctan2(d[1], d[0]))
    if rng.random() < 0.25:
        return size * rng.uniform(0.06, 0.94, 2), angle + rng.integers(2) * np.pi / 2
    unit = d / np.hypot(*d)
    normal = np.array([-unit[1], unit[0]]) * rng.choice([-1.0, 1.0])
    setback = width / 2 + rng.uniform(7, 16) / res
    return (road[0] + road[1]) / 2 + unit * rng.uniform(-0.8, 0.8) * size + normal * setback, angle


def _building(rng: np.random.Generator, centre: np.ndarray, angle: float,
              res: float) -> tuple[Roof, Polygon]:
    """A random rectangular or L-shaped building and its roof outline, in pixels."""
    style = str(rng.choice(["gable", "hip", "flat"], p=[0.45, 0.3, 0.25]))
    flat = style == "flat"
    length = rng.uniform(12, 30) if flat else rng.uniform(8, 15)
    width = min(length, rng.uniform(9, 16) if flat else rng.uniform(6, 9.5))
    parts = [_rect(-length / 2, length / 2, -width / 2, width / 2)]
    if rng.random() < (0.25 if flat else 0.4):
        wing, reach = rng.uniform(0.35, 0.55) * length, rng.uniform(0.5, 0.8) * width
        parts.append(_rect(length / 2 - wing, length / 2, -width / 2, width / 2 + reach,
                           ridge_along_v=True))
    mirror = rng.choice([-1.0, 1.0], 2)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    parts = [(p * mirror) @ rot.T / res + centre for p in parts]
    outline = unary_union([Polygon(p) for p in parts]).simplify(1e-6)
    palette = FLAT_ROOFS if flat else PITCHED_ROOFS
    colour = np.asarray(palette[rng.integers(len(palette))]) * rng.uniform(0.92, 1.08)
    height = (rng.uniform(5, 12) if flat else rng.uniform(3.5, 6.5)) / res
    return Roof(tuple(parts), style, tuple(float(c) for c in colour), height), outline


def _rect(u0: float, u1: float, v0: float, v1: float, ridge_along_v: bool = False) -> np.ndarray:
    """Corners a, b, c, d of a local rectangle, a->b along the ridge (u, or v if `ridge_along_v`)."""
    if ridge_along_v:
        return np.array([[u0, v0], [u0, v1], [u1, v1], [u1, v0]])
    return np.array([[u0, v0], [u1, v0], [u1, v1], [u0, v1]])


def _occluding_trees(rng: np.random.Generator, outlines: list[Polygon], res: float) -> list[Tree]:
    """Trees just outside some buildings, their crowns hiding part of the roof."""
    trees = []
    for outline in outlines:
        if rng.random() < 0.35:
            edge = outline.exterior.interpolate(rng.uniform(0, outline.exterior.length))
            away = np.array([edge.x - outline.centroid.x, edge.y - outline.centroid.y])
            away /= np.hypot(*away) + 1e-9
            tree = _tree(rng, 0, 0, res, (2.5, 4.0))
            x, y = np.array([edge.x, edge.y]) + away * tree.radius * rng.uniform(0.1, 0.5)
            trees.append(replace(tree, x=float(x), y=float(y)))
    return trees
