"""`xlite bench`'s command line: the options, and running the suite from them."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .report import failed, format_table
from .settings import WORKLOAD_IDS, Settings
from .suite import run_suite


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
    import xlite.bench
    parser = argparse.ArgumentParser(prog="xlite bench", description=xlite.bench.__doc__.splitlines()[0])
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))
