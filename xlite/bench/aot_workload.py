"""W6-aot of `xlite bench`: starting the W3 step from its AOT library vs compiling it cold in a Session.

The parent compiles the W3 training step once with variables="args" (xlite.aot),
saves the interpreter's initial Variable values and the feeds beside it, and
checks the library's first loss against the interpreter's. Then, in fresh
processes, it times rounds of: (a) `xlite.aot.load` of the library + reading
the saved Variables + the first step (the probe must never import llvmlite or
xlite's code generator, and reports whether it did), and (b) W6's cold probe
(graph build + Session + first run with an empty compile cache). Both figures
exclude the Python imports (reported beside them, as W6 does); the ratio is
the median of per-round cold / aot.

Only the probe (`aot_probe`) runs in the child. It imports this package (numpy and
the bench modules, none of which loads llvmlite or xlite's code generator at the top)
and xlite.aot.load, so the child stays free of LLVM. The suite sits above xlite.aot:
this module uses the AOT compiler and loader; nothing in xlite.aot imports the suite.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from .checks import _describe, _is_unimplemented
from .cold_compile import _probe
from .targets import check
from .timing import _median

W6_AOT_MIN_SPEEDUP = 10.0
_PROBE = ("import sys, time; t0 = time.perf_counter(); import xlite.bench.aot_workload as b; "
          "b.aot_probe(sys.argv[1], t0)")


def aot_probe(directory: str, t_start: float) -> None:
    """Child process: load the W3 library, its Variables and feeds, run one step; one JSON line."""
    out: dict = {"import_s": time.perf_counter() - t_start}
    try:
        from xlite.aot.load import load
        t0 = time.perf_counter()
        fn = load(os.path.join(directory, "w3_step.so"))
        with np.load(os.path.join(directory, "w3_variables.npz")) as data:
            variables = {k: np.array(data[k]) for k in data.files}
        with np.load(os.path.join(directory, "w3_feeds.npz")) as data:
            feeds = {k: data[k] for k in data.files}
        t1 = time.perf_counter()
        loss = fn(**feeds, **variables)[0]
        t2 = time.perf_counter()
        out.update(load_s=t1 - t0, first_step_s=t2 - t1, total_s=t2 - t0, loss=float(loss),
                   llvmlite_imported="llvmlite" in sys.modules,
                   codegen_imported=any(m.startswith("xlite.codegen") for m in sys.modules),
                   status="ok")
    except Exception as e:      # noqa: BLE001  (the row reports it)
        out["status"] = f"error: {type(e).__name__}: {str(e).strip()[:160]}"
    print("XLITE_BENCH_PROBE " + json.dumps(out), flush=True)


def _aot_child(directory: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", _PROBE, directory], capture_output=True, text=True, timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith("XLITE_BENCH_PROBE "):
            return json.loads(line.split(" ", 1)[1])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"status": f"error: probe exited {proc.returncode}: {tail[:160]}"}


def build_library(workload, directory: str) -> float:
    """Compiles the W3 step into `directory` (w3_step.so), saves the initial Variables and the feeds;
    returns the interpreter's loss of the first step."""
    import xlite as tf
    from xlite.aot.compiler import compile as aot_compile
    prog = workload.build()
    loss, train = prog.fetches
    feeds = {t: a for t, a in prog.feeds.items()}
    artifacts = aot_compile([loss], {t: a.shape for t, a in feeds.items()}, name="w3_step", out_dir=directory,
                            variables="args", updates=[train], graph=prog.graph)
    if artifacts.shared_path is None:
        raise tf.errors.UnimplementedError(None, None, "no C compiler to link w3_step.so")
    sess = tf.Session(target="interpreter", graph=prog.graph)
    sess.run(prog.init)
    values = sess.run(prog.variables)
    np.savez(os.path.join(directory, "w3_variables.npz"),
             **{v.op.name: np.asarray(x) for v, x in zip(prog.variables, values)})
    np.savez(os.path.join(directory, "w3_feeds.npz"), **{t.op.name: a for t, a in feeds.items()})
    return float(sess.run(loss, prog.feeds))


def run_aot_workload(workload, target: str, settings) -> dict:
    row = {"id": workload.id, "title": workload.title, "shapes": workload.shapes, "kind": workload.kind,
           "status": "ok", "probes": []}
    aot, cold = [], []
    with tempfile.TemporaryDirectory(prefix="xlite-bench-aot-") as directory:
        try:
            reference = build_library(workload, directory)
        except Exception as e:      # noqa: BLE001
            row["status"] = (f"not implemented: {_describe(e)}" if _is_unimplemented(e)
                             else f"error: {_describe(e)}")
            row["targets"] = _targets(row)
            return row
        for _ in range(settings.compile_rounds):
            first = _aot_child(directory)
            with tempfile.TemporaryDirectory(prefix="xlite-bench-cache-") as cache_dir:
                session = _probe("xlite", target, cache_dir)
            row["probes"].append({"aot": first, "cold": session})
            if first["status"] != "ok" or session["status"] != "ok":
                row["status"] = first["status"] if first["status"] != "ok" else f"cold Session: {session['status']}"
                break
            if not np.isclose(first["loss"], reference, rtol=1e-4, atol=1e-5):
                row["status"] = f"MISMATCH loss {first['loss']:.7g} vs interpreter {reference:.7g}"
                break
            aot.append(first["total_s"])
            cold.append(session["total_s"])
    last = row["probes"][-1]["aot"] if row["probes"] else {}
    row.update(aot_s=_median(aot), cold_s=_median(cold), aot_rounds_s=aot, cold_rounds_s=cold,
               cold_over_aot=float(np.median([c / a for c, a in zip(cold, aot)])) if aot and cold else None,
               aot_first_step_s=last.get("first_step_s"), aot_import_s=last.get("import_s"),
               llvmlite_imported=any(p["aot"].get("llvmlite_imported") for p in row["probes"]) if aot else None)
    row["targets"] = _targets(row)
    return row


def _targets(row: dict) -> list:
    return [check(f"AOT load + first step >= {W6_AOT_MIN_SPEEDUP:g}x faster than a cold Session compile",
                  row.get("cold_over_aot"), lambda r: r >= W6_AOT_MIN_SPEEDUP),
            check("xlite.aot.load never imports llvmlite", row.get("llvmlite_imported"), lambda i: not i)]


def table_row(row: dict, fmt_time, fmt_ratio) -> list:
    """The W6-aot line of `xlite bench`'s table (its columns: id, workload, interpreter, target,
    speedup, jax, target/jax, throughput, kernels, peak live, status)."""
    aot = row.get("aot_s")
    through = f"aot {fmt_time(aot)} ({fmt_ratio(row.get('cold_over_aot'))} faster)" if aot is not None else "-"
    cold = row.get("cold_s")
    return [row["id"], row["title"], "-", "-" if cold is None else "cold " + fmt_time(cold), "-", "-", "-",
            through, "-", "-", row["status"]]


__all__ = ["aot_probe", "run_aot_workload", "build_library", "table_row"]
