"""Where a workload's compiled time goes: `python benchmarks/profile.py W1 [--target cpu] [--kernels]`.

Splits one `sess.run` into the Session's Python layer (fetch mapping, feed
checks, signature lookup, storing Variables), the executable's `run` (argument
checks, result allocation, the native call) and the native entry alone; with
--kernels, reruns in a child with XLITE_PROFILE=1 and prints the backend's
cycle count per kernel. For the codegen owners; the suite itself is
`xlite bench`.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import xlite as tf  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402


def median_time(fn, budget_s: float = 0.5, rounds: int = 5) -> float:
    t0 = time.perf_counter()
    fn()
    n = max(3, int(budget_s / rounds / max(time.perf_counter() - t0, 1e-7)))
    medians = []
    for _ in range(rounds):
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        medians.append(np.median(ts))
    return float(np.median(medians))


def split(wid: str, target: str) -> None:
    prog = WORKLOADS[wid].build()
    sess = tf.Session(target=target, graph=prog.graph)
    if prog.init is not None:
        sess.run(prog.init)
    known = set(sess._cache)
    sess.run(prog.fetches, prog.feeds)
    (_, exe), = [v for k, v in sess._cache.items() if k not in known]
    plan, feeds, _ = sess._plan_for(prog.fetches, prog.feeds)
    args = plan.arguments(feeds)
    whole = median_time(lambda: sess.run(prog.fetches, prog.feeds))
    run = median_time(lambda: exe.run(args))
    print(f"{wid} on {target}: sess.run {whole * 1e3:.4f} ms = Session layer {(whole - run) * 1e3:.4f} ms "
          f"+ executable.run {run * 1e3:.4f} ms")
    native = None
    if getattr(exe, "_entry", None) is not None:     # run() with its native call replaced by a no-op
        entry, exe._entry = exe._entry, (lambda *a: None)
        try:
            shell = median_time(lambda: exe.run(args))
        finally:
            exe._entry = entry
        native = max(run - shell, 0.0)
        print(f"  run() without its native call {shell * 1e3:.4f} ms; so native code about {native * 1e3:.4f} ms")
    if WORKLOADS[wid].bytes_moved:
        for name, t in (("sess.run", whole), ("native code", native)):
            if t:
                print(f"  {name}: {WORKLOADS[wid].bytes_moved / t / 1e9:.1f} GB/s")


def kernels(wid: str, target: str, runs: int = 20) -> None:
    """The last XLITE_PROFILE table after `runs` calls (the backend prints one per call)."""
    prog = WORKLOADS[wid].build()
    sess = tf.Session(target=target, graph=prog.graph)
    if prog.init is not None:
        sess.run(prog.init)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for _ in range(runs):
            sess.run(prog.fetches, prog.feeds)
    text = out.getvalue()
    marker = text.rfind("xlite cpu profile")
    print(text[marker:] if marker >= 0 else "(no XLITE_PROFILE table: the backend printed none)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--target", default="cpu")
    parser.add_argument("--kernels", action="store_true", help="per-kernel cycles (XLITE_PROFILE=1, in a child)")
    parser.add_argument("--_kernels-child", dest="child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kernels(args.workload, args.target)
        return
    split(args.workload, args.target)
    sys.stdout.flush()
    if args.kernels:
        env = dict(os.environ, XLITE_PROFILE="1")
        subprocess.run([sys.executable, __file__, args.workload, "--target", args.target, "--_kernels-child"],
                       env=env, check=False)


if __name__ == "__main__":
    main()
