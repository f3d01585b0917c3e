"""Running the suite: one workload in this process or a fresh one, every workload into a report."""
from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .aot_workload import run_aot_workload
from .checks import _describe
from .cold_compile import run_compile_workload
from .data_workload import run_data_workload
from .distributed_workload import run_distributed_workload
from .eager_workload import run_eager_workload
from .function_workload import run_function_workload
from .keras_workload import run_keras_workload
from .poly_workload import run_poly_workload
from .gpu import DEVICE_SYSTEM, _hbm_figures
from .settings import WORKLOAD_IDS, Settings, cupy_version, jax_available, load_workloads
from .systems import prepare
from .targets import COPY_GBPS, _gpu_targets, _speed_targets
from .timing import _median, _paired_ratio, time_systems


# workload kind -> its runner(workload, target, with_jax, settings); the op-level kinds are timed below
_RUNNERS = {"compile": run_compile_workload, "function": run_function_workload, "data": run_data_workload,
            "keras": run_keras_workload, "eager": run_eager_workload, "distributed": run_distributed_workload,
            "poly": run_poly_workload}


def run_workload(workload, target: str, with_jax: bool, settings: Settings, with_cupy: bool = False) -> dict:
    if workload.kind == "aot":
        return run_aot_workload(workload, target, settings)
    if workload.kind in _RUNNERS:
        return _RUNNERS[workload.kind](workload, target, with_jax, settings)
    try:
        systems, _ = prepare(workload, target, with_jax, with_cupy)
    except Exception as e:      # noqa: BLE001  (the reference itself failed: nothing to compare with)
        return {"id": workload.id, "title": workload.title, "shapes": workload.shapes, "kind": workload.kind,
                "systems": {}, "status": f"error: interpreter: {_describe(e)}", "targets": []}
    time_systems(systems, settings)
    interp, compiled = systems[0], systems[1]
    by_name = {s.name: s for s in systems[2:]}
    jx, cp, dev = by_name.get("jax"), by_name.get("cupy"), by_name.get(DEVICE_SYSTEM)
    row = {"id": workload.id, "title": workload.title, "shapes": workload.shapes, "kind": workload.kind,
           "systems": {}}
    for s in systems:
        entry = {"status": s.status}
        if s.status == "ok":
            entry.update(time_s=_median(s.rounds), rounds_s=s.rounds, calls_per_round=s.calls)
        row["systems"][s.name] = entry
    row["compiled"] = target
    row["status"] = compiled.status
    if dev and compiled.status == "ok" and dev.status != "ok":
        row["status"] = f"{dev.name}: {dev.status}"
    row["speedup"] = _paired_ratio(interp, compiled)
    row["compiled_over_jax"] = _paired_ratio(compiled, jx) if jx else None
    on_gpu = dev or compiled            # target cuda: CuPy and the HBM figures against the device work
    if cp:
        row["compiled_over_cupy"] = _paired_ratio(on_gpu, cp)
        row["cupy_over_compiled"] = _paired_ratio(cp, on_gpu)
    row.update(compiled.stats)
    t = row["systems"][target].get("time_s")
    t_gpu = row["systems"][on_gpu.name].get("time_s")
    if t_gpu and workload.bytes_moved:
        row["gbps"] = workload.bytes_moved / t_gpu / 1e9
        if target == "cuda":
            _hbm_figures(row, workload.bytes_moved)
        else:
            row["copy_fraction"] = row["gbps"] / COPY_GBPS
    if t and workload.kind == "train":
        row["steps_per_s"] = 1.0 / t
    row["targets"] = _speed_targets(row) if target == "cpu" else _gpu_targets(row) if target == "cuda" else []
    return row


def machine() -> dict:
    info = {"platform": platform.platform(), "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__}
    try:
        text = Path("/proc/cpuinfo").read_text()
        for line in text.splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        info["avx512"] = " avx512f" in text
    except OSError:
        pass
    try:
        import llvmlite
        info["llvmlite"] = llvmlite.__version__
    except ImportError:
        pass
    return info


def _commit() -> str | None:
    try:
        root = Path(__file__).resolve().parents[2]
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "") if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _isolated(wid: str, target: str, settings: Settings, with_jax: bool, with_cupy: bool = False) -> dict:
    """One workload in a fresh process (nothing left over from another workload: heap, threads, JAX)."""
    with tempfile.TemporaryDirectory(prefix="xlite-bench-") as tmp:
        out = Path(tmp) / "row.json"
        argv = [sys.executable, "-m", "xlite.bench", "--workloads", wid, "--target", target,
                "--rounds", str(settings.rounds), "--json", str(out)]
        argv += (["--quick"] if settings.quick else []) + ([] if with_jax else ["--no-jax"])
        argv += [] if with_cupy else ["--no-cupy"]
        proc = subprocess.run(argv, capture_output=True, text=True)
        if out.exists():
            return json.loads(out.read_text())["workloads"][0]
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"id": wid, "status": f"error: process exited {proc.returncode}: {tail[:160]}", "kind": "crashed",
            "title": "", "systems": {}}


def run_suite(ids=WORKLOAD_IDS, target: str = "cpu", settings: Settings | None = None,
              with_jax: bool | None = None, log=None, isolate: bool = False,
              with_cupy: bool | None = None) -> dict:
    """Every workload of `ids`; CuPy joins on target "cuda" where it imports (with_cupy None)."""
    import xlite
    settings = settings or Settings()
    with_jax = jax_available() if with_jax is None else with_jax
    cupy = cupy_version() if target == "cuda" and with_cupy is not False else None
    with_cupy = cupy is not None
    workloads = load_workloads().WORKLOADS
    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "xlite": xlite.__version__, "commit": _commit(), "machine": machine(), "target": target,
              "quick": settings.quick, "rounds": settings.rounds, "jax": None, "workloads": []}
    if target == "cuda":
        report["cupy"] = cupy
    if with_jax:
        from importlib.metadata import version
        report["jax"] = version("jax")
    for wid in ids:
        t0 = time.perf_counter()
        if isolate:
            row = _isolated(wid, target, settings, with_jax, with_cupy)
        else:
            row = run_workload(workloads[wid], target, with_jax, settings, with_cupy)
        row["bench_wall_s"] = time.perf_counter() - t0
        report["workloads"].append(row)
        if log:
            log(f"{wid}: {row['status']} ({row['bench_wall_s']:.1f} s)")
    return report


def verify(wid: str, target: str = "cpu", with_jax: bool = False, with_cupy: bool = False) -> dict:
    """Only the correctness checks of one workload: {system: status}."""
    workload = load_workloads().WORKLOADS[wid]
    systems, _ = prepare(workload, target, with_jax, with_cupy)
    return {s.name: s.status for s in systems}
