"""Training, evaluation and prediction for the sound-source localizer (thesis chapter 5)."""
