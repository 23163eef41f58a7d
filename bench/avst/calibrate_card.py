"""Store an AVST checkpoint's confidence threshold in its card: a self-check on held-out generated clips.

Used for single-clip predictions (`predict avst --clip`), which have no project to calibrate on;
project predictions calibrate on the project's own clips instead.

    python -m core.synthetic sync --clips 40 --seed 1001 --size 64 --min-duration 4 --max-duration 8 --out /tmp/sync_cal
    python bench/avst/calibrate_card.py --checkpoint training/checkpoints/avst-demo.pt --data /tmp/sync_cal
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.avst.dataset import read_sync_set
from core.avst.predictor import AVSTPredictor
from core.checkpoints import config_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="generated sync clips the model never saw")
    args = parser.parse_args(argv)
    predictor = AVSTPredictor.from_checkpoint(args.checkpoint, "cpu")
    entries = read_sync_set(args.data)
    check = predictor.self_check([predictor.load(e.path) for e in entries], [e.speech for e in entries])
    meta_path = config_path(args.checkpoint)
    meta = json.loads(meta_path.read_text())
    meta["calibration"] = {**check.calibration.to_dict(), "self_check": {
        k: v for k, v in check.to_dict().items() if k != "calibration"}, "data": str(args.data)}
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(json.dumps(meta["calibration"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
