"""Models, data, geometry, media and metrics: no Streamlit here."""
