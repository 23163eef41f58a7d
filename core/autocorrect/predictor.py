"""AutoCorrectPredictor: tiles and shapes in, per-instance corrections out (eval mode, device, dtype)."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

from core.autocorrect.builder import load_autocorrect, read_checkpoint
from core.autocorrect.config import AutoCorrectConfig
from core.autocorrect.memory_map import TileInput, TileResult, correct_sequentially
from core.autocorrect.network import AutoCorrectNet
from core.autocorrect.selfcheck import Calibration, SelfCheck, mean_error, self_check
from core.checkpoints import checkpoint_version
from core.devices import resolve_device


class AutoCorrectPredictor:
    """Runs a trained network over tiles, sequentially with the memory map, batched across tiles."""

    def __init__(self, model: AutoCorrectNet, config: AutoCorrectConfig, model_version: str = "",
                 device: str | torch.device | None = None, max_batch: int = 256) -> None:
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.config, self.model_version, self.max_batch = config, model_version, max_batch

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device | None = None) -> "AutoCorrectPredictor":
        """Load weights (weights_only) and the config JSON beside them."""
        state, config = read_checkpoint(path)
        return cls(load_autocorrect(state, config), config, checkpoint_version(path), device)

    def max_shift(self, tile_size: int) -> float:
        """Perturbation bound for a tile of `tile_size` px (25 px at 640, scaled)."""
        return self.config.max_shift(tile_size)

    def bound_px(self, tile_size: int, raster_gsd_m: float | None = None, max_shift_m: float | None = None) -> float:
        """The largest correction in model px: a bound in metres (the project's, else the card's) at the
        model's GSD, else the card's per-tile-size bound (generated tiles, capped at the 640 px one)."""
        px = self.config.bound_px(max_shift_m, raster_gsd_m)
        return px if px is not None else min(self.max_shift(tile_size), self.max_shift(640))

    @torch.no_grad()
    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if self.device.type == "cuda" else nullcontext()
        outs = []
        with autocast:
            for chunk in x.split(self.max_batch):
                outs.append(self.model(chunk.to(self.device, non_blocking=True)).float().cpu())
        return torch.cat(outs)

    def correct(self, tiles: list[TileInput], uncertainty: bool = True, seed: int = 0,
                passes: int | None = None, max_shift_px: float | None = None) -> list[TileResult]:
        """Pixel-space corrections (and, with `uncertainty`, the two-probe disagreement) per instance.

        The probes move each label by up to half the bound `max_shift_px` (default: the card's bound
        for the tile size). `passes` (default: the config's) > 1 re-applies Phi to its own output
        (iterative error feedback).
        """
        if max_shift_px is None:
            max_shift_px = self.bound_px(max(max(t.image.size) for t in tiles) if tiles else 0)
        return correct_sequentially(self._forward, tiles, self.config.window, self.config.memory_map,
                                    probes=0.5 * max_shift_px if uncertainty else 0.0,
                                    max_rot=np.radians(self.config.max_rot_deg) / 2,
                                    seed=seed, passes=passes or self.config.passes)

    def self_check(self, tiles: list[TileInput], max_shift_px: float, rounds: int = 1, seed: int = 0) -> SelfCheck:
        """Perturb the tiles' own labels within the bound, correct them, calibrate confidence (selfcheck.py)."""
        return self_check(lambda t, uncertainty: self.correct(t, uncertainty, seed, max_shift_px=max_shift_px),
                          tiles, max_shift_px, self.config.max_rot_deg, rounds, seed)

    def propose(self, tiles: list[TileInput], calibration: Calibration, seed: int = 0) -> list[TileResult]:
        """Corrections flagged confident or not by the calibration; an unsure instance keeps its label
        (the identity), in the memory map as well, and its model correction is kept in `raw`."""
        def accept(shape, matrix: np.ndarray, uncertainty: float | None) -> bool:
            return calibration.confident(uncertainty, mean_error(shape.moved(matrix), shape))

        return correct_sequentially(self._forward, tiles, self.config.window, self.config.memory_map,
                                    probes=0.5 * calibration.max_shift_px,
                                    max_rot=np.radians(self.config.max_rot_deg) / 2, seed=seed,
                                    passes=self.config.passes, accept=accept)
