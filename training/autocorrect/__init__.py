"""AutoCorrect (thesis chapter 3): per-instance SE(2) re-alignment of railway and building annotations."""

from training.autocorrect.options import AutoCorrectAdaptOptions, AutoCorrectEvalOptions, AutoCorrectTrainOptions
from training.family import ModelFamily, lazy

FAMILY = ModelFamily(
    name="autocorrect",
    project_kinds=("railway", "buildings"),
    bundled={"railway": "autocorrect-railway", "buildings": "autocorrect-buildings"},
    headline=("model", "iou"),
    train_options=AutoCorrectTrainOptions,
    eval_options=AutoCorrectEvalOptions,
    train=lazy("training.autocorrect.train:train"),
    evaluate=lazy("training.autocorrect.evaluate:evaluate"),
    predict_project=lazy("training.autocorrect.predict:predict_project"),
    build_training_set=lazy("training.autocorrect.verdict_data:build_training_set"),
    ignore_verdicts=lazy("training.autocorrect.verdict_data:ignore_verdicts"),
    make_benchmark=lazy("training.autocorrect.evaluate:make_benchmark"),
    adapt=lazy("training.autocorrect.adapt:adapt"),
    adapt_options=AutoCorrectAdaptOptions,
    self_check=lazy("training.autocorrect.adapt:project_self_check"),
    example_params={"train": {"max_steps": 300, "batch_size": 16, "lr": 1e-4}, "evaluate": {},
                    "adapt": {"minutes": 5}},
)
