"""AVST on a 10-minute 1920x1080 30 fps clip with 44.1 kHz audio: wall time and peak memory on this machine.

Usage: python bench/avst/long_clip.py --out bench/avst/long_clip_cpu_2026-12-07.json

The clip is written with ffmpeg (a box moving over a flat background, a white square flashing with each
1 kHz click, x264 ultrafast, AAC), then the bundled avst-demo checkpoint decodes and scores it
(AVSTPredictor.from_checkpoint + load + predict_clip with the curve) in a child process. Reported: the
child's wall time (split into checkpoint, decode and scoring), and its peak resident memory (ru_maxrss
from wait4 on that child alone, so ffmpeg's memory is not counted) and CPU time; the load averages at start
and end say how much else ran on the machine meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FFMPEG = "/usr/bin/ffmpeg"
TARGET_PEAK_MB = 2048


def write_clip(path: Path, seconds: float, width: int, height: int, fps: int, sample_rate: int) -> float:
    """Write the test clip with ffmpeg; returns the seconds it took."""
    period = 1.1  # s between clicks (and flashes); not a whole number of frames, nor 1 s
    box = height // 4
    video = (f"[0][1]overlay=x='mod(t*{width // 5}\\,{width - box})':y={(height - box) // 2},"
             f"drawbox=x={width - 2 * box}:y={box // 2}:w={box}:h={box}:color=white:t=fill:"
             f"enable='lt(mod(t\\,{period})\\,0.08)'[v]")
    audio = f"aevalsrc='0.8*sin(2*PI*1000*t)*lt(mod(t\\,{period})\\,0.03)':s={sample_rate}:d={seconds}"
    command = [FFMPEG, "-v", "error", "-y",
               "-f", "lavfi", "-i", f"color=c=0x303848:s={width}x{height}:r={fps}:d={seconds}",
               "-f", "lavfi", "-i", f"color=c=0xd0a020:s={box}x{box}:r={fps}:d={seconds}",
               "-f", "lavfi", "-i", audio,
               "-filter_complex", video, "-map", "[v]", "-map", "2",
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(fps),
               "-c:a", "aac", "-b:a", "96k", str(path)]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def child(clip: str, checkpoint: str, result: str) -> None:
    """Decode and score the clip; write timings and the prediction to result."""
    import resource

    import torch

    from core.avst.predictor import AVSTPredictor

    times = [time.perf_counter()]
    predictor = AVSTPredictor.from_checkpoint(checkpoint, "cpu")
    times.append(time.perf_counter())
    arrays = predictor.load(clip)
    times.append(time.perf_counter())
    prediction = predictor.predict_clip(arrays)
    times.append(time.perf_counter())
    Path(result).write_text(json.dumps({
        "checkpoint_s": round(times[1] - times[0], 2), "decode_s": round(times[2] - times[1], 2),
        "score_s": round(times[3] - times[2], 2), "torch_threads": torch.get_num_threads(),
        "frames_25fps": arrays.n_frames, "frames_bytes": arrays.frames.numel(),
        "spectrogram_bytes": arrays.spec.numel() * arrays.spec.element_size(),
        "offset_frames": prediction.offset_frames, "uncertainty": round(prediction.uncertainty, 4),
        "curve_points": len(prediction.curve),
        "curve_span_s": [prediction.curve[0][0], prediction.curve[-1][0]] if prediction.curve else None,
        "self_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


def machine() -> dict:
    """Cores, CPU model, memory and library versions of this machine."""
    import av
    import torch

    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kb = next((int(line.split()[1]) for line in meminfo if line.startswith("MemTotal")), 0)
    ffmpeg = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    return {"cpu_model": model, "cores": os.cpu_count(), "cores_usable": len(os.sched_getaffinity(0)),
            "memory_gb": round(total_kb / 2**20, 1), "gpu": torch.cuda.is_available(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "torch": torch.__version__, "pyav": av.__version__,
            "ffmpeg": ffmpeg, "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--size", default="1920x1080", help="WIDTHxHEIGHT of the clip")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--sample-rate", type=int, default=44100)
    parser.add_argument("--clip", default=None, help="use this clip instead of writing one")
    parser.add_argument("--checkpoint", default=None, help="default: the bundled avst-demo")
    parser.add_argument("--out", default=None, help="JSON file for the results (default: print only)")
    parser.add_argument("--child", nargs=3, metavar=("CLIP", "CHECKPOINT", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    from core.media import probe
    from training.family import bundled_checkpoint

    checkpoint = args.checkpoint or str(bundled_checkpoint("avst-demo"))
    with tempfile.TemporaryDirectory() as tmp:
        clip, written_s = Path(args.clip) if args.clip else Path(tmp) / "long.mp4", None
        if not args.clip:
            width, height = (int(v) for v in args.size.split("x"))
            written_s = write_clip(clip, args.minutes * 60, width, height, args.fps, args.sample_rate)
            print(f"clip written in {written_s:.1f} s", file=sys.stderr, flush=True)
        info = probe(clip)
        result = Path(tmp) / "child.json"
        about = machine()  # the load average just before scoring
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, __file__, "--child", str(clip), checkpoint, str(result)])
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so that ru_maxrss is its own
        if process.returncode:
            raise SystemExit(f"the scoring process failed with exit code {process.returncode}")
        report = {
            "clip": {"duration_s": round(info.duration, 2), "width": info.width, "height": info.height,
                     "fps": info.fps, "sample_rate": info.sample_rate, "bytes": clip.stat().st_size,
                     "written_s": None if written_s is None else round(written_s, 1)},
            "checkpoint": Path(checkpoint).name,
            "wall_s": round(wall, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),  # less sensitive than wall_s to other load
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
            "target_peak_rss_mb": TARGET_PEAK_MB,
            "within_target": usage.ru_maxrss / 1024 < TARGET_PEAK_MB,
            "child": json.loads(result.read_text()),
            "machine": {**about, "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
            "date": time.strftime("%Y-%m-%d"),
            "command": " ".join(["python", "bench/avst/long_clip.py", *sys.argv[1:]]),
        }
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
