"""Training objectives: J_s (eq. 3.2), J_c (eq. 3.3) and the gating of eq. 3.5."""

from __future__ import annotations

import torch

from core.autocorrect.se2 import invert_batch, warp


def self_supervised_loss(t: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Per-sample J_s = ||g^-1 - t||_F^2 for (B, 3, 3) predicted t and perturbations g."""  # eq. 3.2
    return ((invert_batch(g) - t) ** 2).flatten(1).sum(1)


def consistency_loss(t1: torch.Tensor, g1: torch.Tensor, t2: torch.Tensor, g2: torch.Tensor) -> torch.Tensor:
    """Per-sample J_c = ||t1 g1 - t2 g2||_F^2, composing the matrices."""  # eq. 3.3
    return ((t1 @ g1 - t2 @ g2) ** 2).flatten(1).sum(1)


def binary_iou(a: torch.Tensor, b: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Per-sample IoU of (B, 1, H, W) masks binarised at `threshold`."""
    a, b = a > threshold, b > threshold
    inter = (a & b).flatten(1).sum(1).float()
    union = (a | b).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union))


def gate(label_masks: torch.Tensor, t1: torch.Tensor, g1: torch.Tensor, t2: torch.Tensor,
         g2: torch.Tensor, threshold: float = 0.2) -> tuple[torch.Tensor, torch.Tensor]:
    """(alpha_s, alpha_c) per sample: J_c only where a corrected label strays far from y."""  # eq. 3.5
    with torch.no_grad():
        iou1 = binary_iou(warp(label_masks, t1 @ g1), label_masks)
        iou2 = binary_iou(warp(label_masks, t2 @ g2), label_masks)
        noisy = torch.minimum(iou1, iou2) < threshold
    return (~noisy).float(), noisy.float()


def joint_loss(t1: torch.Tensor, g1: torch.Tensor, t2: torch.Tensor, g2: torch.Tensor,
               label_masks: torch.Tensor | None) -> torch.Tensor:
    """Mean J = alpha_s J_s + alpha_c J_c; alpha = 1 while `label_masks` is None (early training)."""
    j_s = 0.5 * (self_supervised_loss(t1, g1) + self_supervised_loss(t2, g2))
    j_c = consistency_loss(t1, g1, t2, g2)
    if label_masks is None:
        return (j_s + j_c).mean()
    alpha_s, alpha_c = gate(label_masks, t1, g1, t2, g2)
    return (alpha_s * j_s + alpha_c * j_c).mean()
