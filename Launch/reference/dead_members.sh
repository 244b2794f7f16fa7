#!/usr/bin/env bash
# Issue 25, dead members: how many of 10 seeds of the seed's six-block image CNN learn at grid 32,
# with He initialisation and with `--init lsuv` (He, then each layer scaled to unit variance on a
# batch of the member's training images), on 2-D Lennard-Jones clusters and on EMT slabs.
# One run of 10 members per data set and initialisation (each member its own seed); a member has
# learnt when its validation MAE is below 99 % of predicting its training mean (MemberHealth:
# run.json excludedMembers holds the others). Prints "learnt k of 10" side by side, with the
# test MAE (eV) of the ensemble of the members kept, theirs one by one (mean ± std), and predicting
# the training mean. Runs already in FOLDER are not trained again.
#
#   Launch/reference/dead_members.sh [FOLDER] [EPOCHS] [STRUCTURES]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
folder="${1:-dead-members}"; epochs="${2:-20}"; structures="${3:-300}"
binary="${SITELENS_BIN:-$here/../.build/release/sitelens}"
inits=(he lsuv)
mkdir -p "$folder"
[ -f "$folder/lj.xyz" ] || "$binary" generate --kind lennard-jones --structures "$structures" --seed 7 --out "$folder/lj.xyz" >/dev/null
# --limit 1: the swap truth is not needed here, only the structures and their energies.
[ -f "$folder/emt.xyz" ] || python3 "$here/reference/emt_slabs.py" generate --structures "$structures" --limit 1 \
    --out "$folder/emt.xyz" --truth "$folder/emt-truth.csv" >/dev/null
for data in lj emt; do
    images=(); [ "$data" = emt ] && images=(--sigma 0.3 --channels species)
    for init in "${inits[@]}"; do
        [ -f "$folder/$data-$init/run.json" ] && continue
        "$binary" train "$folder/$data.xyz" --model ryczko --blocks 6 --grid 32 "${images[@]}" --init "$init" \
            --ensemble 10 --epochs "$epochs" --batch-size 32 --seed 1 --blas-threads 1 --print-every "$epochs" \
            --run-dir "$folder/$data-$init" > "$folder/$data-$init.log" 2>&1
    done
done
python3 - "$folder" "${inits[@]}" <<'PY'
import json, re, sys
folder, inits = sys.argv[1], sys.argv[2:]
print(f"{'data':5s} " + "  ".join(f"{init:>78s}" for init in inits))
for data in ("lj", "emt"):
    cells = []
    for init in inits:
        record = json.load(open(f"{folder}/{data}-{init}/run.json"))
        log = open(f"{folder}/{data}-{init}.log").read()
        members = record["ensemble"] if isinstance(record.get("ensemble"), int) else 10
        # If no member learnt, MemberHealth keeps them all and says so instead of listing them.
        learnt = 0 if "no member's validation error is below" in log else members - len(record.get("excludedMembers") or [])
        test = re.search(r"ensemble-mean MAE ([0-9.]+).*members MAE ([0-9.]+ ± [0-9.]+).*predicting the training mean: MAE ([0-9.]+)", log)
        cells.append(f"learnt {learnt:2d} of {members}; test MAE {test.group(1)}, kept members {test.group(2)}, mean {test.group(3)}")
    print(f"{data:5s} " + "  ".join(f"{cell:>78s}" for cell in cells))
PY
