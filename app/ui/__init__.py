"""Reusable Streamlit UI building blocks for the app's pages."""
