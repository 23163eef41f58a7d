"""Hard-negative sound-source localizer (thesis chapter 5): heatmaps and boxes of the sounding object."""

from training.family import ModelFamily, lazy
from training.localizer.options import LocalizerAdaptOptions, LocalizerEvalOptions, LocalizerTrainOptions

FAMILY = ModelFamily(
    name="localizer",
    project_kinds=("localization",),
    bundled={"localization": "localizer-demo"},
    headline=("model", "ciou@0.5"),
    train_options=LocalizerTrainOptions,
    eval_options=LocalizerEvalOptions,
    train=lazy("training.localizer.train:train"),
    evaluate=lazy("training.localizer.evaluate:evaluate"),
    predict_project=lazy("training.localizer.predict:predict_project"),
    predict_clip=lazy("training.localizer.predict:predict_clip"),
    build_training_set=lazy("training.localizer.verdict_data:build_training_set"),
    ignore_verdicts=lazy("training.localizer.verdict_data:ignore_verdicts"),
    make_benchmark=lazy("training.localizer.evaluate:make_benchmark"),
    adapt=lazy("training.localizer.adapt:adapt"),
    adapt_options=LocalizerAdaptOptions,
    self_check=lazy("training.localizer.selfcheck:project_self_check"),
    adapt_data=lazy("training.clip_adapt:export_project_clips"),
    example_params={"train": {"epochs": 2, "max_steps": 100}, "evaluate": {}, "adapt": {"minutes": 5}},
)
