"""The localisation and synchronisation clip generators: files, layouts, determinism and AV timing."""

from __future__ import annotations

import csv
import json
import string
from collections import Counter
from pathlib import Path

import av
import numpy as np
import pytest

from core.media import probe
from core.synthetic import shapes
from core.synthetic.__main__ import main
from core.synthetic.localization import generate_localization
from core.vggsound import parse_clip_key
from core.synthetic.sync import generate_sync

FRAME = 1 / 25
ID_CHARS = set(string.ascii_letters + string.digits + "_-")


def decode_frames(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def decode_audio(path: Path) -> np.ndarray:
    """The clip's audio as 16 kHz mono float32, sample 0 at time 0."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
    chunks = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks)


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def loc(tmp_path_factory) -> Path:
    return generate_localization(clips=4, seed=11, out=tmp_path_factory.mktemp("loc"), duration=2.0,
                                 size=160, label_noise=0.5)


@pytest.fixture(scope="module")
def sync(tmp_path_factory) -> Path:
    return generate_sync(clips=6, seed=5, out=tmp_path_factory.mktemp("sync"), min_duration=2.0,
                         max_duration=3.0, size=112)


# ---- determinism ----


def test_same_seed_gives_identical_files_and_frames(tmp_path):
    first = generate_localization(clips=2, seed=3, out=tmp_path / "a", duration=1.0, size=96)
    second = generate_localization(clips=2, seed=3, out=tmp_path / "b", duration=1.0, size=96)
    for name in ("vggss.json", "labels.csv", "meta.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    key = load(first / "vggss.json")[0]["file"]
    assert np.array_equal(decode_frames(first / "clips" / f"{key}.mp4"),
                          decode_frames(second / "clips" / f"{key}.mp4"))
    sync_a = generate_sync(clips=2, seed=3, out=tmp_path / "sa", min_duration=1.0, max_duration=1.5)
    sync_b = generate_sync(clips=2, seed=3, out=tmp_path / "sb", min_duration=1.0, max_duration=1.5)
    for name in ("sync.json", "labels.csv", "meta.json"):
        assert (sync_a / name).read_bytes() == (sync_b / name).read_bytes()
    key = load(sync_a / "sync.json")[0]["file"]
    assert np.array_equal(decode_frames(sync_a / "clips" / f"{key}.mp4"),
                          decode_frames(sync_b / "clips" / f"{key}.mp4"))


def test_different_seeds_differ(tmp_path):
    a = generate_localization(clips=2, seed=1, out=tmp_path / "a", duration=1.0, size=96)
    b = generate_localization(clips=2, seed=2, out=tmp_path / "b", duration=1.0, size=96)
    assert (a / "vggss.json").read_bytes() != (b / "vggss.json").read_bytes()
    assert (a / "labels.csv").read_bytes() != (b / "labels.csv").read_bytes()
    frames_a = decode_frames(next((a / "clips").glob("*.mp4")))
    frames_b = decode_frames(next((b / "clips").glob("*.mp4")))
    assert not np.array_equal(frames_a, frames_b)
    sa = generate_sync(clips=3, seed=1, out=tmp_path / "sa", video=False)
    sb = generate_sync(clips=3, seed=2, out=tmp_path / "sb", video=False)
    assert (sa / "sync.json").read_bytes() != (sb / "sync.json").read_bytes()


# ---- localisation ----


def test_localization_clips_probe_right(loc):
    entries = load(loc / "vggss.json")
    assert len(entries) == 4
    for entry in entries:
        info = probe(loc / "clips" / f"{entry['file']}.mp4")
        assert info.has_video and info.has_audio
        assert info.fps == 25 and info.sample_rate == 16000
        assert (info.width, info.height) == (160, 160)
        assert abs(info.duration - 2.0) <= FRAME


def test_keys_follow_vggsound_naming(loc):
    meta = load(loc / "meta.json")
    for record in meta["clips"]:
        youtube_id, start = parse_clip_key(record["key"])
        assert len(youtube_id) == 11 and set(youtube_id) <= ID_CHARS
        assert record["key"] == f"{youtube_id}_{start:06d}"
    first_id = parse_clip_key(meta["clips"][0]["key"])[0]
    assert "_" in first_id and "-" in first_id  # parsers meet an id with both


def test_labels_csv_has_four_columns_no_header_and_the_noisy_share(loc):
    rows = read_csv(loc / "labels.csv")
    meta = load(loc / "meta.json")["clips"]
    assert len(rows) == 4 and all(len(row) == 4 for row in rows)
    assert all(row[1].isdigit() and row[3] in ("train", "test") for row in rows)
    assert all(row[2] in shapes.LABELS.values() for row in rows)
    for row, record in zip(rows, meta):
        assert f"{row[0]}_{int(row[1]):06d}" == record["key"]
        assert row[2] == record["listed_label"]
    assert sum(r["listed_label"] != r["true_label"] for r in meta) == 2
    vggss = {e["file"]: e["class"] for e in load(loc / "vggss.json")}
    assert all(vggss[r["key"]] == r["true_label"] for r in meta)


def _near_colour_share(pixels: np.ndarray, category: str) -> float:
    """Share of pixels near the category's colour (or a flashed, whitened version of it)."""
    colour = np.asarray(shapes.CATEGORIES[category].colour, dtype=np.float64)
    flash = 0.5 if category in shapes.FLASHING else 0.0
    whitened = colour + np.linspace(0, flash, 6)[:, None] * (255 - colour)
    distance = np.linalg.norm(pixels[:, None, :].astype(np.float64) - whitened[None], axis=2).min(axis=1)
    return float(np.mean(distance < 60))


def test_vggss_box_holds_the_sounding_object_on_the_centre_frame(loc):
    entries = load(loc / "vggss.json")
    meta = {r["key"]: r for r in load(loc / "meta.json")["clips"]}
    for entry in entries:
        record = meta[entry["file"]]
        sounding = [obj for obj in record["objects"] if obj["sounding"]]
        assert [obj["bbox"] for obj in sounding] == entry["bbox"] and 1 <= len(sounding) <= 3
        assert entry["class"] == shapes.LABELS[record["sounding_category"]]
        frame = decode_frames(loc / "clips" / f"{entry['file']}.mp4")[record["centre_frame"]]
        size = frame.shape[0]
        outside = np.ones(frame.shape[:2], dtype=bool)
        for obj in record["objects"]:
            ox1, oy1, ox2, oy2 = obj["bbox_px"]
            outside[oy1:oy2, ox1:ox2] = False
        category = record["sounding_category"]
        share_out = _near_colour_share(frame[outside], category)
        for x1, y1, x2, y2 in entry["bbox"]:
            assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1
            inside = frame[round(y1 * size) : round(y2 * size), round(x1 * size) : round(x2 * size)]
            share_in = _near_colour_share(inside.reshape(-1, 3), category)
            assert share_in > 0.25 and share_in > share_out + 0.2, (category, share_in, share_out)


def test_sounding_objects_cover_the_frame_as_vggss_boxes_do(tmp_path):
    """Real VGG-SS: the union of a clip's boxes covers a median 25 % of the frame (quartiles 12 % and
    46 %), 10 % of clips have several boxes; silent objects of other classes stay beside them."""
    out = generate_localization(clips=150, seed=4, out=tmp_path, duration=1.0, size=224, video=False)
    entries, meta = load(out / "vggss.json"), load(out / "meta.json")["clips"]
    shares = []
    for entry in entries:
        mask = np.zeros((224, 224), dtype=bool)
        for x1, y1, x2, y2 in entry["bbox"]:
            mask[int(y1 * 224):int(y2 * 224), int(x1 * 224):int(x2 * 224)] = True
        shares.append(mask.mean())
    low, median, high = np.percentile(shares, [25, 50, 75])
    assert 0.07 < low < 0.18 and 0.18 < median < 0.32 and 0.32 < high < 0.55, (low, median, high)
    assert 0.03 < np.mean([len(e["bbox"]) > 1 for e in entries]) < 0.25
    silent = [sum(not o["sounding"] for o in record["objects"]) for record in meta]
    assert np.mean(np.array(silent) > 0) > 0.8
    for record in meta:
        kinds = {o["category"] for o in record["objects"] if not o["sounding"]}
        assert record["sounding_category"] not in kinds


# ---- synchronisation ----


def test_sync_clips_probe_right(sync):
    entries = load(sync / "sync.json")
    for entry in entries:
        info = probe(sync / "clips" / f"{entry['file']}.mp4")
        assert info.has_video and info.has_audio
        assert info.fps == 25 and info.sample_rate == 16000
        assert (info.width, info.height) == (112, 112)
        assert 2.0 - FRAME <= entry["duration"] <= 3.0 + FRAME
        assert abs(info.duration - entry["duration"]) <= FRAME
        assert set(entry) == {"file", "label", "category", "duration", "fps", "sample_rate", "events",
                              "speech"}
    rows = read_csv(sync / "labels.csv")
    assert len(rows) == len(entries) and all(len(row) == 4 for row in rows)
    assert [f"{r[0]}_{int(r[1]):06d}" for r in rows] == [e["file"] for e in entries]


def _audio_onset(audio: np.ndarray, around: float, reach: float = 0.08) -> float:
    """Time of the steepest rise of log energy (5 ms windows) within `reach` seconds of `around`."""
    hop = 80
    energy = np.log(np.mean(audio[: len(audio) // hop * hop].reshape(-1, hop) ** 2, axis=1) + 1e-9)
    rise = np.zeros_like(energy)
    rise[1:-2] = energy[3:] - energy[:-3]  # over 15 ms: robust to noise inside one window
    lo, hi = int((around - reach) * 200), int((around + reach) * 200)
    lo, hi = max(lo, 1), min(hi, len(rise) - 2)
    return (lo + int(np.argmax(rise[lo:hi])) + 1) / 200


def _evident(sync: Path) -> list[dict]:
    entries = [e for e in load(sync / "sync.json") if e["category"] == "evident"]
    assert entries, "the fixture seed must give evident clips"
    return entries


def test_sync_audio_onsets_match_event_times(sync):
    for entry in _evident(sync):
        audio = decode_audio(sync / "clips" / f"{entry['file']}.mp4")
        for event in entry["events"]:
            assert abs(event * 25 - round(event * 25)) < 1e-6  # on a frame boundary
            assert abs(_audio_onset(audio, event) - event) <= FRAME, (entry["label"], event)


def test_sync_source_changes_at_its_events_while_a_distractor_jumps_at_other_times(sync):
    meta = {r["key"]: r for r in load(sync / "meta.json")["clips"]}
    for entry in _evident(sync):
        frames = decode_frames(sync / "clips" / f"{entry['file']}.mp4").astype(np.float32)
        left, top, width, height = meta[entry["file"]]["source_box"]
        region = frames[:, max(top - 8, 0): top + height + 4, max(left - 4, 0): left + width + 4]
        change = np.zeros(len(frames))
        change[1:] = np.abs(np.diff(region, axis=0)).mean(axis=(1, 2, 3))
        at_events = np.zeros(len(frames), dtype=bool)
        at_events[[round(e * 25) for e in entry["events"]]] = True
        at_events[0] = False
        assert change[at_events].mean() > 1.5 * np.median(change[1:][~at_events[1:]]), entry["label"]
        # the silent distractor moves at times of its own: seen events that are not heard
        unheard = set(meta[entry["file"]]["visual_events"]) - set(entry["events"])
        assert unheard, entry["label"]


def test_sync_kind_shares_and_event_facts(tmp_path):
    out = generate_sync(clips=50, seed=9, out=tmp_path, video=False)
    entries = load(out / "sync.json")
    counts = Counter(e["category"] for e in entries)
    assert counts == {"evident": 30, "uniform_ambient": 15, "no_source": 5}
    assert not any((tmp_path / "clips").iterdir())
    for entry in entries:
        assert entry["fps"] == 25 and entry["sample_rate"] == 16000
        assert 2.0 - FRAME <= entry["duration"] <= 6.0 + FRAME
        assert entry["speech"] == (entry["label"] == shapes.LABELS["person"])
        if entry["category"] == "evident":
            events = np.array(entry["events"])
            assert 0 < events.min() and events.max() < entry["duration"]
            assert np.all(np.diff(events) >= 0.16 - 1e-9)
            assert len(events) / entry["duration"] <= 3.6
        else:
            assert entry["events"] == []
    evident = [e for e in entries if e["category"] == "evident"]
    rate = sum(len(e["events"]) for e in evident) / sum(e["duration"] for e in evident)
    assert 1.0 <= rate <= 3.0
    gaps = np.concatenate([np.diff(e["events"]) for e in entries if len(e["events"]) > 2])
    assert gaps.std() / gaps.mean() > 0.3  # irregular, so sync is not ambiguous


def test_label_noise_share_without_video(tmp_path):
    out = generate_localization(clips=20, seed=4, out=tmp_path, label_noise=0.25, video=False)
    meta = load(out / "meta.json")["clips"]
    assert sum(r["label_is_noisy"] for r in meta) == 5
    for record in meta:
        sounding = [o["category"] for o in record["objects"] if o["sounding"]]
        silent = [o["category"] for o in record["objects"] if not o["sounding"]]
        assert 1 <= len(sounding) <= 3 and set(sounding) == {record["sounding_category"]}
        assert len(silent) <= 3 and len(set(silent)) == len(silent)  # silent: other classes, once each
    splits = Counter(r[3] for r in read_csv(out / "labels.csv"))
    assert splits["train"] > splits["test"] > 0


# ---- command line ----


def test_cli_writes_both_sets(tmp_path, capsys):
    assert main(["localization", "--clips", "1", "--duration", "1", "--size", "64", "--seed", "2",
                 "--out", str(tmp_path / "loc")]) == 0
    assert main(["sync", "--clips", "1", "--min-duration", "1", "--max-duration", "1.2", "--seed", "2",
                 "--out", str(tmp_path / "sync")]) == 0
    assert len(list((tmp_path / "loc" / "clips").glob("*.mp4"))) == 1
    assert len(list((tmp_path / "sync" / "clips").glob("*.mp4"))) == 1
    assert str(tmp_path / "sync") in capsys.readouterr().out
