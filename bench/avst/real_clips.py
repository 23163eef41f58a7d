"""AVST on real clips nobody here made: the gradio wheel's three videos, as they are and with the audio moved.

Each clip (`gradio/media_assets/videos/{a,b,world}.mp4`: a globe turning to music and motion graphics,
no audio-visual event) is written with its audio moved by each --shifts value (25 fps frames, positive
= late) and predicted as `python -m training predict avst --clip FILE --json` does, with the card's
confidence threshold. The targets: no clip confident, and no confident offset more than 5 frames off
the known shift. Also reported: the answer the model would give without abstention.

    python bench/avst/real_clips.py --json bench/avst/real_clips_2026-12-07.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from core.media import probe, write_shifted
from core.samples import GRADIO_MEDIA, fetch
from training.avst.predict import predict_clip
from training.options import PredictOptions

CLIPS = ("a", "b", "world")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=None, help="default: the bundled avst-demo")
    parser.add_argument("--shifts", default="-10,0,10", help="audio moves in 25 fps frames, comma-separated")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "samples")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    root = fetch(GRADIO_MEDIA, args.cache) / "gradio" / "media_assets" / "videos"
    shifts = [int(s) for s in args.shifts.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in CLIPS:
            source = root / f"{name}.mp4"
            info = probe(source)
            for shift in shifts:
                clip = source if shift == 0 else write_shifted(source, Path(scratch) / f"{name}_{shift}.mp4", shift)
                started = time.perf_counter()
                result = predict_clip(PredictOptions(clip=clip, checkpoint=args.checkpoint, device="cpu"))
                error = abs(result["model_offset_frames"] - shift)
                rows.append({"clip": name, "size": [info.width, info.height], "fps": round(info.fps, 3),
                             "sample_rate": info.sample_rate, "seconds": round(info.duration, 2), "shift": shift,
                             "confident": result["confident"], "offset_frames": result["offset_frames"],
                             "model_offset_frames": result["model_offset_frames"], "model_error": error,
                             "sync_score": round(result["sync_score"], 4),
                             "predict_seconds": round(time.perf_counter() - started, 2)})
                print(json.dumps(rows[-1]), flush=True)
    confident = [r for r in rows if r["confident"]]
    summary = {"predictions": len(rows), "confident": len(confident),
               "confident_more_than_5_off": sum(r["model_error"] > 5 for r in confident),
               "within_5_without_abstention": sum(r["model_error"] <= 5 for r in rows),
               "model_version": result["model_version"], "calibration": result["calibration"]}
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "command": " ".join(sys.argv),
                                         "summary": summary, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
