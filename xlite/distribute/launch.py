"""`xlite run -n 4 train.py ARGS`: the script in 4 processes, started by mpiexec (MPICH or Open MPI).

The same as `mpiexec -n 4 python train.py ARGS` with this Python; `--hostfile FILE` spreads the
processes over the machines the file lists (one `host[:slots]` a line, as both MPICH's and Open MPI's
mpiexec read it), and `--mpiexec` names another launcher.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys


def mpi_missing() -> str | None:
    """Why processes cannot be launched over MPI here (mpi4py or mpiexec missing), or None."""
    import importlib.util
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install 'xlite[mpi]')"
    if shutil.which("mpiexec") is None:
        return "no mpiexec on PATH (pip install 'xlite[mpi]' installs MPICH's)"
    return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--np", dest="processes", type=int, default=1, help="how many processes (replicas)")
    parser.add_argument("--hostfile", help="machines to run on, one `host[:slots]` a line (default: this one)")
    parser.add_argument("--mpiexec", default="mpiexec", help="the MPI launcher (default: mpiexec on PATH)")
    parser.add_argument("script", help="the Python training script")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    parser.set_defaults(run=run_from_args)


def command(args: argparse.Namespace, launcher: str) -> list[str]:
    """The mpiexec command line for `args`."""
    line = [launcher, "-n", str(args.processes)]
    if args.hostfile:
        line += ["-hostfile", args.hostfile]
    return line + [sys.executable, args.script, *args.args]


def run_from_args(args: argparse.Namespace) -> int:
    if args.processes < 1:
        print("xlite run: -n must be at least 1", file=sys.stderr)
        return 2
    launcher = shutil.which(args.mpiexec)
    if launcher is None:
        print(f"xlite run: {args.mpiexec!r} not found; pip install 'xlite[mpi]' (mpi4py and MPICH) or name "
              "another launcher with --mpiexec", file=sys.stderr)
        return 127
    return subprocess.run(command(args, launcher)).returncode


__all__ = ["mpi_missing", "add_arguments", "command", "run_from_args"]
