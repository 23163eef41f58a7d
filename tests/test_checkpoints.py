"""The checkpoint JSON schema shared by the model families, the device helper and core's import boundary."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.checkpoints import checkpoint_meta, config_path, model_config
from core.devices import resolve_device

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = {"autocorrect-railway": "autocorrect", "autocorrect-buildings": "autocorrect",
           "avst-demo": "avst", "localizer-demo": "localizer"}


def bundled_checkpoint(name: str) -> Path:
    return ROOT / "training" / "checkpoints" / f"{name}.pt"


def test_model_config_reads_the_shared_layout_and_checks_the_family():
    meta = checkpoint_meta("avst", {"variant": "dec"}, {"steps": 2}, seconds=1.0)
    assert meta == {"family": "avst", "model": {"variant": "dec"}, "train": {"steps": 2}, "seconds": 1.0}
    assert model_config(meta, "avst") == {"variant": "dec"}
    with pytest.raises(ValueError, match="x.pt: not a localizer checkpoint"):
        model_config(meta, "localizer", "x.pt")


def test_model_config_reads_the_older_layouts():
    legacy_localizer = {"model": "localizer", "localizer": {"name": "tiny"}, "train": {}}
    assert model_config(legacy_localizer, "localizer") == {"name": "tiny"}
    with pytest.raises(ValueError, match="not a avst checkpoint"):
        model_config(legacy_localizer, "avst")
    assert model_config({"model": {"channels": [4]}, "train": {}}, "autocorrect") == {"channels": [4]}
    with pytest.raises(ValueError, match="not a autocorrect checkpoint"):
        model_config({"train": {}}, "autocorrect")


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_checkpoints_name_their_family(name):
    meta = json.loads(config_path(bundled_checkpoint(name)).read_text())
    assert meta["family"] == BUNDLED[name] and isinstance(meta["model"], dict) and "train" in meta


def test_each_builder_reads_only_its_own_family():
    from core.autocorrect.builder import read_checkpoint as read_autocorrect
    from core.avst.builder import read_checkpoint as read_avst
    from core.localizer.builder import read_checkpoint as read_localizer

    assert read_autocorrect(bundled_checkpoint("autocorrect-railway"))[1].kind == "railway"
    assert read_avst(bundled_checkpoint("avst-demo"))[1].variant == "enc-mp"
    assert read_localizer(bundled_checkpoint("localizer-demo"))[1].name == "tiny"
    with pytest.raises(ValueError, match="not a avst checkpoint"):
        read_avst(bundled_checkpoint("localizer-demo"))


def test_predictors_carry_the_checkpoint_version():
    from core.autocorrect.predictor import AutoCorrectPredictor
    from core.avst.predictor import AVSTPredictor
    from core.checkpoints import checkpoint_version
    from core.localizer.predictor import LocalizerPredictor

    for cls, name in ((AutoCorrectPredictor, "autocorrect-railway"), (AVSTPredictor, "avst-demo"),
                      (LocalizerPredictor, "localizer-demo")):
        predictor = cls.from_checkpoint(bundled_checkpoint(name), "cpu")
        assert predictor.model_version == checkpoint_version(bundled_checkpoint(name))
        assert predictor.device == torch.device("cpu") and not predictor.model.training


def test_resolve_device(monkeypatch):
    assert resolve_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device(None) == torch.device("cpu")
    with pytest.raises(ValueError, match="no CUDA device"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device(None) == torch.device("cuda")


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


def test_core_imports_neither_training_nor_the_database():
    offenders = {str(path.relative_to(ROOT)): sorted(m for m in _imported_modules(path)
                                                     if m.split(".")[0] in ("training", "annotation_db", "app"))
                 for path in (ROOT / "core").rglob("*.py")}
    assert not {path: found for path, found in offenders.items() if found}


@pytest.mark.parametrize("module", ["core.avst.encoders", "core.avst.network", "core.avst.builder"])
def test_network_modules_import_on_their_own(module):
    subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, check=True)
