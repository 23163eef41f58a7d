"""Every tunable of the localizer in one place (saved beside checkpoints as JSON) and the named configurations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

FAMILY = "localizer"


@dataclass(frozen=True)
class AudioConfig:
    """Log-magnitude spectrogram of the audio around the centre frame (5.5.3: 257 x 300 for 3 s)."""

    sample_rate: int = 16000
    seconds: float = 3.0
    n_fft: int = 512  # 257 frequency bins
    hop: int = 160  # 300 frames for 3 s at 16 kHz
    win: int = 400


@dataclass(frozen=True)
class NetworkConfig:
    """Two ResNet18-style streams with a shared embedding width c (eqs. 5.1, 5.2)."""

    base_width: int = 64  # channels of the first stage; 64 is torchvision's resnet18
    image_size: int = 224
    visual_last_stride: int = 1  # layer4 at stride 1 keeps a 14 x 14 map at 224 px (SPEC 3)

    @property
    def channels(self) -> int:
        """c: channels of both streams' outputs."""
        return self.base_width * 8


@dataclass(frozen=True)
class LossConfig:
    """Tri-map loss (5.3.4) and its ablations; `variant` is trimap | positives-only | no-ignore."""

    variant: str = "trimap"
    eps_p: float = 0.65
    eps_n: float = 0.40
    tau: float = 0.03
    # The thesis writes one exp(N_i) with N_i = hard + easy term; "infonce" puts each negative
    # term in the softmax denominator on its own with a temperature (the released LVS code).
    form: str = "thesis"
    temperature: float = 1.0
    # How each other clip's map S_{i->j} becomes one easy negative: its spatial "mean" (5.3.4 as
    # written), or its mean over its own soft "positive" region (the released LVS code)
    easy_pool: str = "mean"

    def __post_init__(self) -> None:
        if not -1 <= self.eps_n <= self.eps_p <= 1:  # S is a cosine similarity
            raise ValueError(f"need -1 <= eps_n <= eps_p <= 1, got eps_n={self.eps_n}, eps_p={self.eps_p}")


@dataclass(frozen=True)
class LocalizerConfig:
    """A named configuration: network, audio front end and loss."""

    name: str = "thesis"
    network: NetworkConfig = field(default_factory=NetworkConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    loss: LossConfig = field(default_factory=LossConfig)

    def to_dict(self) -> dict:
        """Plain JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "LocalizerConfig":
        """Inverse of to_dict; unknown keys are an error naming them."""
        parts = {"network": NetworkConfig, "audio": AudioConfig, "loss": LossConfig}
        kwargs = {}
        for key, value in data.items():
            if key in parts:
                known = {f.name for f in fields(parts[key])}
                unknown = set(value) - known
                if unknown:
                    raise ValueError(f"localizer config: unknown {key} keys {sorted(unknown)}")
                kwargs[key] = parts[key](**value)
            elif key == "name":
                kwargs[key] = value
            else:
                raise ValueError(f"localizer config: unknown key {key!r}")
        return cls(**kwargs)


CONFIGS: dict[str, LocalizerConfig] = {
    # the thesis's size: two 64-wide ResNet18s, 224 px frames, 14 x 14 maps (5.5.3)
    "thesis": LocalizerConfig(name="thesis"),
    # CPU demo and bundled checkpoint: 16-wide streams, 128 px frames, 8 x 8 maps, and a coarser
    # 129 x 150 spectrogram (the 257 x 300 one made the audio stream 2/3 of a CPU training step)
    "tiny": LocalizerConfig(name="tiny", network=NetworkConfig(base_width=16, image_size=128),
                            audio=AudioConfig(n_fft=256, hop=320, win=256)),
    # unit tests only
    "micro": LocalizerConfig(name="micro", network=NetworkConfig(base_width=4, image_size=64),
                             audio=AudioConfig(n_fft=256, hop=320, win=256)),
}
VARIANTS = ("trimap", "positives-only", "no-ignore")


def named_config(name: str, variant: str = "trimap") -> LocalizerConfig:
    """The registered configuration `name` with the loss variant set."""
    if name not in CONFIGS:
        raise KeyError(f"unknown localizer config {name!r}; known: {', '.join(CONFIGS)}")
    if variant not in VARIANTS:
        raise ValueError(f"unknown loss variant {variant!r}; known: {', '.join(VARIANTS)}")
    config = CONFIGS[name]
    return replace(config, loss=replace(config.loss, variant=variant))
