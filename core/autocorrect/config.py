"""AutoCorrect's config dataclass and its named configurations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

FAMILY = "autocorrect"


@dataclass(frozen=True)
class AutoCorrectConfig:
    """Everything that fixes a network's shape and how its inputs are made."""

    channels: tuple[int, ...]
    kernels: tuple[int, ...] = (7, 5, 5, 5, 5)
    fc: tuple[int, ...] = (4096, 4096)
    stem_stride: int = 1
    pool_to: int = 4
    window: int = 128  # pixels a side of the window centred on each instance
    memory_map: bool = True  # 5 input channels (RGB, mask, memory) or 4 without the memory map
    kind: str = "railway"  # railway (polylines) or buildings (polygons)
    track_width_m: float = 4.0  # railway masks: centrelines buffered to the ballast width
    max_shift_ref: float = 25.0  # perturbations: px at the reference tile size...
    reference_size: int = 640
    max_rot_deg: float = 5.0
    output_scale: tuple[float, float, float] = (0.5, 0.5, 0.1)
    passes: int = 1  # inference: Phi applied this many times per instance (>1: iterative error feedback)
    gsd_m: float | None = None  # m/px the network was trained at; rasters are resampled to it (None: as they are)
    max_shift_m: float | None = None  # expected misalignment, the default bound of a project (None: per tile size)

    def max_shift(self, tile_size: int) -> float:
        """Perturbation bound in px for a tile of `tile_size` px (25 px at 640, scaled): generated tiles."""
        return self.max_shift_ref * tile_size / self.reference_size

    def bound_px(self, max_shift_m: float | None = None, raster_gsd_m: float | None = None) -> float | None:
        """A bound in metres (the project's, else the card's) as model px; None when neither says one."""
        metres = max_shift_m if max_shift_m is not None else self.max_shift_m
        gsd = self.gsd_m or raster_gsd_m
        return None if metres is None or not gsd else metres / gsd

    @property
    def in_channels(self) -> int:
        """Image bands + instance mask (+ memory map)."""
        return 5 if self.memory_map else 4

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "AutoCorrectConfig":
        """Inverse of to_dict (lists become tuples)."""
        known = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
                 if k in cls.__dataclass_fields__}
        return cls(**known)


CONFIGS = {
    # Tables 3.2 / 3.3 (640 or 384 px inputs in the thesis): full width.
    "thesis": AutoCorrectConfig(channels=(96, 256, 512, 512, 512), fc=(4096, 4096), window=384,
                                stem_stride=2, pool_to=6),
    # CPU demo / benchmark size: same depth and kernels, narrow.
    "small": AutoCorrectConfig(channels=(16, 32, 48, 64, 64), fc=(256, 256), window=128,
                               stem_stride=2),
    # unit tests
    "tiny": AutoCorrectConfig(channels=(4, 8, 8, 8, 8), fc=(16, 16), window=64, stem_stride=2,
                              pool_to=2),
}


def get_config(name: str, **overrides) -> AutoCorrectConfig:
    """A named configuration, with fields overridden."""
    if name not in CONFIGS:
        raise ValueError(f"unknown AutoCorrect config {name!r}; choose from {sorted(CONFIGS)}")
    return replace(CONFIGS[name], **overrides)
