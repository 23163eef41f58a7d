"""Store a localizer checkpoint's confidence threshold in its card: a self-check on held-out generated clips.

Used for single-clip predictions (`predict localizer --clip`), which have no project to calibrate on;
project predictions calibrate on the project's own clips instead (core/localizer/selfcheck.py).

    python -m core.synthetic localization --clips 64 --seed 1001 --duration 3 --out /tmp/loc_cal
    python bench/localizer/calibrate_card.py --checkpoint training/checkpoints/localizer-demo.pt --data /tmp/loc_cal
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.checkpoints import config_path
from core.localizer.dataset import load_clip_set
from core.localizer.predictor import LocalizerPredictor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="generated localisation clips the model never saw")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N clips")
    args = parser.parse_args(argv)
    predictor = LocalizerPredictor.from_checkpoint(args.checkpoint, "cpu")
    clips = load_clip_set(args.data, predictor.config.network.image_size, predictor.config.audio,
                          limit=args.limit, cache=False)
    check = predictor.self_check(clips.images, clips.waveforms, clips.keys)
    meta_path = config_path(args.checkpoint)
    text = meta_path.read_text()
    meta = json.loads(text)
    meta["calibration"] = {**check.calibration.to_dict(), "self_check": {
        k: v for k, v in check.to_dict().items() if k != "calibration"}, "data": str(args.data)}
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + ("\n" if text.endswith("\n") else ""))
    print(json.dumps(meta["calibration"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
