"""A finished run's decomposition recomputed in NumPy from its saved outputs and the data, from
the definitions in Docs/Method.md (not from SiteLens's code). Exits 1, listing each disagreement
beyond the stated tolerance, and prints the largest difference of every check.

  sites RUN DATA.csv        `sites` (exact): c(s, e) in decomposition.json is centred per site
                            (its mean over the elements is 0), and for every row the sum over its
                            sites of c(s, e_s) plus the table's `offset` is the ensemble-mean
                            prediction in predictions.csv.
  atomic RUN                `atomic` per-atom split, from contributions.xyz: each structure's ε
                            sum to its prediction; μ_e refitted by least squares on composition
                            (E ≈ Σ_e n_e μ_e, smallest-norm solution) to the targets, or to the
                            predictions without targets; contribution_relative = ε − μ_e; the
                            perAtom table's means and counts per (site, element).
  variants RUN DATA.csv OUT.csv
                            writes the swapped rows the partial dependence needs (each swapped
                            structure's row, then its one-site swaps), for `sitelens predict`.
  swaps RUN DATA.csv VARIANT-PREDICTIONS.csv
                            partial dependence (any model) from the members' predictions of
                            those rows: c(s, e) = mean over structures of E(e at s) − E(as is),
                            centred over the elements the data shows at s; its spread over
                            members, structureStd, swap counts, influence and element spread.

Site tables only for `sites`, `variants` and `swaps`: the site columns are every column but
--target-column and --group-column (SiteLens's defaults, Eads and Adsorbate).
"""
import argparse
import csv
import json
import shlex
import sys

import numpy as np

DUMMY = "X"
MAX_SWAPPED = 200  # Method.md: at most 200 structures, evenly spaced through the data


class Checker:
    """Collects disagreements and the largest difference per check."""

    def __init__(self):
        self.failures, self.largest = [], {}

    def close(self, name, where, ours, theirs, absolute, relative=0.0):
        difference = abs(ours - theirs)
        self.largest[name] = max(self.largest.get(name, 0.0), difference)
        if not difference <= absolute + relative * abs(theirs):
            self.failures.append(f"{name}, {where}: recomputed {float(ours)!r}, SiteLens {float(theirs)!r} (|difference| {difference:.3g})")

    def equal(self, name, where, ours, theirs):
        self.largest.setdefault(name, 0.0)
        if ours != theirs:
            self.failures.append(f"{name}, {where}: recomputed {ours!r}, SiteLens {theirs!r}")

    def finish(self):
        for name, value in self.largest.items():
            print(f"{name}: largest |difference| {value:.3g}")
        for failure in self.failures[:20]:
            print("DISAGREEMENT " + failure)
        if self.failures:
            print(f"{len(self.failures)} disagreement(s)")
            sys.exit(1)
        print(f"all {len(self.largest)} checks agree")


def read_table(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def site_rows(path, target_column, group_column):
    """The site columns and, per row, its element at each of them."""
    header, rows = read_table(path)
    sites = [name for name in header if name not in (target_column, group_column)]
    columns = [header.index(name) for name in sites]
    return header, rows, sites, [[row[c].strip() for c in columns] for row in rows]


def predictions(path):
    """A predictions CSV: per structure (in data order) its target or None, mean, and member values."""
    header, rows = read_table(path)
    members = [i for i, name in enumerate(header) if name.startswith("member_")]
    table = sorted(rows, key=lambda row: int(row[header.index("structure")]))
    target = [float(row[header.index("target")]) if row[header.index("target")] else None for row in table]
    mean = np.array([float(row[header.index("mean")]) for row in table])
    per_member = np.array([[float(row[i]) for i in members] for row in table])
    return target, mean, per_member


def decomposition(run):
    with open(f"{run}/decomposition.json", encoding="utf-8") as handle:
        return json.load(handle)


def check_sites(args, check):
    """Exact additive split, centred per site: Σ_s c(s, e_s) + offset is the prediction, for every row."""
    d = decomposition(args.run)
    table = {(e["site"], e["element"]): e["contribution"]["mean"] for e in d["entries"]}
    for site in d["sites"]:
        values = [table[(site, element)] for element in d["elements"]]
        check.close("mean over elements of the centred c(s, e)", site, sum(values) / len(values), 0.0, 1e-9, 1e-12)
    offset = d["offset"]["mean"]
    _, _, sites, elements = site_rows(args.data, args.target_column, args.group_column)
    _, mean, _ = predictions(f"{args.run}/predictions.csv")
    check.equal("rows", "predictions.csv against the data", len(mean), len(elements))
    for i, row in enumerate(elements):
        total = offset + sum(table[(site, element)] for site, element in zip(sites, row))
        # The network runs in Float.
        check.close("sum of c(s, e_s) plus offset against the mean prediction", f"row {i + 1}", total, mean[i], 2e-5, 2e-6)


def read_frames(path):
    """contributions.xyz as (info, per-atom columns) per frame, without ASE (its columns are SiteLens's own)."""
    frames = []
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    at = 0
    while at < len(lines):
        count = int(lines[at])
        info = dict(token.partition("=")[::2] for token in shlex.split(lines[at + 1]))
        names = info["Properties"].split(":")
        columns, offset = {}, 0
        for name, _, width in zip(names[0::3], names[1::3], names[2::3]):
            columns[name] = (offset, int(width))
            offset += int(width)
        atoms = [line.split() for line in lines[at + 2: at + 2 + count]]
        values = {name: [a[start] if width == 1 else a[start:start + width] for a in atoms] for name, (start, width) in columns.items()}
        frames.append((info, values))
        at += 2 + count
    return frames


def check_atomic(args, check):
    frames = read_frames(f"{args.run}/contributions.xyz")
    d = decomposition(args.run)
    _, mean, _ = predictions(f"{args.run}/predictions.csv")
    check.equal("structures", "contributions.xyz against predictions.csv", len(frames), len(mean))
    elements = sorted({s for _, values in frames for s in values["species"] if s != DUMMY})
    composition = np.array([[values["species"].count(e) for e in elements] for _, values in frames], dtype=float)
    epsilon = [np.array(values["contribution"], dtype=float) for _, values in frames]
    for i, (info, values) in enumerate(frames):
        check.close("sum of per-atom ε against the mean prediction", f"structure {i + 1}", epsilon[i].sum(), mean[i], 2e-5, 2e-6)
        dummies = [e for s, e in zip(values["species"], epsilon[i]) if s == DUMMY]
        check.close("ε of the dummy marker", f"structure {i + 1}", float(np.abs(dummies).sum()) if dummies else 0.0, 0.0, 0.0)
    # μ_e: to the targets when every structure has one, else to the ensemble-mean predictions.
    has_targets = all("energy" in info for info, _ in frames)
    energies = np.array([float(info["energy"]) for info, _ in frames]) if has_targets else np.array([e.sum() for e in epsilon])
    check.equal("what μ is fitted to", "perAtom.references.fittedTo", "targets" if has_targets else "ensemble-mean predictions",
                d["perAtom"]["references"]["fittedTo"])
    mu, *_ = np.linalg.lstsq(composition, energies, rcond=None)
    mu = dict(zip(elements, mu))
    # SiteLens adds a ridge of 1e-9 of the normal matrix's mean diagonal: it moves μ by about
    # that fraction of its size where the composition leaves a direction undetermined.
    scale = max(abs(v) for v in mu.values())
    for element in elements:
        saved = d["perAtom"]["references"]["values"][element]
        check.close("μ_e refitted by least squares", element, mu[element], saved, 1e-6 * scale + 1e-9)
        for i, (info, _) in enumerate(frames):
            check.close("μ_e in contributions.xyz", f"structure {i + 1}, {element}", float(info[f"reference_energy_{element}"]), saved, 1e-12, 1e-12)
    sums, counts, magnitudes = {}, {}, {}
    for (info, values), eps in zip(frames, epsilon):
        labels = values.get("site") or values["species"]
        for symbol, label, e, relative in zip(values["species"], labels, eps, values["contribution_relative"]):
            if symbol == DUMMY:
                continue
            check.close("contribution_relative = ε − μ_e", f"{label}, {symbol}", float(relative), e - mu[symbol], 1e-6 * scale + 1e-9)
            key = (label, symbol)
            sums[key] = sums.get(key, 0.0) + e - mu[symbol]
            magnitudes[key] = magnitudes.get(key, 0.0) + abs(e - mu[symbol])
            counts[key] = counts.get(key, 0) + 1
    entries = {(e["site"], e["element"]): e for e in d["perAtom"]["entries"]}
    check.equal("perAtom (site, element) cells", "keys", sorted(entries), sorted(sums))
    for key in sorted(set(entries) & set(sums)):
        entry = entries[key]
        check.equal("perAtom atom counts", key, counts[key], entry["count"])
        check.close("perAtom mean ε − μ_e", key, sums[key] / counts[key], entry["contribution"]["mean"], 1e-6 * scale + 1e-9)
        if entry["contribution"]["members"] == 1:  # with more members, mean |ε − μ| is a mean of members' own
            check.close("perAtom mean |ε − μ_e|", key, magnitudes[key] / counts[key], entry["meanAbsolute"]["mean"], 1e-6 * scale + 1e-9)


def chosen(count):
    return list(range(count)) if count <= MAX_SWAPPED else [k * count // MAX_SWAPPED for k in range(MAX_SWAPPED)]


def swap_plan(args):
    """The swapped rows in order: per chosen structure its own row, then (site, element) swaps."""
    header, rows, sites, elements = site_rows(args.data, args.target_column, args.group_column)
    picked = chosen(len(rows))
    seen = {site: sorted({elements[i][s] for i in picked}) for s, site in enumerate(sites)}
    swappable = [s for s, site in enumerate(sites) if len(seen[site]) >= 2]
    plan = []
    for i in picked:
        plan.append((i, None, None))
        for s in swappable:
            plan += [(i, s, e) for e in seen[sites[s]] if e != elements[i][s]]
    return header, rows, sites, seen, swappable, plan


def write_variants(args, check):
    header, rows, sites, _, _, plan = swap_plan(args)
    columns = [header.index(site) for site in sites]
    with open(args.out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for i, s, e in plan:
            row = list(rows[i])
            if s is not None:
                row[columns[s]] = e
            writer.writerow(row)
    print(f"wrote {len(plan)} rows to {args.out}")


def spread(values):
    values = np.asarray(values, dtype=float)
    return values.mean(), (values.std(ddof=1) if len(values) > 1 else 0.0)


def check_swaps(args, check):
    _, _, sites, seen, swappable, plan = swap_plan(args)
    elements = site_rows(args.data, args.target_column, args.group_column)[3]
    _, _, energies = predictions(args.variant_predictions)
    check.equal("swapped rows", "variant predictions against the plan", len(energies), len(plan))
    members = energies.shape[1]
    # Per structure: its own energy, then each swap's change; per site, centred over the
    # elements seen there (a swap to the element already there counts as 0).
    changes = {}
    for (i, s, e), energy in zip(plan, energies):
        if s is None:
            base = energy
        else:
            changes[(i, s, e)] = energy - base
    effects = {}  # (site index, element) → per swap, the centred effect of each member
    for i in sorted({i for i, _, _ in plan}):
        for s in swappable:
            options = seen[sites[s]]
            per_element = np.array([np.zeros(members) if o == elements[i][s] else changes[(i, s, o)] for o in options])
            for o, value in zip(options, per_element - per_element.mean(axis=0)):
                effects.setdefault((s, o), []).append(value)
    d = decomposition(args.run)
    entries = {(e["site"], e["element"]): e for e in d["entries"]}
    check.equal("sites with two or more elements", "decomposition.json sites", [sites[s] for s in swappable], d["sites"])
    check.equal("(site, element) cells", "decomposition.json entries", sorted((sites[s], o) for s, o in effects), sorted(entries))
    tables = {}  # site index → members × elements seen there, each member's c(s, e)
    for (s, o), values in effects.items():
        values = np.array(values)  # swaps × members
        per_member = values.mean(axis=0)
        tables.setdefault(s, {})[o] = per_member
        key = (sites[s], o)
        if key not in entries:
            continue
        entry = entries[key]
        mean, std = spread(per_member)
        structure_std = np.mean([values[:, m].std(ddof=1) if len(values) > 1 else 0.0 for m in range(members)])
        # predictions.csv holds 6 significant digits: about 1e-6 eV on each energy of a swap.
        check.equal("swap counts", key, len(values), entry["count"])
        check.equal("members", key, members, entry["contribution"]["members"])
        check.close("c(s, e) mean over members", key, mean, entry["contribution"]["mean"], 1e-5, 1e-4)
        check.close("c(s, e) std over members", key, std, entry["contribution"]["std"], 1e-5, 1e-3)
        check.close("structureStd", key, structure_std, entry["structureStd"], 1e-5, 1e-3)
    largest = max((float(np.abs(v).max()) for by_element in tables.values() for v in by_element.values()), default=0.0)
    print(f"largest |c(s, e)| of a member: {largest:.3g} eV")
    if largest < 1e-3:
        check.failures.append(f"every swap effect is below 1e-3 eV ({largest:.3g}): too small to tell from the 1e-5 eV tolerance")
    summaries = {summary["site"]: summary for summary in d["summaries"]}
    for s, by_element in tables.items():
        table = np.array(list(by_element.values()))  # elements × members
        influence, element_spread = np.abs(table).mean(axis=0), table.max(axis=0) - table.min(axis=0)
        summary = summaries.get(sites[s])
        if summary is None:
            check.failures.append(f"no summary for site {sites[s]}")
            continue
        for name, values, saved in (("influence", influence, summary["influence"]), ("element spread", element_spread, summary["elementSpread"])):
            mean, std = spread(values)
            check.close(f"{name} mean", sites[s], mean, saved["mean"], 1e-5, 1e-4)
            check.close(f"{name} std", sites[s], std, saved["std"], 1e-5, 1e-3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-column", default="Eads")
    parser.add_argument("--group-column", default="Adsorbate")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, extra in (("sites", ["data"]), ("atomic", []), ("variants", ["data", "out"]), ("swaps", ["data", "variant_predictions"])):
        command = commands.add_parser(name)
        command.add_argument("run")
        for argument in extra:
            command.add_argument(argument)
    args = parser.parse_args()
    check = Checker()
    {"sites": check_sites, "atomic": check_atomic, "variants": write_variants, "swaps": check_swaps}[args.command](args, check)
    if args.command != "variants":
        check.finish()


if __name__ == "__main__":
    main()
