"""An ASE calculator that runs `sitelens predict`, in the manner of ASE's FileIOCalculator:
write the structures to a file, run the program, read its results. The models have one
implementation, the Swift one."""

import csv
import os
import shutil
import subprocess
import tempfile

import numpy as np
from ase.calculators.calculator import Calculator, CalculatorSetupError, all_changes
from ase.io import read, write

from .files import load_run


class SiteLensError(RuntimeError):
    """`sitelens predict` failed; the message holds its command and error output."""


class SiteLensCalculator(Calculator):
    """Energies from a finished SiteLens run's ensemble.

    `run`: the run folder. `sitelens`: the program (default: `sitelens` on PATH). `ranks`: run it
    under `mpirun -n ranks` when more than 1 (`mpirun` names the launcher and its options).
    `options`: further `sitelens predict` options, e.g. the run's data options
    (`["--site-rule", "adsorbate-shells"]`).

    Results: `energy` (and `free_energy`) is the ensemble mean in eV, `energy_std` the standard
    deviation over members, `member_energies` each member's prediction, and for `atomic`
    models `energies`, each atom's ensemble-mean contribution (they sum to `energy`), with
    `energies_std`. `predict(images)` computes many structures in one run of `sitelens`.
    """

    implemented_properties = ["energy", "free_energy", "energy_std", "energies"]
    default_parameters = {}

    def __init__(self, run, sitelens="sitelens", ranks=1, mpirun=("mpirun",), options=(), **kwargs):
        super().__init__(**kwargs)
        self.run = os.fspath(run)
        self.kind = load_run(self.run).kind
        # Only models that split the energy over atoms have per-atom energies.
        self.implemented_properties = [p for p in self.implemented_properties if p != "energies" or self.per_atom]
        found = shutil.which(sitelens)
        if found is None:
            raise CalculatorSetupError(f"cannot find the sitelens program '{sitelens}'; pass sitelens=PATH")
        self.sitelens = found
        if int(ranks) < 1:
            raise CalculatorSetupError(f"ranks must be at least 1, got {ranks}")
        self.ranks = int(ranks)
        self.mpirun = [mpirun] if isinstance(mpirun, str) else list(mpirun)
        self.options = list(options)

    @property
    def per_atom(self):
        """Whether the model splits its energy over atoms (`atomic`)."""
        return self.kind == "atomic"

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results = self.predict([self.atoms])[0]

    def command(self, structures, predictions, per_atom):
        """The command line that predicts `structures` (extxyz) into `predictions` (CSV)."""
        command = [self.sitelens, "predict", "--run", self.run, structures, "--out", predictions] + self.options
        if per_atom is not None:
            command += ["--per-atom", per_atom]
        if self.ranks > 1:
            command = self.mpirun + ["-n", str(self.ranks)] + command
        return command

    def predict(self, images):
        """The results of each of `images` (Atoms), computed by one run of `sitelens predict`."""
        images = list(images)
        if not images:
            return []
        with tempfile.TemporaryDirectory(prefix="sitelens-calc-") as folder:
            structures = os.path.join(folder, "structures.xyz")
            predictions = os.path.join(folder, "predictions.csv")
            per_atom = os.path.join(folder, "per-atom.xyz") if self.per_atom else None
            self.write_input(images, structures)
            self.execute(self.command(structures, predictions, per_atom))
            return self.read_results(predictions, per_atom, len(images))

    @staticmethod
    def write_input(images, path):
        """Writes the structures without any earlier results (no stale energy as a target)."""
        bare = []
        for atoms in images:
            copy = atoms.copy()
            copy.calc = None
            for key in ("energy", "free_energy"):
                copy.info.pop(key, None)
            bare.append(copy)
        write(path, bare, format="extxyz")

    @staticmethod
    def execute(command):
        outcome = subprocess.run(command, capture_output=True, text=True)
        if outcome.returncode != 0:
            raise SiteLensError(f"{' '.join(command)} failed (exit {outcome.returncode}):\n{outcome.stderr.strip()}")

    @staticmethod
    def read_results(predictions, per_atom, count):
        with open(predictions, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        if len(rows) != count:
            raise SiteLensError(f"{predictions}: {len(rows)} predictions for {count} structures")
        results = []
        for row in rows:
            members = [float(row[key]) for key in row if key.startswith("member_")]
            energy = float(row["mean"])
            results.append({"energy": energy, "free_energy": energy, "energy_std": float(row["std"]),
                            "member_energies": np.array(members)})
        if per_atom is not None:
            frames = read(per_atom, index=":", format="extxyz")
            if len(frames) != count:
                raise SiteLensError(f"{per_atom}: {len(frames)} structures for {count}")
            for result, frame in zip(results, frames):
                # ASE reads the per-atom `energies` column into the frame's calculator.
                result["energies"] = np.asarray(frame.get_potential_energies(), dtype=float).reshape(-1)
                result["energies_std"] = np.asarray(frame.arrays["energies_std"], dtype=float).reshape(-1)
        return results
