"""Stage-3 classifier on the real recordings of the gradio wheel (sax.wav and cantina.wav are music,
cate_blanch.mp3 and heath_ledger.mp3 speech): what `predict audioclass --clip FILE --json` says for each.

    .venv/bin/python bench/audioclass/real_audio.py --cache /tmp/samples --out bench/audioclass/real_audio.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.samples import GRADIO_MEDIA, fetch
from training.options import PredictOptions
from training.audioclass.predict import predict_clip

EXPECTED = {"sax.wav": "music", "cantina.wav": "music", "cate_blanch.mp3": "speech", "heath_ledger.mp3": "speech"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="where the wheel's members are (fetched once)")
    parser.add_argument("--verifier", type=Path, help="default: the bundled audioclass-verifier")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    root = fetch(GRADIO_MEDIA, args.cache) / "gradio" / "media_assets" / "audio"
    rows = {}
    for name, expected in EXPECTED.items():
        result = predict_clip(PredictOptions(clip=root / name), verifier=args.verifier)
        scores = {k: result[k] for k in ("speech", "music", "other")}
        said = max(scores, key=scores.get)
        rows[name] = {"expected": expected, "said": said, "right": said == expected, **scores,
                      "verifier_version": result["verifier_version"]}
        print(name, rows[name], flush=True)
    report = {"date": "2026-12-07", "clips": rows, "right": sum(r["right"] for r in rows.values()), "of": len(rows)}
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
