"""host_call on the cuda backend: host-staged, as collectives are. A step of the program between launches
downloads the arguments' device buffers, runs the Python function (xlite/semantics/host_calls.py) and
uploads its output into the result's buffer. The step runs in Python, so the function's errors propagate
to the caller of the run as they are raised; the launches after it do not run."""
from __future__ import annotations

from dataclasses import dataclass

from xlite.codegen.cuda.collectives import download, upload
from xlite.ir.module import Instruction
from xlite.semantics import host_calls


def is_host_call(opcode: str) -> bool:
    return opcode == "host_call"


@dataclass
class HostCall:
    """A Python call between launches: the arguments' device Locs in, the result's Loc out."""
    inst: Instruction
    srcs: list             # Locs of the arguments (the first `args` operands)
    dst: object
    src_orders: list       # physical orders (major to minor) of the buffers
    dst_order: tuple


def host_call_step(inst: Instruction, srcs: list, dst, src_orders: list, dst_order: tuple) -> HostCall:
    return HostCall(inst, list(srcs), dst, [tuple(o) for o in src_orders], tuple(dst_order))


def run_host_call(step: HostCall, driver, srcs: list, dst: int) -> None:
    inst = step.inst
    args = [download(driver, address, o.shape, order)
            for address, o, order in zip(srcs, inst.operands[:inst.attrs["args"]], step.src_orders)]
    value = host_calls.invoke(inst.attrs["key"], inst.attrs["output"], args, tuple(inst.shape.dims),
                              inst.shape.dtype.np)
    upload(driver, dst, value, step.dst_order)


__all__ = ["is_host_call", "HostCall", "host_call_step", "run_host_call"]
