#!/usr/bin/env bash
# One run on a GPU machine: the CUDA-path tests, then the GPU benchmarks of the three models.
# Usage: bash bench/gpu_checks.sh OUT_DIR AUTOCORRECT_PACK
#   AUTOCORRECT_PACK: `python bench/autocorrect/bench.py pack --data DIR --out PACK.pkl` of held-out tiles
#   (so the GPU machine needs no rasterio/geopandas). Results: bench/*/RESULTS.md, "GPU" sections.
set -uo pipefail
out=$1
pack=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
device=${DEVICE:-cuda}  # DEVICE=cpu: a dry run of the commands here
step() { echo "== $* ($(date +%T))"; }

step gpu
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$out/gpu.txt"

step cuda tests
timeout 240 python3 -m pytest -q --noconftest -p no:cacheprovider -m gpu tests/test_cuda_paths.py

step autocorrect speed
for copies in 1 32; do
  timeout 120 python3 bench/autocorrect/bench.py speed --device "$device" --copies $copies \
    --checkpoint training/checkpoints/autocorrect-buildings.pt --data "$pack" --out "$out/autocorrect_${device}_x$copies.json"
done

step avst scoring
timeout 120 python3 bench/avst/scoring_speed.py --device "$device" --out "$out/avst_scoring_${device}.json"

step avst step cost, thesis config
timeout 150 python3 bench/avst/step_cost.py --device "$device" --config thesis --batch 8 --steps 3 --frames 5 15 30 \
  --out "$out/avst_step_cost_${device}.json"

step localizer speed
python3 -m core.synthetic localization --clips 64 --seed 7 --out "$work/loc" > /dev/null
timeout 150 python3 bench/localizer/speed.py --device "$device" --data "$work/loc" --clips 64 --batch-size 64 \
  --train-steps 16 --out "$out/localizer_${device}.json"
step done
