"""Collectives on the CUDA backend: host-staged. The operand's device buffer is downloaded, reduced,
gathered or broadcast over the world by the reference semantics (mpi4py: xlite/semantics/collectives.py)
and the result uploaded into the output's buffer, as a step of the program between kernel launches. The
async pair is blocking here: all_reduce_start reduces at once, all_reduce_done moves its value on device.

CUDA-aware MPI would skip the two copies; with host staging any MPI works, and the emulator runs the
same steps on a machine without a GPU.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xlite.ir.module import Instruction
from xlite.ir.opcodes import OPCODES, op_info
from xlite.semantics.collectives import host_collective


def is_host_step(opcode: str) -> bool:
    """Whether the cuda backend runs `opcode` as a host step (every collective)."""
    return opcode in OPCODES and op_info(opcode).collective


@dataclass
class HostCollective:
    """A collective run on the host between launches: operand `src` in, result `dst` out (device Locs)."""
    inst: Instruction      # the collective (opcode and attributes)
    src: object            # Loc of the operand
    dst: object            # Loc of the result
    src_order: tuple       # physical orders (major to minor) of the two buffers
    dst_order: tuple


def host_step(inst: Instruction, src, dst, src_order: tuple, dst_order: tuple) -> HostCollective:
    return HostCollective(inst, src, dst, tuple(src_order), tuple(dst_order))


def run_host_step(step: HostCollective, driver, src: int, dst: int) -> None:
    """Downloads the operand from device address src, computes the collective, uploads it to dst. An
    all_reduce_start is the whole blocking reduction, so its all_reduce_done has only to move the start's value
    (nothing where buffer assignment gave both one buffer)."""
    inst = step.inst
    if inst.opcode == "all_reduce_done" and step.src_order == step.dst_order:
        if src != dst and inst.shape.byte_size:
            driver.memcpy_dtod(dst, src, inst.shape.byte_size)
        return
    result = host_collective(inst, download(driver, src, inst.operands[0].shape, step.src_order))
    upload(driver, dst, result, step.dst_order)


def download(driver, address: int, shape, order: tuple) -> np.ndarray:
    """The logical (row-major) array of a device buffer laid out in `order` (major to minor)."""
    physical = np.empty(tuple(shape.dims[d] for d in order), shape.dtype.np)
    if physical.nbytes:
        driver.memcpy_dtoh(physical, address)
    if not physical.ndim:
        return physical         # (np.ascontiguousarray would give a 0-d array the shape (1,))
    return np.ascontiguousarray(physical.transpose(np.argsort(order)))


def upload(driver, address: int, value: np.ndarray, order: tuple) -> None:
    """A logical array into a device buffer laid out in `order`."""
    out = np.ascontiguousarray(value.transpose(order) if value.ndim else value)
    if out.nbytes:
        driver.memcpy_htod(address, out)


__all__ = ["is_host_step", "HostCollective", "host_step", "run_host_step", "download", "upload"]
