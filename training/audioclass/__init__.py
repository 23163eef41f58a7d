"""Audio classifier of VGG-Sound curation (thesis chapter 4): class proposals for clip-verification projects."""

from training.audioclass.options import AudioClassEvalOptions, AudioClassTrainOptions
from training.family import ModelFamily, lazy

FAMILY = ModelFamily(
    name="audioclass",
    project_kinds=("clip-verification",),
    bundled={"clip-verification": "audioclass-demo"},
    headline=("model", "mAP"),
    train_options=AudioClassTrainOptions,
    eval_options=AudioClassEvalOptions,
    train=lazy("training.audioclass.train:train"),
    evaluate=lazy("training.audioclass.evaluate:evaluate"),
    predict_project=lazy("training.audioclass.predict:predict_project"),
    predict_clip=lazy("training.audioclass.predict:predict_clip"),
    build_training_set=lazy("training.audioclass.verdict_data:build_training_set"),
    ignore_verdicts=lazy("training.audioclass.verdict_data:ignore_verdicts"),
    make_benchmark=lazy("training.audioclass.evaluate:make_benchmark"),
    curate=lazy("training.audioclass.curate_job:run_curate_job"),
    example_params={"train": {"epochs": 4}, "evaluate": {}, "curate": {"epochs": 8}},
)

VERIFIER = "audioclass-verifier"  # bundled speech / music / other classifier of stage 3 (4.3.3)
