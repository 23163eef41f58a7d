"""Training, evaluation and prediction of AVST (thesis chapter 6)."""
