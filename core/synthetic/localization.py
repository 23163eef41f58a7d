"""Sound-source localisation clips: a sounding object (or a few of one class) among silent ones, in
VGG-SS/VGG-Sound layout, with object sizes and positions drawn from the real VGG-SS boxes."""

from __future__ import annotations

import csv
import json
import string
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.media import write_clip
from core.synthetic import shapes, sounds
from core.vggsound import clip_key

FPS = 25
SAMPLE_RATE = sounds.SAMPLE_RATE
ID_ALPHABET = string.ascii_letters + string.digits + "_-"
TEST_SHARE = 0.2


# ---- VGG-Sound naming and label file (shared with the sync generator) ----


def youtube_ids(n: int, rng: np.random.Generator) -> list[str]:
    """n distinct 11-character YouTube-like ids; the first holds a "_" and a "-" so parsers meet one."""
    letters = np.array(list(ID_ALPHABET))
    ids: list[str] = []
    while len(ids) < n:
        chars = letters[rng.integers(0, len(letters), 11)]
        if not ids:
            chars[rng.choice(11, 2, replace=False)] = ["_", "-"]
        candidate = "".join(chars)
        if candidate not in ids:
            ids.append(candidate)
    return ids


def write_labels_csv(path: Path, rows: Iterable[tuple[str, int, str, str]]) -> Path:
    """vggsound.csv layout without header: youtube_id,start_seconds,label,split."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def write_json(path: Path, payload: list | dict) -> Path:
    """Stable JSON with one list item (or top-level key) per line, diff- and grep-friendly."""
    path.write_text(_json_lines(payload) + "\n", encoding="utf-8")
    return path


def _json_lines(payload: list | dict) -> str:
    if isinstance(payload, list):
        return "[\n" + ",\n".join(json.dumps(item) for item in payload) + "\n]"
    items = (f"{json.dumps(k)}: {_json_lines(v) if isinstance(v, list) else json.dumps(v)}"
             for k, v in payload.items())
    return "{\n" + ",\n".join(items) + "\n}"


def normalised_box(box: np.ndarray, size: int) -> list[float]:
    """Pixel box [x1, y1, x2, y2] as fractions of the frame side, rounded for stable files."""
    return [round(float(v) / size, 4) for v in box]


# ---- one clip ----


@dataclass
class LocalizationClip:
    """A rendered clip and what is true about it."""

    frames: np.ndarray | None
    audio: np.ndarray
    categories: list[str]  # visible objects; the first `sounding` of them make the sound
    centre_frame: int
    centre_boxes: np.ndarray  # (n, 4) pixel boxes on the centre frame
    onsets: np.ndarray  # seconds
    sounding: int = 1  # instances of the sounding class (all boxed in vggss.json)


# Deciles (0 %, 10 %, ..., 100 %) of the area share of the union of each clip's boxes in the real
# VGG-SS test set (/work/shared/data/vggss/vggss.json, 5,158 clips: median 0.253, quartiles 0.121
# and 0.463); the ends are clipped so that an object stays visible and fits with its sway.
VGGSS_AREA_DECILES = (0.02, 0.054, 0.097, 0.146, 0.197, 0.253, 0.324, 0.406, 0.522, 0.677, 0.8)
# Where the union of a clip's boxes sits in the real VGG-SS file: quantiles (0 %, 5 %, ..., 100 %)
# of left / (1 - width) and top / (1 - height), i.e. 0 touches the left (top) edge and 1 the right
# (bottom) one (boxes spanning 98 % of a side left out). A third of the real boxes touch an edge;
# objects placed uniformly inside a padded frame were more centred than that.
VGGSS_X_POSITION = (0.0, 0.014, 0.096, 0.194, 0.27, 0.333, 0.381, 0.417, 0.447, 0.473, 0.498,
                    0.52, 0.547, 0.576, 0.614, 0.657, 0.714, 0.781, 0.871, 0.95, 1.0)
VGGSS_Y_POSITION = (0.0, 0.004, 0.054, 0.14, 0.214, 0.285, 0.348, 0.4, 0.444, 0.491, 0.531,
                    0.574, 0.623, 0.678, 0.732, 0.795, 0.853, 0.915, 0.952, 0.977, 1.0)
# How many instances of the sounding class VGG-SS boxes: 1 (89.5 %), 2 (7.5 %), 3 or more (3 %).
INSTANCE_SHARES = (0.9, 0.07, 0.03)
MIN_SIDE = 0.08  # share of the frame side below which a silent object is left out
# A sprite's tight box is smaller than the rectangle it is drawn in; this factor on the drawn area
# brings the generated quantiles to the real ones (bench/localizer/box_sizes.py).
FILL_CORRECTION = 1.3


def area_share(rng: np.random.Generator) -> float:
    """An object-area share of the frame drawn from the VGG-SS distribution."""
    return float(np.interp(rng.random(), np.linspace(0.0, 1.0, len(VGGSS_AREA_DECILES)), VGGSS_AREA_DECILES))


def relative_position(rng: np.random.Generator) -> tuple[float, float]:
    """(x, y) placement of the sounding object drawn from the VGG-SS distribution: 0 at the
    left / top edge, 1 at the right / bottom one."""
    u = rng.random(2)
    grid = np.linspace(0.0, 1.0, len(VGGSS_X_POSITION))
    return float(np.interp(u[0], grid, VGGSS_X_POSITION)), float(np.interp(u[1], grid, VGGSS_Y_POSITION))


def _corner_like_vggss(category: str, width: int, height: int, size: int, rng: np.random.Generator
                       ) -> tuple[int, int]:
    """Top-left corner of a width x height drawing that puts its tight (rest) box where VGG-SS
    boxes sit; the drawing may cross the frame edge by its margin around the tight box."""
    x1, y1, x2, y2 = shapes.draw_sprite(category, width, height).box
    rx, ry = relative_position(rng)
    return int(round(rx * (size - (x2 - x1)) - x1)), int(round(ry * (size - (y2 - y1)) - y1))


def _object_size(category: str, share: float, size: int) -> tuple[int, int]:
    """(width, height) in pixels of an object covering `share` of the frame at its aspect,
    stretched where the aspect would not fit the frame."""
    aspect = shapes.CATEGORIES[category].aspect
    longest = 0.86 * size
    height = min(np.sqrt(share / aspect) * size, longest)
    width = min(aspect * height, longest)
    height = min(share * size * size / width, longest)
    return int(width), int(height)


def _fit(placed: list[tuple[int, int, int, int]], width: int, height: int, size: int,
         rng: np.random.Generator) -> tuple[int, int] | None:
    """A top-left corner for a width x height box clear of the placed ones, or None."""
    pad = 3 + int(0.08 * width)  # room for sway and squash
    lows = np.array([pad, pad])
    highs = np.array([size - width - pad, size - height - pad])
    if np.any(highs <= lows):
        return None
    candidates = rng.integers(lows, highs, size=(64, 2))
    ok = np.ones(len(candidates), dtype=bool)
    for x, y, w, h in placed:
        ok &= ((candidates[:, 0] + width + pad <= x) | (candidates[:, 0] >= x + w + pad)
               | (candidates[:, 1] + height + pad <= y) | (candidates[:, 1] >= y + h + pad))
    return tuple(int(v) for v in candidates[np.argmax(ok)]) if ok.any() else None


def _place_all(sizes: list[tuple[int, int]], size: int, rng: np.random.Generator,
               placed: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]] | None:
    """`placed` followed by a clear box for each of `sizes`, or None if one does not fit."""
    placed = list(placed)
    for width, height in sizes:
        corner = _fit(placed, width, height, size, rng)
        if corner is None:
            return None
        placed.append((*corner, width, height))
    return placed


def _layout(sounding: list[str], silent: list[str], size: int, rng: np.random.Generator
            ) -> tuple[list[tuple[int, int, int, int]], list[str]]:
    """(left, top, width, height) boxes and categories of what is drawn: the sounding instances
    (together covering a VGG-SS-like share of the frame, shrunk until they fit; the first placed as
    VGG-SS boxes are), then every silent object that still fits (each drawn from the same area
    distribution, shrunk or left out)."""
    share = FILL_CORRECTION * area_share(rng) / len(sounding)
    sizes = [_object_size(name, share, size) for name in sounding]
    while True:
        first = (*_corner_like_vggss(sounding[0], *sizes[0], size, rng), *sizes[0])
        if (placed := _place_all(sizes[1:], size, rng, [first])) is not None:
            break
        sizes = [(max(8, int(w * 0.9)), max(4, int(h * 0.9))) for w, h in sizes]
    drawn = list(sounding)
    for name in silent:
        width, height = _object_size(name, FILL_CORRECTION * area_share(rng), size)
        while min(width, height) >= MIN_SIDE * size:
            corner = _fit(placed, width, height, size, rng)
            if corner is not None:
                placed.append((*corner, width, height))
                drawn.append(name)
                break
            width, height = int(width * 0.85), int(height * 0.85)
    return placed, drawn


def _jitter(n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Small smooth integer sway (pixels) of an object that is alive but not sounding."""
    t = np.arange(n_frames) / FPS
    amplitude = rng.uniform(0.0, 1.6)
    return np.round(amplitude * np.sin(2 * np.pi * rng.uniform(0.2, 0.9) * t + rng.uniform(0, 6.3))
                    ).astype(np.int64)


def _track(category: str, box: tuple[int, int, int, int], n_frames: int, rng: np.random.Generator,
           event_frames: np.ndarray | None) -> shapes.Track:
    track = shapes.still_track(category, *box, n_frames, params=rng.random(4))
    track.dx, track.dy = _jitter(n_frames, rng), _jitter(n_frames, rng)
    if event_frames is not None:
        track.level = shapes.event_levels(n_frames, event_frames)
        if category == "car":  # the body shakes when the engine revs
            track.dy = track.dy + np.where(track.level > 0.2, np.arange(n_frames) % 2, 0)
    return track


def _soundtrack(timbre: str, onsets: np.ndarray, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    sound = sounds.place_events(timbre, onsets, n_samples, rng)
    if timbre in sounds.AMBIENT_TIMBRES:
        sound += 0.25 * sounds.ambient_sound(timbre, n_samples, rng)
    mixed = sounds.mixdown(sound, rng.uniform(0.5, 0.85))
    noise = sounds.background_noise(n_samples, rng, rms=rng.uniform(0.002, 0.006))
    return np.clip(mixed + noise, -1, 1).astype(np.float32)


def make_clip(rng: np.random.Generator, duration: float, size: int, video: bool = True,
              scene_context: float = 0.0) -> LocalizationClip:
    """One clip: 1-3 instances of the sounding category and up to 3 silent objects of other ones,
    in the sounding category's typical scene with probability `scene_context`."""
    n_frames = max(1, round(duration * FPS))
    names = list(shapes.CATEGORIES)
    picked = [names[i] for i in rng.choice(len(names), int(rng.integers(2, 5)), replace=False)]
    instances = 1 + int(rng.choice(len(INSTANCE_SHARES), p=INSTANCE_SHARES))
    boxes, categories = _layout([picked[0]] * instances, picked[1:], size, rng)
    onsets = sounds.event_onsets(n_frames / FPS, rng, rate=(0.8, 2.0), fps=FPS, min_gap=0.3)
    event_frames = np.round(onsets * FPS).astype(np.int64)
    tracks = [_track(name, box, n_frames, rng, event_frames if i < instances else None)
              for i, (name, box) in enumerate(zip(categories, boxes))]
    audio = _soundtrack(shapes.CATEGORIES[categories[0]].timbre, onsets, n_frames * SAMPLE_RATE // FPS, rng)
    # drawn only when asked, so that clips without scene context keep their seeds' content
    typical = scene_context > 0 and rng.random() < scene_context
    canvas = shapes.background(size, size, rng, shapes.SCENES[categories[0]] if typical else None)
    centre = n_frames // 2
    if video:
        frames, all_boxes = shapes.render(canvas, np.zeros((n_frames, 2), np.int64), tracks, (size, size))
        centre_boxes = all_boxes[centre]
    else:
        frames = None
        _, centre_boxes = shapes.render(canvas, np.zeros((1, 2), np.int64),
                                        [_frame_of(track, centre) for track in tracks], (size, size))
        centre_boxes = centre_boxes[0]
    return LocalizationClip(frames, audio, categories, centre, centre_boxes, onsets, instances)


def _frame_of(track: shapes.Track, t: int) -> shapes.Track:
    """The track cut down to its single frame t (to get boxes without rendering the whole clip)."""
    return shapes.Track(track.category, track.left, track.top, track.width, track.height,
                        track.dx[t : t + 1], track.dy[t : t + 1], track.level[t : t + 1], track.params)


# ---- the data set ----


def generate_localization(clips: int, seed: int, out: Path, duration: float = 5.0, size: int = 224,
                          label_noise: float = 0.0, video: bool = True, scene_context: float = 0.0
                          ) -> Path:
    """Write clips/<key>.mp4, vggss.json, labels.csv and meta.json of a localisation set to out."""
    out = Path(out)
    (out / "clips").mkdir(parents=True, exist_ok=True)
    if size % 2:
        raise ValueError("size must be even for H.264")
    # the generator's own stream: the same seed must not give sync and localisation clips the same ids
    dataset_seed, *clip_seeds = np.random.SeedSequence([seed, 1]).spawn(clips + 1)
    rng = np.random.default_rng(dataset_seed)
    ids = youtube_ids(clips, rng)
    starts = rng.integers(0, 300, clips)
    splits = np.where(rng.random(clips) < TEST_SHARE, "test", "train")
    noisy = set(rng.choice(clips, int(round(label_noise * clips)), replace=False).tolist())
    labels = list(shapes.LABELS.values())
    vggss, rows, records = [], [], []
    for index in range(clips):
        clip_rng = np.random.default_rng(clip_seeds[index])
        clip = make_clip(clip_rng, duration, size, video=video, scene_context=scene_context)
        key = clip_key(ids[index], int(starts[index]))
        if clip.frames is not None:
            write_clip(out / "clips" / f"{key}.mp4", clip.frames, FPS, clip.audio, SAMPLE_RATE)
        true_label = shapes.LABELS[clip.categories[0]]
        listed = true_label
        if index in noisy:
            wrong = [label for label in labels if label != true_label]
            listed = wrong[int(rng.integers(len(wrong)))]
        vggss.append({"file": key, "class": true_label,
                      "bbox": [normalised_box(box, size) for box in clip.centre_boxes[:clip.sounding]]})
        rows.append((ids[index], int(starts[index]), listed, str(splits[index])))
        records.append({
            "key": key,
            "true_label": true_label,
            "listed_label": listed,
            "label_is_noisy": listed != true_label,
            "split": str(splits[index]),
            "sounding_category": clip.categories[0],
            "onsets": [round(float(t), 6) for t in clip.onsets],
            "centre_frame": clip.centre_frame,
            "objects": [{"category": name, "label": shapes.LABELS[name], "sounding": i < clip.sounding,
                         "bbox": normalised_box(box, size), "bbox_px": [int(v) for v in box]}
                        for i, (name, box) in enumerate(zip(clip.categories, clip.centre_boxes))],
        })
    write_json(out / "vggss.json", vggss)
    write_labels_csv(out / "labels.csv", rows)
    settings = {"clips": clips, "duration": duration, "size": size, "fps": FPS,
                "sample_rate": SAMPLE_RATE, "label_noise": label_noise, "video": video,
                "scene_context": scene_context}
    write_json(out / "meta.json", {"generator": "localization", "seed": seed, "settings": settings,
                                   "clips": records})
    return out
