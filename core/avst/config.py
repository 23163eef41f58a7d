"""AVST's constants, its config dataclass and the named configurations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

FAMILY = "avst"
VARIANTS = ("enc", "enc-mp", "dec")
VIDEO_FPS = 25  # offsets are counted in frames at this rate (6.4.2)
INPUT_STRIDE = 5  # the model sees every 5th frame, i.e. 5 fps
# audio token i covers the 25 fps frames [5 i, 5 i + 5) of a window; its visual token is the middle one of
# them, so that both tokens with time code i describe the same 0.2 s (an event there is heard and seen in i)
FRAME_PHASE = INPUT_STRIDE // 2
SAMPLE_RATE = 16000
N_FFT = 320  # 6.A: FFT window 320, hop 40 at 16 kHz
HOP = 40
SPEC_PER_FRAME = SAMPLE_RATE // HOP // VIDEO_FPS  # 16 spectrogram columns per 25 fps frame
MIN_FRAMES, MAX_FRAMES = 5, 30  # 6.A: 5 to 30 input frames at 5 fps
MAX_OFFSET = 15
# stage 0 (encoder warm-up) scores an offset by the mean per-instant cosine of the two encoders' features,
# divided by this temperature
ENCODER_TEMPERATURE = 0.1


@dataclass(frozen=True)
class AVSTConfig:
    """Everything that fixes an AVST network's shape."""

    variant: str = "dec"
    image_size: int = 224  # H = W; the visual grid is image_size / 16 (224 -> 14, 6.4.3)
    visual_widths: tuple[int, ...] = (64, 128, 256, 512)  # ResNet18 stages
    audio_widths: tuple[int, ...] = (96, 256, 384, 256, 512)  # VGG-M conv1..conv5
    n_mels: int = 80
    width: int = 512  # c, the channels of both encoders and the Transformer width
    layers: int = 3
    heads: int = 4
    ffn: int = 2048
    dropout: float = 0.1
    max_frames: int = MAX_FRAMES

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown AVST variant {self.variant!r}; choose one of {VARIANTS}")
        if self.image_size % 16:
            raise ValueError(f"image_size must be a multiple of 16, got {self.image_size}")

    @property
    def grid(self) -> int:
        """h = w of the visual feature map."""
        return self.image_size // 16

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "AVSTConfig":
        """A config from its JSON fields (unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        kept = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in known}
        return cls(**kept)


CONFIGS: dict[str, AVSTConfig] = {
    "thesis": AVSTConfig(),
    # narrow network for CPU training, tests and the bundled demo checkpoint
    "tiny": AVSTConfig(image_size=64, visual_widths=(16, 24, 32, 64), audio_widths=(16, 32, 48, 48, 64),
                       n_mels=40, width=64, layers=3, heads=4, ffn=128, dropout=0.0),
}


def get_config(name: str, **overrides) -> AVSTConfig:
    """A registered configuration, with fields overridden (e.g. variant="enc-mp")."""
    if name not in CONFIGS:
        raise ValueError(f"unknown AVST config {name!r}; choose one of {sorted(CONFIGS)}")
    return replace(CONFIGS[name], **overrides)


def spec_columns(frames: int) -> int:
    """Spectrogram columns that cover `frames` input frames (5 fps)."""
    return frames * INPUT_STRIDE * SPEC_PER_FRAME
