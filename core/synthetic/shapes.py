"""Visual object categories drawn and animated on textured backgrounds, with their timbres and labels."""

from __future__ import annotations

import colorsys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Category:
    """One visual object class: how it looks, how it sounds, what VGG-Sound calls it."""

    name: str
    label: str
    timbre: str
    colour: tuple[int, int, int]
    aspect: float  # width / height of the object at rest
    squash: float  # how much a sound event flattens it (0: not at all)


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category("dog", "dog barking", "bark", (125, 80, 42), 1.35, 0.1),
        Category("bell", "church bell ringing", "bell", (228, 186, 40), 0.9, 0.0),
        Category("drum", "playing bass drum", "drum", (200, 32, 32), 1.0, 0.28),
        Category("flute", "playing flute", "flute", (208, 208, 218), 5.0, 0.0),
        Category("car", "car engine idling", "engine", (40, 80, 205), 1.7, 0.0),
        Category("person", "male speech, man speaking", "speech", (236, 190, 158), 0.8, 0.0),
        Category("waterfall", "waterfall burbling", "water", (150, 212, 242), 0.75, 0.0),
    )
}

LABELS: dict[str, str] = {name: c.label for name, c in CATEGORIES.items()}
"""Category name -> VGG-Sound class name."""

WIND_LABEL = "wind noise"
"""The VGG-Sound class of the faint, sourceless ambience (no visual category)."""


# ---- drawing primitives on isotropic object coordinates (x in [-aspect, aspect], y in [-1, 1]) ----


def _soft(distance: np.ndarray, px: float) -> np.ndarray:
    """Anti-aliased coverage from a signed distance (negative inside), px pixels per unit."""
    return np.clip(0.5 - distance * px, 0.0, 1.0)


def _ellipse(x, y, cx, cy, rx, ry):
    r = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2)
    return (r - 1.0) * min(rx, ry)


def _box(x, y, cx, cy, hx, hy, radius=0.0):
    qx = np.abs(x - cx) - hx + radius
    qy = np.abs(y - cy) - hy + radius
    outside = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2)
    return outside + np.minimum(np.maximum(qx, qy), 0) - radius


class _Canvas:
    """Layers painted front over back; keeps colour and coverage."""

    def __init__(self, shape: tuple[int, int], px: float):
        self.rgb = np.zeros((*shape, 3), dtype=np.float32)
        self.alpha = np.zeros(shape, dtype=np.float32)
        self.px = px

    def paint(self, distance, colour, shade=None) -> None:
        cover = _soft(distance, self.px)[..., None]
        paint = np.asarray(colour, dtype=np.float32)
        if shade is not None:
            paint = paint * shade[..., None]
        self.rgb = self.rgb * (1 - cover) + paint * cover
        self.alpha = np.maximum(self.alpha, cover[..., 0])


def _waves(x, y, params, scale: float) -> np.ndarray:
    """A smooth pseudo-random texture in about [-1, 1] from the object's texture parameters."""
    a, b, c, d = params[:4] * 2 * np.pi
    return 0.5 * (np.sin(scale * (x * np.cos(a) + y * np.sin(a)) + b)
                  + np.sin(scale * 1.7 * (x * np.cos(c) - y * np.sin(c)) + d))


def _dog(cv: _Canvas, x, y, level, phase, params) -> None:
    fur = 0.86 + 0.1 * _waves(x, y, params, 9.0) + 0.06 * np.sin(38 * (x + 0.4 * y))
    brown, dark = (125, 80, 42), (70, 42, 22)
    cv.paint(_ellipse(x, y, 1.12, -0.05, 0.25, 0.08), dark)  # tail
    for leg_x in (-0.45, -0.15, 0.45, 0.75):
        cv.paint(_box(x, y, leg_x, 0.72, 0.1, 0.26, 0.05), brown, fur)
    cv.paint(_ellipse(x, y, 0.22, 0.28, 0.92, 0.48), brown, fur)
    cv.paint(_ellipse(x, y, -0.82, -0.3, 0.4, 0.38), brown, fur)
    cv.paint(_ellipse(x, y, -1.02, -0.62, 0.13, 0.3), dark)
    cv.paint(_ellipse(x, y, -0.6, -0.66, 0.13, 0.3), dark)
    cv.paint(_ellipse(x, y, -1.08, -0.12, 0.22, 0.15), (190, 150, 110))
    cv.paint(_ellipse(x, y, -1.22, -0.18, 0.07, 0.06), (20, 15, 15))
    cv.paint(_ellipse(x, y, -0.82, -0.42, 0.06, 0.07), (20, 15, 15))
    if level > 0:
        cv.paint(_ellipse(x, y, -1.02, 0.06 + 0.08 * level, 0.2, 0.03 + 0.13 * level), (80, 18, 28))


def _bell(cv: _Canvas, x, y, level, phase, params) -> None:
    gold = (228, 186, 40)
    half_width = 0.3 + 0.5 * np.clip((y + 0.7) / 1.4, 0, 1) ** 1.5
    body = np.maximum(np.abs(x) - half_width, np.abs(y - 0.0) - 0.7)
    bands = np.where(np.sin(y * 13 + params[0] * 6) > 0.55, 0.62, 1.0)
    sheen = 0.9 + 0.15 * np.cos(x * 2.2)
    cv.paint(_ellipse(x, y, 0, -0.92, 0.09, 0.09), (90, 70, 30))
    cv.paint(_ellipse(x, y, 0, -0.7, 0.3, 0.18), gold, sheen)
    cv.paint(body, gold, bands * sheen)
    cv.paint(_box(x, y, 0, 0.74, 0.86, 0.08, 0.05), gold, 0.8 * sheen)
    cv.paint(_ellipse(x, y, 0.06 * level, 0.9, 0.12, 0.1), (70, 50, 20))


def _drum(cv: _Canvas, x, y, level, phase, params) -> None:
    red, rim = (200, 32, 32), (215, 170, 60)
    checker = np.where((np.floor((x + y) * 3.2) + np.floor((x - y) * 3.2)) % 2 == 0, 1.0, 0.68)
    cv.paint(_ellipse(x, y, 0, 0.72, 0.85, 0.22), rim)
    cv.paint(_box(x, y, 0, 0.14, 0.85, 0.58), red, checker)
    cv.paint(_box(x, y, 0, 0.66, 0.85, 0.06), rim)
    cv.paint(_box(x, y, 0, -0.38, 0.85, 0.06), rim)
    cv.paint(_ellipse(x, y, 0, -0.45, 0.85, 0.22), rim)
    cv.paint(_ellipse(x, y, 0, -0.45, 0.78, 0.18), (236, 222, 192))


def _flute(cv: _Canvas, x, y, level, phase, params) -> None:
    shine = 0.88 + 0.2 * np.exp(-((y + 0.25) / 0.3) ** 2)
    cv.paint(_box(x, y, 0, 0, 4.9, 0.62, 0.5), (60, 60, 70))
    cv.paint(_box(x, y, 0, 0, 4.75, 0.45, 0.4), (208, 208, 218), shine)
    cv.paint(_ellipse(x, y, -3.6, 0.0, 0.45, 0.26), (150, 150, 160))
    for hole in np.linspace(-1.2, 3.4, 6):
        cv.paint(_ellipse(x, y, hole, 0.02, 0.2, 0.2), (30, 30, 38))


def _car(cv: _Canvas, x, y, level, phase, params) -> None:
    blue = (40, 80, 205)
    shine = 0.9 + 0.22 * np.exp(-((y + 0.05) / 0.12) ** 2)
    cv.paint(_box(x, y, -0.1, -0.35, 0.82, 0.4, 0.28), blue, shine)
    cv.paint(_box(x, y, -0.45, -0.38, 0.32, 0.25, 0.1), (170, 200, 232))
    cv.paint(_box(x, y, 0.25, -0.38, 0.28, 0.25, 0.1), (170, 200, 232))
    cv.paint(_box(x, y, 0, 0.22, 1.65, 0.34, 0.26), blue, shine)
    lamp = np.array([235, 215, 90]) + level * np.array([20, 40, 160])
    cv.paint(_ellipse(x, y, 1.5, 0.12, 0.13, 0.1), lamp)
    for wheel_x in (-1.0, 1.0):
        cv.paint(_ellipse(x, y, wheel_x, 0.6, 0.38, 0.38), (25, 25, 28))
        cv.paint(_ellipse(x, y, wheel_x, 0.6, 0.15, 0.15), (150, 150, 155))


def _person(cv: _Canvas, x, y, level, phase, params) -> None:
    skin = (236, 190, 158)
    blush = 0.95 + 0.05 * _waves(x, y, params, 5.0)
    cv.paint(_box(x, y, 0, 0.95, 0.78, 0.1, 0.05), (60, 90, 120))  # collar
    cv.paint(_ellipse(x, y, 0, 0.05, 0.68, 0.88), skin, blush)
    hair = np.maximum(_ellipse(x, y, 0, -0.5, 0.74, 0.46), y + 0.5 - 0.1 * np.cos(x * 9))
    cv.paint(hair, (38, 30, 28))
    for side in (-1, 1):
        cv.paint(_ellipse(x, y, 0.28 * side, -0.12, 0.13, 0.09), (250, 250, 250))
        cv.paint(_ellipse(x, y, 0.28 * side, -0.12, 0.06, 0.07), (40, 50, 70))
    cv.paint(_ellipse(x, y, 0, 0.15, 0.08, 0.14), (212, 160, 130))
    cv.paint(_ellipse(x, y, 0, 0.5 + 0.05 * level, 0.26 + 0.06 * level, 0.04 + 0.24 * level), (110, 25, 35))
    if level > 0.3:
        cv.paint(_ellipse(x, y, 0, 0.3 + 0.04 * level, 0.2, 0.05), (245, 245, 240))


def _waterfall(cv: _Canvas, x, y, level, phase, params) -> None:
    water = (150, 212, 242)
    step = phase * 2 * np.pi / FLOW_PERIOD
    streaks = 0.85 + 0.15 * np.sin(y * 7 - step + 6 * np.sin(x * 11 + params[0] * 6))
    cv.paint(_box(x, y, 0, -0.3, 0.74, 0.7, 0.05), (92, 86, 80))  # rock lip
    cv.paint(_box(x, y, 0, -0.1, 0.5, 0.9), water, streaks)
    foam = 0.95 + 0.08 * np.sin(x * 23 + step)
    cv.paint(_ellipse(x, y, 0, 0.8, 0.74, 0.2), (225, 240, 250), foam)


_DRAWERS: dict[str, Callable] = {
    "dog": _dog, "bell": _bell, "drum": _drum, "flute": _flute,
    "car": _car, "person": _person, "waterfall": _waterfall,
}

FLOWING = frozenset({"waterfall"})
"""Categories whose look changes every frame even without events."""

FLOW_PERIOD = 7
"""Frames after which a flowing category looks the same again."""

FLASHING = frozenset({"bell", "drum", "flute", "waterfall"})
"""Categories whose sound events show as a brief brightening (the others move a part)."""


@dataclass(frozen=True)
class Sprite:
    """An object's pixels at one animation state: colour, coverage and tight box."""

    rgb: np.ndarray  # (h, w, 3) float32
    alpha: np.ndarray  # (h, w) float32 in [0, 1]
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 of coverage > 0.5 inside the sprite


def draw_sprite(category: str, width: int, height: int, level: float = 0.0, phase: int = 0,
                params: np.ndarray | None = None) -> Sprite:
    """The object at event level (0 rest .. 1 peak) and flow phase, squashed as the level asks."""
    spec = CATEGORIES[category]
    params = np.zeros(4) if params is None else params
    w = max(2, round(width * (1 + 0.6 * spec.squash * level)))
    h = max(2, round(height * (1 - spec.squash * level)))
    x = ((np.arange(w) + 0.5) / w * 2 - 1)[None, :] * spec.aspect
    y = ((np.arange(h) + 0.5) / h * 2 - 1)[:, None]
    canvas = _Canvas((h, w), px=height / 2)
    _DRAWERS[category](canvas, x, y, level, phase, params)
    rgb = np.clip(canvas.rgb, 0.0, 255.0)
    if category in FLASHING and level > 0:
        rgb = rgb + (0.5 * level) * (255.0 - rgb)
    inside = canvas.alpha > 0.5
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1) if len(rows) else (0, 0, w, h)
    return Sprite(rgb.astype(np.float32), canvas.alpha, box)


# ---- animated objects composited over a moving background ----


@dataclass
class Track:
    """One object's rest box (frame pixels) and its per-frame offsets and event levels."""

    category: str
    left: int
    top: int
    width: int
    height: int
    dx: np.ndarray  # (T,) int pixel offsets
    dy: np.ndarray  # (T,) int
    level: np.ndarray  # (T,) float in [0, 1]
    params: np.ndarray = field(default_factory=lambda: np.zeros(4))


def still_track(category: str, left: int, top: int, width: int, height: int, n_frames: int,
                params: np.ndarray | None = None) -> Track:
    """A track that stays at its rest box with no events."""
    zeros = np.zeros(n_frames, dtype=np.int64)
    return Track(category, left, top, width, height, zeros, zeros.copy(),
                 np.zeros(n_frames), np.zeros(4) if params is None else params)


EVENT_PROFILE = np.array([1.0, 0.7, 0.45, 0.25, 0.1])
"""Event level on the event frame and the frames after it: a sudden peak that fades."""


def event_levels(n_frames: int, event_frames: np.ndarray, profile: np.ndarray = EVENT_PROFILE
                 ) -> np.ndarray:
    """Per-frame event level (T,) in [0, 1]: the profile started at each event frame, max-combined."""
    levels = np.zeros(n_frames + len(profile))
    for start in np.asarray(event_frames, dtype=np.int64):
        if 0 <= start < n_frames:
            segment = levels[start : start + len(profile)]
            np.maximum(segment, profile, out=segment)
    return levels[:n_frames]


def _state_key(track: Track, t: int) -> tuple[float, int]:
    level = round(float(track.level[t]) * 8) / 8  # a few levels keep the sprite cache small
    phase = t % FLOW_PERIOD if track.category in FLOWING else 0
    return level, phase


def render(background: np.ndarray, camera: np.ndarray, tracks: list[Track], size: tuple[int, int]
           ) -> tuple[np.ndarray, np.ndarray]:
    """Frames (T, H, W, 3) uint8 and tight object boxes (T, n, 4) from a canvas, camera offsets and tracks.

    camera[t] is the (x, y) corner of the frame in the background canvas, which is larger than the
    frame by twice the centre offset; objects move with the background.
    """
    height, width = size
    n_frames = len(camera)
    centre = (np.array(background.shape[1::-1]) - (width, height)) // 2
    frames = np.empty((n_frames, height, width, 3), dtype=np.uint8)
    boxes = np.zeros((n_frames, len(tracks), 4), dtype=np.int64)
    caches: list[dict] = [{} for _ in tracks]
    for t in range(n_frames):
        cx, cy = camera[t]
        frames[t] = background[cy : cy + height, cx : cx + width]
        shift_x, shift_y = centre[0] - cx, centre[1] - cy
        for i, track in enumerate(tracks):
            key = _state_key(track, t)
            if key not in caches[i]:
                caches[i][key] = draw_sprite(track.category, track.width, track.height, key[0],
                                             key[1], track.params)
            sprite = caches[i][key]
            sh, sw = sprite.alpha.shape
            x0 = int(round(track.left + track.width / 2 - sw / 2)) + int(track.dx[t]) + shift_x
            y0 = track.top + track.height - sh + int(track.dy[t]) + shift_y
            _composite(frames[t], sprite, x0, y0)
            bx1, by1, bx2, by2 = sprite.box
            boxes[t, i] = np.clip([x0 + bx1, y0 + by1, x0 + bx2, y0 + by2], 0, [width, height] * 2)
    return frames, boxes


def _composite(frame: np.ndarray, sprite: Sprite, x0: int, y0: int) -> None:
    sh, sw = sprite.alpha.shape
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x0 + sw, frame.shape[1]), min(y0 + sh, frame.shape[0])
    if fx0 >= fx1 or fy0 >= fy1:
        return
    alpha = sprite.alpha[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0, None]
    rgb = sprite.rgb[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]
    region = frame[fy0:fy1, fx0:fx1].astype(np.float32)
    frame[fy0:fy1, fx0:fx1] = (region + (rgb - region) * alpha + 0.5).astype(np.uint8)


# ---- backgrounds ----


def _smooth_noise(height: int, width: int, cells: int, rng: np.random.Generator) -> np.ndarray:
    """Bilinear value noise in [0, 1] with about `cells` bumps across."""
    grid = rng.random((cells + 2, cells + 2))
    ys = np.linspace(0, cells, height)
    xs = np.linspace(0, cells, width)
    y0, x0 = ys.astype(int), xs.astype(int)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x0 + 1] * fx
    bottom = grid[y0 + 1][:, x0] * (1 - fx) + grid[y0 + 1][:, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


_OBJECT_COLOURS = np.array([c.colour for c in CATEGORIES.values()], dtype=np.float64)


def _muted_colour(rng: np.random.Generator, clearance: float = 80.0, hue: float | None = None
                  ) -> np.ndarray:
    """A dull colour at least `clearance` (RGB distance) away from every object colour, of any hue
    or of one near `hue`."""
    while True:
        h = rng.random() if hue is None else (hue + rng.uniform(-0.03, 0.03)) % 1.0
        hsv = h, rng.uniform(0.1, 0.35), rng.uniform(0.3, 0.55)
        colour = np.array(colorsys.hsv_to_rgb(*hsv)) * 255.0
        if np.linalg.norm(_OBJECT_COLOURS - colour, axis=1).min() >= clearance:
            return colour


def _pattern(kind: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A multiplicative surface texture around 1: plain, stripes, tiles or grass."""
    yy, xx = np.mgrid[0:height, 0:width]
    if kind == "stripes":
        period = rng.uniform(10, 26)
        return 1.0 + 0.07 * np.sign(np.sin(2 * np.pi * xx / period))
    if kind == "tiles":
        period = int(rng.integers(14, 30))
        grout = (xx % period < 2) | ((yy + period // 2 * (xx // period % 2)) % period < 2)
        return np.where(grout, 0.8, 1.0)
    if kind == "grass":
        bend = 6.0 * _smooth_noise(height, width, 6, rng)
        return 1.0 + 0.08 * np.sin(xx * rng.uniform(0.9, 1.6) + 0.2 * yy + bend)
    return np.ones((height, width))


@dataclass(frozen=True)
class Scene:
    """Where a category is usually filmed: hue (0-1) and texture of the upper and lower regions."""

    upper_hue: float
    lower_hue: float
    upper_texture: str
    lower_texture: str


# Category-typical settings, as real footage has (a church bell among stone, a car on a street):
# context that predicts the sound without being its source (thesis 5.1's case for hard negatives).
SCENES: dict[str, Scene] = {
    "dog": Scene(0.58, 0.30, "plain", "grass"),  # park: sky over a lawn
    "bell": Scene(0.10, 0.08, "tiles", "tiles"),  # church: stone walls over paving
    "drum": Scene(0.78, 0.02, "stripes", "plain"),  # stage: curtain over boards
    "flute": Scene(0.06, 0.12, "plain", "stripes"),  # hall: panelled wall over parquet
    "car": Scene(0.62, 0.0, "tiles", "plain"),  # street: facades over asphalt
    "person": Scene(0.16, 0.50, "plain", "tiles"),  # office: wall over a tiled floor
    "waterfall": Scene(0.33, 0.22, "grass", "grass"),  # forest over mossy rock
}


def background(height: int, width: int, rng: np.random.Generator, scene: Scene | None = None
               ) -> np.ndarray:
    """A muted two-region scene (wall or sky over floor or ground) with varied texture, uint8;
    of random colours and textures, or of `scene`'s."""
    horizon = int(height * rng.uniform(0.3, 0.6))
    rows = np.arange(height)[:, None, None]
    top_colour = _muted_colour(rng, hue=None if scene is None else scene.upper_hue)
    floor_colour = _muted_colour(rng, hue=None if scene is None else scene.lower_hue)
    gradient = 1.0 + 0.15 * (rows / height - 0.5)
    base = np.where(rows < horizon, top_colour * gradient, floor_colour / gradient)
    kinds = ("plain", "stripes", "tiles", "grass")
    top = _pattern(kinds[rng.integers(0, 3)] if scene is None else scene.upper_texture, height, width, rng)
    floor = _pattern(kinds[rng.integers(0, 4)] if scene is None else scene.lower_texture, height, width, rng)
    texture = np.where(rows[..., 0] < horizon, top, floor)
    blotches = 0.82 + 0.36 * _smooth_noise(height, width, int(rng.integers(3, 9)), rng)
    # no per-pixel grain: H.264 re-draws it differently at every key frame, a change no event made
    image = base * (texture * blotches)[..., None]
    return np.clip(image, 0, 255).astype(np.uint8)

