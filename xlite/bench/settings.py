"""What `xlite bench` runs: the workload ids, how long to time them, and loading the workloads
(benchmarks/workloads.py) and their JAX and CuPy programs."""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

WORKLOAD_IDS = ("W1", "W2", "W3", "W4", "W5", "W6", "W6-aot", "W6-poly", "W7", "W8", "W3-fn", "W9", "W10",
                "W11")   # W6-aot: aot_workload.py; W6-poly (symbolic batch dims): poly_workload.py;
#   W7 (eager ops): eager_workload.py; W8, W3-fn (tf.function): function_workload.py
#   W9 (tf.data input pipeline): data_workload.py
#   W10 (Keras fit): keras_workload.py
#   W11 (data-parallel scaling over MPI): distributed_workload.py


class Settings:
    """How long to time: `quick` is CI's smoke run (the exact shapes, fewer and shorter rounds)."""

    def __init__(self, quick: bool = False, rounds: int | None = None):
        self.quick = quick
        self.rounds = rounds or (3 if quick else 7)
        self.round_budget_s = 0.1 if quick else 0.4     # per system and round
        self.min_calls = 1 if quick else 3
        self.max_calls = 2000 if quick else 20000
        self.compile_rounds = max(1, min(self.rounds, 1 if quick else 5))


def load_workloads():
    """benchmarks/workloads.py of the source tree this xlite comes from (it is not part of the package)."""
    root = str(Path(__file__).resolve().parents[2])
    if not (Path(root) / "benchmarks" / "workloads.py").exists():
        raise RuntimeError(f"xlite bench needs the source checkout: no benchmarks/workloads.py under {root}")
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module("benchmarks.workloads")


def jax_available() -> bool:
    return importlib.util.find_spec("jax") is not None


def _jax_programs():
    load_workloads()
    return importlib.import_module("benchmarks.jax_workloads")


def cupy_version() -> str | None:
    """CuPy's version where it imports (it needs a CUDA runtime, not only the package), else None."""
    try:
        import cupy
    except Exception:           # noqa: BLE001  (ImportError, or a CUDA library that fails to load)
        return None
    return str(cupy.__version__)


def _cupy_programs():
    load_workloads()
    return importlib.import_module("benchmarks.cupy_workloads")
