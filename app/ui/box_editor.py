"""The box editor of the Sound-source boxes page: a local Streamlit component (app/static/box_editor),
the frame at 640 px wide or more with zoom, pan, the heatmap overlay, keyboard nudging and its own Save."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import streamlit.components.v1 as components
from folium.utilities import image_to_url

FRONTEND = Path(__file__).resolve().parents[1] / "static" / "box_editor"
_component = components.declare_component("box_editor", path=str(FRONTEND))


@st.cache_data(max_entries=64, show_spinner=False)
def png_url(image: np.ndarray) -> str:
    """An RGB or RGBA uint8 image as a PNG data URL (encoded once per image)."""
    return image_to_url(image)


def box_editor(frame: np.ndarray, heatmap_colours: np.ndarray | None, model_boxes: list[list[float]],
               boxes: list[list[float]], reset: str, key: str,
               on_change: Callable[..., None] | None = None, args: tuple = ()) -> dict[str, Any] | None:
    """Show the editor; it starts from `boxes` (fractions of the frame) whenever `reset` changes and reports
    {"boxes", "reset", "seq", "save"} in st.session_state[key] after each edit (save: its Save was pressed)."""
    return _component(image=png_url(frame), heatmap=None if heatmap_colours is None else png_url(heatmap_colours),
                      model_boxes=model_boxes, boxes=boxes, reset=reset, key=key, default=None,
                      on_change=partial(on_change, *args) if on_change else None)
