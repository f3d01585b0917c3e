"""host_call on the cpu backend: the generated code calls `xlite_host_call`, a ctypes callback into Python.

The call passes the function's key, the output number, a constant descriptor of the arguments' and the
result's dtypes and dims, an array of the (row-major) argument pointers and the result pointer; the
callback (host_callback.py) copies the arguments into NumPy arrays, runs the function
(xlite/semantics/host_calls.py) and copies its output into the result buffer, zeros where it failed. Object code holds only the symbol's
name, so a cached executable links against this process's callback. The run stays one native call.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir

from xlite import errors
from xlite.codegen.cpu.host_callback import DTYPE_CODES, SYMBOL, symbol_addresses
from xlite.codegen.cpu.ir_array import physical_order
from xlite.codegen.cpu.kernels import Kernel, kernel_rule
from xlite.codegen.cpu.llvm_types import I32, I64, PTR, i64
from xlite.ir.module import Instruction
from xlite.ir.symbolic import SymbolicUnsupported


@kernel_rule("host_call")
def emit_host_call(kernel: Kernel, inst: Instruction, out) -> None:
    """out = output `output` of the Python function `key` on the first `args` operands."""
    row_major = tuple(range(inst.shape.rank))
    if physical_order(out.shape) != row_major:
        kernel.via_temp(inst, out, emit_host_call)
        return
    args = inst.operands[:inst.attrs["args"]]
    fc, b = kernel.fc, kernel.b
    descriptor = fc.cg.constant_data(describe(inst))
    pointers = fc.alloca(PTR, max(len(args), 1), name="host_args")
    for k, x in enumerate(args):
        src = kernel.array(x, [tuple(range(x.shape.rank))])
        b.store(src.ptr, b.gep(pointers, [i64(k)], source_etype=PTR))
    fn = fc.cg.declare(SYMBOL, I32, [I64, I64, PTR, PTR, PTR])
    b.call(fn, [ir.Constant(I64, inst.attrs["key"]), ir.Constant(I64, inst.attrs["output"]),
                b.bitcast(descriptor, PTR), pointers, out.ptr])


def describe(inst: Instruction) -> np.ndarray:
    """[n, (dtype code, rank, dims...) per argument, then the result's]: what the callback reads."""
    words = [inst.attrs["args"]]
    for shape in [o.shape for o in inst.operands[:inst.attrs["args"]]] + [inst.shape]:
        if not shape.is_static:     # (the Session then compiles for the run's concrete sizes)
            raise SymbolicUnsupported(f"host_call {inst.name} ({inst.metadata.op_name or 'py_func'}) of "
                                      f"symbolic dims {shape}: the callback's descriptor holds constant dims")
        if shape.dtype.ir_name not in DTYPE_CODES:
            raise errors.unimplemented(f"host_call {inst.name} of {shape.dtype.name} on the cpu backend")
        words += [DTYPE_CODES.index(shape.dtype.ir_name), shape.rank, *shape.dims]
    return np.array(words, np.int64)


__all__ = ["emit_host_call", "describe", "symbol_addresses", "SYMBOL"]
