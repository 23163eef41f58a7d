#!/usr/bin/env bash
# Table 3.1 rows D-G over several training seeds, two runs at a time (one thread each). From the repo root:
#   SEEDS="0 1 2" DILATE=6 bash bench/autocorrect/consistency_seeds.sh DATA_ROOT OUT_DIR STEPS
# DATA_ROOT holds rail_train400_n20 / rail_train400_n40 (seed 11, exact share 0.8 / 0.6; RESULTS.md has the
# generator commands). J_s-only runs are named D_s<seed> / F_s<seed>; joint runs with the eq. 3.5 gate on
# masks grown by DILATE px are E_d<DILATE>_s<seed> / G_d<DILATE>_s<seed>.
set -euo pipefail
DATA=${1:?data root}; OUT=${2:?out dir}; STEPS=${3:-800}
SEEDS=${SEEDS:-0 1 2}; DILATE=${DILATE:-6}; JOBS=${JOBS:-2}
mkdir -p "$OUT"
for s in $SEEDS; do
  for row in "D_s$s rail_train400_n20 --loss self" "E_d${DILATE}_s$s rail_train400_n20 --loss joint --gate-dilate $DILATE" \
             "F_s$s rail_train400_n40 --loss self" "G_d${DILATE}_s$s rail_train400_n40 --loss joint --gate-dilate $DILATE"; do
    set -- $row; name=$1 data=$2; shift 2
    [ -f "$OUT/$name.pt" ] && continue
    echo "OMP_NUM_THREADS=1 .venv/bin/python -m training train autocorrect --data $DATA/$data --out $OUT/$name.pt \
--max-steps $STEPS --seed $s --threads 1 $* > $OUT/$name.train.log 2>&1"
  done
done | xargs -P "$JOBS" -I{} bash -c {}
