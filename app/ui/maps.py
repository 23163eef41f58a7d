"""Folium maps that load Leaflet and its plugins only from the app's own static files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import branca.colormap
import folium
from branca.element import MacroElement
from folium.plugins import Draw
from folium.template import Template
from streamlit_folium import st_folium

STATIC_URL = "/app/static"
VENDOR_URL = f"{STATIC_URL}/vendor"
VENDOR_DIR = Path(__file__).resolve().parents[1] / "static" / "vendor"
FETCH_HINT = "run `make assets` (or `bash scripts/fetch_web_assets.sh`) from the repository root"

# (folium's asset name, path under the vendor folder); names match folium's own so
# plugins that list the same name reuse the one link.
MAP_JS = [
    ("leaflet", "leaflet/leaflet.js"),
    ("jquery", "jquery/jquery.min.js"),
    ("bootstrap", "bootstrap/js/bootstrap.bundle.min.js"),
    ("awesome_markers", "awesome-markers/js/leaflet.awesome-markers.js"),
]
MAP_CSS = [
    ("leaflet_css", "leaflet/leaflet.css"),
    ("bootstrap_css", "bootstrap/css/bootstrap.min.css"),
    ("glyphicons_css", "glyphicons/css/glyphicons.min.css"),
    ("awesome_markers_font_css", "fontawesome/css/all.min.css"),
    ("awesome_markers_css", "awesome-markers/css/leaflet.awesome-markers.css"),
    ("awesome_rotate_css", "folium/leaflet.awesome.rotate.min.css"),
]
DRAW_JS = [("leaflet_draw_js", "leaflet-draw/leaflet.draw.js")]
DRAW_CSS = [("leaflet_draw_css", "leaflet-draw/leaflet.draw.css")]

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_patched = False


class MissingWebAssetsError(RuntimeError):
    """The vendored Leaflet/folium browser assets are not on disk."""


class RemoteAssetError(ValueError):
    """A map would make the browser fetch something from another host."""


def static_url(relative: str) -> str:
    """The URL Streamlit serves a file of app/static at."""
    return f"{STATIC_URL}/{relative}"


def vendor_url(relative: str) -> str:
    """The URL Streamlit serves a vendored file at."""
    return static_url(f"vendor/{relative}")


def missing_assets() -> list[str]:
    """Vendored files the maps link to that are absent on disk."""
    wanted = [rel for _, rel in MAP_JS + MAP_CSS + DRAW_JS + DRAW_CSS]
    return [rel for rel in wanted if not (VENDOR_DIR / rel).is_file()]


def check_assets() -> None:
    """Raise MissingWebAssetsError, saying how to fix it, if any vendored file is missing."""
    missing = missing_assets()
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise MissingWebAssetsError(
            f"Map assets missing under {VENDOR_DIR} ({missing[0]}{more}): {FETCH_HINT}."
        )


def _local(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, vendor_url(rel)) for name, rel in pairs]


def use_local_assets() -> None:
    """Point folium.Map and the Draw plugin at the vendored assets (once per process)."""
    global _patched
    if _patched:
        return
    check_assets()
    folium.Map.default_js = _local(MAP_JS)
    folium.Map.default_css = _local(MAP_CSS)
    Draw.default_js = _local(DRAW_JS)
    Draw.default_css = _local(DRAW_CSS)
    _patched = True


def is_local_url(url: str) -> bool:
    """Whether a browser would load this URL from this server (or inline) only."""
    if url.startswith("//"):
        return False
    parts = urlsplit(url)
    if parts.scheme in ("", "data", "blob"):
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname in LOCAL_HOSTS


def _walk(element: Any) -> Iterator[Any]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def _element_urls(element: Any) -> Iterator[str]:
    for _, url in list(getattr(element, "default_js", [])) + list(getattr(element, "default_css", [])):
        yield url
    for attr in ("tiles", "url", "video_url"):
        value = getattr(element, attr, None)
        if isinstance(value, str):
            yield value


def remote_assets(m: folium.Map) -> list[str]:
    """Every 'Element: URL' in the map that points outside this server."""
    found = []
    for element in _walk(m):
        if isinstance(element, branca.colormap.ColorMap):
            found.append(f"{type(element).__name__}: d3.js (streamlit-folium loads it from a CDN)")
        found += [f"{type(element).__name__}: {u}" for u in _element_urls(element) if not is_local_url(u)]
    return found


def ensure_offline(m: folium.Map) -> None:
    """Raise RemoteAssetError if the map would load anything from another host."""
    remote = remote_assets(m)
    if remote:
        raise RemoteAssetError(
            "This map would load assets from outside the app; vendor them in "
            "scripts/fetch_web_assets.sh and point them at /app/static/vendor in "
            "app/ui/maps.py:\n  " + "\n  ".join(remote)
        )


class LocalIconPath(MacroElement):
    """Sets Leaflet's default marker image folder to the vendored one."""

    _template = Template(
        "{% macro script(this, kwargs) %}L.Icon.Default.imagePath = {{ this.path|tojson }};{% endmacro %}"
    )

    def __init__(self, path: str = vendor_url("leaflet/images/")) -> None:
        super().__init__()
        self._name = "LocalIconPath"
        self.path = path


def local_folium_map(**kwargs: Any) -> folium.Map:
    """A folium.Map with no base tiles by default that loads only vendored assets."""
    use_local_assets()
    kwargs.setdefault("tiles", None)
    m = folium.Map(**kwargs)
    # Leaflet guesses the marker image folder from its stylesheet; inside
    # streamlit-folium's iframe that guess is wrong (".../leafletmarker-icon.png").
    LocalIconPath().add_to(m)
    ensure_offline(m)
    return m


def render_map(m: folium.Map, key: str, height: int = 500, **kwargs: Any) -> dict[str, Any]:
    """Show the map with streamlit-folium after checking it stays offline; returns its state."""
    use_local_assets()
    ensure_offline(m)
    kwargs.setdefault("use_container_width", True)
    return st_folium(m, key=key, height=height, **kwargs) or {}
