#!/usr/bin/env bash
# Table 5.4's direction: the same CLI training (data, seed, epochs, warm-up) with each loss variant,
# then the CLI evaluation on held-out clips (a different generator seed). Writes bench/localizer/*.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
TRAIN=${TRAIN:-/tmp/loc/train960}   # python -m core.synthetic localization --clips 960 --seed 3 --duration 3
TEST=${TEST:-/tmp/loc/test160}      # python -m core.synthetic localization --clips 160 --seed 2 --duration 3
CKPT=${CKPT:-/tmp/loc/ck}
OUT=bench/localizer
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}  # the recorded runs used one thread each (2 shared cores)
for variant in ${VARIANTS:-trimap positives-only no-ignore}; do
  if [ "$variant" = trimap ] && [ -z "${RETRAIN_TRIMAP:-}" ]; then
    ckpt=training/checkpoints/localizer-demo.pt   # the bundled demo is exactly this run
  else
    ckpt=$CKPT/$variant.pt
    .venv/bin/python -m training train localizer --data "$TRAIN" --out "$ckpt" --config tiny \
      --variant "$variant" --epochs 6 --warmup-epochs 2 --lr 1e-3 --batch-size 32 --seed 0 --half
  fi
  .venv/bin/python -m training eval localizer --data "$TEST" --checkpoint "$ckpt" --json > "$OUT/eval_$variant.json"
  cat "$OUT/eval_$variant.json"
done
