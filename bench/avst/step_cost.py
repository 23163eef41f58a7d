"""Peak memory and time per AVST training step by variant and input length (the point of Table 6.2).

Each (variant, frames) runs in a fresh process so ru_maxrss is that configuration's own peak.
Usage: python bench/avst/step_cost.py --config tiny --batch 8 --frames 5 15 30 --out bench/avst/step_cost.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from core.avst.config import VARIANTS


def one(config: str, variant: str, frames: int, batch: int, steps: int, device: str) -> dict:
    """Time and peak memory of `steps` InfoNCE training steps on random inputs of `frames` frames."""
    import torch

    from core.avst.builder import build_avst
    from core.avst.config import get_config, spec_columns
    from core.avst.losses import info_nce

    torch.manual_seed(0)
    cfg = get_config(config, variant=variant)
    model = build_avst(cfg).to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(batch, 3, frames, cfg.image_size, cfg.image_size, device=device)
    spec = torch.randn(batch, cfg.n_mels, spec_columns(frames), device=device)
    lengths = torch.full((batch,), frames, device=device)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(steps + 1):  # the first step warms up
        start = time.perf_counter()
        vis, vis_pad = model.visual_tokens(x, lengths)
        aud, aud_pad = model.audio_tokens(spec, lengths)
        loss = info_nce(model.score_matrix(vis, vis_pad, aud, aud_pad))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    peak = (torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else
            (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
    tokens = vis.shape[1] + aud.shape[1] + (1 if variant != "dec" else 0)
    return {"variant": variant, "frames": frames, "batch": batch, "pairs": batch * batch, "device": device,
            "sequence_tokens": tokens, "step_s": round(sorted(times[1:])[len(times[1:]) // 2], 3),
            "peak_mib": round(peak, 1), "peak_kind": "cuda max_memory_allocated" if device == "cuda"
            else "growth of process max RSS during the steps"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="tiny")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--frames", nargs="+", type=int, default=[5, 15, 30])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None)
    parser.add_argument("--one", nargs=2, metavar=("VARIANT", "FRAMES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.config, args.one[0], int(args.one[1]), args.batch, args.steps, args.device)))
        return
    rows = []
    for variant in args.variants:
        for frames in args.frames:
            out = subprocess.run([sys.executable, __file__, "--config", args.config, "--batch", str(args.batch),
                                  "--steps", str(args.steps), "--device", args.device, "--one", variant,
                                  str(frames)], capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    if args.out:
        with open(args.out, "w") as handle:
            json.dump({"config": args.config, "rows": rows}, handle, indent=1)


if __name__ == "__main__":
    main()
