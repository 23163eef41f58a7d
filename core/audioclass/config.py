"""Every tunable of the audio classifier (saved beside checkpoints as JSON) and the named configurations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

FAMILY = "audioclass"
AGGREGATIONS = ("avgpool", "netvlad")  # Table 4.4: "AP" and "NV"


@dataclass(frozen=True)
class AudioConfig:
    """Log-magnitude STFT of 16 kHz mono audio (4.4.2: 257 bins; 500 frames for 5 s, 1000 for 10 s)."""

    sample_rate: int = 16000
    n_fft: int = 512  # 257 frequency bins
    hop: int = 160  # 100 frames per second
    win: int = 400
    crop_seconds: float = 5.0  # random crop in training; the whole clip at test (4.4.2)
    clip_seconds: float = 10.0  # VGG-Sound clips: shorter audio is zero-padded, longer cut, when batched

    @property
    def bins(self) -> int:
        """Frequency bins of the spectrogram."""
        return self.n_fft // 2 + 1

    def frames(self, seconds: float) -> int:
        """STFT frames of `seconds` of audio (centred frames, as torch.stft)."""
        return int(round(seconds * self.sample_rate)) // self.hop + 1


@dataclass(frozen=True)
class NetworkConfig:
    """ResNet18 (four stages of two basic blocks) on a 1-channel spectrogram, then average pool or NetVLAD."""

    base_width: int = 64  # channels of the first stage; 64 is ResNet18's
    stem_stride: int = 2  # stride of the 7x7 stem convolution (ResNet18: 2)
    aggregation: str = "avgpool"
    clusters: int = 8  # NetVLAD's K
    embedding: int = 512  # NetVLAD's K x C descriptor is projected to this width before the classifier

    def __post_init__(self) -> None:
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {', '.join(AGGREGATIONS)}, not {self.aggregation!r}")

    @property
    def channels(self) -> int:
        """Channels of the last stage."""
        return self.base_width * 8


@dataclass(frozen=True)
class AudioClassConfig:
    """A named configuration and the classes its softmax covers (set from the training data)."""

    name: str = "resnet18-ap"
    network: NetworkConfig = field(default_factory=NetworkConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    classes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Plain JSON-able dict."""
        data = asdict(self)
        data["classes"] = list(self.classes)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "AudioClassConfig":
        """Inverse of to_dict; unknown keys are an error naming them."""
        parts = {"network": NetworkConfig, "audio": AudioConfig}
        kwargs: dict = {}
        for key, value in data.items():
            if key in parts:
                unknown = set(value) - {f.name for f in fields(parts[key])}
                if unknown:
                    raise ValueError(f"audioclass config: unknown {key} keys {sorted(unknown)}")
                kwargs[key] = parts[key](**value)
            elif key == "classes":
                kwargs[key] = tuple(value)
            elif key == "name":
                kwargs[key] = value
            else:
                raise ValueError(f"audioclass config: unknown key {key!r}")
        return cls(**kwargs)


_TINY = NetworkConfig(base_width=8, embedding=64)
_TINY_AUDIO = AudioConfig(hop=320)  # 257 x 250 for a 5 s crop: half the thesis's frame rate for CPU training
_MICRO = NetworkConfig(base_width=4, clusters=4, embedding=16)

CONFIGS: dict[str, AudioClassConfig] = {
    # the thesis's size (4.4.2, Table 4.4 rows D-I): 64-wide ResNet18, 257 x 500 crops
    "resnet18-ap": AudioClassConfig(name="resnet18-ap"),
    "resnet18-nv": AudioClassConfig(name="resnet18-nv", network=NetworkConfig(aggregation="netvlad")),
    # CPU benchmark, curation and bundled checkpoints: 8-wide stages, 257 x 250 crops
    "tiny-ap": AudioClassConfig(name="tiny-ap", network=_TINY, audio=_TINY_AUDIO),
    "tiny-nv": AudioClassConfig(name="tiny-nv", network=replace(_TINY, aggregation="netvlad"), audio=_TINY_AUDIO),
    # unit tests only: 4-wide stages, 1 s crops
    "micro": AudioClassConfig(name="micro", network=_MICRO, audio=AudioConfig(hop=320, crop_seconds=1.0,
                                                                              clip_seconds=2.0)),
}


def named_config(name: str, classes: tuple[str, ...] = ()) -> AudioClassConfig:
    """The registered configuration `name` with its softmax over `classes`."""
    if name not in CONFIGS:
        raise KeyError(f"unknown audioclass config {name!r}; known: {', '.join(CONFIGS)}")
    return replace(CONFIGS[name], classes=tuple(classes))
