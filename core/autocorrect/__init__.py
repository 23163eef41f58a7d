"""AutoCorrect (thesis chapter 3): per-instance SE(2) alignment of noisy geometric annotations."""
