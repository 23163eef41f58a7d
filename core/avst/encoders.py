"""CNN encoders of 6.3.1.1 / 6.A: a 2D+3D ResNet18 for frames and a VGG-M for spectrograms."""

from __future__ import annotations

import torch
from torch import nn

from core.avst.config import INPUT_STRIDE, SPEC_PER_FRAME


class BasicBlock(nn.Module):
    """ResNet basic block (two 3x3 convolutions and a shortcut)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class VisualEncoder(nn.Module):
    """Frames (B, 3, T, H, W) -> V (B, c, T, H/16, W/16): a 3D stem, then ResNet18 stages per frame."""

    def __init__(self, widths: tuple[int, ...], out_channels: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(  # the 3D part: motion across neighbouring input frames
            nn.Conv3d(3, widths[0], (5, 7, 7), (1, 2, 2), (2, 3, 3), bias=False),
            nn.BatchNorm3d(widths[0]), nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)))
        stages, cin = [], widths[0]
        for cout, stride in zip(widths, (1, 2, 2, 1)):  # last stage keeps the stride at 16 (224 -> 14)
            stages += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.stages = nn.Sequential(*stages)
        self.project = nn.Conv2d(cin, out_channels, 1)
        init_transient_stem(self.stem[0])

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = self.stem(frames)
        b, c, t, h, w = x.shape
        x = self.project(self.stages(x.transpose(1, 2).reshape(b * t, c, h, w)))
        return x.reshape(b, t, *x.shape[1:]).transpose(1, 2)


def init_transient_stem(conv: nn.Conv3d) -> None:
    """Start half the 3D stem's filters on the middle input frame and half on its change from the frames beside it.

    A sound event shows in a single 5 fps frame, and a random temporal kernel mostly averages frames,
    so its response to a one-frame change is buried under the still scene. Each filter keeps its random
    spatial kernel and its output variance; only the weights along time start shaped (still from scratch).
    """
    depth = conv.kernel_size[0]
    still = torch.zeros(depth)
    still[depth // 2] = 1.0
    change = still.clone()
    change[depth // 2 - 1] = change[depth // 2 + 1] = -0.5  # frame i minus the mean of frames i-1 and i+1
    with torch.no_grad():
        spatial = conv.weight[:, :, depth // 2].clone() * depth ** 0.5  # the fan-in shrinks by `depth`
        half = conv.out_channels // 2
        conv.weight.copy_(spatial[:, :, None] * still[None, None, :, None, None])
        conv.weight[half:] = spatial[half:, :, None] * (change / change.norm())[None, None, :, None, None]


class AudioEncoder(nn.Module):
    """Log-mel spectrogram (B, n_mels, S) -> A (B, c, S / 80): a VGG-M-style CNN, one token per input frame."""

    def __init__(self, widths: tuple[int, ...], out_channels: int) -> None:
        super().__init__()
        layers, cin = [nn.BatchNorm2d(1)], 1
        pool_after = (True, True, False, True, True)  # conv1, conv2, conv5 pool as in VGG-M; conv4 too
        for cout, pool in zip(widths, pool_after):
            layers += [nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            if pool:
                layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
            cin = cout
        self.cnn = nn.Sequential(*layers)
        stride = SPEC_PER_FRAME * INPUT_STRIDE // 16  # 80 columns per token; 16 already pooled
        self.temporal = nn.Conv1d(cin, out_channels, stride, stride)  # fc6-like, one output per frame

    def trunk(self, spec: torch.Tensor) -> torch.Tensor:
        """The convolutions up to the max over frequency: (B, n_mels, S) -> (B, c', S / 16), one column per 25 fps frame."""
        return self.cnn(spec.unsqueeze(1)).amax(dim=2)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        return self.temporal(self.trunk(spec))
