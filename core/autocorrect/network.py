"""The AutoCorrect network Phi(I, y_i, M_{i-1}) -> (dx, dy, theta) (thesis Tables 3.2 / 3.3)."""

from __future__ import annotations

import torch
from torch import nn


class AutoCorrectNet(nn.Module):
    """VGG-M-like stack: conv-k-c + ReLU + maxpool blocks, then FC layers, then FC-3.

    Input: (B, C, W, W), C = 3 image bands + the instance mask (+ the memory map).
    Output: (B, 3) = (dx, dy, theta) in the window's normalised frame (translation in units of
    half the window, rotation in radians, counter-clockwise on the image).
    """

    def __init__(self, in_channels: int, channels: tuple[int, ...], kernels: tuple[int, ...],
                 fc: tuple[int, ...], stem_stride: int = 1, pool_to: int = 4,
                 output_scale: tuple[float, float, float] = (0.5, 0.5, 0.1)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = in_channels
        for i, (width, kernel) in enumerate(zip(channels, kernels)):
            stride = stem_stride if i == 0 else 1
            layers += [nn.Conv2d(previous, width, kernel, stride, kernel // 2),
                       nn.BatchNorm2d(width), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            previous = width
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(pool_to))
        head: list[nn.Module] = [nn.Flatten()]
        previous *= pool_to * pool_to
        for width in fc:
            head += [nn.Linear(previous, width), nn.ReLU(inplace=True)]
            previous = width
        self.head = nn.Sequential(*head)
        self.out = nn.Linear(previous, 3)
        nn.init.zeros_(self.out.weight)  # start at the identity transform
        nn.init.zeros_(self.out.bias)
        self.register_buffer("output_scale", torch.tensor(output_scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, W, W) -> (B, 3)."""
        return self.out(self.head(self.features(x))) * self.output_scale
