#!/usr/bin/env bash
# train-tiny: the test-suite check of the Fashion-MNIST trainer.
#
#   train-tiny.sh TRAINER
#
# For each model, the CNN on multi-crop views (--model cnn) and the MLP on
# an augmented pair (--model mlp, the default):
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

common=(--fallback-synthetic --epochs 4 --batch 128 --eval-test 500 --curve-queries 200
        --knn-every 2 --probe-epochs 3 --seed 7 --threads 1)
# The CNN on four views costs more than ten times the MLP per image, so it
# trains on half the images: under AddressSanitizer its three runs took 60 s
# of a two-minute limit on a Zen 3 core and more than all of it on a Xeon.
cnn=(--model cnn --conv 8p,16p,32 --projector 128,128 --local-views 2 --local-size 12
     --train-subset 1024 --eval-train 1024 --curve-bank 500 --calib 500)
mlp=(--model mlp --encoder 256,128 --projector 256,256
     --train-subset 2048 --eval-train 2048 --curve-bank 1000)

for model in cnn mlp; do
    if [ $model = cnn ]; then args=("${common[@]}" "${cnn[@]}"); else args=("${common[@]}" "${mlp[@]}"); fi
    dir=$tmp/$model
    mkdir -p "$dir"
    echo "== $model: tiny training run with --check"
    "$trainer" "${args[@]}" --check --out "$dir/a"

    echo "== $model: checkpoint round trip"
    "$trainer" "${args[@]}" --eval-only "$dir/a/encoder.ckpt" --out "$dir/b"
    trained=$(grep '^trained,' "$dir/a/eval.csv" | cut -d, -f2-)
    loaded=$(grep '^checkpoint,' "$dir/b/eval.csv" | cut -d, -f2-)
    echo "trained:    dim,knn,probe = $trained"
    echo "checkpoint: dim,knn,probe = $loaded"
    if [ -z "$trained" ] || [ "$trained" != "$loaded" ]; then
        echo "FAIL: --eval-only on the checkpoint does not reproduce the trained encoder's accuracy" >&2
        exit 1
    fi

    echo "== $model: reproducibility, the same run again"
    "$trainer" "${args[@]}" --out "$dir/c" >/dev/null
    # The last two columns (steps/s, elapsed seconds) are timings.
    untimed() { rev "$1" | cut -d, -f3- | rev; }
    if ! cmp <(untimed "$dir/a/train.csv") <(untimed "$dir/c/train.csv") ||
       ! cmp "$dir/a/eval.csv" "$dir/c/eval.csv"; then
        echo "FAIL: two $model runs with the same seed and thread count differ" >&2
        diff "$dir/a/train.csv" "$dir/c/train.csv" >&2 || true
        exit 1
    fi
done
echo "train-tiny: for the CNN and the MLP, loss fell, no collapse, checkpoint round trip and rerun identical"
