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

A system that cannot compile a workload (NotImplementedError) gets its row
marked "not implemented" instead of stopping the suite.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import importlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

COPY_GBPS = 26.4          # memory copy ceiling measured on the benchmark machine (BENCHMARKS.md)
WORKLOAD_IDS = ("W1", "W2", "W3", "W4", "W5", "W6", "W6-aot")   # W6-aot: xlite/aot/bench.py
# What the CPU backend must reach, vs the interpreter in the same run (BENCHMARKS.md).
TARGETS = {"W1": 8.0, "W2": 4.0, "W3": 1.5, "W4": 3.0, "W5": 2.0}
W1_MIN_COPY_FRACTION = 0.60
W6_COLD_LIMIT_S = 1.0
W6_MIN_CACHE_SPEEDUP = 10.0
# HBM bandwidth in GB/s by GPU (BENCHMARKS.md): the first key the device name contains, else the default.
HBM_GBPS = {"H200": 4800.0, "H100": 3300.0}
HBM_DEFAULT_GBPS = 3300.0
# What the CUDA backend must reach (BENCHMARKS.md's GPU section).
GPU_MIN_CUPY_SPEEDUP = {"W1": 5.0}              # op-by-op CuPy's time / cuda-device's time
GPU_MAX_OVER_FLOOR = {"W1": 2.0}                # cuda-device's time / the HBM floor of bytes_moved
GPU_MAX_LAUNCHES = {"W1": 1, "W2": 2}           # kernel launches per run
DEVICE_SYSTEM = "cuda-device"                   # target cuda's executable run with its data on the GPU


class Settings:
    """How long to time: `quick` is CI's smoke run (the exact shapes, fewer and shorter rounds)."""

    def __init__(self, quick: bool = False, rounds: int | None = None):
        self.quick = quick
        self.rounds = rounds or (3 if quick else 7)
        self.round_budget_s = 0.1 if quick else 0.4     # per system and round
        self.min_calls = 1 if quick else 3
        self.max_calls = 2000 if quick else 20000
        self.compile_rounds = max(1, min(self.rounds, 1 if quick else 5))


# ------------------------------------------------------------------------------------------------
# loading the workloads

def load_workloads():
    """benchmarks/workloads.py of the source tree this xlite comes from (it is not part of the package)."""
    root = str(Path(__file__).resolve().parent.parent)
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


# ------------------------------------------------------------------------------------------------
# verification

class Mismatch(Exception):
    """A system's result disagrees with the interpreter's."""


def _close(name: str, got, want, rtol: float, atol: float) -> None:
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        raise Mismatch(f"{name}: shape {got.shape} vs interpreter {want.shape}")
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    if not np.allclose(got, want, rtol=rtol, atol=atol * scale, equal_nan=True):
        err = float(np.max(np.abs(got.astype(np.float64) - want)))
        raise Mismatch(f"{name}: max abs error {err:.3g} (rtol {rtol}, atol {atol * scale:.3g})")


def _check_step(values: dict, ref: dict, workload) -> None:
    """Fetched outputs, then for a training step the updated Variables and the update itself."""
    for i, (got, want) in enumerate(zip(values["outputs"], ref["outputs"])):
        _close(f"output {i}", got, want, workload.rtol, workload.atol)
    for k, (got, want, before) in enumerate(zip(values["after"], ref["after"], ref["before"])):
        _close(f"variable {k} after one step", got, want, workload.rtol, workload.atol)
        delta = np.asarray(want, np.float64) - before
        _close(f"update of variable {k}", np.asarray(got, np.float64) - before, delta, 1e-3,
               1e-3 * float(np.max(np.abs(delta))) if delta.size else 0.0)


def _first_step(sess, prog, initial=None) -> dict:
    """Initialize, optionally overwrite with `initial`, run one call; the values a check compares."""
    before = []
    if prog.init is not None:
        sess.run(prog.init)
        before = [np.array(v) for v in sess.run(prog.variables)]
        if initial is not None:
            for var, value in zip(prog.variables, initial):
                var.load(value, sess)
    known = set(getattr(sess, "_cache", {}))
    t0 = time.perf_counter()
    out = sess.run(prog.fetches, prog.feeds)
    step_s = time.perf_counter() - t0
    new = [v for k, v in getattr(sess, "_cache", {}).items() if k not in known]   # (lowered, executable)
    after = [np.array(v) for v in sess.run(prog.variables)] if prog.variables else []
    return {"outputs": [np.array(out[i]) for i in prog.outputs], "before": before, "after": after,
            "executable": new[0][1] if len(new) == 1 else None, "step_s": step_s}


def _is_unimplemented(e: BaseException) -> bool:
    from xlite import errors
    return isinstance(e, (NotImplementedError, errors.UnimplementedError))


def _describe(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:160]


class System:
    """One way of running a workload: `call()` is one timed call; `status` is "ok" or why it is not timed."""

    def __init__(self, name: str):
        self.name = name
        self.status = "ok"
        self.call = None
        self.stats: dict = {}
        self.hint_s = None        # a call's time already known (skips calibrating a slow system)

    def fail(self, e: BaseException) -> None:
        if isinstance(e, Mismatch):
            self.status = f"MISMATCH {e}"
        elif _is_unimplemented(e):
            self.status = f"not implemented: {_describe(e)}"
        else:
            self.status = f"error: {_describe(e)}"


def prepare(workload, target: str, with_jax: bool, with_cupy: bool = False):
    """Builds the workload, runs and checks every system once; (systems, reference)."""
    import xlite as tf
    prog = workload.build()
    systems = [System("interpreter")]
    interp = tf.Session(target="interpreter", graph=prog.graph)
    ref = _first_step(interp, prog)
    systems[0].call = lambda: interp.run(prog.fetches, prog.feeds)
    systems[0].hint_s = ref["step_s"]          # no compile in it: good enough to size the rounds

    compiled = System(target)
    systems.append(compiled)
    executable = None
    try:
        sess = tf.Session(target=target, graph=prog.graph)
        values = _first_step(sess, prog, initial=ref["before"])
        executable = values["executable"]
        for k, (got, want) in enumerate(zip(values["before"], ref["before"])):
            _close(f"initial value of variable {k}", got, want, 1e-5, 1e-6)
        _check_step(values, ref, workload)
        compiled.stats = executable_stats(values["executable"])
        compiled.call = lambda: sess.run(prog.fetches, prog.feeds)
    except Exception as e:      # noqa: BLE001  (a row reports it; the suite goes on)
        compiled.fail(e)

    if with_jax:
        jx = System("jax")
        systems.append(jx)
        try:
            program = _jax_programs().make(workload.id, list(prog.feeds.values()), ref["before"] or None)
            got = program.first()
            n = len(ref["outputs"])
            _check_step({"outputs": got[:n], "after": got[n:]}, ref, workload)
            jx.call = program.call
        except Exception as e:  # noqa: BLE001
            jx.fail(e)

    if with_cupy:
        cp = System("cupy")
        systems.append(cp)
        try:
            program = _cupy_programs().make(workload.id, prog, ref["before"] or None)
            got = program.first()
            n = len(ref["outputs"])
            _check_step({"outputs": got[:n], "after": got[n:]}, ref, workload)
            cp.call = program.call
        except Exception as e:  # noqa: BLE001
            cp.fail(e)
    if target == "cuda":
        compiled.stats.update(gpu_device(executable))
        device = System(DEVICE_SYSTEM)
        systems.insert(2, device)
        device.status = compiled.status
        if compiled.status == "ok":
            try:
                device.call = device_call(sess, prog, executable, workload)
            except Exception as e:  # noqa: BLE001
                device.fail(e)
    return systems, ref


def _frozen(feeds: dict) -> dict:
    """Read-only copies of the feeds, as the Session's own copies are: bound again, they are not re-uploaded."""
    frozen = {}
    for tensor, value in feeds.items():
        frozen[tensor] = np.array(value, copy=True)
        frozen[tensor].flags.writeable = False
    return frozen


def device_call(sess, prog, executable, workload) -> Callable[[], None]:
    """`executable.run_on_device` with the arguments one `sess.run` passes it (the Session's own Variables,
    updated in place), after checking that it reproduces that run from the same Variables."""
    from xlite.codegen.cuda.executable import DeviceArray

    def on_device(args: list) -> list:
        return [np.array(a) if isinstance(a, DeviceArray) else None for a in args]

    seen, real = [], executable.run

    def capture(args):
        before = on_device(args)
        results = real(args)
        seen.append((list(args), before, [np.array(r) for r in results], on_device(args)))
        return results

    executable.run = capture            # for this one call: the Session looks `run` up on each call
    try:
        sess.run(prog.fetches, _frozen(prog.feeds))
    finally:
        del executable.run
    if len(seen) != 1:
        raise RuntimeError(f"sess.run called its compiled executable {len(seen)} times, not once")
    args, before, results, after = seen[0]

    def restore() -> None:
        for arg, value in zip(args, before):
            if value is not None:
                arg.set(value)

    restore()
    executable.run_on_device(args)
    for n, (arg, want) in enumerate(zip(args, after)):
        if want is not None:
            _close(f"argument {n} after run_on_device", np.array(arg), want, workload.rtol, workload.atol)
    restore()                           # run leaves the Variables as sess.run did
    for i, (got, want) in enumerate(zip(executable.run(args), results)):
        _close(f"result {i} of a run after run_on_device", got, want, workload.rtol, workload.atol)
    return lambda: executable.run_on_device(args)


def executable_stats(executable) -> dict:
    """Kernels and peak bytes of a compiled executable, where it exposes them."""
    if executable is None:
        return {}
    stats: dict = {}
    plan = getattr(executable, "plan", None)
    for owner in (executable, plan):
        for name in ("num_kernels", "kernels", "kernel_count"):
            value = getattr(owner, name, None)
            if isinstance(value, int):
                stats["kernels"], stats["kernels_from"] = value, "executable"
                break
        if "kernels" in stats:
            break
    cached = isinstance(getattr(executable, "peak_bytes", None), int)    # figures a cache entry kept
    module = None if cached and "kernels" in stats else getattr(executable, "module", None)
    if "kernels" not in stats and module is not None:
        try:
            from xlite.passes.fusion import kernel_count
        except ImportError:
            kernel_count = None
        if kernel_count is not None:
            stats["kernels"], stats["kernels_from"] = kernel_count(module.entry), "entry instructions"
    assignment = module.properties.get("buffer_assignment") if module is not None else None
    # Peak: the most bytes of temporaries live at once (the buffer assignment's figure; parameters and
    # results live in the caller's arrays). The arena also holds the kernels' scratch space.
    if assignment is not None and hasattr(assignment, "peak_bytes"):
        stats["peak_bytes"], stats["peak_from"] = int(assignment.peak_bytes), "buffer assignment"
    elif cached:
        stats["peak_bytes"], stats["peak_from"] = executable.peak_bytes, "buffer assignment"
    if plan is not None and getattr(plan, "arena_bytes", None) is not None:
        stats["arena_bytes"] = int(plan.arena_bytes)
    launches = getattr(getattr(executable, "program", None), "launches", None)   # CudaExecutable
    if isinstance(launches, int):
        stats["launches"] = launches
    return stats


def hbm_gbps(device: str) -> float:
    """The HBM bandwidth BENCHMARKS.md gives for a GPU of this name (HBM_GBPS, else the default)."""
    for key, gbps in HBM_GBPS.items():
        if key.lower() in device.lower():
            return gbps
    return HBM_DEFAULT_GBPS


def gpu_device(executable) -> dict:
    """The GPU a cuda executable ran on (else CuPy's current device): name, HBM figure, or emulated."""
    driver = getattr(executable, "driver", None)
    if driver is not None:
        from xlite.codegen.cuda.emulator import EmulatedDriver
        if isinstance(driver, EmulatedDriver):
            return {"device": str(driver.name), "emulated": True}
        name = str(driver.name)
    else:
        try:
            import cupy
            name = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"]
            name = name.decode() if isinstance(name, bytes) else str(name)
        except Exception:       # noqa: BLE001  (no CuPy or no device: no GPU figure)
            return {}
    return {"device": name, "emulated": False, "hbm_gbps": hbm_gbps(name)}


# ------------------------------------------------------------------------------------------------
# timing

def _calls_per_round(call, settings: Settings, hint_s: float | None = None) -> int:
    """Calls that fill a round's budget, from the fastest of a few calls (one hiccup must not decide)."""
    if hint_s is not None and hint_s > max(1.0, 2 * settings.round_budget_s):
        return settings.min_calls
    times, spent = [], 0.0
    while len(times) < 5 and (not times or spent < settings.round_budget_s / 4):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
        spent += times[-1]
    one = max(min(times), 1e-7)
    return int(min(settings.max_calls, max(settings.min_calls, settings.round_budget_s / one)))


def _one_round(call, n: int) -> float:
    times = []
    clock = time.perf_counter
    for _ in range(n):
        t0 = clock()
        call()
        times.append(clock() - t0)
    return float(np.median(times))


def time_systems(systems: list, settings: Settings) -> None:
    """Rounds interleaving the systems; fills each system's `rounds` (per-call medians, seconds)."""
    live = [s for s in systems if s.status == "ok"]
    for s in live:                                   # the calibration call also warms caches
        s.calls = _calls_per_round(s.call, settings, s.hint_s)
        s.rounds = []
    enabled = gc.isenabled()
    try:
        for _ in range(settings.rounds):
            for s in live:
                gc.collect()
                gc.disable()
                s.rounds.append(_one_round(s.call, s.calls))
                if enabled:
                    gc.enable()
    finally:
        if enabled:
            gc.enable()


def _paired_ratio(num: System, den: System):
    if num.status != "ok" or den.status != "ok":
        return None
    return float(np.median([a / b for a, b in zip(num.rounds, den.rounds)]))


# ------------------------------------------------------------------------------------------------
# W6: cold and cached compile in fresh processes

_PROBE = ("import sys, time; t0 = time.perf_counter(); import xlite.bench as b; "
          "b.compile_probe(sys.argv[1], sys.argv[2], t0)")


def compile_probe(system: str, target: str, t_start: float) -> None:
    """Child process: times the W3 step's graph build, Session and first runs; prints one JSON line."""
    out: dict = {"import_s": time.perf_counter() - t_start}
    try:
        workloads = load_workloads()
        if system == "jax":
            t0 = time.perf_counter()
            jw = _jax_programs()
            out["import_s"] += time.perf_counter() - t0
            images, labels = workloads.mnist_batch(30, (784,), 128)
            t0 = time.perf_counter()
            program = jw.make("W6", [images, labels], jw.mlp_initial_params())
            program.first()
            out["total_s"] = time.perf_counter() - t0
        else:
            import xlite as tf
            stats = importlib.import_module(f"xlite.codegen.{target}.cache").STATS if target == "cpu" else None
            t0 = time.perf_counter()
            prog = workloads.build_w3()
            t1 = time.perf_counter()
            sess = tf.Session(target=target, graph=prog.graph)
            t2 = time.perf_counter()
            sess.run(prog.init)
            t3 = time.perf_counter()
            sess.run(prog.fetches, prog.feeds)
            t4 = time.perf_counter()
            out.update(build_s=t1 - t0, session_s=t2 - t1, init_run_s=t3 - t2, first_step_s=t4 - t3,
                       total_s=t4 - t0, cache=None if stats is None else dict(stats))
        out["status"] = "ok"
    except Exception as e:      # noqa: BLE001
        out["status"] = (f"not implemented: {_describe(e)}" if _is_unimplemented(e)
                         else f"error: {_describe(e)}")
    print("XLITE_BENCH_PROBE " + json.dumps(out), flush=True)


def _probe(system: str, target: str, cache_dir: str | None, pycache: str | None = None) -> dict:
    env = dict(os.environ)
    env.pop("XLITE_CACHE", None)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    if cache_dir is not None:
        env["XLITE_CACHE_DIR"] = cache_dir
    if pycache is not None:         # compiled bytecode, as an installed package has (see _bytecode_cache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    proc = subprocess.run([sys.executable, "-c", _PROBE, system, target], env=env,
                          capture_output=True, text=True, timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith("XLITE_BENCH_PROBE "):
            return json.loads(line.split(" ", 1)[1])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"status": f"error: probe exited {proc.returncode}: {tail[:160]}"}


def _bytecode_cache(stack, target: str, with_jax: bool) -> str | None:
    """Where W6's probes keep compiled bytecode when this environment forbids writing it
    (PYTHONDONTWRITEBYTECODE): a user's installed xlite and JAX have their .pyc files, so without them
    every probe would also time compiling xlite's sources (~40 ms of a cold compile, ~100 ms of the
    import). One unmeasured probe per system fills it (a throwaway compile cache)."""
    if not sys.flags.dont_write_bytecode:
        return None
    pycache = stack.enter_context(tempfile.TemporaryDirectory(prefix="xlite-bench-pyc-"))
    with tempfile.TemporaryDirectory(prefix="xlite-bench-cache-") as cache_dir:
        _probe("xlite", target, cache_dir, pycache)
    if with_jax:
        _probe("jax", target, None, pycache)
    return pycache


def run_compile_workload(workload, target: str, with_jax: bool, settings: Settings) -> dict:
    with contextlib.ExitStack() as stack:
        pycache = _bytecode_cache(stack, target, with_jax)
        row = _compile_rounds(workload, target, with_jax, settings, pycache)
    row["bytecode"] = "written to a temporary pycache prefix" if pycache else "as the environment has it"
    return row


def _compile_rounds(workload, target: str, with_jax: bool, settings: Settings, pycache: str | None) -> dict:
    cold, cached, jax_cold = [], [], []
    status, probes = "ok", []
    for _ in range(settings.compile_rounds):
        with tempfile.TemporaryDirectory(prefix="xlite-bench-cache-") as cache_dir:
            first = _probe("xlite", target, cache_dir, pycache)
            second = _probe("xlite", target, cache_dir, pycache) if first["status"] == "ok" else None
        probes.append({"cold": first, "cached": second})
        if first["status"] != "ok":
            status = first["status"]
            break
        if second["status"] != "ok":
            status = second["status"]
            break
        cold.append(first["total_s"])
        cached.append(second["total_s"])
        if (second.get("cache") or {}).get("misses"):
            status = f"cached run missed the cache {second['cache']['misses']} time(s)"
    jax_status = None
    if with_jax:
        jax_status = "ok"
        for _ in range(settings.compile_rounds):
            probe = _probe("jax", target, None, pycache)
            if probe["status"] != "ok":
                jax_status = probe["status"]
                break
            jax_cold.append(probe["total_s"])
    row = {"id": workload.id, "title": workload.title, "shapes": workload.shapes, "kind": workload.kind,
           "status": status, "probes": probes,
           "cold_s": _median(cold), "cached_s": _median(cached),
           "cold_rounds_s": cold, "cached_rounds_s": cached,
           "cold_over_cached": (float(np.median([a / b for a, b in zip(cold, cached)]))
                                if cold and cached else None),
           "jax": None if jax_status is None else {"status": jax_status, "cold_s": _median(jax_cold),
                                                    "rounds_s": jax_cold}}
    if row["cold_s"] is not None and jax_cold:
        row["cold_over_jax"] = row["cold_s"] / _median(jax_cold)
    row["targets"] = _compile_targets(row) if target == "cpu" else []
    return row


def _median(values):
    return float(np.median(values)) if values else None


# ------------------------------------------------------------------------------------------------
# one workload

def run_workload(workload, target: str, with_jax: bool, settings: Settings, with_cupy: bool = False) -> dict:
    if workload.kind == "aot":
        from xlite.aot.bench import run_aot_workload
        return run_aot_workload(workload, target, settings)
    if workload.kind == "compile":
        return run_compile_workload(workload, target, with_jax, settings)
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


def _hbm_figures(row: dict, bytes_moved: int) -> None:
    """The bandwidth against the GPU's HBM: the floor (bytes moved once at HBM speed) and the fraction."""
    if row.get("hbm_gbps") and not row.get("emulated"):
        row["hbm_floor_s"] = bytes_moved / (row["hbm_gbps"] * 1e9)
        row["hbm_fraction"] = row["gbps"] / row["hbm_gbps"]


def _speed_targets(row: dict) -> list:
    need = TARGETS.get(row["id"])
    if need is None:
        return []
    speedup = row.get("speedup")
    checks = [{"what": f"{need:g}x vs interpreter", "met": None if speedup is None else speedup >= need}]
    if row["id"] == "W1":
        frac = row.get("copy_fraction")
        checks.append({"what": f">= {W1_MIN_COPY_FRACTION:.0%} of copy bandwidth",
                       "met": None if frac is None else frac >= W1_MIN_COPY_FRACTION})
    return checks


def _gpu_targets(row: dict) -> list:
    """BENCHMARKS.md's GPU goals; a timing on the emulator is no GPU figure ("not measured")."""
    wid, gpu = row["id"], not row.get("emulated")
    checks = []
    if wid in GPU_MIN_CUPY_SPEEDUP:
        need, ratio = GPU_MIN_CUPY_SPEEDUP[wid], row.get("cupy_over_compiled")
        checks.append({"what": f">= {need:g}x faster than CuPy",
                       "met": None if ratio is None or not gpu else ratio >= need})
    if wid in GPU_MAX_OVER_FLOOR:
        most, frac = GPU_MAX_OVER_FLOOR[wid], row.get("hbm_fraction")
        checks.append({"what": f"within {most:g}x of the HBM floor",
                       "met": None if frac is None or not gpu else frac >= 1.0 / most})
    if wid in GPU_MAX_LAUNCHES:
        most, launches = GPU_MAX_LAUNCHES[wid], row.get("launches")
        checks.append({"what": f"<= {most} kernel launch{'es' if most > 1 else ''} per run",
                       "met": None if launches is None else launches <= most})
    return checks


def _compile_targets(row: dict) -> list:
    cold, ratio = row.get("cold_s"), row.get("cold_over_cached")
    return [{"what": f"cold compile under {W6_COLD_LIMIT_S:g} s",
             "met": None if cold is None else cold < W6_COLD_LIMIT_S},
            {"what": f"cached >= {W6_MIN_CACHE_SPEEDUP:g}x faster than cold",
             "met": None if ratio is None else ratio >= W6_MIN_CACHE_SPEEDUP}]


# ------------------------------------------------------------------------------------------------
# the suite, the table, the JSON

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
        root = Path(__file__).resolve().parent.parent
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


def fmt_time(s) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_bytes(n) -> str:
    if n is None:
        return "-"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def _fmt_ratio(r) -> str:
    return "-" if r is None else f"{r:.2f}x"


def _throughput(w: dict) -> str:
    if w.get("gbps") is None:
        return f"{w['steps_per_s']:.0f} steps/s" if w.get("steps_per_s") is not None else "-"
    if w.get("copy_fraction") is not None:
        return f"{w['gbps']:.1f} GB/s ({w['copy_fraction']:.0%} copy)"
    if w.get("hbm_fraction") is not None:
        return (f"{w['gbps']:.1f} GB/s ({w['hbm_fraction']:.0%} of HBM {w['hbm_gbps'] / 1000:g} TB/s, "
                f"floor {fmt_time(w.get('hbm_floor_s'))})")
    if w.get("emulated"):
        return f"{w['gbps']:.1f} GB/s (CPU emulator, no GPU)"
    return f"{w['gbps']:.1f} GB/s"


def _cupy_cells(w: dict, report: dict) -> list:
    """The cupy and compiled/cupy columns of target cuda: CuPy's time, or why there is none."""
    if report.get("cupy") is None:
        return ["not installed", "-"]
    cp = w.get("systems", {}).get("cupy")
    if cp is None:
        return ["-", "-"]
    return [fmt_time(cp.get("time_s")) if cp["status"] == "ok" else cp["status"],
            _fmt_ratio(w.get("compiled_over_cupy"))]


def format_table(report: dict) -> str:
    target = report["target"]
    gpu = target == "cuda"
    head = ["id", "workload", "interpreter", target, "speedup", "jax", f"{target}/jax", "throughput",
            "kernels", "peak live", "status"]
    if gpu:
        head = (head[:4] + [DEVICE_SYSTEM] + head[4:7] + ["cupy", f"{DEVICE_SYSTEM}/cupy"] + head[7:9]
                + ["launches"] + head[9:])
    rows = []
    for w in report["workloads"]:
        rows.append(_table_row(w, report, target))
        if gpu:
            r = rows[-1]
            launches = w.get("launches")
            timed = w["kind"] not in ("aot", "compile")
            extra = _cupy_cells(w, report) if timed else ["-", "-"]
            rows[-1] = (r[:4] + [_device_cell(w) if timed else "-"] + r[4:7] + extra + r[7:9]
                        + ["-" if launches is None else str(launches)] + r[9:])
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    lines = ["| " + " | ".join(str(c).ljust(n) for c, n in zip(head, widths)) + " |",
             "|" + "|".join("-" * (n + 2) for n in widths) + "|"]
    lines += ["| " + " | ".join(str(c).ljust(n) for c, n in zip(r, widths)) + " |" for r in rows]
    checks = []
    for w in report["workloads"]:
        for t in w.get("targets", []):
            verdict = "not measured" if t["met"] is None else "met" if t["met"] else "MISSED"
            checks.append(f"{w['id']} {t['what']}: {verdict}")
    m = report["machine"]
    foot = (f"{report['date']}  xlite {report['xlite']} @ {report['commit']}  {m.get('cpu', '?')}, "
            f"{m.get('cores')} cores{', AVX-512' if m.get('avx512') else ''}  jax {report['jax'] or 'not installed'}"
            f"  rounds {report['rounds']}{' (quick)' if report['quick'] else ''}")
    notes = []
    if gpu:
        device = next((w["device"] for w in report["workloads"] if w.get("device")), None)
        foot += f"  device {device or 'unknown'}  cupy {report.get('cupy') or 'not installed'}"
        notes.append(f"{target}: the whole sess.run (feeds uploaded, fetches downloaded); {DEVICE_SYSTEM}: the "
                     "same executable's run_on_device, data left on the GPU as CuPy's; GB/s, HBM "
                     f"and CuPy figures use {DEVICE_SYSTEM}, the speedup over the interpreter uses {target}")
    return "\n".join(lines + ["", "targets: " + "; ".join(checks) if checks else ""] + notes + [foot])


def _device_cell(w: dict) -> str:
    """The cuda-device column: the time of run_on_device, or why there is none."""
    dev = w.get("systems", {}).get(DEVICE_SYSTEM)
    if dev is None:
        return "-"
    return fmt_time(dev.get("time_s")) if dev["status"] == "ok" else dev["status"]


def _table_row(w: dict, report: dict, target: str) -> list:
    """The columns every target has, for one workload."""
    if w["kind"] == "aot":
        from xlite.aot.bench import table_row
        return table_row(w, fmt_time, _fmt_ratio)
    if w["kind"] == "compile":
        jx = w.get("jax") or {}
        cached = w.get("cached_s")
        through = (f"cached {fmt_time(cached)} ({_fmt_ratio(w.get('cold_over_cached'))} faster)"
                   if cached is not None else "-")
        cold = w.get("cold_s")
        return [w["id"], w["title"], "-", "-" if cold is None else "cold " + fmt_time(cold), "-",
                ("cold " + fmt_time(jx.get("cold_s"))) if jx.get("cold_s") else (jx.get("status") or "-"),
                _fmt_ratio(w.get("cold_over_jax")), through, "-", "-", w["status"]]
    sysd = w["systems"]
    jx = sysd.get("jax")
    return [w["id"], w["title"], fmt_time(sysd.get("interpreter", {}).get("time_s")),
            fmt_time(sysd.get(target, {}).get("time_s")), _fmt_ratio(w.get("speedup")),
            "-" if jx is None else (fmt_time(jx.get("time_s")) if jx["status"] == "ok" else jx["status"]),
            _fmt_ratio(w.get("compiled_over_jax")), _throughput(w),
            str(w.get("kernels", "-")), fmt_bytes(w.get("peak_bytes")), w["status"]]


def failed(report: dict) -> bool:
    """Whether any system gave a wrong result or crashed (not implemented is not a failure)."""
    for w in report["workloads"]:
        statuses = [w["status"]] + [s["status"] for s in w.get("systems", {}).values()]
        if w.get("jax"):
            statuses.append(w["jax"]["status"])
        if any(s.startswith(("MISMATCH", "error")) for s in statuses):
            return True
    return False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="CI's smoke run: fewer, shorter rounds")
    parser.add_argument("--workloads", default=",".join(WORKLOAD_IDS), help="comma-separated, e.g. W1,W3")
    parser.add_argument("--target", default="cpu", help="the compiled target to compare with the interpreter")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--rounds", type=int, help="timing rounds per workload (default 7, quick 3)")
    parser.add_argument("--no-jax", action="store_true", help="skip JAX even when it is installed")
    parser.add_argument("--no-cupy", action="store_true",
                        help="target cuda: skip op-by-op CuPy even when it is installed")
    parser.add_argument("--isolate", action="store_true", help="each workload in a fresh process")


def run_from_args(args) -> int:
    canonical = {w.upper(): w for w in WORKLOAD_IDS}
    ids = [canonical.get(w.strip().upper(), w.strip().upper()) for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in ids if w not in WORKLOAD_IDS]
    if unknown:
        print(f"xlite bench: unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOAD_IDS)}",
              file=sys.stderr)
        return 2
    if args.target == "interpreter":
        print("xlite bench: --target names the compiled target to compare with the interpreter", file=sys.stderr)
        return 2
    settings = Settings(quick=args.quick, rounds=args.rounds)
    report = run_suite(ids, args.target, settings, with_jax=False if args.no_jax else None,
                       log=lambda line: print(line, file=sys.stderr, flush=True), isolate=args.isolate,
                       with_cupy=False if getattr(args, "no_cupy", False) else None)
    print(format_table(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, default=str) + "\n")
    return 1 if failed(report) else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="xlite bench", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
