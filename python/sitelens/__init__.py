"""SiteLens from Python: `load_run` reads a run's members (architectures and weights as NumPy
arrays); `SiteLensCalculator` (needs ASE) computes energies by running `sitelens predict`."""

from .files import Member, ModelFileError, Run, load_run, read_safetensors

__all__ = ["load_run", "read_safetensors", "Run", "Member", "ModelFileError", "SiteLensCalculator"]


def __getattr__(name):
    # The calculator needs ASE, an optional dependency: import it only when asked for.
    if name in ("SiteLensCalculator", "SiteLensError"):
        try:
            from . import calculator
        except ImportError as error:
            raise ImportError(f"sitelens.{name} needs ASE ({error}); pip install ase") from error
        return getattr(calculator, name)
    raise AttributeError(f"module 'sitelens' has no attribute '{name}'")
