"""W6: the W3 step's graph build, Session and first runs timed in fresh processes, with an empty
compile cache (cold) and then with that cache warm (cached); JAX's cold jit beside it."""
from __future__ import annotations

import contextlib
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from .checks import _describe, _is_unimplemented
from .settings import Settings, _jax_programs, load_workloads
from .targets import _compile_targets
from .timing import _median

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
            t0, c0 = time.perf_counter(), time.process_time()
            program = jw.make("W6", [images, labels], jw.mlp_initial_params())
            program.first()
            out["total_s"] = time.perf_counter() - t0
            out["cpu_s"] = time.process_time() - c0
        else:
            import xlite as tf
            stats = importlib.import_module(f"xlite.codegen.{target}.cache").STATS if target == "cpu" else None
            t0, c0 = time.perf_counter(), time.process_time()
            prog = workloads.build_w3()
            t1 = time.perf_counter()
            sess = tf.Session(target=target, graph=prog.graph)
            t2 = time.perf_counter()
            sess.run(prog.init)
            t3 = time.perf_counter()
            loss = sess.run(prog.fetches, prog.feeds)[0]
            t4 = time.perf_counter()
            out.update(build_s=t1 - t0, session_s=t2 - t1, init_run_s=t3 - t2, first_step_s=t4 - t3,
                       total_s=t4 - t0, cpu_s=time.process_time() - c0,
                       cache=None if stats is None else dict(stats))
            tiers = sys.modules.get("xlite.codegen.cpu.tiers")
            out["tiered"] = bool(tiers and tiers.pending())
            from xlite.runtime.driver import finish_background_compiles
            finish_background_compiles()
            out["final_code_s"] = time.perf_counter() - t0      # until every signature runs its -O3 code
            out["final_code_cpu_s"] = time.process_time() - c0
            _check_first_loss(workloads, loss)
        out["status"] = "ok"
    except Exception as e:      # noqa: BLE001
        out["status"] = (f"not implemented: {_describe(e)}" if _is_unimplemented(e)
                         else f"error: {_describe(e)}")
    print("XLITE_BENCH_PROBE " + json.dumps(out), flush=True)


def _check_first_loss(workloads, loss) -> None:
    """The timed first step's loss against the interpreter's (a fresh graph, the same seeds): W6 times
    the first *correct* result, whichever code tier computed it."""
    import xlite as tf
    prog = workloads.build_w3()
    with tf.Session(target="interpreter", graph=prog.graph) as sess:
        sess.run(prog.init)
        want = sess.run(prog.fetches, prog.feeds)[0]
    if not np.allclose(loss, want, rtol=1e-4, atol=1e-5):
        raise AssertionError(f"the first step's loss {float(loss)} is not the interpreter's {float(want)}")


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
    """Each round: xlite cold, xlite cached, then JAX cold, so the two systems alternate and share the
    machine's load of the moment (cold_over_jax is the median of per-round ratios)."""
    cold, cached, jax_cold, jax_cpu, paired, paired_cpu = [], [], [], [], [], []
    status, probes, failed = "ok", [], False
    jax_status = "ok" if with_jax else None
    for _ in range(settings.compile_rounds):
        round_cold = None
        if not failed:
            with tempfile.TemporaryDirectory(prefix="xlite-bench-cache-") as cache_dir:
                first = _probe("xlite", target, cache_dir, pycache)
                second = _probe("xlite", target, cache_dir, pycache) if first["status"] == "ok" else None
            probes.append({"cold": first, "cached": second})
            if first["status"] != "ok" or second["status"] != "ok":
                status, failed = (first if first["status"] != "ok" else second)["status"], True
            else:
                round_cold = first["total_s"]
                cold.append(round_cold)
                cached.append(second["total_s"])
                if (second.get("cache") or {}).get("misses"):
                    status = f"cached run missed the cache {second['cache']['misses']} time(s)"
        if jax_status == "ok":
            probe = _probe("jax", target, None, pycache)
            if probe["status"] != "ok":
                jax_status = probe["status"]
            else:
                jax_cold.append(probe["total_s"])
                jax_cpu.append(probe.get("cpu_s"))
                if round_cold is not None:
                    paired.append(round_cold / probe["total_s"])
                    if "cpu_s" in probe and "cpu_s" in probes[-1]["cold"]:
                        paired_cpu.append(probes[-1]["cold"]["cpu_s"] / probe["cpu_s"])
        if failed and jax_status != "ok":
            break
    row = {"id": workload.id, "title": workload.title, "shapes": workload.shapes, "kind": workload.kind,
           "status": status, "probes": probes,
           "cold_s": _median(cold), "cached_s": _median(cached),
           "cold_rounds_s": cold, "cached_rounds_s": cached,
           "cold_over_cached": (float(np.median([a / b for a, b in zip(cold, cached)]))
                                if cold and cached else None),
           "jax": None if jax_status is None else {"status": jax_status, "cold_s": _median(jax_cold),
                                                    "rounds_s": jax_cold, "cpu_rounds_s": jax_cpu}}
    if paired:
        row["cold_over_jax"] = float(np.median(paired))
        row["cold_over_jax_rounds"] = paired
    if paired_cpu:                  # CPU time (user + system, all threads): load inflates it much less
        row["cold_cpu_over_jax"] = float(np.median(paired_cpu))
    row["targets"] = _compile_targets(row) if target == "cpu" else []
    return row
