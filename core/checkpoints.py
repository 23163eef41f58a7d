"""Checkpoints as plain tensors plus a JSON config beside them (never pickled objects).

The JSON is {"family": <model family>, "model": <network config>, "train": <how it was trained>, ...}.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch


def config_path(checkpoint: str | Path) -> Path:
    """Where a checkpoint's JSON config lives: `model.pt` -> `model.json`."""
    return Path(checkpoint).with_suffix(".json")


def save_checkpoint(path: str | Path, state_dict: dict, config: dict) -> Path:
    """Write the weights (tensors only) and the config JSON; both atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".pt.tmp")
    torch.save({k: v.detach().cpu() for k, v in state_dict.items()}, tmp)
    tmp.replace(path)
    meta = config_path(path)
    meta.with_suffix(".json.tmp").write_text(json.dumps(config, indent=2, sort_keys=True))
    meta.with_suffix(".json.tmp").replace(meta)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> tuple[dict, dict]:
    """(state_dict, config) of a checkpoint, loaded with weights_only=True."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint")
    if not config_path(path).is_file():
        raise FileNotFoundError(f"{config_path(path)}: the checkpoint's config is missing")
    state = torch.load(path, map_location=map_location, weights_only=True)
    return state, json.loads(config_path(path).read_text())


def checkpoint_meta(family: str, model: dict, train: dict, **extra) -> dict:
    """The JSON written beside a checkpoint's weights: family, network config, training record (and extras)."""
    return {"family": family, "model": model, "train": train, **extra}


def model_config(meta: dict, family: str, path: str | Path = "checkpoint") -> dict:
    """The network config of a checkpoint's JSON, checked to be of `family`.

    Also reads the older localizer layout {"model": "localizer", "localizer": <config>}.
    """
    if meta.get("family", family) != family:
        raise ValueError(f"{path}: not a {family} checkpoint (it is a {meta['family']} one)")
    model = meta.get("model")
    if model == "localizer" and isinstance(meta.get("localizer"), dict):
        if family != "localizer":
            raise ValueError(f"{path}: not a {family} checkpoint (it is a localizer one)")
        return meta["localizer"]
    if not isinstance(model, dict):
        raise ValueError(f"{path}: not a {family} checkpoint (its JSON has no 'model' config)")
    return model


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checkpoint_version(path: str | Path) -> str:
    """The version string predictions carry: the config's `version`, else name + short hash."""
    config = json.loads(config_path(path).read_text()) if config_path(path).is_file() else {}
    return config.get("version") or f"{Path(path).stem}-{file_sha256(path)[:12]}"
