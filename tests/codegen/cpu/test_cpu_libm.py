"""`needs_libm` on each opcode (xlite/ir/opcodes.py) says exactly which ops the cpu backend compiles to libm calls.

Each elementwise op (and rng) is compiled alone, f32 and f64, for the baseline x86-64 CPU, which lacks
SSE4.1 and FMA and so calls libm the most (floorf, fmaf); an AOT object built for it is what needs -lm.
"""
import ctypes
import ctypes.util

import pytest

from tiers import slow_except
from xlite.aot.compiler import target_machine
from xlite.codegen.cpu import emit_llvm_ir
from xlite.codegen.cpu.compiler import compile_to_object, undefined_symbols
from xlite.ir import dtypes
from xlite.ir.builder import Builder
from xlite.ir.compiled import CompiledModule
from xlite.ir.module import Module
from xlite.ir.opcodes import OPCODES, op_info
from xlite.ir.shape import Shape
from xlite.runtime.driver import with_naive_buffers

LIBM = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")     # libm's lookups also find libc's memcpy
INTEGER_ONLY = ("and", "or", "not")


def _one_op_module(opcode: str, dtype: str) -> CompiledModule:
    b = Builder()
    if opcode == "rng":
        counter = b.parameter(Shape(dtypes.as_dtype("s64"), ()))
        outs = [b.emit("rng", (counter,), result=Shape(dtypes.as_dtype(dtype), (37,)), distribution=d, key=(5, 7))
                for d in ("uniform", "normal", "truncated_normal")]
    else:
        params = [b.parameter(Shape(dtypes.as_dtype(dtype), (37,))) for _ in range(op_info(opcode).arity)]
        if opcode == "convert":
            outs = [b.convert(params[0], "s32")]
        elif opcode == "compare":
            outs = [b.compare(params[0], params[1], "LT")]
        elif opcode == "select":
            outs = [b.emit("select", (b.compare(params[0], params[1], "LT"), params[1], params[2]))]
        else:
            outs = [b.emit(opcode, tuple(params))]
    b.computation.root = b.tuple(outs)
    m = Module("libm_probe", b.computation)
    m.add_computation(b.computation)
    return with_naive_buffers(m)


def _libm_calls(opcode: str) -> set:
    dtypes_ = ("s32",) if opcode in INTEGER_ONLY else ("f32", "f64")
    tm = target_machine("x86-64")
    found = set()
    for dtype in dtypes_:
        text, _ = emit_llvm_ir(_one_op_module(opcode, dtype))
        found |= {s for s in undefined_symbols(compile_to_object(text, tm=tm)) if hasattr(LIBM, s) and not hasattr(LIBC, s)}
    return found


@pytest.mark.parametrize(*slow_except("opcode", [o for o in OPCODES if op_info(o).is_elementwise or o == "rng"], every=3))
def test_needs_libm_matches_the_compiled_code(opcode):
    calls = _libm_calls(opcode)
    if op_info(opcode).needs_libm:
        assert calls, f"{opcode} is marked needs_libm but compiles to no libm call"
    else:
        assert not calls, f"{opcode} calls {sorted(calls)} from libm but is not marked needs_libm"
