"""Localizer network pieces: spectrogram, encoders, cosine-similarity map S (thesis 5.3.1-5.3.2)."""

import numpy as np
import torch

from core.localizer.audio import fit_window, log_spectrogram
from core.localizer.builder import build_localizer
from core.localizer.config import AudioConfig, LocalizerConfig, named_config
from core.localizer.network import own_maps, similarity_maps


def test_spectrogram_is_257_by_300_for_three_seconds():
    config = AudioConfig()
    spec = log_spectrogram(torch.randn(2, 48000), config)
    assert spec.shape == (2, 1, 257, 300)
    assert torch.allclose(spec.mean(dim=(2, 3)), torch.zeros(2, 1), atol=1e-4)


def test_fit_window_pads_and_crops_to_the_centre():
    config = AudioConfig(seconds=1.0, sample_rate=10)
    assert fit_window(np.arange(14), config).tolist() == list(range(2, 12))
    assert fit_window(np.ones(6), config).tolist() == [0, 0] + [1] * 6 + [0, 0]


def test_similarity_map_is_the_cosine_of_audio_and_each_location():
    audio = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    visual = torch.zeros(1, 2, 1, 3)
    visual[0, :, 0, 0] = torch.tensor([5.0, 0.0])  # same direction as audio 0
    visual[0, :, 0, 1] = torch.tensor([0.0, 3.0])  # orthogonal to audio 0
    visual[0, :, 0, 2] = torch.tensor([-1.0, 1.0])  # 135 degrees from audio 0
    maps = similarity_maps(audio, visual)
    assert maps.shape == (2, 1, 1, 3)
    expected_0 = torch.tensor([1.0, 0.0, -2 ** -0.5])
    expected_1 = torch.tensor([0.0, 1.0, 2 ** -0.5])
    assert torch.allclose(maps[0, 0, 0], expected_0, atol=1e-6)
    assert torch.allclose(maps[1, 0, 0], expected_1, atol=1e-6)


def test_own_maps_take_each_audio_against_its_own_image():
    maps = torch.arange(2 * 2 * 1 * 1, dtype=torch.float32).view(2, 2, 1, 1)
    assert own_maps(maps).flatten().tolist() == [0.0, 3.0]


def test_streams_give_a_spatial_map_and_a_pooled_vector():
    model = build_localizer("micro").eval()
    size = model.config.network.image_size
    visual, audio = model.encode(torch.rand(3, 3, size, size), torch.randn(3, 48000))
    assert visual.shape == (3, 32, size // 16, size // 16)  # layer4 at stride 1
    assert audio.shape == (3, 32)
    with torch.no_grad():
        maps = model(torch.rand(3, 3, size, size), torch.randn(3, 48000))
    assert maps.shape == (3, 3, size // 16, size // 16)
    assert float(maps.abs().max()) <= 1 + 1e-5
    heat = model.heatmaps(torch.rand(2, 3, size, size), torch.randn(2, 48000))
    assert heat.shape == (2, size // 16, size // 16)


def test_thesis_config_gives_a_14_by_14_map_at_224():
    config = named_config("thesis")
    assert config.network.image_size == 224 and config.network.channels == 512
    assert LocalizerConfig.from_dict(config.to_dict()) == config
