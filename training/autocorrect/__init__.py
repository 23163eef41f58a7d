"""AutoCorrect training, evaluation and prediction."""
