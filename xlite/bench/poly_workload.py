"""W6-poly of `xlite bench`: one executable for every batch size (symbolic dims, #18).

A fresh process with an empty compile cache builds the W3 step (its placeholders are [None, 784] and
[None, 10]), runs its initializer, then its first step at batch 128 (the step's cold compile) and its
first step at batch 100. The target is that the batch-100 run costs under 5% of the cold compile: it
is a run of the same executable, not a compile (the child also reports how many compiles the driver
made for it). Beside it, in this process, the W3 step with its batch dim symbolic and the same step
with static [128, ...] placeholders are timed interleaved at batch 128 (target: within 10%).
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
from .settings import Settings, load_workloads
from .targets import check
from .timing import _median

W6_POLY_MAX_FRACTION = 0.05         # the first run at a new batch size, as a fraction of the cold compile
W3_SYMBOLIC_MAX_OVER_STATIC = 1.10  # the symbolic-batch W3 step's time over the static one's

_CHILD = "import sys; import xlite.bench.poly_workload as p; p.poly_probe(sys.argv[1])"


def poly_probe(target: str) -> None:
    """Child process: the W3 step's first run at batch 128 (cold), then at batch 100; one JSON line."""
    out: dict = {}
    try:
        import xlite as tf
        from xlite.runtime import driver
        workloads = load_workloads()
        prog = workloads.build_w3()
        images, labels = list(prog.feeds)
        sess = tf.Session(target=target, graph=prog.graph)
        sess.run(prog.init)
        compiles = driver.STATS.get(target, 0)
        t0 = time.perf_counter()
        sess.run(prog.fetches, prog.feeds)
        t1 = time.perf_counter()
        x100, y100 = workloads.mnist_batch(31, (784,), 100)
        sess.run(prog.fetches, {images: x100, labels: y100})
        t2 = time.perf_counter()
        out.update(cold_s=t1 - t0, first_100_s=t2 - t1, status="ok",
                   compiles=driver.STATS.get(target, 0) - compiles,
                   fallbacks=[str(e) for e in getattr(sess, "symbolic_fallbacks", {}).values()])
    except Exception as e:      # noqa: BLE001
        out["status"] = (f"not implemented: {_describe(e)}" if _is_unimplemented(e) else f"error: {_describe(e)}")
    print("XLITE_BENCH_POLY " + json.dumps(out), flush=True)


def _child(target: str, cache_dir: str) -> dict:
    env = dict(os.environ, XLITE_CACHE_DIR=cache_dir)
    env.pop("XLITE_CACHE", None)
    proc = subprocess.run([sys.executable, "-c", _CHILD, target], env=env, capture_output=True, text=True,
                          timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith("XLITE_BENCH_POLY "):
            return json.loads(line.split(" ", 1)[1])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"status": f"error: probe exited {proc.returncode}: {tail[:160]}"}


def _w3_sessions(target: str) -> list:
    """(session, fetches, feeds) of the W3 step with a symbolic batch dim, and with a static one."""
    import xlite as tf
    workloads = load_workloads()
    made = []
    for batch in (None, 128):
        graph = tf.Graph()
        with graph.as_default():
            tf.set_random_seed(3)
            x = tf.placeholder(tf.float32, [batch, 784], name="images")
            y = tf.placeholder(tf.float32, [batch, 10], name="labels")
            loss, train_op = workloads.w3_step(x, y)
            init = tf.global_variables_initializer()
        images, labels = workloads.mnist_batch(30, (784,), 128)
        sess = tf.Session(target=target, graph=graph)
        sess.run(init)
        feeds = {x: images, y: labels}
        sess.run([loss, train_op], feeds)
        made.append((sess, [loss, train_op], feeds))
    return made


def _symbolic_over_static(target: str, settings: Settings) -> float:
    """Median over interleaved rounds of (symbolic step time / static step time) at batch 128."""
    made = _w3_sessions(target)
    from xlite.runtime.driver import finish_background_compiles
    finish_background_compiles()                # both steps on their -O3 code (codegen/cpu/tiers.py)
    calls = 20 if settings.quick else 100
    ratios = []
    for _ in range(settings.rounds):
        times = []
        for sess, fetches, feeds in made:
            t0 = time.perf_counter()
            for _ in range(calls):
                sess.run(fetches, feeds)
            times.append((time.perf_counter() - t0) / calls)
        ratios.append(times[0] / times[1])
    for sess, _, _ in made:
        sess.close()
    return float(np.median(ratios))


def run_poly_workload(workload, target: str, with_jax: bool, settings: Settings) -> dict:
    row = {"id": workload.id, "title": workload.title, "shapes": workload.shapes, "kind": workload.kind,
           "status": "ok", "probes": []}
    fractions = []
    for _ in range(settings.compile_rounds):
        with tempfile.TemporaryDirectory(prefix="xlite-bench-cache-") as cache_dir:
            probe = _child(target, cache_dir)
        row["probes"].append(probe)
        if probe["status"] != "ok":
            row["status"] = probe["status"]
            break
        fractions.append(probe["first_100_s"] / probe["cold_s"])
    if row["status"] == "ok":
        try:
            row["symbolic_over_static"] = _symbolic_over_static(target, settings)
        except Exception as e:      # noqa: BLE001
            row["status"] = f"error: {_describe(e)}"
    last = row["probes"][-1] if row["probes"] else {}
    row.update(cold_s=_median([p["cold_s"] for p in row["probes"] if p.get("status") == "ok"]),
               first_100_s=_median([p["first_100_s"] for p in row["probes"] if p.get("status") == "ok"]),
               first_over_cold=float(np.median(fractions)) if fractions else None,
               compiles_at_100=last.get("compiles", 1) - 1 if last.get("status") == "ok" else None)
    row["targets"] = _targets(row)
    return row


def _targets(row: dict) -> list:
    return [check(f"first run at batch 100 < {W6_POLY_MAX_FRACTION:.0%} of the cold compile at 128",
                  row.get("first_over_cold"), lambda r: r < W6_POLY_MAX_FRACTION),
            check("no compile for batch 100", row.get("compiles_at_100"), lambda n: n == 0),
            check(f"symbolic-batch W3 within {W3_SYMBOLIC_MAX_OVER_STATIC - 1:.0%} of static at batch 128",
                  row.get("symbolic_over_static"), lambda r: r <= W3_SYMBOLIC_MAX_OVER_STATIC)]


def table_row(row: dict, fmt_time, fmt_ratio) -> list:
    """The W6-poly line of `xlite bench`'s table (columns as W6-aot's)."""
    first, fraction = row.get("first_100_s"), row.get("first_over_cold")
    through = ("-" if first is None else
               f"batch 100: {fmt_time(first)} ({fraction:.1%} of cold)")
    ratio = row.get("symbolic_over_static")
    if ratio is not None:
        through += f"; symbolic/static W3 {ratio:.3f}"
    cold = row.get("cold_s")
    return [row["id"], row["title"], "-", "-" if cold is None else "cold " + fmt_time(cold), "-", "-", "-",
            through, "-", "-", row["status"]]


__all__ = ["poly_probe", "run_poly_workload", "table_row", "W6_POLY_MAX_FRACTION", "W3_SYMBOLIC_MAX_OVER_STATIC"]
