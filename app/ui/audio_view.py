"""The audio review pages' spectrogram picture, autoplay setting and frame-step keys."""

from __future__ import annotations

import numpy as np
import streamlit as st
import streamlit.components.v1 as components
from matplotlib import colormaps
from PIL import Image

from core.media import read_audio
from core.spectrogram import display_spectrogram

SAMPLE_RATE = 16000  # Hz; the spectrogram shows 0 to 8 kHz
AUTOPLAY_KEY = "review_autoplay"
_PREFERENCE = "review_autoplay_preference"  # kept when a page without the toggle drops the widget's state


@st.cache_data(max_entries=64, show_spinner=False)
def spectrogram_image(media_path: str, start_s: float = 0.0, end_s: float | None = None,
                      width: int = 640, height: int = 160) -> np.ndarray:
    """(height, width, 3) uint8 magma picture of core.spectrogram's view of the clip's sound in [start_s, end_s) s."""
    scaled = display_spectrogram(read_audio(media_path, SAMPLE_RATE, start_s, end_s))
    colours = (colormaps["magma"](scaled)[..., :3] * 255).astype(np.uint8)
    return np.asarray(Image.fromarray(colours).resize((width, height), Image.Resampling.BILINEAR))


def autoplay_setting() -> bool:
    """A toggle, shared by the audio review pages, to start each clip's playback by itself."""
    def remember() -> None:
        st.session_state[_PREFERENCE] = st.session_state[AUTOPLAY_KEY]

    return st.toggle("Play each clip automatically", value=st.session_state.get(_PREFERENCE, True),
                     key=AUTOPLAY_KEY, on_change=remember, help="Off: press play yourself.")


STEP_KEYS = ", / . step one frame (1/25 s) back / forward"
_FRAME_STEP_JS = """<script>
const doc = window.parent.document;  // the app's page: this component's iframe shares its origin
window.frameElement.dataset.frameStep = "%(fps)s";  // keys act only while a page that asked for them shows
if (!doc.frameStepKeys) {
  doc.frameStepKeys = true;
  doc.addEventListener("keydown", (event) => {
    if (event.key !== "," && event.key !== "." || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest("input, textarea, [contenteditable=true]")) return;
    const marker = doc.querySelector("iframe[data-frame-step]");
    const players = [...doc.querySelectorAll('[data-testid="stMain"] video')];
    const player = players[players.length - 1];
    if (!marker || !player) return;
    player.pause();
    const step = (event.key === "." ? 1 : -1) / Number(marker.dataset.frameStep);
    player.currentTime = Math.max(0, Math.min(player.duration || Infinity, player.currentTime + step));
    event.preventDefault();
  });
}
</script>"""


def frame_step_keys(fps: int = 25) -> None:
    """Let , and . pause the page's player and step it one frame (1 / fps s) back or forward."""
    components.html(_FRAME_STEP_JS % {"fps": int(fps)}, height=0)
