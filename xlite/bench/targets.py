"""What each workload must reach (BENCHMARKS.md), as checks on a row: met, missed, or not measured."""
from __future__ import annotations

from typing import Callable

COPY_GBPS = 26.4          # memory copy ceiling measured on the benchmark machine (BENCHMARKS.md)
# What the CPU backend must reach, vs the interpreter in the same run (BENCHMARKS.md).
TARGETS = {"W1": 8.0, "W2": 4.0, "W3": 1.5, "W4": 3.0, "W5": 2.0}
W1_MIN_COPY_FRACTION = 0.60
W6_COLD_LIMIT_S = 1.0
W6_MIN_CACHE_SPEEDUP = 10.0
W6_MAX_OVER_JAX = 0.75          # cold compile over JAX's cold jit, median of per-round ratios (#18)
# What the CUDA backend must reach (BENCHMARKS.md's GPU section).
GPU_MIN_CUPY_SPEEDUP = {"W1": 5.0}              # op-by-op CuPy's time / cuda-device's time
GPU_MAX_OVER_FLOOR = {"W1": 2.0}                # cuda-device's time / the HBM floor of bytes_moved
GPU_MAX_LAUNCHES = {"W1": 1, "W2": 2}           # kernel launches per run


def check(what: str, value, ok: Callable) -> dict:
    """One target of a row: met when ok(value); not measured (None) where value is None."""
    return {"what": what, "met": None if value is None else ok(value)}


def _speed_targets(row: dict) -> list:
    need = TARGETS.get(row["id"])
    if need is None:
        return []
    speedup = row.get("speedup")
    checks = [check(f"{need:g}x vs interpreter", speedup, lambda s: s >= need)]
    if row["id"] == "W1":
        frac = row.get("copy_fraction")
        checks.append(check(f">= {W1_MIN_COPY_FRACTION:.0%} of copy bandwidth", frac,
                            lambda f: f >= W1_MIN_COPY_FRACTION))
    return checks


def _gpu_targets(row: dict) -> list:
    """BENCHMARKS.md's GPU goals; a timing on the emulator is no GPU figure ("not measured")."""
    wid, gpu = row["id"], not row.get("emulated")
    checks = []
    if wid in GPU_MIN_CUPY_SPEEDUP:
        need, ratio = GPU_MIN_CUPY_SPEEDUP[wid], row.get("cupy_over_compiled")
        checks.append(check(f">= {need:g}x faster than CuPy", ratio if gpu else None, lambda r: r >= need))
    if wid in GPU_MAX_OVER_FLOOR:
        most, frac = GPU_MAX_OVER_FLOOR[wid], row.get("hbm_fraction")
        checks.append(check(f"within {most:g}x of the HBM floor", frac if gpu else None,
                            lambda f: f >= 1.0 / most))
    if wid in GPU_MAX_LAUNCHES:
        most, launches = GPU_MAX_LAUNCHES[wid], row.get("launches")
        checks.append(check(f"<= {most} kernel launch{'es' if most > 1 else ''} per run", launches,
                            lambda n: n <= most))
    return checks


def _compile_targets(row: dict) -> list:
    cold, ratio = row.get("cold_s"), row.get("cold_over_cached")
    return [check(f"cold compile under {W6_COLD_LIMIT_S:g} s", cold, lambda c: c < W6_COLD_LIMIT_S),
            check(f"cached >= {W6_MIN_CACHE_SPEEDUP:g}x faster than cold", ratio,
                  lambda r: r >= W6_MIN_CACHE_SPEEDUP),
            check(f"cold <= {W6_MAX_OVER_JAX:g}x JAX's", row.get("cold_over_jax"), lambda r: r <= W6_MAX_OVER_JAX)]
