#!/usr/bin/env python3
"""Physics-calculator validation of SiteLens's swap decomposition (ASE's EMT).

generate: O on the top site of random mixed-metal fcc(111) slabs, periodic in the plane, with a
  per-atom `site` column (binding, shell1, subsurface, other, adsorbate) and the adsorption energy
  E_ads = E(slab + O) - E(slab) - E(O atom) as `energy`, written as extxyz. It also computes the
  calculator's exact swap effects: for each structure and each atom at a site, the element is
  swapped, E_ads recomputed, the change averaged over structures and atoms, then centred over the
  elements (the same partial dependence SiteLens computes from a model).

discover: the screening check. Reads candidate slabs written by `generate` (each carries its EMT
  E_ads, so every candidate is already recomputed by the calculator), and for each model the
  predictions `sitelens predict` wrote for them (and a linear fit on site-class element counts,
  fitted on the training slabs): each model's top K by predicted E_ads (lowest: the strongest O
  binding), how many of EMT's own top K it holds, and the EMT energy and EMT rank of its first pick.

compare: reads the truth table and one or more SiteLens run folders (decomposition.csv) and
  prints, per run, the correlation and least-squares slope (model on calculator, both centred)
  at the binding site, the first shell and both together, and the element ranking at the
  binding site.

Needs: pip install ase numpy.
"""
import argparse
import csv
import os
import sys
import time

import numpy as np
from ase import Atoms
from ase.build import add_adsorbate, fcc111
from ase.calculators.emt import EMT
from ase.io import write

SITES = ("binding", "shell1", "subsurface")


def site_labels(slab, adsorbate_index):
    """Binding = the top-layer atom under the O; shell1 = its top-layer neighbours; subsurface =
    its neighbours in the layer below (nearest periodic images)."""
    z = slab.positions[:, 2]
    metals = [i for i in range(len(slab)) if i != adsorbate_index]
    z_top = max(z[i] for i in metals)
    top = [i for i in metals if z[i] > z_top - 0.7]
    second = [i for i in metals if z_top - 0.7 - 2.6 < z[i] <= z_top - 0.7]
    to_o = slab.get_distances(adsorbate_index, top, mic=True)
    binding = top[int(np.argmin(to_o))]
    others = [i for i in metals if i != binding]
    distances = dict(zip(others, slab.get_distances(binding, others, mic=True)))
    reach = 1.2 * min(distances.values())
    labels = ["other"] * len(slab)
    labels[adsorbate_index] = "adsorbate"
    for i in top:
        if i != binding and distances[i] <= reach:
            labels[i] = "shell1"
    for i in second:
        if distances[i] <= reach:
            labels[i] = "subsurface"
    labels[binding] = "binding"
    return labels


class AdsorptionEnergy:
    """E_ads of a slab + O structure with EMT (no relaxation: every structure on one lattice)."""

    def __init__(self):
        atom = Atoms("O", cell=[12, 12, 12])
        atom.calc = EMT()
        self.oxygen = atom.get_potential_energy()
        self.calls = 0

    def __call__(self, atoms):
        whole = atoms.copy()
        whole.calc = EMT()
        slab = atoms[[a.index for a in atoms if a.symbol != "O"]]
        slab.calc = EMT()
        self.calls += 2
        return whole.get_potential_energy() - slab.get_potential_energy() - self.oxygen


def make_structures(count, metals, size, layers, lattice, seed):
    rng = np.random.default_rng(seed)
    structures = []
    for _ in range(count):
        slab = fcc111("Cu", size=(size, size, layers), a=lattice, vacuum=6.0)
        slab.set_chemical_symbols(list(rng.choice(metals, size=len(slab))))
        add_adsorbate(slab, "O", 1.9, "ontop", offset=(size // 2, size // 2))
        structures.append(slab)
    return structures


def chosen_indices(count, limit):
    """The structures SiteLens swaps: all, or `limit` evenly spaced (SwapEffects.maxStructures)."""
    if count <= limit:
        return list(range(count))
    return [k * count // limit for k in range(limit)]


def swap_effects(structures, labels, energies, metals, energy, limit):
    """Centred mean swap effect per (site, element) and its per-swap standard deviation."""
    effects = {(s, e): [] for s in SITES for e in metals}
    for i in chosen_indices(len(structures), limit):
        atoms = structures[i]
        for atom, site in enumerate(labels[i]):
            if site not in SITES:
                continue
            changes = []
            for element in metals:
                if element == atoms[atom].symbol:
                    changes.append(0.0)
                    continue
                swapped = atoms.copy()
                swapped[atom].symbol = element
                changes.append(energy(swapped) - energies[i])
            centre = float(np.mean(changes))
            for element, change in zip(metals, changes):
                effects[(site, element)].append(change - centre)
    return {key: (float(np.mean(v)), float(np.std(v, ddof=1)), len(v)) for key, v in effects.items() if v}


def generate(args):
    metals = args.metals.split(",")
    start = time.time()
    structures = make_structures(args.structures, metals, args.size, args.layers, args.lattice, args.seed)
    energy = AdsorptionEnergy()
    labels, energies = [], []
    for atoms in structures:
        labels.append(site_labels(atoms, len(atoms) - 1))
        energies.append(energy(atoms))
    frames = []
    for atoms, site, e in zip(structures, labels, energies):
        frame = atoms.copy()
        frame.new_array("site", np.array(site, dtype="<U12"))
        frame.info["energy"] = e
        frames.append(frame)
    write(args.out + ".tmp", frames, format="extxyz")
    os.replace(args.out + ".tmp", args.out)
    print(f"wrote {args.out}: {len(frames)} structures, E_ads mean {np.mean(energies):.3f} eV, std {np.std(energies):.3f} eV")
    truth = swap_effects(structures, labels, energies, metals, energy, args.limit)
    with open(args.truth + ".tmp", "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["site", "element", "mean", "structure_std", "count"])
        for (site, element), (mean, std, n) in truth.items():
            out.writerow([site, element, f"{mean:.6f}", f"{std:.6f}", n])
    os.replace(args.truth + ".tmp", args.truth)
    print(f"wrote {args.truth}: calculator swap effects over {len(chosen_indices(len(structures), args.limit))} structures "
          f"({energy.calls} EMT calls, {time.time() - start:.0f} s)")
    for site in SITES:
        row = "  ".join(f"{e} {truth[(site, e)][0]:+.3f}" for e in metals if (site, e) in truth)
        print(f"  {site:10s} {row}")


def read_table(path, value="mean"):
    with open(path, newline="") as handle:
        return {(r["site"], r["element"]): float(r[value]) for r in csv.DictReader(handle)}


def agreement(truth, model, keys):
    x = np.array([truth[k] for k in keys])
    y = np.array([model[k] for k in keys])
    correlation = float(np.corrcoef(x, y)[0, 1])
    slope = float(x @ y / (x @ x))   # both centred per site: a line through the origin
    return correlation, slope


def compare(args):
    truth = read_table(args.truth)
    ok = True
    print(f"{'run':28s} {'sites':18s} {'points':>6s} {'correlation':>11s} {'slope':>6s}")
    for run in args.run:
        model = read_table(os.path.join(run, "decomposition.csv"))
        for name, sites in (("binding", ["binding"]), ("shell1", ["shell1"]), ("binding+shell1", ["binding", "shell1"]),
                            ("subsurface", ["subsurface"])):
            keys = [k for k in truth if k[0] in sites and k in model]
            if len(keys) < 3:
                print(f"{run:28s} {name:18s} missing from the decomposition")
                ok = ok and name == "subsurface"
                continue
            correlation, slope = agreement(truth, model, keys)
            goal = name != "subsurface"
            met = correlation >= 0.9 and 0.75 <= slope <= 1.33
            ok = ok and (met or not goal)
            print(f"{run:28s} {name:18s} {len(keys):6d} {correlation:11.3f} {slope:6.2f}" + ("" if not goal else ("  goal met" if met else "  goal NOT met")))
        elements = sorted({e for s, e in truth if s == "binding"}, key=lambda e: truth[("binding", e)])
        ranked = sorted(elements, key=lambda e: model.get(("binding", e), float("nan")))
        same = ranked == elements
        ok = ok and same
        print(f"{run:28s} binding ranking    calculator {' < '.join(elements)}; model {' < '.join(ranked)}"
              + ("  same" if same else "  DIFFERENT"))
    return 0 if ok else 1


def read_frames(path):
    from ase.io import read
    frames = read(path, index=":", format="extxyz")
    # ASE's reader moves the `energy` key into a single-point calculator.
    energies = [frame.info["energy"] if "energy" in frame.info else frame.get_potential_energy() for frame in frames]
    return frames, np.array(energies, dtype=float)


def site_counts(frames, metals):
    """Constant + element counts per site class: the linear baseline's columns."""
    classes = SITES + ("other",)
    rows = []
    for frame in frames:
        labels = frame.arrays["site"]
        row = [1.0]
        for site in classes:
            symbols = [a.symbol for a, label in zip(frame, labels) if label == site]
            row += [float(symbols.count(m)) for m in metals]
        rows.append(row)
    return np.array(rows)


def predicted_means(path, count):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if len(rows) != count:
        raise SystemExit(f"{path}: {len(rows)} predictions for {count} candidates")
    return np.array([float(r["mean"]) for r in rows])


def discover(args):
    metals = args.metals.split(",")
    train, train_energies = read_frames(args.train)
    candidates, truth = read_frames(args.candidates)
    top = args.top
    if len(candidates) < 2 * top:
        raise SystemExit(f"{args.candidates}: {len(candidates)} candidates; need at least {2 * top} for a top {top}")
    coefficients, *_ = np.linalg.lstsq(site_counts(train, metals), train_energies, rcond=None)
    models = [("linear site-class counts", site_counts(candidates, metals) @ coefficients)]
    models += [(path, predicted_means(path, len(candidates))) for path in args.predictions]
    truth_order = np.argsort(truth, kind="stable")
    truth_rank = np.empty(len(truth), dtype=int)
    truth_rank[truth_order] = np.arange(1, len(truth) + 1)
    best = set(truth_order[:top].tolist())
    print(f"{len(candidates)} candidates (EMT E_ads {truth.min():.3f} to {truth.max():.3f} eV); EMT's top {top}: "
          f"{truth[truth_order[0]]:.3f} to {truth[truth_order[top - 1]]:.3f} eV; training slabs {len(train)}")
    print(f"{'model':40s} {'MAE eV':>8s} {'found':>8s} {'first pick EMT eV':>18s} {'its EMT rank':>13s}")
    for name, predicted in models:
        order = np.argsort(predicted, kind="stable")
        found = len(best & set(order[:top].tolist()))
        first = order[0]
        mae = float(np.mean(np.abs(predicted - truth)))
        print(f"{name:40s} {mae:8.4f} {found:5d}/{top:<2d} {truth[first]:18.3f} {truth_rank[first]:13d}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    g = commands.add_parser("generate", help="write the slabs (extxyz) and the calculator's swap effects (CSV)")
    g.add_argument("--out", default="emt_slabs.xyz")
    g.add_argument("--truth", default="emt_swap_truth.csv")
    g.add_argument("--structures", type=int, default=300)
    g.add_argument("--metals", default="Cu,Pd,Ag,Pt,Au")
    g.add_argument("--size", type=int, default=3, help="atoms per side of each layer")
    g.add_argument("--layers", type=int, default=2)
    g.add_argument("--lattice", type=float, default=3.9, help="fcc lattice constant, Å (one for every alloy)")
    g.add_argument("--limit", type=int, default=200, help="structures swapped, as SiteLens's SwapEffects.maxStructures")
    g.add_argument("--seed", type=int, default=1)
    c = commands.add_parser("compare", help="compare SiteLens runs' decomposition.csv with the truth")
    c.add_argument("--truth", default="emt_swap_truth.csv")
    c.add_argument("run", nargs="+", help="SiteLens run folders")
    d = commands.add_parser("discover", help="how many of EMT's own top K the models' top K hold, on fresh candidates")
    d.add_argument("--train", required=True, help="the slabs the models were trained on (for the linear fit)")
    d.add_argument("--candidates", required=True, help="fresh slabs from generate (another --seed)")
    d.add_argument("--metals", default="Cu,Pd,Ag,Pt,Au")
    d.add_argument("--top", type=int, default=20)
    d.add_argument("predictions", nargs="*", help="`sitelens predict` outputs for the candidates, one per model")
    args = parser.parse_args()
    if args.command == "discover":
        return discover(args)
    if args.command == "generate":
        generate(args)
        return 0
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
