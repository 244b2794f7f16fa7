"""Compares Docs/ModelFiles.md with real runs' files, as a Python user reads them (json,
safetensors or sitelens.read_safetensors, csv). Usage:

    check_model_files.py DOC KIND=RUN [KIND=RUN ...]

KIND is the `<!-- check: tensors KIND -->` table a run's member 0 must match exactly (`-` for
none). Prints each difference and exits 1 when there is one; prints what it checked otherwise.
"""

import csv
import json
import os
import re
import sys

import sitelens


def tables(doc):
    """{check name: [(first column without backticks, second column), ...]} of the marked tables."""
    found, current = {}, None
    for line in open(doc, encoding="utf-8"):
        marker = re.match(r"<!-- check: (.+?) -->", line.strip())
        if marker:
            current = marker.group(1)
            found[current] = []
            continue
        if current is None:
            continue
        if not line.startswith("|"):
            if found[current]:
                current = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0].startswith("`"):
            found[current].append([c.strip("`") for c in cells])
    return found


def paths(value, prefix=""):
    """Each leaf's path: keys joined by '.', '[]' for each element of a list of objects; an
    empty object or list, or a list of scalars, is a leaf."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from paths(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        for item in value:
            yield from paths(item, prefix + "[]")
    else:
        yield prefix


def matches(pattern, path):
    """Whether `path` is `pattern`, a `{name}` in it standing for any key (or part of one)."""
    expression = re.sub(r"\\\{\w+\\\}", "[^.]+", re.escape(pattern))
    return re.fullmatch(expression, path) is not None


def compare(label, documented, real, problems):
    """Every real path is documented; every documented path not marked optional is present."""
    for path in sorted(real):
        if not any(matches(pattern, path) for pattern, _ in documented):
            problems.append(f"{label}: field '{path}' is in the file but not in the document")
    for pattern, kind in documented:
        if "optional" not in kind and not any(matches(pattern, path) for path in real):
            problems.append(f"{label}: field '{pattern}' is in the document but not in the file")


def main(doc, runs):
    spec = tables(doc)
    problems, checked = [], []
    member_fields = [(row[0], row[1]) for row in spec["fields member"]]
    encoding_fields = [(row[0], row[1]) for row in spec["fields encoding"]]
    for kind, run_path in runs:
        run = sitelens.load_run(run_path)
        member = run.members[0]
        own, _ = sitelens.read_safetensors(os.path.join(run_path, "model", "member-0.safetensors"), use_package=False)
        real_tensors = {name: list(array.shape) for name, array in member.weights.items()}
        if {name: list(array.shape) for name, array in own.items()} != real_tensors:
            problems.append(f"{run_path}: sitelens.read_safetensors and the safetensors package disagree")
        if kind != "-":
            documented = {row[0]: json.loads(row[2]) for row in spec[f"tensors {kind}"]}
            if documented != real_tensors:
                problems.append(f"{run_path}: tensors {sorted(real_tensors.items())}; the document lists {sorted(documented.items())}")
        description = member.description
        real = set(paths({k: v for k, v in description.items() if k != "encoding"}))
        compare(f"{run_path} member-0.json", member_fields, real, problems)
        # A row `K.path` is the field `path` of an encoding of kind K; a row without a kind, of every kind.
        case = description["encoding"]["kind"]
        kinds = {f[0].split(".")[0] for f in encoding_fields if "." in f[0]}
        own = [(f[0][len(case) + 1:], f[1]) for f in encoding_fields if f[0].split(".")[0] == case]
        compare(f"{run_path} member-0.json encoding", own + [f for f in encoding_fields if f[0].split(".")[0] not in kinds],
                set(paths(description["encoding"])), problems)
        record = run.record
        for name, value in (("member-0.json", description), ("run.json", record)):
            swift_keys = sorted({path for path in paths(value) if re.search(r"(^|\.)_\d", path)})
            if swift_keys:
                problems.append(f"{run_path} {name}: Swift-specific keys {swift_keys}")
        run_fields = [(row[0], row[1]) for row in spec["fields run"] if row[0] not in ("architecture", "encoding")]
        compare(f"{run_path} run.json", run_fields, set(paths({k: v for k, v in record.items() if k not in ("architecture", "encoding")})), problems)
        compare(f"{run_path} run.json architecture", [f for f in member_fields if f[0].startswith("architecture.")],
                set(paths({"architecture": record["architecture"]})), problems)
        with open(os.path.join(run_path, "predictions.csv"), newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        compare(f"{run_path} predictions.csv", [(row[0], "") for row in spec["columns predictions"]], set(header), problems)
        if len(header) != len(set(header)) or sum(1 for c in header if c.startswith("member_")) != len(run.members) - len(record.get("excludedMembers") or []):
            problems.append(f"{run_path} predictions.csv: header {header} does not give one member_K per member")
        contributions = os.path.join(run_path, "contributions.xyz")
        if member.kind == "atomic":
            with open(contributions, encoding="utf-8") as handle:
                handle.readline()
                properties = re.search(r"Properties=(\S+)", handle.readline()).group(1).split(":")
            compare(f"{run_path} contributions.xyz", [(row[0], "") for row in spec["columns contributions"]], set(properties[0::3]), problems)
        elif os.path.exists(contributions):
            problems.append(f"{run_path}: a {member.kind} run wrote contributions.xyz")
        checked.append(f"{run_path} ({member.kind}, {len(real_tensors)} tensors)")
    for problem in problems:
        print(problem)
    if not problems:
        print("checked " + "; ".join(checked))
    return 1 if problems else 0


if __name__ == "__main__":
    arguments = [argument.split("=", 1) for argument in sys.argv[2:]]
    sys.exit(main(sys.argv[1], arguments))
