"""Painting of synthetic aerial imagery: textured ground, roads, tracks, roofs, trees and shadows.

Everything works in pixel coordinates of one square tile: x to the right, y down the image,
pixel (col, row) covering [col, col + 1) x [row, row + 1). Images are float32 RGB in 0..255
until `finish` turns them into uint8.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage
from shapely.geometry import MultiPoint

# Shapes are drawn this many times finer and box-filtered, which anti-aliases their edges.
SUPERSAMPLE = 2

Colour = tuple[float, float, float]

RURAL_GROUND: tuple[Colour, ...] = (
    (88, 116, 58), (102, 128, 66), (118, 136, 76), (96, 112, 62),   # pasture and meadow
    (164, 152, 104), (150, 140, 96),                                # stubble and dry crop
    (122, 102, 80),                                                 # ploughed soil
)
SUBURBAN_GROUND: tuple[Colour, ...] = (
    (96, 124, 64), (110, 134, 74), (124, 138, 84), (104, 128, 70), (88, 116, 60),  # lawns
    (138, 124, 100), (150, 144, 118),                                              # soil, dry grass
)


@dataclass(frozen=True)
class Sun:
    """Where the sun is: unit vector towards it on the image, and its elevation in degrees."""

    toward: tuple[float, float]
    elevation_deg: float

    def shadow_offset(self, height_px: float) -> np.ndarray:
        """Image offset of the shadow cast by a point `height_px` above the ground."""
        length = height_px / np.tan(np.radians(self.elevation_deg))
        return -length * np.asarray(self.toward)


@dataclass(frozen=True)
class Tree:
    """A tree crown seen from above, as overlapping round lobes, in pixels."""

    x: float
    y: float
    radius: float
    height: float
    colour: Colour
    lobes: tuple[tuple[float, float, float], ...] = ((0.0, 0.0, 1.0),)  # dx, dy, r in crown radii

    def discs(self) -> list[tuple[float, float, float]]:
        """Centre x, centre y and radius of every lobe."""
        return [(self.x + dx * self.radius, self.y + dy * self.radius, r * self.radius)
                for dx, dy, r in self.lobes]


@dataclass(frozen=True)
class Roof:
    """A building seen from above: rectangular parts, roof style, colour and height in pixels."""

    parts: tuple[np.ndarray, ...]  # each (4, 2) corners, first edge along the ridge
    style: str  # "gable", "hip" or "flat"
    colour: Colour
    height: float


@dataclass(frozen=True)
class TrackFamily:
    """Parallel railway tracks along one straight or circular reference curve, in pixels."""

    origin: tuple[float, float]
    heading: float  # radians, direction of the reference curve at `origin`
    curvature: float  # signed, 1/px; 0 for straight track
    offsets: tuple[float, ...]  # lateral offsets of the track centrelines from the reference

    def _axes(self) -> tuple[np.ndarray, np.ndarray]:
        tangent = np.array([np.cos(self.heading), np.sin(self.heading)])
        return tangent, np.array([-tangent[1], tangent[0]])

    def centreline(self, offset: float, along: np.ndarray) -> np.ndarray:
        """(n, 2) points of the track at lateral `offset`, at arc positions `along`."""
        tangent, normal = self._axes()
        origin = np.asarray(self.origin)
        k = self.curvature
        if k == 0:
            return origin + along[:, None] * tangent + offset * normal
        turn = k * along
        ref = origin + (np.sin(turn) / k)[:, None] * tangent + ((1 - np.cos(turn)) / k)[:, None] * normal
        local_normal = -np.sin(turn)[:, None] * tangent + np.cos(turn)[:, None] * normal
        return ref + offset * local_normal

    def frame(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Arc position and signed lateral offset of every pixel centre from the reference curve."""
        return self.coordinates(*pixel_centres(size))

    def coordinates(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Arc position along the reference curve and signed lateral offset from it of points."""
        tangent, normal = self._axes()
        rx, ry = x - self.origin[0], y - self.origin[1]
        k = self.curvature
        if k == 0:
            return rx * tangent[0] + ry * tangent[1], rx * normal[0] + ry * normal[1]
        centre = normal / k
        ax, ay = -centre  # from the circle centre to the origin
        bx, by = rx - centre[0], ry - centre[1]
        radius = np.hypot(bx, by)
        angle = np.arctan2(ax * by - ay * bx, ax * bx + ay * by)
        along = angle * np.sign(ax * tangent[1] - ay * tangent[0]) / abs(k)
        return along.astype(np.float32), (1 / k - np.sign(k) * radius).astype(np.float32)


def pixel_centres(size: int) -> tuple[np.ndarray, np.ndarray]:
    """x and y of every pixel centre, each (size, size) float32."""
    c = np.arange(size, dtype=np.float32) + 0.5
    return np.meshgrid(c, c)


def value_noise(rng: np.random.Generator, size: int, cell: float) -> np.ndarray:
    """Smooth zero-mean unit-variance noise with features about `cell` pixels across."""
    if cell <= 1:
        return rng.standard_normal((size, size)).astype(np.float32)
    n = int(np.ceil(size / cell)) + 2
    coarse = Image.fromarray(rng.standard_normal((n, n)).astype(np.float32), mode="F")
    side = int(round(n * cell))
    fine = np.asarray(coarse.resize((side, side), Image.BICUBIC))[:size, :size]
    return (fine - fine.mean()) / (fine.std() + 1e-6)


def fractal_noise(rng: np.random.Generator, size: int, cells: tuple[float, ...],
                  weights: tuple[float, ...]) -> np.ndarray:
    """Weighted sum of value noise at several feature sizes."""
    return sum(w * value_noise(rng, size, c) for c, w in zip(cells, weights))


def over(image: np.ndarray, colour: np.ndarray | Colour, alpha: np.ndarray) -> np.ndarray:
    """`colour` composited over `image` with per-pixel coverage `alpha`."""
    a = alpha[..., None]
    return image * (1 - a) + np.asarray(colour, dtype=np.float32) * a


class Layer:
    """Polygons and ellipses drawn supersampled into a colour image and a coverage mask."""

    def __init__(self, size: int, coloured: bool = True):
        side = size * SUPERSAMPLE
        self._mask = Image.new("L", (side, side))
        self._draw_mask = ImageDraw.Draw(self._mask)
        self._rgb = Image.new("RGB", (side, side)) if coloured else None
        self._draw_rgb = ImageDraw.Draw(self._rgb) if coloured else None

    def polygon(self, xy: np.ndarray, colour: Colour = (0, 0, 0)) -> None:
        """Fill the polygon with corners `xy` ((n, 2) pixels)."""
        pts = [tuple(p) for p in (np.asarray(xy) * SUPERSAMPLE - 0.5)]
        self._draw_mask.polygon(pts, fill=255)
        if self._draw_rgb is not None:
            self._draw_rgb.polygon(pts, fill=tuple(int(round(c)) for c in colour))

    def disc(self, x: float, y: float, radius: float, colour: Colour = (0, 0, 0)) -> None:
        """Fill the disc of `radius` pixels about (x, y)."""
        s = SUPERSAMPLE
        box = [(x - radius) * s - 0.5, (y - radius) * s - 0.5,
               (x + radius) * s - 0.5, (y + radius) * s - 0.5]
        self._draw_mask.ellipse(box, fill=255)
        if self._draw_rgb is not None:
            self._draw_rgb.ellipse(box, fill=tuple(int(round(c)) for c in colour))

    def coverage(self) -> np.ndarray:
        """Per-pixel coverage in 0..1 at tile resolution."""
        return np.asarray(self._mask.reduce(SUPERSAMPLE), dtype=np.float32) / 255.0

    def premultiplied(self) -> np.ndarray:
        """Colour times coverage at tile resolution, (size, size, 3)."""
        return np.asarray(self._rgb.reduce(SUPERSAMPLE), dtype=np.float32)


def paint_ground(rng: np.random.Generator, size: int, palette: tuple[Colour, ...],
                 parcels: int, stripes: float) -> tuple[np.ndarray, np.ndarray]:
    """Textured ground split into field parcels, and the parcel id of every pixel."""
    px, py = pixel_centres(size)
    seeds = rng.uniform(-0.1 * size, 1.1 * size, (parcels, 2)).astype(np.float32)
    # Slight warping makes parcel edges less ruler-straight.
    wx = px + 3 * value_noise(rng, size, size / 6)
    wy = py + 3 * value_noise(rng, size, size / 6)
    dist = (wx[None] - seeds[:, 0, None, None]) ** 2 + (wy[None] - seeds[:, 1, None, None]) ** 2
    parcel = np.argmin(dist, axis=0)
    colours = np.asarray(palette, dtype=np.float32)[rng.integers(0, len(palette), parcels)]
    colours *= rng.uniform(0.92, 1.08, (parcels, 1)).astype(np.float32)
    image = colours[parcel]
    image *= _stripes(rng, px, py, parcel, parcels, stripes)[..., None]
    patch = fractal_noise(rng, size, (size / 5, size / 20), (1.0, 0.6))
    soil = np.clip(patch - 1.1, 0, 1)[..., None]
    image = image * (1 - 0.5 * soil) + np.float32([128, 110, 86]) * 0.5 * soil
    texture = fractal_noise(rng, size, (48, 12, 4, 1.5, 1), (0.05, 0.05, 0.045, 0.035, 0.03))
    return image * (1 + texture)[..., None], parcel


def _stripes(rng: np.random.Generator, px: np.ndarray, py: np.ndarray, parcel: np.ndarray,
             parcels: int, share: float) -> np.ndarray:
    """Brightness of crop rows or mowing lines, in a random direction per striped parcel."""
    angle = rng.uniform(0, np.pi, parcels).astype(np.float32)
    period = rng.uniform(3, 9, parcels).astype(np.float32)
    depth = np.where(rng.random(parcels) < share, rng.uniform(0.04, 0.1, parcels), 0).astype(np.float32)
    a, p, d = angle[parcel], period[parcel], depth[parcel]
    return 1 + d * np.sin(2 * np.pi * (px * np.cos(a) + py * np.sin(a)) / p)


def paint_roads(image: np.ndarray, rng: np.random.Generator, roads: list[np.ndarray],
                widths: list[float], kerb: float, dashed: bool) -> np.ndarray:
    """Asphalt roads along straight centrelines ((2, 2) pixel end points), with optional pavements."""
    size = image.shape[0]
    pavement, asphalt, paint = Layer(size, False), Layer(size, False), Layer(size, False)
    for ends, width in zip(roads, widths):
        if kerb > 0:
            pavement.polygon(_band(ends, width / 2 + kerb))
        asphalt.polygon(_band(ends, width / 2))
        if dashed:
            for dash in _dashes(ends, length=width / 3, gap=width / 2):
                paint.polygon(_band(dash, max(0.6, width / 60)))
    grain = 1 + 0.05 * value_noise(rng, size, 1) + 0.04 * value_noise(rng, size, 24)
    image = over(image, np.float32([168, 164, 156]) * grain[..., None], pavement.coverage())
    image = over(image, np.float32([92, 92, 94]) * grain[..., None], asphalt.coverage())
    return over(image, (220, 218, 205), 0.6 * paint.coverage())


def _band(ends: np.ndarray, half_width: float) -> np.ndarray:
    """Corners of the rectangle of `half_width` about the segment `ends`."""
    d = ends[1] - ends[0]
    n = np.array([-d[1], d[0]]) / np.hypot(*d) * half_width
    return np.array([ends[0] + n, ends[1] + n, ends[1] - n, ends[0] - n])


def _dashes(ends: np.ndarray, length: float, gap: float) -> list[np.ndarray]:
    total = float(np.hypot(*(ends[1] - ends[0])))
    unit = (ends[1] - ends[0]) / total
    starts = np.arange(0, total - length, length + gap)
    return [np.array([ends[0] + unit * s, ends[0] + unit * (s + length)]) for s in starts]


@dataclass(frozen=True)
class TrackStyle:
    """Railway track dimensions in pixels and colours of its parts."""

    ballast_half: float
    gauge_half: float
    rail_half: float
    sleeper_half_length: float
    sleeper_half_width: float
    sleeper_pitch: float
    ballast: Colour
    sleeper: Colour
    rail: Colour = (196, 192, 184)


def track_style(rng: np.random.Generator, metres_per_px: float) -> TrackStyle:
    """Standard-gauge track with concrete or timber sleepers at `metres_per_px`."""
    m = 1 / metres_per_px
    concrete = rng.random() < 0.6
    # Real sleepers are ~0.65 m apart; at coarse resolutions a pitch under ~3 px aliases into moire.
    pitch = max(rng.uniform(0.62, 0.72) * m, 3.2)
    return TrackStyle(
        ballast_half=rng.uniform(1.7, 2.1) * m,
        gauge_half=0.75 * m,
        # Rails and sleepers are drawn a little wider than life so they survive the pixel grid.
        rail_half=0.16 * m,
        sleeper_half_length=1.3 * m,
        sleeper_half_width=0.22 * pitch,
        sleeper_pitch=pitch,
        ballast=tuple(rng.uniform(0.9, 1.05) * np.array([142, 132, 118])),
        sleeper=(178, 174, 164) if concrete else (86, 72, 58),
    )


def paint_lineside(image: np.ndarray, rng: np.random.Generator, gap: np.ndarray,
                   style: TrackStyle, verge: float) -> np.ndarray:
    """Dusty cess and rough grass beside the tracks; `gap` is each pixel's distance to a track."""
    size = image.shape[0]
    wobble = 0.25 * verge * value_noise(rng, size, 16)
    rough = np.clip((style.ballast_half + verge + wobble - gap) / 3, 0, 1)
    grass = np.float32([96, 108, 62]) * (1 + 0.12 * value_noise(rng, size, 3))[..., None]
    image = over(image, grass, rough)
    cess = np.clip(1.6 * style.ballast_half + 0.5 - gap, 0, 1)  # the walkway beside the ballast
    return over(image, (138, 128, 108), 0.8 * cess)


def paint_tracks(image: np.ndarray, rng: np.random.Generator, along: np.ndarray,
                 nearest: np.ndarray, style: TrackStyle) -> np.ndarray:
    """Ballast, sleepers and rails from each pixel's arc position and distance to the nearest track."""
    size = image.shape[0]
    ballast = np.clip(style.ballast_half + 0.5 - nearest, 0, 1)
    gravel = 1 + 0.07 * value_noise(rng, size, 1) + 0.06 * value_noise(rng, size, 2)
    grime = 1 - 0.08 * np.clip(value_noise(rng, size, 30), 0, None)
    image = over(image, np.float32(style.ballast) * (gravel * grime)[..., None], ballast)
    four_foot = np.clip(style.gauge_half + 0.5 - nearest, 0, 1)
    image *= (1 - 0.12 * four_foot)[..., None]
    # Sleepers as a pure sinusoid: their pitch is near the pixel grid's limit, where sharp stripes alias.
    duty = 2 * style.sleeper_half_width / style.sleeper_pitch
    stripes = duty * (1 + np.cos(2 * np.pi * along / style.sleeper_pitch))
    sleeper = stripes * np.clip(style.sleeper_half_length + 0.5 - nearest, 0, 1)
    sleeper_colour = np.float32(style.sleeper) * gravel[..., None] ** 0.3
    image = over(image, sleeper_colour, np.clip(sleeper, 0, 0.9))
    # A rail reads as a dark rusty line (web and its shadow) with a bright running surface.
    rail = np.clip(style.rail_half * 2 + 0.5 - np.abs(nearest - style.gauge_half), 0, 1)
    shine = np.clip(style.rail_half + 0.5 - np.abs(nearest - style.gauge_half + 0.3), 0, 1)
    image = over(image, (58, 48, 40), 0.75 * rail)
    return over(image, style.rail, 0.8 * shine)


def paint_shadows(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`image` darkened, with a bluish sky-light tint, where `mask` is set."""
    soft = ndimage.gaussian_filter(mask, 0.7)
    return image * (1 - soft[..., None] * np.float32([0.64, 0.61, 0.52]))


def shadow_of_trees(size: int, trees: list[Tree], sun: Sun) -> np.ndarray:
    """Coverage of the shadows of the crowns, each swept from the crown's base to its top."""
    layer = Layer(size, False)
    for t in trees:
        for height in np.linspace(0.15, 0.8, 5) * t.height:
            dx, dy = sun.shadow_offset(height)
            for x, y, r in t.discs():
                layer.disc(x + dx, y + dy, r * 0.9)
    return layer.coverage()


def paint_trees(image: np.ndarray, rng: np.random.Generator, trees: list[Tree],
                sun: Sun) -> np.ndarray:
    """Lumpy tree crowns, lit on the side facing the sun, over `image`."""
    if not trees:
        return image
    size = image.shape[0]
    layer = Layer(size)
    for t in sorted(trees, key=lambda t: t.height):
        for x, y, r in t.discs():
            layer.disc(x, y, r, t.colour)
    cover, premul = layer.coverage(), layer.premultiplied()
    lobe = float(np.median([r for t in trees for _, _, r in t.discs()]))
    colour = _spread_colour(premul, cover, 0.3 * lobe)
    # Lobes are domes: light falls on the side facing the sun, the far side is in self-shadow.
    dome = ndimage.gaussian_filter(cover, 0.45 * lobe)
    gy, gx = np.gradient(dome)
    light = 1 + 1.2 * lobe * (gx * sun.toward[0] + gy * sun.toward[1])
    clumps = 1 + 0.14 * value_noise(rng, size, max(1.5, 0.35 * lobe))
    clumps += 0.08 * value_noise(rng, size, 1)
    colour *= np.clip(light * clumps, 0.45, 1.5)[..., None]
    ragged = ndimage.gaussian_filter(cover, 0.8) - 0.5 + 0.25 * value_noise(rng, size, 1.5)
    return over(image, colour, np.clip(ragged * 3 + 0.5, 0, 1) * np.clip(cover * 4, 0, 1))


def _spread_colour(premul: np.ndarray, cover: np.ndarray, sigma: float) -> np.ndarray:
    """Colour of a coverage layer, smoothly extended past its edges (normalised convolution)."""
    weight = ndimage.gaussian_filter(cover, sigma) + 1e-4
    spread = np.stack([ndimage.gaussian_filter(premul[..., c], sigma) for c in range(3)], -1)
    return spread / weight[..., None]


def shadow_of_roofs(size: int, roofs: list[Roof], sun: Sun) -> np.ndarray:
    """Coverage of the shadows cast by the buildings, each part swept along the shadow direction."""
    layer = Layer(size, False)
    for roof in roofs:
        offset = sun.shadow_offset(roof.height)
        for part in roof.parts:
            layer.polygon(_hull(np.vstack([part, part + offset])))
    return layer.coverage()


def _hull(points: np.ndarray) -> np.ndarray:
    """Corners of the convex hull of 2-D points."""
    return np.asarray(MultiPoint(points).convex_hull.exterior.coords)[:-1]


def paint_roofs(image: np.ndarray, rng: np.random.Generator, roofs: list[Roof],
                sun: Sun) -> np.ndarray:
    """Roof facets shaded by their slope towards the sun, with ridges, eaves and tile grain."""
    size = image.shape[0]
    layer, ridges = Layer(size), Layer(size, False)
    for roof in roofs:
        # The larger part last, so its ridge runs through the junction of an L.
        for part in sorted(roof.parts, key=_area):
            for facet, gain in _facets(part, roof.style, sun):
                layer.polygon(facet, tuple(np.clip(np.multiply(roof.colour, gain), 0, 255)))
            if roof.style != "flat":
                ridges.polygon(_ridge(part, roof.style))
    cover = layer.coverage()
    grain = 1 + 0.05 * value_noise(rng, size, 1) + 0.05 * value_noise(rng, size, 6)
    premul = layer.premultiplied() * (grain * (1 + 0.12 * ridges.coverage()))[..., None]
    image = image * (1 - cover[..., None]) + premul
    eaves = np.clip(cover - ndimage.grey_erosion(cover, size=3), 0, 1)
    return image * (1 - 0.18 * eaves)[..., None]


def _area(part: np.ndarray) -> float:
    return float(np.hypot(*(part[1] - part[0])) * np.hypot(*(part[3] - part[0])))


def _facets(part: np.ndarray, style: str, sun: Sun) -> list[tuple[np.ndarray, float]]:
    """Roof facets of one rectangular part (corners a->b along the ridge) and their brightness."""
    a, b, c, d = part
    across = (d - a) / np.hypot(*(d - a))
    along = (b - a) / np.hypot(*(b - a))
    if style == "flat":
        return [(part, 0.86), (_inset(part, 0.8), 1.0)]  # darker parapet around the deck
    inset = 0.0 if style == "gable" else _hip_inset(part)
    r0, r1 = (a + d) / 2 + along * inset, (b + c) / 2 - along * inset
    facets = [(np.array([a, b, r1, r0]), -across), (np.array([r0, r1, c, d]), across)]
    if style == "hip":
        facets += [(np.array([a, r0, d]), -along), (np.array([b, c, r1]), along)]
    return [(f, _slope_gain(downhill, sun)) for f, downhill in facets]


def _hip_inset(part: np.ndarray) -> float:
    """How far a 45-degree hip pulls the ridge in from each end."""
    a, b, _, d = part
    return min(np.hypot(*(d - a)) / 2, np.hypot(*(b - a)) / 2 - 1e-3)


def _ridge(part: np.ndarray, style: str) -> np.ndarray:
    a, b, c, d = part
    along = (b - a) / np.hypot(*(b - a))
    inset = 0.0 if style == "gable" else _hip_inset(part)
    return _band(np.array([(a + d) / 2 + along * inset, (b + c) / 2 - along * inset]), 0.45)


def _inset(part: np.ndarray, by: float) -> np.ndarray:
    centre = part.mean(axis=0)
    return centre + (part - centre) * (1 - 2 * by / np.hypot(*(part[3] - part[0])))


def _slope_gain(downhill: np.ndarray, sun: Sun) -> float:
    """Brightness of a facet sloping towards `downhill`, lighter when it faces the sun."""
    # The small fixed view term keeps the two halves apart when the ridge points at the sun.
    return 1 + 0.34 * float(np.dot(downhill, sun.toward)) + 0.1 * float(np.dot(downhill, (0.6, 0.8)))


def finish(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Camera look: slight blur, exposure jitter and sensor noise; uint8 RGB."""
    blurred = ndimage.gaussian_filter(image, (0.45, 0.45, 0))
    exposure = rng.uniform(0.94, 1.06) * rng.uniform(0.97, 1.03, 3)
    noisy = blurred * exposure + rng.normal(0, 1.6, image.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
