"""The collectives' meaning: all_reduce (and its async pair), all_gather and collective_broadcast over the
world (world.py).

In a world of one process they are the identity (a gather of one part), so they evaluate anywhere;
in a bigger world they call mpi4py, which every backend without native MPI calls too (the CUDA
backend stages device buffers through the host and calls `host_collective`). An all_reduce mean is the
sum divided by the world size in the operand's dtype, as the CPU backend computes it.
"""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.ir.module import Instruction
from xlite.semantics.world import world


def world_mismatch(message: str) -> errors.OpError:
    """A collective built for another world than the one running it (TF's FailedPreconditionError)."""
    return errors.FailedPreconditionError(None, None, message)


def _mpi_op(kind: str):
    from mpi4py import MPI
    return {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[kind]


def all_reduce(x: np.ndarray, kind: str) -> np.ndarray:
    """x combined elementwise over every process: sum, mean, max or min."""
    w = world()
    x = np.ascontiguousarray(x)
    if w.size == 1:
        return x.copy()
    out = np.empty_like(x)
    if x.size:
        w.comm.Allreduce(x, out, op=_mpi_op(kind))
    if kind == "mean":
        out = (out / np.asarray(w.size, out.dtype)).astype(out.dtype)
    return out


def all_gather(x: np.ndarray, replicas: int) -> np.ndarray:
    """Every process's x (all the same shape), concatenated along dimension 0 in rank order."""
    w = world()
    if replicas != w.size:
        raise world_mismatch(f"all_gather was built for {replicas} processes, but {w.size} run it")
    x = np.ascontiguousarray(x)
    if w.size == 1:
        return x.copy()
    out = np.empty((x.shape[0] * w.size,) + x.shape[1:], x.dtype)
    if out.size:
        w.comm.Allgather(x.view(np.uint8).reshape(-1), out.view(np.uint8).reshape(-1))
    return out


def broadcast(x: np.ndarray, root: int) -> np.ndarray:
    """Process `root`'s x, on every process."""
    w = world()
    if not 0 <= root < w.size:
        raise world_mismatch(f"collective_broadcast from rank {root}, but the world has {w.size} processes")
    out = np.array(x, copy=True, order="C")
    if w.size > 1 and out.size:
        w.comm.Bcast(out.view(np.uint8).reshape(-1), root=root)
    return out


def host_collective(inst: Instruction, x: np.ndarray) -> np.ndarray:
    """The value of collective `inst` for operand value x (row-major), computed on the host. An
    all_reduce_start reduces at once (blocking) and its all_reduce_done is the identity."""
    if inst.opcode in ("all_reduce", "all_reduce_start"):
        return all_reduce(x, inst.attrs["kind"])
    if inst.opcode == "all_reduce_done":
        return np.array(x, copy=True, order="C")
    if inst.opcode == "all_gather":
        return all_gather(x, inst.attrs["replicas"])
    return broadcast(x, inst.attrs["root"])


__all__ = ["all_reduce", "all_gather", "broadcast", "host_collective", "world_mismatch"]
