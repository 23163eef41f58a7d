"""Tri-map, oracle and ablation losses on hand-made similarity maps (thesis 5.3.3, 5.3.4)."""

import math
from dataclasses import replace

import pytest
import torch

from core.localizer.config import LossConfig
from core.localizer.losses import easy_negatives, localization_loss, masked_mean, oracle_loss


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def batch(own_0, own_1, cross_01=0.2, cross_10=-0.4):
    """(2, 2, 2, 2) maps with the given own maps and constant cross maps."""
    maps = torch.empty(2, 2, 2, 2)
    maps[0, 0] = torch.tensor(own_0)
    maps[1, 1] = torch.tensor(own_1)
    maps[0, 1] = cross_01
    maps[1, 0] = cross_10
    return maps.requires_grad_(True)


def test_masked_mean_and_easy_negatives():
    assert masked_mean(torch.tensor([[1.0, 0.0, 1.0]]), torch.tensor([[0.2, 5.0, 0.4]])).item() == pytest.approx(0.3)
    maps = batch([[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]])
    assert easy_negatives(maps).flatten().tolist() == pytest.approx([0.2, -0.4])


def test_oracle_loss_uses_the_box_mask():
    maps = batch([[0.9, 0.1], [0.3, 0.1]], [[0.5, 0.5], [0.7, 0.7]])
    masks = torch.tensor([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, 1.0]]])
    loss = oracle_loss(maps, masks, LossConfig())
    # clip 0: P = 0.9, N = mean(0.1, 0.3, 0.1) + 0.2; clip 1: P = 0.7, N = 0.5 - 0.4
    expected = (softplus(0.5 / 3 + 0.2 - 0.9) + softplus(0.5 - 0.4 - 0.7)) / 2
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_trimap_ignores_the_uncertain_zone():
    # 0.95: positive, 0.525: between eps_n = 0.4 and eps_p = 0.65, 0.0: negative
    own = [[0.95, 0.525], [0.0, 0.0]]
    config = LossConfig(tau=0.003)  # sharp so the weights are 0/1 to 1e-6
    maps = batch(own, own, cross_01=0.0, cross_10=0.0)
    loss = localization_loss(maps, config)
    assert loss.item() == pytest.approx(softplus(0.0 - 0.95), abs=1e-4)  # N = 0 (hard) + 0 (easy)
    loss.backward()
    assert abs(maps.grad[0, 0, 0, 1].item()) < 1e-4  # the ignore zone gets no gradient


def test_no_ignore_counts_the_uncertain_zone_as_negative():
    own = [[0.95, 0.525], [0.0, 0.0]]
    maps = batch(own, own, cross_01=0.0, cross_10=0.0)
    loss = localization_loss(maps, LossConfig(variant="no-ignore", tau=0.003))
    assert loss.item() == pytest.approx(softplus(0.525 / 3 - 0.95), abs=1e-4)
    loss.backward()
    assert maps.grad[0, 0, 0, 1].item() > 0.01  # pushed down as a hard negative


def test_positives_only_has_easy_negatives_only():
    own = [[0.95, 0.525], [0.0, 0.0]]
    maps = batch(own, own, cross_01=0.3, cross_10=0.1)
    loss = localization_loss(maps, LossConfig(variant="positives-only", tau=0.003))
    expected = (softplus(0.3 - 0.95) + softplus(0.1 - 0.95)) / 2
    assert loss.item() == pytest.approx(expected, abs=1e-4)


def test_thesis_form_averages_the_easy_negatives_over_the_batch():
    # three clips, cross maps constant 0.1, and 0.3 for every audio against image 2
    own = torch.tensor([[0.95, 0.0], [0.0, 0.0]])
    maps = torch.full((3, 3, 2, 2), 0.1)
    maps[:, 2] = 0.3
    for i in range(3):
        maps[i, i] = own
    loss = localization_loss(maps, LossConfig(variant="positives-only", tau=0.003))
    easy = [(0.1 + 0.3) / 2, (0.1 + 0.3) / 2, (0.1 + 0.1) / 2]
    expected = sum(softplus(n - 0.95) for n in easy) / 3
    assert loss.item() == pytest.approx(expected, abs=1e-4)


def _one_hot_batch(size: int, audio_blind: bool) -> torch.Tensor:
    """(size, size, 4, 4) maps: every own map one-hot; cross maps the same (an audio-blind model)
    or all zero (audio-specific)."""
    one_hot = torch.zeros(4, 4)
    one_hot[1, 2] = 1.0
    if audio_blind:
        return one_hot.expand(size, size, 4, 4).clone()
    maps = torch.zeros(size, size, 4, 4)
    maps[range(size), range(size)] = one_hot
    return maps


def test_infonce_form_pools_easy_negatives_over_their_positive_region():
    # released LVS code: an audio-blind one-hot map is no better than chance among the B clips
    size, t = 8, 0.5
    config = LossConfig(tau=0.003, form="infonce", temperature=t, easy_pool="positive")
    blind = localization_loss(_one_hot_batch(size, True), config)
    specific = localization_loss(_one_hot_batch(size, False), config)
    # logits: P = 1, hard = 0, easy = 1 (blind: the other map's hot cell) or 0 (specific)
    assert blind.item() == pytest.approx(math.log(size + math.exp(-1 / t)), abs=1e-4)
    assert specific.item() == pytest.approx(math.log(1 + size * math.exp(-1 / t)), abs=1e-4)


def test_thesis_form_barely_penalises_an_audio_blind_map():
    # the spatial-mean easy term of an audio-blind one-hot map is 1 / hw: the collapse the
    # "infonce" form's pooling prevents (bench/localizer/RESULTS.md)
    config = LossConfig(tau=0.003)
    gap = localization_loss(_one_hot_batch(8, True), config) - localization_loss(_one_hot_batch(8, False), config)
    assert gap.item() == pytest.approx(softplus(1 / 16 - 1.0) - softplus(-1.0), abs=1e-4)


def test_positive_pooling_makes_the_thesis_form_penalise_an_audio_blind_map():
    # pooled over their own positive region, a blind map's easy negatives equal its positive:
    # N = hard + 1 against P = 1, so the blind batch stays at softplus(0) while audio that tells
    # clips apart reaches softplus(-1)
    config = LossConfig(tau=0.003, easy_pool="positive")
    blind = localization_loss(_one_hot_batch(8, True), config)
    specific = localization_loss(_one_hot_batch(8, False), config)
    assert blind.item() == pytest.approx(softplus(0.0), abs=1e-4)
    assert specific.item() == pytest.approx(softplus(-1.0), abs=1e-4)


def test_oracle_clips_mix_with_unlabelled_ones():
    own_0 = [[0.95, 0.0], [0.0, 0.0]]  # unlabelled: the tri-map finds cell (0, 0)
    own_1 = [[0.95, 0.0], [0.0, 0.6]]  # labelled: the person boxed cell (1, 1) only
    maps = batch(own_0, own_1, cross_01=0.0, cross_10=0.0)
    masks = torch.zeros(2, 2, 2)
    masks[1, 1, 1] = 1
    loss = localization_loss(maps, LossConfig(tau=0.003), masks, torch.tensor([False, True]))
    expected = (softplus(0.0 - 0.95) + softplus(0.95 / 3 - 0.6)) / 2
    assert loss.item() == pytest.approx(expected, abs=1e-4)


def test_infonce_form_puts_each_negative_in_the_denominator():
    maps = batch([[0.9, 0.1], [0.1, 0.1]], [[0.9, 0.1], [0.1, 0.1]], cross_01=0.2, cross_10=0.2)
    masks = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]] * 2)
    config = replace(LossConfig(), form="infonce", temperature=0.5)
    loss = oracle_loss(maps, masks, config)
    logits = [0.9 / 0.5, 0.1 / 0.5, 0.2 / 0.5]
    expected = -logits[0] + math.log(sum(math.exp(v) for v in logits))
    assert loss.item() == pytest.approx(expected, abs=1e-5)


def test_loss_refuses_a_batch_of_one():
    with pytest.raises(ValueError, match="at least 2"):
        localization_loss(torch.zeros(1, 1, 2, 2), LossConfig())
