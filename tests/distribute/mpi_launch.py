"""Launching a script under `mpiexec -n 2` from a test, or the reason it cannot be (for pytest.skip)."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from xlite.distribute.launch import mpi_missing as missing  # noqa: F401  (the tests' skip reason)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mpiexec(args: list, processes: int = 2, timeout: float = 300) -> subprocess.CompletedProcess:
    """`mpiexec -n processes python args...` from the source tree, with a private compile cache; `.oks` holds
    the "ok" lines the ranks reported in their own files."""
    checks_dir = tempfile.mkdtemp(prefix="xlite-mpi-files-")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               XLITE_CACHE_DIR=os.environ.get("XLITE_CACHE_DIR") or tempfile.mkdtemp(prefix="xlite-mpi-test-"),
               EXPECTED_SIZE=str(processes), MPI_CHECKS_DIR=checks_dir)
    env.pop("XLITE_MPI", None)
    run = subprocess.run(["mpiexec", "-n", str(processes), sys.executable, *args], capture_output=True, text=True,
                         timeout=timeout, env=env, cwd=ROOT)
    reports = [os.path.join(checks_dir, f"ok.{rank}") for rank in range(processes)]
    run.oks = "".join(open(path).read() for path in reports if os.path.exists(path))
    return run
