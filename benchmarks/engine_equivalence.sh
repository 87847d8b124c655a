#!/usr/bin/env bash
# The training engine against the three loops it replaced (commit b7d4c94: train/frame.py, train/run.py,
# train/temporal.py), each on the same short schedule; prints whether the final weights are bit-identical.
#   bash benchmarks/engine_equivalence.sh [OLD_COMMIT] [SHARED_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=${1:-b7d4c94}
SHARED=$(cd "${2:-../shared}" && pwd)
PY=${PYTHON:-.venv/bin/python}
W=$(mktemp -d)
trap 'git worktree remove --force "$W/old" >/dev/null 2>&1 || true; rm -rf "$W"' EXIT
git worktree add -q --detach "$W/old" "$OLD"
NEW="PYTHONPATH=$PWD/src"

# 1. frame: FER+ soft votes with FER2013 and VA heads (configs/frame-m.yaml), 2 epochs on 1,024 images
sed -e "s#../shared#$SHARED#" -e "s#out_dir: .*#out_dir: $W/frame-old#" -e "/^task:/d" -e "/^optimizer:/d" \
    -e "/^scheduler:/d" -e "/^pct_start:/d" -e "s#^data:#data_root:#" configs/frame-m.yaml > "$W/frame-old.yaml"
echo "epochs: 2" >> "$W/frame-old.yaml"; echo "max_train: 1024" >> "$W/frame-old.yaml"
PYTHONPATH="$W/old/src" "$PY" -m emotrace.train.frame "$W/frame-old.yaml" > "$W/frame-old.log"
env $NEW "$PY" -m emotrace.cli -q train configs/frame-m.yaml --set data="$SHARED/data/ferplus" --epochs 2 \
    --max-train 1024 --out-dir "$W/frame-new"

# 2. classify: seed 4's CNN on CK+48 fold 0, 2 epochs on 256 frames
PYTHONPATH="$W/old/src" "$PY" -m emotrace.cli -q train "$W/old/configs/seed4-cnn-ckplus.yaml" --epochs 2 \
    --max-train 256 --max-eval 64 --out-dir "$W/classify-old" > /dev/null
env $NEW "$PY" -m emotrace.cli -q train configs/seed4-cnn-ckplus.yaml --epochs 2 --max-train 256 --max-eval 64 \
    --out-dir "$W/classify-new" > /dev/null

# 3. temporal: GRU over emotrace-cnn-m-ferplus embeddings, 3 epochs on 200 rendered sequences (+ CK+ chains)
T="--set ferplus_sequences=200 --set ferplus_valid_sequences=50 --set length=32 --set epochs=3"
sed -e "s#../shared#$SHARED#" -e "s#out_dir: .*#out_dir: $W/temporal-old#" configs/temporal-gru.yaml \
    > "$W/temporal-old.yaml"
printf 'ferplus_sequences: 200\nferplus_valid_sequences: 50\nlength: 32\nepochs: 3\nfeature_cache: %s\n' \
    "$W/features" >> "$W/temporal-old.yaml"
sed -i -e "/^ferplus_sequences: 1200/d" -e "/^epochs: 25/d" -e "/^length: 96/d" -e "/^ferplus_valid_sequences: 300/d" \
    "$W/temporal-old.yaml"
PYTHONPATH="$W/old/src" "$PY" -m emotrace.cli -q train "$W/temporal-old.yaml" > /dev/null
env $NEW "$PY" -m emotrace.cli -q train configs/temporal-gru.yaml $T --set ferplus_root="$SHARED/data/ferplus" \
    --set ckplus_root="$SHARED/data/ckplus" --set feature_cache="$W/features" --out-dir "$W/temporal-new" > /dev/null

"$PY" - "$W" <<'PY'
import sys, torch
w = sys.argv[1]
def state(path):
    ck = torch.load(path, weights_only=False, map_location="cpu")
    return ck.get("state_dict", ck) if isinstance(ck, dict) and "state_dict" in ck else ck
for task, old, new in (("frame", "frame-old/final.pt", "frame-new/final.pt"),
                       ("classify", "classify-old/last.pt", "classify-new/last.pt"),
                       ("temporal", "temporal-old/final.pt", "temporal-new/final.pt")):
    a, b = state(f"{w}/{old}"), state(f"{w}/{new}")
    a, b = a.get("model", a), b.get("model", b)
    same = a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    print(f"{task:9s} old loop vs engine, final weights bit-identical: {same}")
PY
