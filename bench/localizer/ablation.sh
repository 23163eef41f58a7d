#!/usr/bin/env bash
# Table 5.4's direction: the same CLI training (data, seed, epochs, warm-up) with each loss variant,
# then the CLI evaluation on held-out clips (a different generator seed). Writes bench/localizer/*.json.
# Run it with one thread: OMP_NUM_THREADS=1 bench/localizer/ablation.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
TRAIN=${TRAIN:-/tmp/h4/train2000}   # python -m core.synthetic localization --clips 2000 --seed 3 --duration 3
TEST=${TEST:-/tmp/h4/test300}       # python -m core.synthetic localization --clips 300 --seed 2 --duration 3
CKPT=${CKPT:-/tmp/h4/ck}
OUT=${OUT:-bench/localizer}
EPOCHS=${EPOCHS:-8}
WARMUP=${WARMUP:-2}
SEED=${SEED:-0}               # training seed (data order, initialisation)
EXTRA=${EXTRA:-}
PY=${PY:-.venv/bin/python}
export OMP_NUM_THREADS=1  # one thread per process on this shared 2-core machine
mkdir -p "$CKPT" "$OUT"
for variant in ${VARIANTS:-trimap positives-only no-ignore}; do
  $PY -m training train localizer --data "$TRAIN" --out "$CKPT/$variant.pt" --config tiny \
    --variant "$variant" --epochs "$EPOCHS" --warmup-epochs "$WARMUP" --lr 1e-3 --batch-size 32 --seed "$SEED" \
    --half $EXTRA | tee "$OUT/train_$variant.json"
  $PY -m training eval localizer --data "$TEST" --checkpoint "$CKPT/$variant.pt" --json > "$OUT/eval_$variant.json"
  cat "$OUT/eval_$variant.json"
done
