"""Checks SiteLensCalculator against a finished run's own predictions. Usage:

    check_calculator.py SITELENS RUN DATA.xyz

For a few structures of DATA (the run's training data): the calculator's energy equals the
run's predictions.csv mean (to 1e-6 eV beyond the digits the CSV holds), energy_std is there,
per-atom energies (atomic models) sum to the energy, and the batch call gives what one-by-one
calls give. Prints what it compared; exits 1 on the first difference.
"""

import csv
import sys

import numpy as np
from ase.calculators.calculator import PropertyNotImplementedError
from ase.io import read

import sitelens


def resolution(text):
    """Half a unit in the last digit a CSV number was written with."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def fail(message):
    print(message)
    sys.exit(1)


def main(program, run, data):
    with open(f"{run}/predictions.csv", newline="", encoding="utf-8") as handle:
        rows = {int(row["structure"]): row for row in csv.DictReader(handle)}
    frames = read(data, index=":")
    chosen = [0, 1, len(frames) - 1]
    calculator = sitelens.SiteLensCalculator(run=run, sitelens=program)
    singles = []
    for index in chosen:
        atoms = frames[index].copy()
        atoms.calc = calculator
        energy = atoms.get_potential_energy()
        text = rows[index + 1]["mean"]
        tolerance = 1e-6 + resolution(text)
        if abs(energy - float(text)) > tolerance:
            fail(f"structure {index + 1}: calculator {energy!r}, predictions.csv mean {text} (tolerance {tolerance})")
        std = calculator.results.get("energy_std")
        if std is None or not np.isfinite(std) or abs(std - float(rows[index + 1]["std"])) > 1e-6 + resolution(rows[index + 1]["std"]):
            fail(f"structure {index + 1}: energy_std {std!r}, predictions.csv std {rows[index + 1]['std']}")
        if calculator.per_atom:
            energies = atoms.get_potential_energies()
            if len(energies) != len(atoms) or abs(energies.sum() - energy) > tolerance:
                fail(f"structure {index + 1}: {len(energies)} per-atom energies summing to {energies.sum()!r}, energy {energy!r}")
        else:
            try:
                atoms.get_potential_energies()
                fail(f"a {calculator.kind} model gave per-atom energies")
            except PropertyNotImplementedError:
                pass
        singles.append(dict(calculator.results))
    batch = calculator.predict([frames[i] for i in chosen])
    for index, one, many in zip(chosen, singles, batch):
        for key in ("energy", "energy_std", "energies"):
            if (key in one) != (key in many) or (key in one and not np.allclose(one[key], many[key], rtol=0, atol=1e-9)):
                fail(f"structure {index + 1}: {key} one by one {one.get(key)!r}, in a batch {many.get(key)!r}")
    print(f"{calculator.kind}: structures {[i + 1 for i in chosen]} agree with predictions.csv "
          f"({'per-atom energies sum to them, ' if calculator.per_atom else ''}batch = one by one)")


if __name__ == "__main__":
    main(*sys.argv[1:4])
