"""ResNet18 on a spectrogram with average-pool or NetVLAD aggregation, and a softmax classifier (4.4.2)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.audioclass.config import AudioClassConfig, NetworkConfig


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (He et al. 2016)."""

    def __init__(self, inputs: int, outputs: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.shortcut = nn.Sequential()
        if stride != 1 or inputs != outputs:
            self.shortcut = nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18Trunk(nn.Module):
    """(B, 1, F, T) spectrogram -> (B, 8 * base_width, F / (16 stem_stride), T / (16 stem_stride)) feature map."""

    def __init__(self, base_width: int, stem_stride: int = 2) -> None:
        super().__init__()
        w = base_width
        self.stem = nn.Sequential(nn.Conv2d(1, w, 7, stem_stride, 3, bias=False), nn.BatchNorm2d(w),
                                  nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        widths = (w, 2 * w, 4 * w, 8 * w)
        layers, inputs = [], w
        for stage, width in enumerate(widths):
            stride = 1 if stage == 0 else 2
            layers.append(nn.Sequential(BasicBlock(inputs, width, stride), BasicBlock(width, width, 1)))
            inputs = width
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(self.stem(x))


class NetVLAD(nn.Module):
    """NetVLAD (Arandjelovic et al. 2016) over every time-frequency cell of the feature map."""

    def __init__(self, channels: int, clusters: int, out: int) -> None:
        super().__init__()
        self.assign = nn.Conv2d(channels, clusters, 1)
        self.centroids = nn.Parameter(torch.randn(clusters, channels) * 0.1)
        self.project = nn.Linear(clusters * channels, out)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) -> (B, out): soft-assigned residuals summed per cluster, intra- and L2-normalised."""
        soft = F.softmax(self.assign(features), dim=1).flatten(2)  # (B, K, N)
        x = F.normalize(features, dim=1).flatten(2)  # (B, C, N)
        vlad = torch.einsum("bkn,bcn->bkc", soft, x) - soft.sum(-1).unsqueeze(-1) * self.centroids
        vlad = F.normalize(F.normalize(vlad, dim=2).flatten(1), dim=1)
        return self.project(vlad)


class AudioClassifier(nn.Module):
    """Spectrogram -> embedding (pooled features) -> class logits."""

    def __init__(self, config: AudioClassConfig) -> None:
        super().__init__()
        if not config.classes:
            raise ValueError("an audio classifier needs at least one class")
        self.config = config
        network: NetworkConfig = config.network
        self.trunk = ResNet18Trunk(network.base_width, network.stem_stride)
        if network.aggregation == "netvlad":
            self.pool: nn.Module = NetVLAD(network.channels, network.clusters, network.embedding)
            width = network.embedding
        else:
            self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
            width = network.channels
        self.classifier = nn.Linear(width, len(config.classes))

    def embed(self, spectrograms: torch.Tensor) -> torch.Tensor:
        """(B, 1, F, T) of any T -> (B, D) clip embeddings."""
        return self.pool(self.trunk(spectrograms))

    def forward(self, spectrograms: torch.Tensor) -> torch.Tensor:
        """(B, 1, F, T) -> (B, classes) logits (softmax over the classes: one label per clip, 4.4.2)."""
        return self.classifier(self.embed(spectrograms))
