"""Frame, heatmap overlay and box helpers of the VGG-SS review pages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st
from matplotlib import colormaps
from PIL import Image, ImageDraw

from core.framing import Letterbox
from core.localizer.heatmaps import min_max, upsample
from core.media import MediaError, centre_time, cut_segment, read_frame_at

GUIDE = """
**How to box (VGG-SS, thesis 5.4.1)**
- Box what makes the sound of the class, as tightly as you can.
- Sound from an interaction (a hand on a drum, a bow on strings): one tight box around the
  interaction point.
- Several separable instances of the sounding class: one box each, up to 4; with 5 or more,
  or when they cannot be told apart, one box over the whole group.
- Nothing sounding can be localised (not visible, too small, everywhere like wind or rain):
  choose **Cannot be localised**.
"""
SEGMENT_SECONDS = 5.0  # stage 3 plays the 5 s around the centre frame


@st.cache_data(max_entries=64, show_spinner=False)
def centre_frame(media_path: str) -> np.ndarray:
    """The RGB centre frame of a clip."""
    return read_frame_at(media_path, centre_time(media_path))


@st.cache_data(max_entries=64, show_spinner=False)
def boxed_frame(media_path: str, boxes: tuple[tuple[float, ...], ...], colour: str = "#00ff66") -> np.ndarray:
    """The centre frame with normalised boxes drawn on it, made once per clip and boxes."""
    return with_boxes(centre_frame(media_path), [list(b) for b in boxes], colour)


def load_heatmap(path: str | None) -> np.ndarray | None:
    """A proposal's stored heatmap, or None if it is missing."""
    if not path or not Path(path).is_file():
        return None
    return np.load(path).astype(np.float32)


def heatmap_colours(height: int, width: int, heatmap: np.ndarray) -> np.ndarray:
    """(height, width, 3) uint8 jet colours of the heatmap over the frame; the map is of the frame
    letterboxed into a square."""
    left, top = Letterbox(width, height, max(height, width)).offset  # the map covers the letterboxed square
    scaled = min_max(upsample(heatmap, max(height, width)))[top:top + height, left:left + width]
    return (colormaps["jet"](scaled)[..., :3] * 255).astype(np.uint8)


@st.cache_data(max_entries=64, show_spinner=False)
def heatmap_overlay(path: str | None, height: int, width: int) -> np.ndarray | None:
    """heatmap_colours() of a proposal's stored heatmap over a height x width frame (made once per
    proposal and frame size), or None if the heatmap is missing."""
    heatmap = load_heatmap(path)
    return None if heatmap is None else heatmap_colours(height, width, heatmap)


def with_boxes(image: np.ndarray, boxes: list[list[float]], colour: str = "#00ff66",
               width: int = 2) -> np.ndarray:
    """The image with normalised boxes drawn on it."""
    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture)
    h, w = image.shape[:2]
    for x1, y1, x2, y2 in (b[:4] for b in boxes):
        draw.rectangle([x1 * w, y1 * h, x2 * w - 1, y2 * h - 1], outline=colour, width=width)
    return np.asarray(picture)


def format_boxes(boxes: list[list[float]]) -> str:
    """One 'x1, y1, x2, y2' line per box (fractions of the frame)."""
    return "\n".join(", ".join(f"{v:.3f}" for v in box[:4]) for box in boxes)


def parse_boxes(text: str) -> list[list[float]]:
    """Boxes from 'x1, y1, x2, y2' lines; ValueError naming the line that is wrong."""
    boxes = []
    for number, line in enumerate(text.strip().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values = [float(v) for v in line.replace(";", ",").split(",")]
        except ValueError:
            raise ValueError(f"line {number}: {line!r} is not four numbers") from None
        if len(values) != 4:
            raise ValueError(f"line {number}: {line!r} needs 4 numbers, has {len(values)}")
        x1, y1, x2, y2 = values
        if not (0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1):
            raise ValueError(f"line {number}: need 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1")
        boxes.append(values)
    return boxes


def segment_around_centre(media_path: str, clip_id: int, cache_dir: Path) -> Path:
    """The 5 s around a clip's centre frame, cut on the server (cached); MediaError if unreadable."""
    out = cache_dir / "localization" / f"clip-{clip_id}-5s.mp4"
    if not out.is_file():
        centre = centre_time(media_path)
        cut_segment(media_path, out, max(centre - SEGMENT_SECONDS / 2, 0.0), centre + SEGMENT_SECONDS / 2)
    return out


__all__ = ["GUIDE", "MediaError", "boxed_frame", "centre_frame", "format_boxes", "heatmap_colours", "heatmap_overlay",
           "load_heatmap", "parse_boxes", "segment_around_centre", "with_boxes"]
