"""Training objectives: J_s (eq. 3.2), J_c (eq. 3.3) and the gating of eq. 3.5."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from core.autocorrect.se2 import invert_batch, warp


def self_supervised_loss(t: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Per-sample J_s = ||g^-1 - t||_F^2 for (B, 3, 3) predicted t and perturbations g."""  # eq. 3.2
    return ((invert_batch(g) - t) ** 2).flatten(1).sum(1)


def consistency_loss(t1: torch.Tensor, g1: torch.Tensor, t2: torch.Tensor, g2: torch.Tensor) -> torch.Tensor:
    """Per-sample J_c = ||t1 g1 - t2 g2||_F^2, composing the matrices."""  # eq. 3.3
    return ((t1 @ g1 - t2 @ g2) ** 2).flatten(1).sum(1)


def loss_unit_px(max_shift_px: float, max_rot_deg: float) -> float:
    """The length (px) taken as 1 in the frame where J_s and J_c compare matrices.

    In the Frobenius norm a turn by theta weighs 8 sin^2(theta / 2) ~ 2 sin^2(theta) and a shift by d
    weighs (d / unit)^2; with this unit the largest perturbation shift and the largest turn weigh
    (about) the same, so the loss cares about rotation as much as about translation (a 5 degree turn
    moves the ends of a track crossing a 512 px tile by 22 px, as much as the largest shift). With
    the window's half-side as unit instead, a turn weighs ~16 times less than a shift of the same
    harm to a long track, and the network learns hardly any rotation.
    """
    return max_shift_px / (math.sqrt(2.0) * math.sin(math.radians(max_rot_deg)))


def window_to_loss_scale(window: int, unit_px: float) -> float:
    """Factor taking translations from a window's frame (unit: half the window) to `unit_px` units."""
    return (window / 2) / unit_px


def rescale(matrices: torch.Tensor, factor: float) -> torch.Tensor:
    """Rigid (B, 3, 3) matrices in a frame whose unit is 1/`factor` of the current one."""
    out = matrices.clone()
    out[:, :2, 2] = out[:, :2, 2] * factor
    return out


def binary_iou(a: torch.Tensor, b: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Per-sample IoU of (B, 1, H, W) masks binarised at `threshold`."""
    a, b = a > threshold, b > threshold
    inter = (a & b).flatten(1).sum(1).float()
    union = (a | b).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union))


def dilate(masks: torch.Tensor, px: int) -> torch.Tensor:
    """(B, 1, H, W) masks grown by `px` pixels on every side (a square structuring element)."""
    return masks if px <= 0 else F.max_pool2d(masks, 2 * px + 1, stride=1, padding=px)


def gate(label_masks: torch.Tensor, t1: torch.Tensor, g1: torch.Tensor, t2: torch.Tensor,
         g2: torch.Tensor, threshold: float = 0.2, dilate_px: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(alpha_s, alpha_c) per sample: J_c only where a corrected label strays far from y.

    `dilate_px` > 0 compares the masks grown by that many pixels: on thin structures (8 px wide
    tracks) a correction a few pixels off already has IoU ~0 with the label, so the plain rule
    cannot tell a slightly wrong correction of a clean label from a correct one of a noisy label.
    """  # eq. 3.5
    with torch.no_grad():
        label = dilate(label_masks, dilate_px)
        iou1 = binary_iou(dilate(warp(label_masks, t1 @ g1), dilate_px), label)
        iou2 = binary_iou(dilate(warp(label_masks, t2 @ g2), dilate_px), label)
        noisy = torch.minimum(iou1, iou2) < threshold
    return (~noisy).float(), noisy.float()


def joint_loss(t1: torch.Tensor, g1: torch.Tensor, t2: torch.Tensor, g2: torch.Tensor,
               label_masks: torch.Tensor | None, clean: torch.Tensor | None = None,
               scale: float = 1.0, gate_iou: float = 0.2, gate_dilate_px: int = 0) -> torch.Tensor:
    """Mean J = alpha_s J_s + alpha_c J_c.

    Matrices are in the label's window frame (used for the gating IoU); the loss terms compare them
    with translations multiplied by `scale`. alpha_s = alpha_c = 1 while `label_masks` is None (early
    training), eq. 3.5 gating after; `clean` (verified) labels always get J_s alone, which holds
    exactly for them.
    """
    s1, r1, s2, r2 = (rescale(m, scale) for m in (t1, g1, t2, g2))
    j_s = 0.5 * (self_supervised_loss(s1, r1) + self_supervised_loss(s2, r2))
    j_c = consistency_loss(s1, r1, s2, r2)
    if label_masks is None:
        alpha_s, alpha_c = torch.ones_like(j_s), torch.ones_like(j_c)
    else:
        alpha_s, alpha_c = gate(label_masks, t1, g1, t2, g2, gate_iou, gate_dilate_px)
    if clean is not None:
        alpha_s = torch.where(clean, torch.ones_like(alpha_s), alpha_s)
        alpha_c = torch.where(clean, torch.zeros_like(alpha_c), alpha_c)
    return (alpha_s * j_s + alpha_c * j_c).mean()
