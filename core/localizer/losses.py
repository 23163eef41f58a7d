"""Contrastive localization losses: oracle (5.3.3), tri-map (5.3.4) and the Table 5.4 ablations."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core.localizer.config import LossConfig
from core.localizer.network import own_maps

_TINY = 1e-30  # guards |m| = 0 without changing any weighted mean that exists


def masked_mean(weights: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """<m, S> / |m| per clip: (B, h, w), (B, h, w) -> (B,)."""
    return (weights * maps).flatten(1).sum(1) / weights.flatten(1).sum(1).clamp_min(_TINY)


def soft_threshold(maps: torch.Tensor, eps: float, tau: float) -> torch.Tensor:
    """sigmoid((S - eps) / tau): the differentiable Heaviside of 5.3.4."""
    return torch.sigmoid((maps - eps) / tau)


def easy_negatives(maps: torch.Tensor, config: LossConfig | None = None) -> torch.Tensor:
    """(B, B-1): S_{i->j} of every other clip j != i of the batch pooled to one value: its spatial
    mean (5.3.4), or with easy_pool="positive" its mean over its own soft positive region
    sigmoid((S_{i->j} - eps_p) / tau), as the released LVS code pools them."""
    size = maps.shape[0]
    if config is not None and config.easy_pool == "positive":
        weights = soft_threshold(maps, config.eps_p, config.tau)
        pooled = masked_mean(weights.flatten(0, 1), maps.flatten(0, 1)).view(size, size)
    else:
        pooled = maps.flatten(2).mean(2)
    off_diagonal = ~torch.eye(size, dtype=torch.bool, device=maps.device)
    return pooled[off_diagonal].view(size, size - 1)


def pseudo_masks(own: torch.Tensor, config: LossConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(positive weights m_p, hard-negative weights 1 - m_n) of each clip's own map per variant."""
    m_p = soft_threshold(own, config.eps_p, config.tau)
    if config.variant == "trimap":
        return m_p, 1 - soft_threshold(own, config.eps_n, config.tau)
    if config.variant == "no-ignore":  # Table 5.4 model b: every non-positive cell is negative
        return m_p, 1 - m_p
    if config.variant == "positives-only":  # Table 5.4 model a: no hard negatives
        return m_p, torch.zeros_like(own)
    raise ValueError(f"unknown loss variant {config.variant!r}")


def contrastive_loss(positive: torch.Tensor, hard: torch.Tensor, easy: torch.Tensor,
                     config: LossConfig, has_hard: torch.Tensor | None = None) -> torch.Tensor:
    """-mean log(exp P / (exp P + exp N)), N = hard + mean easy (5.3.4); per-term InfoNCE if form="infonce".

    `has_hard` (B,) marks clips whose hard-negative term exists (positives-only clips have none).
    """
    t = config.temperature
    has_hard = torch.ones_like(positive, dtype=torch.bool) if has_hard is None else has_hard
    if config.form == "thesis":
        # 5.3.4 writes a sum over j != i; trained from scratch at batch 32 that sum (31 spatial
        # means against one P in [0, 1]) drives every map to 0 (bench/localizer/RESULTS.md)
        negative = torch.where(has_hard, hard, torch.zeros_like(hard)) + easy.mean(1)
        return F.softplus((negative - positive) / t).mean()  # = -log(e^P / (e^P + e^N))
    if config.form == "infonce":
        hard_logit = torch.where(has_hard, hard / t, torch.full_like(hard, float("-inf")))
        logits = torch.cat([positive[:, None] / t, hard_logit[:, None], easy / t], 1)
        return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long, device=logits.device))
    raise ValueError(f"unknown loss form {config.form!r}")


def localization_loss(maps: torch.Tensor, config: LossConfig, box_masks: torch.Tensor | None = None,
                      labelled: torch.Tensor | None = None) -> torch.Tensor:
    """Loss of a batch of maps S (B, B, h, w); `labelled` clips use their box mask (oracle, 5.3.3)."""
    if maps.shape[0] < 2:
        raise ValueError("the loss needs at least 2 clips per batch (easy negatives)")
    own = own_maps(maps)
    pos_w, neg_w = pseudo_masks(own, config)
    has_hard = torch.full((len(own),), config.variant != "positives-only", device=own.device)
    if box_masks is not None:
        if labelled is None:
            labelled = torch.ones(len(own), dtype=torch.bool, device=own.device)
        chosen = labelled[:, None, None]
        box_masks = box_masks.to(own.dtype)
        pos_w = torch.where(chosen, box_masks, pos_w)  # the person's mask m_i replaces m_p, m_n
        neg_w = torch.where(chosen, 1 - box_masks, neg_w)
        has_hard = has_hard | labelled
    return contrastive_loss(masked_mean(pos_w, own), masked_mean(neg_w, own),
                            easy_negatives(maps, config), config, has_hard)


def oracle_loss(maps: torch.Tensor, box_masks: torch.Tensor, config: LossConfig) -> torch.Tensor:
    """5.3.3: every clip's positives and hard negatives come from its binary box mask (B, h, w)."""
    return localization_loss(maps, config, box_masks=box_masks)
