#!/usr/bin/env bash
# Table 3.1 ablations on synthetic railway tiles (see RESULTS.md). Run from the repository root:
#   bash bench/autocorrect/run_ablations.sh DATA_ROOT OUT_DIR STEPS
# DATA_ROOT holds rail_train_clean / rail_train_n20 / rail_train_n40 (same scenes, seed 11, exact share
# 1.0 / 0.8 / 0.6); see RESULTS.md for the generator commands. Every model gets the same budget: STEPS
# steps of 32 samples, seed 0, one thread.
set -euo pipefail
DATA=${1:?data root}; OUT=${2:?out dir}; STEPS=${3:-1000}
PY=.venv/bin/python
SLOT=${SLOT:-}  # optional wrapper that waits for a free core
mkdir -p "$OUT"
train() {  # name data extra-args...
  local name=$1 data=$2; shift 2
  $SLOT $PY -m training train autocorrect --data "$DATA/$data" --out "$OUT/$name.pt" --max-steps "$STEPS" --seed 0 \
    --threads 1 "$@" > "$OUT/$name.train.log" 2>&1
}
train A_nomm_self_clean rail_train_clean --no-memory-map --loss self
train B_mm_self_clean rail_train_clean --loss self
train D_mm_self_n20 rail_train_n20 --loss self
train E_mm_joint_n20 rail_train_n20 --loss joint
train F_mm_self_n40 rail_train_n40 --loss self
train G_mm_joint_n40 rail_train_n40 --loss joint
