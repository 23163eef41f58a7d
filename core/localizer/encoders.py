"""The two ResNet18 streams: a visual one keeping its spatial map, an audio one max-pooled (5.3.1)."""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock, conv1x1

from core.localizer.config import NetworkConfig

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ResNet18Trunk(nn.Module):
    """torchvision's resnet18 without pooling and classifier, at any width and input channels.

    Module names match torchvision's, so a local resnet18 state dict loads into the 64-wide trunk.
    """

    def __init__(self, in_channels: int = 3, base_width: int = 64, last_stride: int = 2):
        super().__init__()
        self.inplanes = base_width
        self.conv1 = nn.Conv2d(in_channels, base_width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(base_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._stage(base_width, 1)
        self.layer2 = self._stage(base_width * 2, 2)
        self.layer3 = self._stage(base_width * 4, 2)
        self.layer4 = self._stage(base_width * 8, last_stride)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def _stage(self, planes: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes, stride), nn.BatchNorm2d(planes))
        first = BasicBlock(self.inplanes, planes, stride, downsample)
        self.inplanes = planes
        return nn.Sequential(first, BasicBlock(planes, planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in, H, W) -> (B, 8 * base_width, H / 32 or / 16, ...)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class VisualEncoder(nn.Module):
    """f(I): RGB frame in [0, 1] -> c x h x w feature map (eq. 5.1)."""

    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.trunk = ResNet18Trunk(3, config.base_width, config.visual_last_stride)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        # contiguous: a channels-last batch (frames permuted from H x W x 3) made the CPU convolution
        # backward of torch 2.11 corrupt the heap ("double free or corruption") on this project's machines
        return self.trunk(((images - self.mean) / self.std).contiguous())


class AudioEncoder(nn.Module):
    """g(a): 1 x F x T spectrogram -> c-vector, max-pooled over frequency and time (eq. 5.2)."""

    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.trunk = ResNet18Trunk(1, config.base_width, 2)

    def forward(self, spectrograms: torch.Tensor) -> torch.Tensor:
        return self.trunk(spectrograms).amax(dim=(2, 3))


def load_torchvision_resnet18(trunk: ResNet18Trunk, path: str) -> None:
    """Load a local torchvision resnet18 state dict (e.g. ImageNet weights) into a 64-wide trunk."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    if trunk.conv1.in_channels == 1 and "conv1.weight" in state:
        state["conv1.weight"] = state["conv1.weight"].sum(dim=1, keepdim=True)
    missing, unexpected = trunk.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"{path}: not a resnet18 state dict for this trunk "
                         f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
