#!/usr/bin/env bash
# train-tiny: the test-suite check of the Fashion-MNIST trainer.
#
#   train-tiny.sh TRAINER
#
# 1. A tiny training run (a slice of Fashion-MNIST when it is installed,
#    generated images otherwise) with --check: the trainer exits non-zero
#    unless the loss fell and no projector column collapsed.
# 2. The checkpoint round trip: --eval-only on the saved encoder must give
#    exactly the kNN and linear-probe accuracy of the run that saved it.
# 3. Reproducibility: a second run with the same seed and thread count
#    must write the same train.csv (all but the two timing columns) and
#    the same eval.csv.
set -euo pipefail
trainer=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

args=(--fallback-synthetic --train-subset 2048 --epochs 4 --batch 128
      --encoder 256,128 --projector 256,256 --eval-train 2048 --eval-test 500
      --curve-bank 1000 --curve-queries 200 --knn-every 2 --probe-epochs 3
      --seed 7 --threads 1)

echo "== tiny training run with --check"
"$trainer" "${args[@]}" --check --out "$tmp/a"

echo "== checkpoint round trip"
"$trainer" "${args[@]}" --eval-only "$tmp/a/encoder.ckpt" --out "$tmp/b"
trained=$(grep '^trained,' "$tmp/a/eval.csv" | cut -d, -f2-)
loaded=$(grep '^checkpoint,' "$tmp/b/eval.csv" | cut -d, -f2-)
echo "trained:    dim,knn,probe = $trained"
echo "checkpoint: dim,knn,probe = $loaded"
if [ -z "$trained" ] || [ "$trained" != "$loaded" ]; then
    echo "FAIL: --eval-only on the checkpoint does not reproduce the trained encoder's accuracy" >&2
    exit 1
fi

echo "== reproducibility: the same run again"
"$trainer" "${args[@]}" --out "$tmp/c" >/dev/null
# Columns 15 and 16 (steps/s, elapsed seconds) are timings.
if ! cmp <(cut -d, -f1-14 "$tmp/a/train.csv") <(cut -d, -f1-14 "$tmp/c/train.csv") ||
   ! cmp "$tmp/a/eval.csv" "$tmp/c/eval.csv"; then
    echo "FAIL: two runs with the same seed and thread count differ" >&2
    diff "$tmp/a/train.csv" "$tmp/c/train.csv" >&2 || true
    exit 1
fi
echo "train-tiny: loss fell, no collapse, checkpoint round trip and rerun identical"
