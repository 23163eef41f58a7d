"""The one place that turns a device name into a torch.device."""

from __future__ import annotations

import torch


def resolve_device(name: str | torch.device | None = None) -> torch.device:
    """The device asked for, else CUDA when there is one, else the CPU; CUDA asked for without one is an error."""
    if name is None or name == "":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(name)!r} asked for, but torch sees no CUDA device here; "
                         "use 'cpu' or leave the device unset")
    return device
