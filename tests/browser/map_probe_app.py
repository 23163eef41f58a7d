"""Tiny Streamlit page: one offline folium map with a polygon, a marker and the Draw plugin."""

import sys
from pathlib import Path

# `streamlit run app/main.py` puts app/ on sys.path; do the same for this probe.
APP_DIR = Path(__file__).resolve().parents[2] / "app"
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

import folium  # noqa: E402
import streamlit as st  # noqa: E402
from folium.plugins import Draw  # noqa: E402
from ui.maps import local_folium_map, render_map  # noqa: E402

PROBE_POLYGON = [[48.852, 2.340], [48.862, 2.352], [48.850, 2.362]]

st.title("Map probe")
m = local_folium_map(location=[48.856, 2.352], zoom_start=14)
folium.Polygon(PROBE_POLYGON, color="#d62728", fill=True, class_name="probe-polygon").add_to(m)
folium.Marker([48.858, 2.345], tooltip="probe marker").add_to(m)
Draw(draw_options={"polyline": False, "circle": False, "circlemarker": False}).add_to(m)
state = render_map(m, key="probe", height=420, returned_objects=["all_drawings"])
st.write(f"drawings: {len(state.get('all_drawings') or [])}")
