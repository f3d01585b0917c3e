"""`xlite bench`: the benchmark suite of shared/BENCHMARKS.md, compiled vs interpreted (and vs JAX, CuPy).

For each workload (benchmarks/workloads.py), in one process: run it on the
interpreter (the reference), on the compiled target, under jax.jit when
JAX is importable and, for target "cuda" where CuPy is importable, op by op
in CuPy (benchmarks/cupy_workloads.py); check every system's result against the interpreter's
before timing it (a training step: the loss, and the Variables after one
step from the interpreter's initial values); then time rounds that
interleave the systems. A round's figure is the median of its calls, each
the whole `sess.run` (feeds validated and copied, results returned); the
reported time is the median over rounds, and a speedup is the median of the
per-round ratios, so drift of a noisy machine cancels in pairs. W6 times
graph build + Session + the first runs of the W3 step in fresh processes,
with an empty compile cache and then with that cache warm. On target "cuda",
W1/W2 also report their bandwidth against the GPU's HBM (from the device
name) and every row the kernel launches per run; on the CPU emulator
(XLITE_CUDA_EMULATOR=1) no GPU figure is given.

Target "cuda" has a second compiled system, "cuda-device": the Session's own
executable called through `run_on_device` with the arguments of one `sess.run`,
so the feeds stay on the GPU and nothing is downloaded, as CuPy and JAX are
timed. Its time is the one the HBM fraction and floor and the CuPy ratio use;
the `sess.run` time (16 MiB up and 16 MiB down over PCIe for W1) stays as the
end-to-end figure, and the interpreter speedup is taken on it.

A system that cannot compile a workload (UnimplementedError) gets its row
marked "not implemented" instead of stopping the suite.

The package, one job a module: settings (workload ids, Settings, loading the workloads),
checks (a result against the interpreter's), systems (building and checking each system),
gpu (HBM figures, the cuda-device system), timing (interleaved rounds), cold_compile (W6's
fresh-process probes), aot_workload (W6-aot: the W3 step from its AOT library vs a cold
Session), targets (what each workload must reach), suite (a workload, the suite), report
(the table, failed) and cli (the command line; `python -m xlite.bench`).
"""
from .checks import Mismatch
from .cli import add_arguments, main, run_from_args
from .cold_compile import compile_probe, run_compile_workload
from .gpu import DEVICE_SYSTEM, HBM_DEFAULT_GBPS, HBM_GBPS, device_call, gpu_device, hbm_gbps
from .report import failed, fmt_bytes, fmt_time, format_table
from .settings import WORKLOAD_IDS, Settings, cupy_version, jax_available, load_workloads
from .suite import machine, run_suite, run_workload, verify
from .systems import System, executable_stats, prepare
from .targets import (COPY_GBPS, GPU_MAX_LAUNCHES, GPU_MAX_OVER_FLOOR, GPU_MIN_CUPY_SPEEDUP, TARGETS,
                      W1_MIN_COPY_FRACTION, W6_COLD_LIMIT_S, W6_MIN_CACHE_SPEEDUP)
from .timing import time_systems

# Helpers that the tests reach as `bench.<name>`.
from .checks import _check_step  # noqa: E402,F401
from .gpu import _hbm_figures  # noqa: E402,F401
from .report import _throughput  # noqa: E402,F401
from .settings import _cupy_programs  # noqa: E402,F401
from .systems import _first_step  # noqa: E402,F401
from .targets import _gpu_targets  # noqa: E402,F401

__all__ = ["COPY_GBPS", "DEVICE_SYSTEM", "GPU_MAX_LAUNCHES", "GPU_MAX_OVER_FLOOR", "GPU_MIN_CUPY_SPEEDUP",
           "HBM_DEFAULT_GBPS", "HBM_GBPS", "TARGETS", "W1_MIN_COPY_FRACTION", "W6_COLD_LIMIT_S",
           "W6_MIN_CACHE_SPEEDUP", "WORKLOAD_IDS", "Mismatch", "Settings", "System", "add_arguments",
           "compile_probe", "cupy_version", "device_call", "executable_stats", "failed", "fmt_bytes",
           "fmt_time", "format_table", "gpu_device", "hbm_gbps", "jax_available", "load_workloads", "machine",
           "main", "prepare", "run_compile_workload", "run_from_args", "run_suite", "run_workload",
           "time_systems", "verify"]
