"""How close a run's decomposition is to the planted truth of `sitelens generate`.

    python3 compare_truth.py truth.csv run/decomposition.csv

Both tables are centred per site (each site's elements averaged to zero), since a constant per
site is not identifiable from energies. Prints the mean absolute difference, the largest one and
the correlation over the (site, element) pairs both tables hold. Standard library only.
"""
import csv
import math
import sys


def centred(rows, value):
    by_site = {}
    for row in rows:
        by_site.setdefault(row["site"], {})[row["element"]] = float(row[value])
    out = {}
    for site, elements in by_site.items():
        mean = sum(elements.values()) / len(elements)
        for element, v in elements.items():
            out[(site, element)] = v - mean
    return out


def main(truth_path, decomposition_path):
    with open(truth_path, newline="") as f:
        truth = centred(list(csv.DictReader(f)), "contribution")
    with open(decomposition_path, newline="") as f:
        found = centred([r for r in csv.DictReader(f) if r["mean"] != ""], "mean")
    pairs = sorted(set(truth) & set(found))
    if not pairs:
        print(f"{decomposition_path}: no (site, element) pair in common with {truth_path}")
        return 1
    a = [truth[p] for p in pairs]
    b = [found[p] for p in pairs]
    differences = [abs(x - y) for x, y in zip(a, b)]
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    sa = math.sqrt(sum((x - ma) ** 2 for x in a))
    sb = math.sqrt(sum((y - mb) ** 2 for y in b))
    r = sum((x - ma) * (y - mb) for x, y in zip(a, b)) / (sa * sb) if sa > 0 and sb > 0 else float("nan")
    print(f"{decomposition_path}: {len(pairs)} (site, element) pairs against the planted truth: "
          f"mean |difference| {sum(differences) / len(differences):.4f} eV, largest {max(differences):.4f} eV, correlation {r:.3f}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
