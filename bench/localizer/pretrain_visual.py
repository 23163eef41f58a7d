"""Supervised pre-training of the localizer's visual stream on generated frames: the synthetic
stand-in for the ImageNet initialisation of 5.5.3. The task is multi-label classification of the
object categories visible in a frame (no boxes, no sound); the trunk is saved in the state-dict
layout that `python -m training train localizer --visual-weights W` loads.

Usage: python bench/localizer/pretrain_visual.py --frames 8000 --seed 41 --epochs 6 --out W.pth [--config tiny]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.localizer.builder import named_config
from core.localizer.encoders import VisualEncoder
from core.synthetic import shapes
from core.synthetic.localization import FPS, make_clip

CATEGORIES = list(shapes.CATEGORIES)
RENDER_SIZE = 224  # frames are drawn as the localisation clips are, then resized like their decoding


def generated_frames(count: int, seed: int, image_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(frames (n, 3, S, S) in [0, 1], multi-hot labels (n, categories)) of single generated frames."""
    rng = np.random.default_rng(seed)
    frames, labels = [], torch.zeros(count, len(CATEGORIES))
    for i in range(count):
        clip = make_clip(rng, 1 / FPS, RENDER_SIZE)
        frames.append(torch.from_numpy(clip.frames[clip.centre_frame]))
        labels[i, [CATEGORIES.index(c) for c in set(clip.categories)]] = 1
    images = torch.stack(frames).permute(0, 3, 1, 2).float() / 255.0
    return F.interpolate(images, size=image_size, mode="bilinear", antialias=True).clamp(0, 1), labels


class FrameClassifier(nn.Module):
    """The localizer's visual encoder, average-pooled, and a linear multi-label head."""

    def __init__(self, encoder: VisualEncoder, channels: int):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(channels, len(CATEGORIES))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(images).mean(dim=(2, 3)))


def label_accuracy(model: FrameClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of (frame, category) decisions right at logit 0."""
    model.eval()
    with torch.inference_mode():
        logits = torch.cat([model(images[i:i + 128]) for i in range(0, len(images), 128)])
    model.train()
    return float(((logits > 0).float() == labels).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=41)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--config", default="tiny")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    network = named_config(args.config).network
    images, labels = generated_frames(args.frames, args.seed, network.image_size)
    held_images, held_labels = generated_frames(500, args.seed + 1, network.image_size)
    model = FrameClassifier(VisualEncoder(network), network.base_width * 8)
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    losses, start = [], time.perf_counter()
    for _ in range(args.epochs):
        for batch in torch.randperm(len(images)).split(args.batch_size):
            loss = F.binary_cross_entropy_with_logits(model(images[batch]), labels[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
    torch.save(model.encoder.trunk.state_dict(), args.out)
    print(json.dumps({"out": str(args.out), "frames": args.frames, "seed": args.seed, "epochs": args.epochs,
                      "first_loss": losses[0], "final_loss": float(np.mean(losses[-20:])),
                      "held_out_label_accuracy": label_accuracy(model, held_images, held_labels),
                      "majority_label_accuracy": float(torch.maximum(held_labels.mean(0), 1 - held_labels.mean(0)).mean()),
                      "seconds": round(time.perf_counter() - start, 1)}))


if __name__ == "__main__":
    main()
