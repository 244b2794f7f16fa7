#!/usr/bin/env bash
# Does the seed's full six-block image CNN learn? Trains it on the built-in 2-D Lennard-Jones
# clusters with He initialisation (the default) and with Keras's Glorot, side by side, and prints
# each run's final validation MAE beside the MAE of predicting the training mean.
#
#   Launch/reference/deep_cnn_lj.sh [FOLDER] [STRUCTURES] [EPOCHS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
folder="${1:-deep-cnn-lj}"; structures="${2:-600}"; epochs="${3:-30}"
mkdir -p "$folder"
binary="${SITELENS_BIN:-$here/../.build/release/sitelens}"
"$binary" generate --kind lennard-jones --structures "$structures" --seed 7 --out "$folder/lj.xyz"
for init in he glorot; do
    "$here/sitelens-mpirun" -n 2 train "$folder/lj.xyz" --model ryczko --blocks 6 --grid 64 --extent 5 \
        --init "$init" --epochs "$epochs" --batch-size 32 --seed 1 --print-every 10 --run-dir "$folder/$init"
done
python3 - "$folder" <<'PY'
import json, re, sys
folder = sys.argv[1]
energies = [float(m.group(1)) for m in re.finditer(r"energy=([-+0-9.eE]+)", open(f"{folder}/lj.xyz").read())]
for init in ("he", "glorot"):
    member = json.load(open(f"{folder}/{init}/model/member-0.json"))["training"]
    lines = [json.loads(l) for l in open(f"{folder}/{init}/metrics.jsonl")]
    # The member's own split is not written; the mean predictor's MAE over all structures stands in.
    mean = sum(energies) / len(energies)
    baseline = sum(abs(e - mean) for e in energies) / len(energies)
    last = lines[-1]
    print(f"init {init:6s}: validation MAE {last['validationMAE']:.4f} eV, train MAE {last['trainMAE']:.4f} eV, "
          f"predicting the mean {baseline:.4f} eV, ratio {last['validationMAE'] / baseline:.2f} "
          f"({member['trainCount']} train / {member['validationCount']} validation, {len(lines)} epochs)")
PY
