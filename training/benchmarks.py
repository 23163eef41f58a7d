"""The fixed synthetic benchmark a retrain or project evaluation scores a model on."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from core.config import get_settings
from training.family import ModelFamily


@dataclass(frozen=True)
class BenchmarkSpec:
    """Which seeded synthetic set: the same spec always gives the same files."""

    seed: int = 1000
    items: int = 12  # clips (localizer, avst) or tiles (autocorrect)
    size: int = 0  # tile side / frame side in px; 0: the generator's default for the model

    @classmethod
    def from_params(cls, params: dict) -> "BenchmarkSpec":
        """The spec in a job's params ("benchmark": {"seed", "items", "size"}), removing it from them."""
        given = params.pop("benchmark", None) or {}
        unknown = set(given) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"benchmark: unknown field(s) {', '.join(sorted(unknown))}")
        return cls(**{k: int(v) for k, v in given.items()})


def synthetic_benchmark(family: ModelFamily, variant: str, spec: BenchmarkSpec) -> Path:
    """The benchmark's folder (in the layout `eval FAMILY --data` reads), generated on first use."""
    model = family.name
    folder = get_settings().data_dir / "benchmarks" / f"{model}-{variant}-s{spec.seed}-n{spec.items}-px{spec.size}"
    if (folder / "benchmark.json").is_file():
        return folder
    partial = folder.with_name(folder.name + ".part")
    shutil.rmtree(partial, ignore_errors=True)
    family.make_benchmark(variant, spec, partial)
    (partial / "benchmark.json").write_text(json.dumps({"model": model, "variant": variant, **asdict(spec)}))
    try:
        partial.replace(folder)  # a half-written benchmark is never used
    except OSError:  # another job wrote the same benchmark meanwhile
        shutil.rmtree(partial, ignore_errors=True)
    return folder
