"""Audio-visual synchronisation clips: evident, uniform-ambient and no-source cases (thesis Table 6.1)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.media import write_clip
from core.synthetic import shapes, sounds
from core.synthetic.localization import write_json, write_labels_csv, youtube_ids
from core.vggsound import clip_key

FPS = 25
SAMPLE_RATE = sounds.SAMPLE_RATE
TEST_SHARE = 0.2
KIND_SHARES = {"evident": 0.6, "uniform_ambient": 0.3, "no_source": 0.1}
EVIDENT = ("dog", "bell", "drum", "flute", "person")  # categories with sharp, visible sound events
AMBIENT = ("car", "waterfall")  # categories with a constant sound
CAMERA_MARGIN = 3
SOURCE_LEVEL = 0.6  # evident sources flash or open their mouth this far: visible, but less than the distractor moves


def kind_schedule(clips: int, rng: np.random.Generator) -> list[str]:
    """Clip kinds in random order, their counts as close to KIND_SHARES as whole clips allow."""
    shares = np.array(list(KIND_SHARES.values()))
    counts = np.floor(shares * clips).astype(int)
    remainders = shares * clips - counts
    for index in np.argsort(-remainders, kind="stable")[: clips - counts.sum()]:
        counts[index] += 1
    kinds = np.repeat(list(KIND_SHARES), counts)
    return [str(kind) for kind in rng.permutation(kinds)]


@dataclass
class SyncClip:
    """A rendered clip and what is true about it."""

    kind: str
    label: str
    n_frames: int
    frames: np.ndarray | None
    audio: np.ndarray
    events: np.ndarray  # seconds of events both seen and heard
    audio_onsets: np.ndarray  # seconds of every heard event
    visual_events: np.ndarray  # seconds of every seen event
    visible: list[str]
    variant: str = ""
    speech: bool = False
    source_box: list[int] | None = None  # evident clips: left, top, width, height of the sounding object at rest


# ---- motion ----


def bounce(n_frames: int, impact_frames: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Per-frame height offsets (pixels, negative is up) of an object that lands at each impact frame."""
    gravity = 0.6 * size / 112  # pixels per frame squared
    ceiling = 0.3 * size
    impacts = np.asarray(impact_frames, dtype=np.float64)
    after = impacts[-1] + rng.uniform(8, 20) if len(impacts) else n_frames + rng.uniform(8, 20)
    before = impacts[0] - 2 * max(impacts[0], 1.0) if len(impacts) else -8.0  # falling in from rest
    landings = np.concatenate([[before], impacts, [after]])
    t = np.arange(n_frames, dtype=np.float64)
    arc = np.clip(np.searchsorted(landings, t, side="right") - 1, 0, len(landings) - 2)
    start, stop = landings[arc], landings[arc + 1]
    span = stop - start
    progress = (t - start) / span
    height = np.minimum(gravity * span**2 / 8, ceiling)
    return -np.round(4 * height * progress * (1 - progress)).astype(np.int64)


def drift(n_frames: int, low: int, high: int, rng: np.random.Generator) -> np.ndarray:
    """Offsets in [low, high] of an object gliding one pixel per frame, turning back at the ends."""
    span = max(high - low, 1)
    travel = np.arange(n_frames, dtype=np.int64) * int(rng.choice([-1, 1])) - low
    phase = np.mod(travel, 2 * span)
    return low + np.where(phase <= span, phase, 2 * span - phase)


def camera_shake(n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Frame corners (T, 2) in the background canvas: a handheld random walk, or a still camera."""
    steps = rng.integers(-1, 2, size=(n_frames, 2)) * (rng.random((n_frames, 1)) < 0.35)
    path = CAMERA_MARGIN + np.cumsum(steps, axis=0)
    return np.clip(path, 0, 2 * CAMERA_MARGIN).astype(np.int64)


# ---- scene pieces ----


def _main_box(category: str, size: int, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """A sizeable object standing in the lower part of the frame."""
    aspect = shapes.CATEGORIES[category].aspect
    closeness = {"person": 1.55, "dog": 1.3, "flute": 1.6}.get(category, 1.0)  # talking heads fill the frame
    extent = rng.uniform(0.36, 0.48) * size * closeness
    width, height = (extent, extent / aspect) if aspect >= 1 else (extent * aspect, extent)
    width, height = int(min(width, 0.8 * size)), int(height)
    bottom = int(rng.uniform(0.8, 0.93) * size)
    left = int(rng.integers(int(0.1 * width) + 2, size - int(1.1 * width) - 1))
    return left, bottom - height, width, height


def _upper_box(category: str, size: int, rng: np.random.Generator, scale: float = 1.0
               ) -> tuple[int, int, int, int]:
    """An object (smaller unless scaled) in the upper band of the frame."""
    aspect = shapes.CATEGORIES[category].aspect
    extent = rng.uniform(0.22, 0.3) * size * scale * (1.5 if aspect > 3 else 1.0)
    width, height = (extent, extent / aspect) if aspect >= 1 else (extent * aspect, extent)
    width, height = int(width), int(height)
    left = int(rng.integers(2, size - width - 2))
    return left, int(rng.uniform(0.03, 0.1) * size), width, height


def _event_frames(onsets: np.ndarray) -> np.ndarray:
    return np.round(onsets * FPS).astype(np.int64)


def _event_track(category: str, box, n_frames: int, size: int, event_frames: np.ndarray,
                 rng: np.random.Generator) -> shapes.Track:
    """The object that shows the events: drums land with a thud, others flash or open a mouth."""
    track = shapes.still_track(category, *box, n_frames, params=rng.random(4))
    track.level = shapes.event_levels(n_frames, event_frames)
    if category == "drum":
        track.dy = bounce(n_frames, event_frames, size, rng)
    elif category in ("dog", "person"):  # the head dips as the mouth opens and comes back slowly
        track.dy = np.ceil(track.level * 2.0 - 0.5).astype(np.int64)
    return track


def _distractor(exclude: list[str], n_frames: int, size: int, rng: np.random.Generator,
                visual_frames: np.ndarray | None = None) -> shapes.Track:
    """A silent object gliding through the upper band, with events of its own if given."""
    names = [n for n in shapes.CATEGORIES if n not in exclude and n != "waterfall"]
    category = names[int(rng.integers(len(names)))]
    box = _upper_box(category, size, rng)
    track = shapes.still_track(category, *box, n_frames, params=rng.random(4))
    track.dx = drift(n_frames, 2 - box[0], size - box[2] - 2 - box[0], rng)
    if visual_frames is not None:
        track.level = shapes.event_levels(n_frames, visual_frames)
    return track


def _with_noise(sound: np.ndarray, peak: float, noise_rms: float, rng: np.random.Generator) -> np.ndarray:
    mixed = sounds.mixdown(sound, peak) + sounds.background_noise(len(sound), rng, noise_rms)
    return np.clip(mixed, -1, 1).astype(np.float32)


# ---- the three kinds ----


def lurches(n_frames: int, jump_frames: np.ndarray, low: int, high: int, rng: np.random.Generator
            ) -> np.ndarray:
    """Offsets in [low, high] of an object that stays put and jumps far at each jump frame."""
    span = max(high - low, 1)
    positions = [int(rng.integers(low, high + 1))]
    for _ in jump_frames:  # each jump crosses at least a third of the room it has
        step = int(rng.integers(span // 3, span + 1)) * (1 if rng.random() < 0.5 else -1)
        target = positions[-1] + step
        positions.append(int(np.clip(target if low <= target <= high else positions[-1] - step, low, high)))
    index = np.searchsorted(np.asarray(jump_frames, dtype=np.int64), np.arange(n_frames), side="right")
    return np.asarray(positions, dtype=np.int64)[index]


def _lurching_distractor(exclude: list[str], n_frames: int, size: int, rng: np.random.Generator
                         ) -> tuple[shapes.Track, np.ndarray]:
    """A silent object in the upper band that jumps sideways at its own random times, and those times."""
    names = [n for n in shapes.CATEGORIES if n not in exclude and n != "waterfall"]
    category = names[int(rng.integers(len(names)))]
    left, top, width, height = _upper_box(category, size, rng, scale=1.8)
    track = shapes.still_track(category, left, top, width, height, n_frames, params=rng.random(4))
    jumps = sounds.event_onsets(n_frames / FPS, rng, rate=(2.0, 4.0), fps=FPS)
    track.dx = lurches(n_frames, _event_frames(jumps), 2 - left, size - width - 2 - left, rng)
    return track, jumps


def _offscreen_knocks(n_samples: int, duration: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Unseen splashes at random times (their onsets match nothing on screen), and those times."""
    onsets = sounds.event_onsets(duration, rng, rate=(1.0, 3.0), fps=FPS)
    return sounds.place_events("water", onsets, n_samples, rng, gain_range=(0.6, 1.0)), onsets


def _evident(n_frames: int, size: int, rng: np.random.Generator):
    """The sounding object's events are tied to its sound; a bigger silent distractor jumps at its own
    times, the camera may shake and unseen splashes add onsets of their own, so that motion energy
    and sound onsets alone no longer line up (a fair test for a method that does not learn)."""
    category = EVIDENT[int(rng.integers(len(EVIDENT)))]
    onsets = sounds.event_onsets(n_frames / FPS, rng, rate=(1.0, 3.0), fps=FPS)
    frames = _event_frames(onsets)
    box = _main_box(category, size, rng)
    source = _event_track(category, box, n_frames, size, frames, rng)
    source.level = source.level * SOURCE_LEVEL
    distractor, jumps = _lurching_distractor([category], n_frames, size, rng)
    n_samples = n_frames * SAMPLE_RATE // FPS
    timbre = shapes.CATEGORIES[category].timbre
    audio = sounds.mixdown(sounds.place_events(timbre, onsets, n_samples, rng, gain_range=(0.7, 1.0)), 1.0)
    knocks, knock_onsets = _offscreen_knocks(n_samples, n_frames / FPS, rng)
    audio = _with_noise(audio + rng.uniform(0.5, 0.9) * sounds.mixdown(knocks, 1.0), rng.uniform(0.5, 0.8),
                        rng.uniform(0.002, 0.01), rng)
    camera = camera_shake(n_frames, rng) if rng.random() < 0.7 else \
        np.full((n_frames, 2), CAMERA_MARGIN, dtype=np.int64)
    clip = dict(kind="evident", label=shapes.LABELS[category], events=onsets,
                audio_onsets=np.union1d(onsets, knock_onsets), visual_events=np.union1d(onsets, jumps),
                variant=category, source_box=[int(v) for v in box])
    return [distractor, source], camera, audio, clip


def _uniform_ambient(n_frames: int, size: int, rng: np.random.Generator):
    category = AMBIENT[int(rng.integers(len(AMBIENT)))]
    source = shapes.still_track(category, *_main_box(category, size, rng), n_frames, params=rng.random(4))
    if category == "car":  # idling: the body trembles steadily, unrelated to any sound event
        source.dy = (np.arange(n_frames) // 2 % 2).astype(np.int64)
    tracks = [source]
    visual = np.array([])
    if rng.random() < 0.6:
        visual = sounds.event_onsets(n_frames / FPS, rng, rate=(0.5, 1.5), fps=FPS)
        tracks.insert(0, _distractor([category], n_frames, size, rng, _event_frames(visual)))
    n_samples = n_frames * SAMPLE_RATE // FPS
    audio = _with_noise(sounds.ambient_sound(shapes.CATEGORIES[category].timbre, n_samples, rng),
                        rng.uniform(0.4, 0.7), rng.uniform(0.002, 0.005), rng)
    camera = camera_shake(n_frames, rng) if rng.random() < 0.5 else \
        np.full((n_frames, 2), CAMERA_MARGIN, dtype=np.int64)
    clip = dict(kind="uniform_ambient", label=shapes.LABELS[category], events=np.array([]),
                audio_onsets=np.array([]), visual_events=visual, variant=category)
    return tracks, camera, audio, clip


def _no_source(n_frames: int, size: int, rng: np.random.Generator):
    n_samples = n_frames * SAMPLE_RATE // FPS
    if rng.random() < 0.6:  # heard but not seen: an off-screen dog, voice, bell ...
        heard = EVIDENT[int(rng.integers(len(EVIDENT)))]
        onsets = sounds.event_onsets(n_frames / FPS, rng, rate=(1.0, 3.0), fps=FPS)
        audio = _with_noise(sounds.place_events(shapes.CATEGORIES[heard].timbre, onsets, n_samples, rng),
                            rng.uniform(0.4, 0.8), rng.uniform(0.002, 0.005), rng)
        label, variant, exclude = shapes.LABELS[heard], f"offscreen_{heard}", [heard]
    else:  # seen but (nearly) not heard: faint wind while things move
        onsets = np.array([])
        wind = sounds.ambient_sound("wind", n_samples, rng)
        audio = _with_noise(wind, rng.uniform(0.01, 0.03), rng.uniform(0.001, 0.002), rng)
        label, variant, exclude = shapes.WIND_LABEL, "quiet", []
    # a silently bouncing drum or another object lands at random times with no sound at all
    visual = sounds.event_onsets(n_frames / FPS, rng, rate=(0.5, 1.5), fps=FPS)
    names = [n for n in EVIDENT if n not in exclude]
    category = names[int(rng.integers(len(names)))]
    tracks = [_event_track(category, _main_box(category, size, rng), n_frames, size,
                           _event_frames(visual), rng)]
    tracks.insert(0, _distractor(exclude + [category], n_frames, size, rng))
    camera = camera_shake(n_frames, rng)
    clip = dict(kind="no_source", label=label, events=np.array([]), audio_onsets=onsets,
                visual_events=visual, variant=variant)
    return tracks, camera, audio, clip


_KINDS = {"evident": _evident, "uniform_ambient": _uniform_ambient, "no_source": _no_source}


def make_clip(rng: np.random.Generator, kind: str, n_frames: int, size: int, video: bool = True
              ) -> SyncClip:
    """One clip of the given kind (evident, uniform_ambient, no_source), rendered if video."""
    tracks, camera, audio, facts = _KINDS[kind](n_frames, size, rng)
    canvas = shapes.background(size + 2 * CAMERA_MARGIN, size + 2 * CAMERA_MARGIN, rng)
    frames = shapes.render(canvas, camera, tracks, (size, size))[0] if video else None
    return SyncClip(n_frames=n_frames, frames=frames, audio=audio, visible=[t.category for t in tracks],
                    speech=facts["label"] == shapes.LABELS["person"], **facts)


def _seconds(values: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in values]


def generate_sync(clips: int, seed: int, out: Path, min_duration: float = 2.0, max_duration: float = 6.0,
                  size: int = 112, video: bool = True) -> Path:
    """Write clips/<key>.mp4, sync.json, labels.csv and meta.json of a synchronisation set to out."""
    out = Path(out)
    (out / "clips").mkdir(parents=True, exist_ok=True)
    if size % 2:
        raise ValueError("size must be even for H.264")
    if not 0 < min_duration <= max_duration:
        raise ValueError("need 0 < min_duration <= max_duration")
    # the generator's own stream: the same seed must not give sync and localisation clips the same ids
    dataset_seed, *clip_seeds = np.random.SeedSequence([seed, 2]).spawn(clips + 1)
    rng = np.random.default_rng(dataset_seed)
    ids = youtube_ids(clips, rng)
    starts = rng.integers(0, 300, clips)
    splits = np.where(rng.random(clips) < TEST_SHARE, "test", "train")
    kinds = kind_schedule(clips, rng)
    entries, rows, records = [], [], []
    for index in range(clips):
        clip_rng = np.random.default_rng(clip_seeds[index])
        n_frames = max(1, round(clip_rng.uniform(min_duration, max_duration) * FPS))
        clip = make_clip(clip_rng, kinds[index], n_frames, size, video=video)
        key = clip_key(ids[index], int(starts[index]))
        if clip.frames is not None:
            write_clip(out / "clips" / f"{key}.mp4", clip.frames, FPS, clip.audio, SAMPLE_RATE)
        duration = n_frames / FPS
        entries.append({"file": key, "label": clip.label, "category": clip.kind, "duration": duration,
                        "fps": FPS, "sample_rate": SAMPLE_RATE, "events": _seconds(clip.events),
                        "speech": clip.speech})
        rows.append((ids[index], int(starts[index]), clip.label, str(splits[index])))
        records.append({"key": key, "category": clip.kind, "variant": clip.variant, "label": clip.label,
                        "split": str(splits[index]), "duration": duration, "n_frames": n_frames,
                        "visible": clip.visible, "audio_onsets": _seconds(clip.audio_onsets),
                        "visual_events": _seconds(clip.visual_events), "source_box": clip.source_box})
    write_json(out / "sync.json", entries)
    write_labels_csv(out / "labels.csv", rows)
    settings = {"clips": clips, "min_duration": min_duration, "max_duration": max_duration, "size": size,
                "fps": FPS, "sample_rate": SAMPLE_RATE, "kind_shares": KIND_SHARES, "video": video}
    write_json(out / "meta.json", {"generator": "sync", "seed": seed, "settings": settings,
                                   "clips": records})
    return out
