"""Training, evaluation, jobs and the model registry (no Streamlit)."""
