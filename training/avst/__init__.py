"""AVST (thesis chapter 6): audio-visual synchronisation scored over offsets."""

from training.avst.options import AVSTAdaptOptions, AVSTEvalOptions, AVSTTrainOptions
from training.family import ModelFamily, lazy

FAMILY = ModelFamily(
    name="avst",
    project_kinds=("sync",),
    bundled={"sync": "avst-demo"},
    headline=("model", "accuracy"),
    train_options=AVSTTrainOptions,
    eval_options=AVSTEvalOptions,
    train=lazy("training.avst.train:train"),
    evaluate=lazy("training.avst.evaluate:evaluate"),
    predict_project=lazy("training.avst.predict:predict_project"),
    predict_clip=lazy("training.avst.predict:predict_clip"),
    build_training_set=lazy("training.avst.verdict_data:build_training_set"),
    ignore_verdicts=lazy("training.avst.verdict_data:ignore_verdicts"),
    make_benchmark=lazy("training.avst.evaluate:make_benchmark"),
    adapt=lazy("training.avst.adapt:adapt"),
    adapt_options=AVSTAdaptOptions,
    self_check=lazy("training.avst.adapt:project_self_check"),
    adapt_data=lazy("training.clip_adapt:export_project_clips"),
    example_params={"train": {"epochs": 3, "max_steps": 60, "batch_size": 8, "eval": {"lengths": "1,2,3"}},
                    "evaluate": {"eval": {"lengths": "1,2,3"}}, "adapt": {"minutes": 5}},
)
