"""Does a localizer use the audio? S_{i->j} of a clip's own audio against other clips' audio
(same sounding category or not), and how alike the audio embeddings are.

Usage: python bench/localizer/audio_use.py --data DIR --checkpoint CKPT [CKPT ...] [--clips 128] [--out JSON]
DIR is a generator folder (its meta.json names each clip's sounding category).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from core.localizer.dataset import ClipSet, grid_mask, load_clip_set
from core.localizer.network import similarity_maps
from training.localizer.predict import load_predictor


def encoded_clips(checkpoint: str, data: Path, clips: int) -> tuple[ClipSet, torch.Tensor, torch.Tensor]:
    """(the first `clips` boxed clips of data, their visual maps V, their audio vectors A) under a checkpoint."""
    predictor = load_predictor(checkpoint, "cpu")
    clip_set = load_clip_set(data, predictor.config.network.image_size, predictor.config.audio,
                             require_boxes=True, limit=clips)
    with torch.inference_mode():
        images = torch.from_numpy(clip_set.images).permute(0, 3, 1, 2).float() / 255.0
        visual, audio = predictor.model.encode(images, torch.from_numpy(clip_set.waveforms))
    return clip_set, visual, audio


def audio_use(checkpoint: str, data: Path, clips: int) -> dict:
    """Mean S over image j's sounding object and over its whole map, and the peak of S, for own
    pairs (i = j), other clips of the same category and other categories; audio-audio cosines."""
    clip_set, visual, audio = encoded_clips(checkpoint, data, clips)
    sounding = {c["key"]: c["sounding_category"] for c in json.loads((data / "meta.json").read_text())["clips"]}
    category = np.array([sounding[key] for key in clip_set.keys])
    with torch.inference_mode():
        maps = similarity_maps(audio, visual).numpy()  # (audio i, image j, h, w)
        unit = F.normalize(audio, dim=1)
        cosine = (unit @ unit.T).numpy()
    truth = np.stack([grid_mask(boxes[0], maps.shape[-1]) for boxes in clip_set.annotations])
    on_object = (maps * truth[None]).sum((2, 3)) / truth.sum((1, 2))[None]
    same = category[:, None] == category[None, :]
    own = np.eye(len(category), dtype=bool)
    pairs = {"own": own, "same_category": same & ~own, "other_category": ~same}
    result = {name: {"s_on_object": float(on_object[m].mean()), "s_whole_map": float(maps.mean((2, 3))[m].mean()),
                     "s_peak": float(maps.max((2, 3))[m].mean())} for name, m in pairs.items()}
    result["audio_cosine"] = {"same_category": float(cosine[same & ~own].mean()),
                              "other_category": float(cosine[~same].mean())}
    result["clips"] = len(category)
    return result


def report_per_checkpoint(measure: Callable[[str, Path, int], dict], description: str, clips: int) -> None:
    """Command line `--data DIR --checkpoint CKPT [CKPT ...] [--clips N] [--out JSON]`: measure each
    checkpoint, print the JSON and write it to --out."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--checkpoint", nargs="+", required=True)
    parser.add_argument("--clips", type=int, default=clips)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = {c: measure(c, args.data, args.clips) for c in args.checkpoint}
    text = json.dumps(results, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    report_per_checkpoint(audio_use, __doc__.splitlines()[0], clips=128)
