"""InfoNCE over a batch of audio-visual pairs (6.3.2)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def info_nce(scores: torch.Tensor) -> torch.Tensor:
    """-1/k sum_i log(exp(s_ii) / sum_j exp(s_ij)) for a (k, k) score matrix s_ij = h(v_i, a_j)."""
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1]:
        raise ValueError(f"InfoNCE needs a square score matrix, got {tuple(scores.shape)}")
    return F.cross_entropy(scores, torch.arange(scores.shape[0], device=scores.device))
