"""InfoNCE over a batch of audio-visual pairs (6.3.2)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def info_nce(scores: torch.Tensor) -> torch.Tensor:
    """-1/k sum_i log(exp(s_ii) / sum_j exp(s_ij)) for a (k, k) score matrix s_ij = h(v_i, a_j)."""
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1]:
        raise ValueError(f"InfoNCE needs a square score matrix, got {tuple(scores.shape)}")
    return F.cross_entropy(scores, torch.arange(scores.shape[0], device=scores.device))


def offset_info_nce(scores: torch.Tensor, positive: int) -> torch.Tensor:
    """The same InfoNCE for (k, m) scores of k visual inputs against m shifts of their own audio, the aligned shift at column `positive`."""
    if scores.ndim != 2 or not 0 <= positive < scores.shape[1]:
        raise ValueError(f"need (k, m) scores with the positive column {positive} inside, got {tuple(scores.shape)}")
    return F.cross_entropy(scores, torch.full((scores.shape[0],), positive, device=scores.device))
