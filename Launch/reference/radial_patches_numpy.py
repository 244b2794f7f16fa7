"""Radial patches recomputed in NumPy from their definition (Docs/Method.md), to check SiteLens's
`RadialRasteriser` against.

For every atom i that is not the dummy marker X, and every channel c:

    h_i,c(r_k) = sum over atom copies j != i of channel c, with |r_k - r_ij| <= cutoff,
                 of w_j * exp(-(r_k - r_ij)^2 / (2 sigma^2)),      r_k = k * spacing, k = 0 .. bins-1

r_ij is the 3-D distance to every periodic copy of every atom (the atom's own copies included,
the atom itself excluded) along the periodic directions; cutoff = cutoff_sigmas * sigma.
Channels: `single` (every atom, weight 1), `species:A,B,...` (one per listed symbol, weight 1,
others left out), `descriptor:NAME:{"Cu": 1.9, ...}` (one channel, the element's weight, the
dummy marker left out).

The lattice translations are enumerated independently of SiteLens: any copy within R of an
atom has periodic coordinates bounded by R times the norm of the matching row of the
pseudo-inverse of the periodic vectors, which bounds the integers to try.

Usage: radial_patches_numpy.py FILE.xyz --bins B --spacing DR --sigma S [--cutoff 5]
           [--channels species:Cu,Pt] [--no-wrap] [--reader auto|ase|plain]
Prints one JSON object: {"frames": [{"atoms": [i, ...], "patches": [[c*bins + k ...], ...]}]}.
"""
import argparse
import json
import shlex
import sys

import numpy as np

DUMMY = "X"


def read_plain(path):
    """Frames of an extxyz file as (symbols, positions, cell or None, pbc), without ASE."""
    frames = []
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    at = 0
    while at < len(lines):
        if not lines[at].strip():
            at += 1
            continue
        count = int(lines[at])
        info = {}
        for token in shlex.split(lines[at + 1]):
            key, _, value = token.partition("=")
            info[key.lower()] = value
        columns = info.get("properties", "species:S:1:pos:R:3").split(":")
        offsets, offset = {}, 0
        for name, _, width in zip(columns[0::3], columns[1::3], columns[2::3]):
            offsets[name.lower()] = offset
            offset += int(width)
        symbols, positions = [], []
        for line in lines[at + 2: at + 2 + count]:
            fields = line.split()
            symbols.append(fields[offsets["species"]])
            p = offsets["pos"]
            positions.append([float(x) for x in fields[p:p + 3]])
        cell = None
        if "lattice" in info:
            cell = np.array([float(x) for x in info["lattice"].split()]).reshape(3, 3)
        # As ASE reads it: a Lattice without pbc is periodic in all three directions.
        pbc = [flag in ("T", "True", "true") for flag in info.get("pbc", "T T T").split()] if cell is not None else [False] * 3
        frames.append((symbols, np.array(positions, dtype=float).reshape(-1, 3), cell, pbc))
        at += 2 + count
    return frames


def read_ase(path):
    from ase.io import read
    frames = []
    for atoms in read(path, index=":", format="extxyz"):
        pbc = [bool(x) for x in atoms.pbc]
        cell = np.array(atoms.cell.array) if any(pbc) or atoms.cell.rank > 0 else None
        frames.append((list(atoms.get_chemical_symbols()), atoms.positions.copy(), cell, pbc))
    return frames


def channel_weights(symbols, channels):
    """Per atom: (channel, weight), or None when the atom is in no channel; and the channel count."""
    if channels == "single":
        return [(0, 1.0) for _ in symbols], 1
    kind, _, rest = channels.partition(":")
    if kind == "species":
        order = rest.split(",")
        return [(order.index(s), 1.0) if s in order else None for s in symbols], len(order)
    if kind == "descriptor":
        _, _, table = rest.partition(":")
        weights = json.loads(table)
        return [None if s == DUMMY else (0, float(weights[s])) for s in symbols], 1
    raise SystemExit(f"unknown --channels {channels!r}")


def translations(positions, cell, pbc, farthest, wrap):
    """Every lattice translation that can bring some atom within `farthest` of another."""
    vectors = np.array([cell[k] for k in range(3) if cell is not None and pbc[k]]) if wrap else np.zeros((0, 3))
    if len(vectors) == 0:
        return np.zeros((1, 3))
    inverse = np.linalg.pinv(vectors.T)            # periodic coordinates of a Cartesian vector
    coords = positions @ inverse.T
    span = coords.max(axis=0) - coords.min(axis=0)
    bound = farthest * np.linalg.norm(inverse, axis=1)
    ranges = [np.arange(-int(np.ceil(s + b)) - 1, int(np.ceil(s + b)) + 2) for s, b in zip(span, bound)]
    grid = np.stack(np.meshgrid(*ranges, indexing="ij"), axis=-1).reshape(-1, len(vectors))
    return grid @ vectors


def patches(symbols, positions, cell, pbc, args):
    cutoff = args.cutoff * args.sigma
    centres = np.arange(args.bins) * args.spacing
    farthest = centres[-1] + cutoff
    assigned, channel_count = channel_weights(symbols, args.channels)
    shifts = translations(positions, cell, pbc, farthest, not args.no_wrap)
    is_zero_shift = np.all(shifts == 0, axis=1)
    atoms, result = [], []
    for i, symbol in enumerate(symbols):
        if symbol == DUMMY:
            continue
        patch = np.zeros((channel_count, args.bins))
        for j, entry in enumerate(assigned):
            if entry is None:
                continue
            channel, weight = entry
            keep = ~is_zero_shift if j == i else np.ones(len(shifts), dtype=bool)
            r = np.linalg.norm(positions[j] + shifts[keep] - positions[i], axis=1)
            offsets = centres[None, :] - r[:, None]
            gaussians = np.exp(-offsets ** 2 / (2 * args.sigma ** 2)) * (np.abs(offsets) <= cutoff)
            patch[channel] += weight * gaussians.sum(axis=0)
        atoms.append(i)
        result.append(patch.reshape(-1).tolist())
    return {"atoms": atoms, "patches": result}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--bins", type=int, required=True)
    parser.add_argument("--spacing", type=float, required=True)
    parser.add_argument("--sigma", type=float, required=True)
    parser.add_argument("--cutoff", type=float, default=5.0, help="Gaussian cutoff in sigma")
    parser.add_argument("--channels", default="single")
    parser.add_argument("--no-wrap", action="store_true", help="no periodic copies (SiteLens's wrapPeriodic = false)")
    parser.add_argument("--reader", choices=["auto", "ase", "plain"], default="auto")
    args = parser.parse_args()
    reader = args.reader
    if reader == "auto":
        try:
            import ase.io  # noqa: F401
            reader = "ase"
        except ImportError:
            reader = "plain"
    frames = read_ase(args.file) if reader == "ase" else read_plain(args.file)
    json.dump({"reader": reader, "frames": [patches(*frame, args) for frame in frames]}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
