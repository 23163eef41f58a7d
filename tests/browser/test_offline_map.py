"""A folium map from app/ui/maps.py renders in chromium with no request leaving 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("map_probe_app.py")
STATIC_DIR = REPO_ROOT / "app" / "static"
LEAFLET_JS = STATIC_DIR / "vendor" / "leaflet" / "leaflet.js"


@pytest.fixture
def probe_url(streamlit_server) -> str:
    """The probe page served with the app's static folder."""
    if not LEAFLET_JS.is_file():
        pytest.fail("vendored web assets missing: run `make assets` (scripts/fetch_web_assets.sh)")
    return streamlit_server(PROBE, static_dir=STATIC_DIR)


def _draw_triangle(page, map_frame) -> None:
    map_frame.locator("a.leaflet-draw-draw-polygon").click()
    container = map_frame.locator(".leaflet-container")
    for count, (x, y) in enumerate([(600, 80), (650, 80), (650, 130)], start=1):
        container.click(position={"x": x, "y": y})
        expect(map_frame.locator(".leaflet-editing-icon")).to_have_count(count)
        page.wait_for_timeout(100)  # leaflet-draw ignores clicks for 50 ms after a vertex
    map_frame.locator('a[title="Finish drawing"]').click()


def test_map_renders_offline(page, probe_url, network_log, wait_for_app, folium_frame) -> None:
    page.goto(probe_url)
    wait_for_app(page, text="Map probe")
    map_frame = folium_frame(page)

    expect(map_frame.locator(".leaflet-container")).to_be_visible()
    expect(map_frame.locator("svg path.probe-polygon")).to_have_count(1)
    expect(map_frame.locator(".leaflet-draw-toolbar a.leaflet-draw-draw-polygon")).to_be_visible()
    marker = map_frame.locator("img.leaflet-marker-icon")
    expect(marker).to_have_attribute("src", "/app/static/vendor/leaflet/images/marker-icon.png")

    paths = {urlsplit(url).path for url in network_log.urls}
    assert "/app/static/vendor/leaflet/leaflet.js" in paths
    assert "/app/static/vendor/leaflet-draw/leaflet.draw.js" in paths
    assert not network_log.failures, network_log.failures
    assert network_log.external() == []


def test_drawn_polygon_reaches_python(page, probe_url, wait_for_app, folium_frame) -> None:
    page.goto(probe_url)
    wait_for_app(page, text="drawings: 0")
    map_frame = folium_frame(page)
    expect(map_frame.locator("svg path.probe-polygon")).to_have_count(1)

    _draw_triangle(page, map_frame)

    wait_for_app(page, text="drawings: 1")
