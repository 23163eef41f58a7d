"""The fixed synthetic benchmark a retrain job scores parent and child on, and each model's headline metric."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from core.config import get_settings

# the number a version comparison leads with: a path into the model's `eval --json` report
HEADLINE = {"autocorrect": ("model", "iou"), "localizer": ("model", "ciou@0.5"), "avst": ("model", "accuracy")}


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


def synthetic_benchmark(model: str, variant: str, spec: BenchmarkSpec) -> Path:
    """The benchmark's folder (in the layout `eval MODEL --data` reads), generated on first use."""
    folder = get_settings().data_dir / "benchmarks" / f"{model}-{variant}-s{spec.seed}-n{spec.items}-px{spec.size}"
    if (folder / "meta.json").is_file():
        return folder
    partial = folder.with_name(folder.name + ".part")
    shutil.rmtree(partial, ignore_errors=True)
    _generate(model, variant, spec, partial)
    (partial / "benchmark.json").write_text(json.dumps({"model": model, "variant": variant, **asdict(spec)}))
    try:
        partial.replace(folder)  # a half-written benchmark is never used
    except OSError:  # another job wrote the same benchmark meanwhile
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def _generate(model: str, variant: str, spec: BenchmarkSpec, out: Path) -> None:
    if model == "autocorrect":
        from core.synthetic.geo import generate_geo

        generate_geo(kind=variant, tiles=spec.items, size=spec.size or 256, seed=spec.seed, out=out)
    elif model == "localizer":
        from core.synthetic.localization import generate_localization

        generate_localization(clips=spec.items, seed=spec.seed, out=out, duration=3.0, size=spec.size or 224)
    elif model == "avst":
        from core.synthetic.sync import generate_sync

        generate_sync(clips=spec.items, seed=spec.seed, out=out, min_duration=4.0, max_duration=6.0,
                      size=spec.size or 112)
    else:
        raise ValueError(f"no synthetic benchmark for model {model!r}")


def headline(model: str, report: dict | None) -> float | None:
    """The model's headline number in an eval report (None if absent)."""
    value = report
    for key in HEADLINE[model]:
        value = value.get(key) if isinstance(value, dict) else None
    return None if value is None else float(value)
