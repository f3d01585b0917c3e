"""host_call on the cpu backend: the generated code calls `xlite_host_call`, a ctypes callback into Python.

The call passes the function's key, the output number, a constant descriptor of the arguments' and the
result's dtypes and dims, an array of the (row-major) argument pointers and the result pointer; the
callback copies the arguments into NumPy arrays, runs the function (xlite/semantics/host_calls.py) and
copies its output into the result buffer, zeros where it failed. Object code holds only the symbol's
name, so a cached executable links against this process's callback. The run stays one native call.
"""
from __future__ import annotations

import ctypes

import numpy as np
from llvmlite import ir

from xlite import errors
from xlite.codegen.cpu.ir_array import physical_order
from xlite.codegen.cpu.kernels import Kernel, kernel_rule
from xlite.codegen.cpu.llvm_types import I32, I64, PTR, i64
from xlite.ir import dtypes
from xlite.ir.module import Instruction
from xlite.ir.symbolic import SymbolicUnsupported
from xlite.semantics import host_calls

SYMBOL = "xlite_host_call"
DTYPE_CODES = ("pred", "s8", "u8", "s32", "u32", "s64", "f16", "f32", "f64")
_CALLBACK_TYPE = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p,
                                  ctypes.c_void_p, ctypes.c_void_p)


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


def _read(words, at: int):
    code, rank = words[at], words[at + 1]
    dims = tuple(words[at + 2:at + 2 + rank])
    return np.dtype(dtypes.as_dtype(DTYPE_CODES[code]).np), dims, at + 2 + rank


def _view(address: int, dtype: np.dtype, dims: tuple) -> np.ndarray:
    nbytes = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if nbytes == 0:
        return np.zeros(dims, dtype)
    return np.frombuffer((ctypes.c_char * nbytes).from_address(address), dtype).reshape(dims)


def _callback(key: int, output: int, descriptor: int, pointers: int, result: int) -> int:
    """What native code calls: 0 when the output is written, 1 when an error was kept for the caller."""
    try:
        n = ctypes.c_int64.from_address(descriptor).value
        words, at, args = _Words(descriptor), 1, []
        for k in range(n):
            dtype, dims, at = _read(words, at)
            args.append(_view(ctypes.c_void_p.from_address(pointers + 8 * k).value or 0, dtype, dims).copy())
        dtype, dims, _ = _read(words, at)
        out = _view(result, dtype, dims)
        value = host_calls.call_from_native(key, output, args, dims, dtype)
        if value is None:
            out[...] = 0
            return 1
        out[...] = value
        return 0
    except BaseException as e:      # noqa: BLE001 - nothing may unwind through native frames
        host_calls.keep_error(e)
        return 1


class _Words:
    """The descriptor's int64 words, read where native code keeps them."""

    def __init__(self, address: int):
        self.address = address

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(index.start, index.stop)]
        return ctypes.c_int64.from_address(self.address + 8 * index).value


_CALLBACK = _CALLBACK_TYPE(_callback)       # kept alive for the life of the process


def symbol_addresses() -> dict[str, int]:
    """The address generated code calls for `xlite_host_call`."""
    return {SYMBOL: ctypes.cast(_CALLBACK, ctypes.c_void_p).value}


__all__ = ["emit_host_call", "describe", "symbol_addresses", "SYMBOL"]
