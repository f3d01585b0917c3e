"""The CUDA backend: an IR Module in, CUDA C kernels compiled with nvcc and run through pycuda out.

Both take the CompiledModule (optimized Module and buffer assignment) that the
compile driver (xlite/runtime/driver.py) hands them. Code generation needs
neither pycuda nor a GPU: `emit_cuda(compiled)` returns the Program (CUDA C
source, launch steps, buffer plan) and `compile_ptx` turns the source into PTX
with plain nvcc, which is how CI without a GPU proves the generated code is
valid CUDA. `compile_cuda(compiled)` additionally needs pycuda, a CUDA driver
and a GPU (availability.py says which is missing).

Rules register on import: elementwise formulas in elemental.py (`@cuda_rule`),
index ops and reductions as element rules (`@element_rule`), ops with kernels of
their own as kernel rules (`@kernel_rule`: dot and convolution as GEMM,
row reductions, scatter); while, conditional, tuple and get_tuple_element are
host-side steps and buffer plumbing in program.py; collectives and Python host calls are host-staged steps
(collectives.py, host_calls.py).
"""
from __future__ import annotations

from xlite.codegen.cuda import gemm, index_ops, reductions, scatter  # noqa: F401  (rules)
from xlite.codegen.cuda.collectives import is_host_step
from xlite.codegen.cuda.host_calls import is_host_call
from xlite.codegen.cuda.availability import CudaUnavailableError, check_available, is_available, missing
from xlite.codegen.cuda.element_generator import is_elemental
from xlite.codegen.cuda.kernels import has_kernel_rule
from xlite.codegen.cuda.program import Program, emit_program
from xlite.ir.compiled import CompiledModule, TextDump

STRUCTURAL_OPCODES = ("parameter", "tuple", "get_tuple_element", "while", "conditional", "fusion")


def has_cuda_rule(opcode: str) -> bool:
    """Whether the cuda backend compiles `opcode` (every layer must answer yes for every opcode)."""
    return (is_elemental(opcode) or has_kernel_rule(opcode) or opcode in STRUCTURAL_OPCODES or is_host_step(opcode)
            or is_host_call(opcode))


def emit_cuda(compiled: CompiledModule, prefix: str = "xk") -> Program:
    """The Program of `compiled`: its CUDA C (prelude and one kernel per launch) and the steps that run it."""
    return emit_program(compiled, prefix)


def emit_cuda_source(compiled: CompiledModule) -> str:
    return emit_cuda(compiled).source


def compile_ptx(source: str, arch: str = "sm_90") -> str:
    from xlite.codegen.cuda.compiler import compile_ptx as _ptx
    return _ptx(source, arch)


def source_stages(source: str, arch: str = "sm_90") -> list[tuple[str, str, str]]:
    """The dump stages of CUDA C `source` as (name, text, file extension): the source and, where nvcc
    is installed, its PTX for `arch` (what `xlite dump-ir` and XLITE_DUMP show for the cuda target)."""
    from xlite.codegen.cuda.compiler import find_nvcc
    stages = [("cuda", source, "cu")]
    if find_nvcc() is not None:
        stages.append(("ptx", compile_ptx(source, arch), "ptx"))
    return stages


def cuda_stages(compiled: CompiledModule, arch: str = "sm_90") -> list[tuple[str, str, str]]:
    """The dump stages of a compiled module for the cuda target (see source_stages); needs no GPU."""
    return source_stages(emit_cuda_source(compiled), arch)


def compile_cuda(compiled: CompiledModule, driver=None, dump: TextDump | None = None):
    """An executable for this machine's GPU (raises CudaUnavailableError naming what is missing), or for
    `driver` (emulator.EmulatedDriver runs the same kernels on the CPU). `dump(stage, text, extension)`,
    when given (XLITE_DUMP, xlite dump-ir), receives the CUDA C and PTX."""
    from xlite.codegen.cuda.executable import CudaExecutable
    if driver is None:
        check_available()
        from xlite.codegen.cuda.driver import default_driver
        driver = default_driver()
    program = emit_cuda(compiled)
    if dump is not None:
        for name, text, extension in source_stages(program.source, driver.arch):
            dump(name, text, extension)
    executable = CudaExecutable(compiled.module, program, driver)
    executable.compiled = compiled
    return executable


__all__ = ["compile_cuda", "emit_cuda", "emit_cuda_source", "compile_ptx", "cuda_stages", "has_cuda_rule",
           "is_available", "check_available", "missing", "CudaUnavailableError"]
