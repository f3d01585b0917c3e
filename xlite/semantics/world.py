"""The world group that collectives reduce over: every process `mpiexec` started, or this process alone.

MPI (through mpi4py) is started only where it is wanted: when a launcher started this process
(mpiexec/mpirun/srun set PMI_* / OMPI_* / PMIX_* variables), when mpi4py.MPI is already imported, or
with XLITE_MPI=1. Anywhere else the world is one process and every collective is the identity, so a
script written for many processes runs unchanged (and without mpi4py) on one.

Once MPI is up with more than one process, an uncaught exception in any process aborts them all
(MPI_Abort), as `python -m mpi4py` does: the others would otherwise wait in their next collective for
ever. The failing process's traceback is printed first.
"""
from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass

LAUNCHER_VARIABLES = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")


@dataclass(frozen=True)
class World:
    """Who this process is among the processes that run the same program."""
    size: int = 1
    rank: int = 0
    local_size: int = 1       # processes on this machine
    local_rank: int = 0
    comm: object = None       # mpi4py's COMM_WORLD when MPI is up, else None (a world of one)


_world: World | None = None
_lock = threading.Lock()


def launched_by_mpi() -> bool:
    """Whether an MPI launcher started this process (or XLITE_MPI=1 asks for MPI anyway)."""
    wanted = os.environ.get("XLITE_MPI", "")
    if wanted in ("0", "1"):
        return wanted == "1"
    return "mpi4py.MPI" in sys.modules or any(v in os.environ for v in LAUNCHER_VARIABLES)


def mpi_module():
    """mpi4py.MPI, imported (which starts MPI); ImportError names the extra that provides it."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError("this process was started by an MPI launcher, but mpi4py is not importable: "
                          "pip install 'xlite[mpi]' (mpi4py and mpich)") from e
    return MPI


def world() -> World:
    """The world of this process, MPI started on the first call where it is wanted."""
    global _world
    if _world is None:
        with _lock:
            if _world is None:
                _world = _start() if launched_by_mpi() else World()
    return _world


def is_chief() -> bool:
    """Whether this process writes the files every replica would write alike (checkpoints, summaries):
    rank 0, as Horovod scripts and tf.distribute's chief do. A process alone is its own chief."""
    return world().rank == 0


def _start() -> World:
    MPI = mpi_module()
    comm = MPI.COMM_WORLD
    local = comm.Split_type(MPI.COMM_TYPE_SHARED, comm.Get_rank())
    result = World(comm.Get_size(), comm.Get_rank(), local.Get_size(), local.Get_rank(), comm)
    local.Free()
    if result.size > 1:
        _abort_all_on_uncaught_exception(comm)
    return result


def _abort_all_on_uncaught_exception(comm) -> None:
    """An uncaught exception here ends every process of the world, with this one's traceback printed."""
    previous = sys.excepthook

    def abort(kind, value, traceback):
        previous(kind, value, traceback)
        sys.stderr.write(f"xlite: rank {comm.Get_rank()} of {comm.Get_size()} failed with an uncaught "
                         f"{kind.__name__}; aborting every rank (MPI_Abort)\n")
        sys.stderr.flush()
        comm.Abort(1)

    sys.excepthook = abort


__all__ = ["World", "world", "is_chief", "launched_by_mpi", "mpi_module"]
