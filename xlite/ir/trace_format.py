"""The records a traced run returns: what each kernel (an instruction of the entry) is, and when it ran.

A backend that times its kernels (the CPU code generator's traced entry, the
interpreter's traced run) hands its records to the runtime in this format, and
xlite/runtime/tracing.py turns them into TF's StepStats. It lives in the IR, below
both, so that code generation never imports the runtime, and so that `import xlite`
(whose Session imports the tracing) loads no module of xlite.codegen: xlite.aot.load
promises a process free of the code generator.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def kernel_info(inst) -> dict:
    """What a kernel is, for traces: its instruction's name, its kind (the opcode, or "<kind>_fusion")
    and the TF op names (metadata.op_name) of the instructions it computes, in order, once each."""
    if inst.opcode == "fusion":
        members = [i for i in inst.called[0].instructions if i.opcode != "parameter"]
        kind = f"{inst.attrs.get('kind', 'loop')}_fusion"
    else:
        members, kind = [inst], inst.opcode
    ops = list(dict.fromkeys(m.metadata.op_name for m in members if m.metadata.op_name))
    return {"name": inst.name, "kind": kind, "ops": ops, "shape": str(inst.shape)}


@dataclass
class KernelTrace:
    """A traced run's raw records: `events` rows are (kernel id, start ns, end ns, thread) on
    CLOCK_MONOTONIC, `kernels[id]` a kernel_info dict; `dropped` records did not fit the buffer."""
    kernels: list
    events: np.ndarray
    thread_names: dict = field(default_factory=lambda: {0: "calling thread"})
    dropped: int = 0


__all__ = ["kernel_info", "KernelTrace"]
