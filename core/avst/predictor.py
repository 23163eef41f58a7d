"""AVST on files: offset scores, best offset, score along the clip (Fig. 6.7) and dec attention (Fig. 6.4)."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.avst.audio import LogSpectrogram
from core.avst.builder import load_avst, read_checkpoint
from core.avst.config import INPUT_STRIDE, MAX_FRAMES, MAX_OFFSET, MIN_FRAMES, SPEC_PER_FRAME, VIDEO_FPS, AVSTConfig
from core.avst.dataset import (ClipArrays, SyncEntry, inner_length, load_clip, max_length, offset_span,
                               visual_window)
from core.avst.evaluation import OFFSETS, is_correct
from core.avst.selfcheck import SHIFTS, SyncSelfCheck, summarise
from core.checkpoints import checkpoint_version
from core.devices import resolve_device

CURVE_WINDOW = 10  # input frames (2 s) per point of the score curve, moved 1 input frame at a time


@dataclass
class SyncPrediction:
    """What the model says about one clip."""

    offset_frames: int
    scores: dict[int, float]
    # [seconds at the window centre, probability of the best offset there]: 2 s windows along a clip of one
    # scoring window, or one point per scoring window of a longer clip
    curve: list[list[float]]
    uncertainty: float  # 1 - (p_best - p_second) over offsets
    attention: np.ndarray | None = None  # dec only: (T, h, w) attention of [CLS] over the frame


class AVSTPredictor:
    """Owns preprocessing, eval mode and device for a trained AVST network."""

    def __init__(self, model: torch.nn.Module, config: AVSTConfig, model_version: str = "",
                 device: str | torch.device | None = None) -> None:
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.config = config
        self.model_version = model_version
        self.spectrogram = LogSpectrogram(config.n_mels)

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device | None = None) -> "AVSTPredictor":
        """Load weights + config JSON (core/checkpoints.py layout)."""
        state, config = read_checkpoint(path)
        return cls(load_avst(state, config), config, checkpoint_version(path), device)

    def _autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()

    def load(self, path: str | Path) -> ClipArrays:
        """Decode any mp4/mkv/webm with audio at 25 fps / 16 kHz."""
        return load_clip(SyncEntry(key=Path(path).stem, path=Path(path)), self.config.image_size,
                         self.spectrogram)

    # ---- features ----

    def _features(self, clip: ClipArrays, start: int, length: int,
                  centre: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """Visual features (1, c, T, h, w) and audio features for offsets centre-15..centre+15 (31, c, T)."""
        if not (MIN_FRAMES <= length <= self.config.max_frames and 0 <= start
                and start + INPUT_STRIDE * length <= clip.n_frames):
            raise ValueError(f"{clip.entry.path}: no window of {length} input frames from frame {start} "
                             f"in {clip.n_frames} frames (need {MIN_FRAMES}..{self.config.max_frames})")
        # inputs are padded to the longest window so that every clip runs the convolutions at one shape
        # (new shapes cost CPU backends a slow first call); padded frames are zeros, as the 3D
        # convolution's own padding, so the valid frames' features are unchanged
        full = self.config.max_frames
        frames = torch.zeros(1, 3, full, self.config.image_size, self.config.image_size)
        frames[0, :, :length] = visual_window(clip, start, length)
        span = offset_span(clip, start, length, centre)
        padded = torch.zeros(1, span.shape[0], (full + 2 * MAX_OFFSET // INPUT_STRIDE) * INPUT_STRIDE * SPEC_PER_FRAME)
        padded[0, :, : span.shape[1]] = span
        visual = self.model.visual(frames.to(self.device))[:, :, :length]
        return visual, self.model.shifted_audio(padded.to(self.device), length, len(OFFSETS))

    def _scores(self, v: torch.Tensor, a: torch.Tensor, want_attention: bool = False):
        """fuse() of visual features (1 or N, ...) with N audio features of the same length."""
        t = torch.full((len(a),), v.shape[2], device=self.device)
        vis, vis_pad = self.model.embed_visual(v.expand(len(a), -1, -1, -1, -1) if len(v) == 1 else v, t)
        aud, aud_pad = self.model.embed_audio(a, t)
        return self.model.fuse(vis, vis_pad, aud, aud_pad, want_attention)

    @torch.no_grad()
    def offset_scores(self, clip: ClipArrays, start: int, length: int) -> np.ndarray:
        """Scores (31,) for offsets -15..15 of `length` input frames from 25 fps frame `start`."""
        with self._autocast():
            v, a = self._features(clip, start, length)
            return self._scores(v, a)[0].float().cpu().numpy()

    # ---- whole clips ----

    @torch.no_grad()
    def predict_clip(self, clip: ClipArrays, curve: bool = True) -> SyncPrediction:
        """Scores over the whole clip (windows of at most 30 frames averaged), best offset, curve, attention.

        Windows keep 15 frames free at both ends, so that every offset is scored on audio from the clip;
        clips under 2.2 s are scored on one window with silence beyond their ends. Windows are scored one
        at a time, keeping only their 31 scores and the first window's features (for the attention and
        the fine curve), so a long clip costs no more memory than its decoded arrays.

        The curve (Fig. 6.7): for a clip of one window, the best offset's probability in 2 s windows
        sliding along it; for a longer clip, one point per window, so that it spans the whole clip.
        """
        inner = inner_length(clip) >= MIN_FRAMES
        length = inner_length(clip) if inner else max_length(clip)
        first = MAX_OFFSET if inner else 0
        last = clip.n_frames - INPUT_STRIDE * length - first
        step = INPUT_STRIDE * MAX_FRAMES // 2
        # one centred window up to 9 s, else windows every 3 s and one that ends with the inner span
        starts = [(first + last) // 2] if last - first < step else \
            sorted(set(range(first, last + 1, step)) | {last})
        with self._autocast():
            first_features, window_logits = None, []
            for start in starts:
                features = self._features(clip, start, length)
                window_logits.append(self._scores(*features)[0].float())
                if first_features is None:
                    first_features = features
            per_window = torch.stack(window_logits)  # (windows, 31)
            logits = per_window.mean(0)
            best = int(torch.argmax(logits))
            attention = None
            if self.config.variant == "dec":
                v, a = first_features
                weights = self._scores(v, a[best: best + 1], want_attention=True)[1]
                grid = self.config.grid
                attention = weights.float().reshape(-1, grid, grid).cpu().numpy()
            points = []
            if curve and len(starts) == 1:
                points = self._curve(first_features, starts[0], best)
            elif curve:
                shares = torch.softmax(per_window, 1)[:, best].cpu().numpy()
                points = [[round((start + INPUT_STRIDE * length / 2) / VIDEO_FPS, 3), float(p)]
                          for start, p in zip(starts, shares)]
        probabilities = torch.softmax(logits, 0).cpu().numpy()
        top = np.sort(probabilities)[::-1]
        return SyncPrediction(offset_frames=int(OFFSETS[best]),
                              scores={int(o): float(s) for o, s in zip(OFFSETS, logits.cpu().numpy())},
                              curve=points, uncertainty=float(1 - (top[0] - top[1])), attention=attention)

    def predict_file(self, path: str | Path, curve: bool = True) -> SyncPrediction:
        """predict_clip on a media file."""
        return self.predict_clip(self.load(path), curve)

    @torch.no_grad()
    def shift_trials(self, clip: ClipArrays, speech: bool = False, shifts: tuple[int, ...] = SHIFTS) -> list[dict]:
        """The clip scored as if its audio were moved by each shift (selfcheck.py): one row per shift that fits,
        {"shift", "uncertainty", "recovered"} (best offset within the 6.4.2 tolerance of the known one)."""
        rows = []
        for shift in shifts:
            free = MAX_OFFSET + abs(shift)  # every scored offset's audio inside the clip
            length = min(self.config.max_frames, (clip.n_frames - 2 * free) // INPUT_STRIDE)
            if length < MIN_FRAMES:
                continue
            start = (clip.n_frames - INPUT_STRIDE * length) // 2
            with self._autocast():
                logits = self._scores(*self._features(clip, start, length, centre=shift))[0].float()
            probabilities = np.sort(torch.softmax(logits, 0).cpu().numpy())[::-1]
            best = int(OFFSETS[int(torch.argmax(logits))]) + shift  # the audio offset the model finds
            rows.append({"shift": shift, "uncertainty": float(1 - (probabilities[0] - probabilities[1])),
                         "recovered": bool(is_correct(best, 0, speech))})
        return rows

    def self_check(self, clips: list[ClipArrays], speech: list[bool] | None = None) -> SyncSelfCheck:
        """Known shifts of clips taken to be in sync, recovered or not, and the confidence threshold from them."""
        rows = []
        for n, clip in enumerate(clips):
            trials = self.shift_trials(clip, bool(speech[n]) if speech else False)
            if trials:
                rows.append({"clip": clip.entry.key, "uncertainty": self.predict_clip(clip, curve=False).uncertainty,
                             "recovered": all(t["recovered"] for t in trials), "shifts": len(trials)})
        return summarise(rows)

    def _curve(self, features: tuple[torch.Tensor, torch.Tensor], start: int, best: int) -> list[list[float]]:
        """Probability of the best offset in sliding windows along the first 30-frame span (Fig. 6.7)."""
        v, a = features
        total = v.shape[2]
        window = min(CURVE_WINDOW, total)
        firsts = range(0, total - window + 1)
        # every window against every offset in one batch: (windows * 31) pairs
        vis = torch.cat([v[:, :, f: f + window].expand(len(a), -1, -1, -1, -1) for f in firsts])
        aud = torch.cat([a[:, :, f: f + window] for f in firsts])
        logits = self._scores(vis, aud)[0].float().reshape(len(firsts), len(a))
        best_share = torch.softmax(logits, 1)[:, best].cpu().numpy()
        return [[round((start + INPUT_STRIDE * (f + window / 2)) / VIDEO_FPS, 3), float(p)]
                for f, p in zip(firsts, best_share)]
