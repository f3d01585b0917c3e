"""The CUDA backend: an IR Module in, CUDA C kernels compiled with nvcc and run through pycuda out.

Code generation needs neither pycuda nor a GPU: `emit_cuda(module)` returns the
Program (CUDA C source, launch steps, buffer plan) and `compile_ptx` turns the
source into PTX with plain nvcc, which is how CI without a GPU proves the
generated code is valid CUDA. `compile_cuda(module)` additionally needs pycuda,
a CUDA driver and a GPU (availability.py says which is missing).

Rules register on import: elementwise formulas in elemental.py (`@cuda_rule`),
index ops and reductions as element rules (`@element_rule`), ops with kernels of
their own as kernel rules (`@kernel_rule`: dot and convolution as GEMM,
row reductions, scatter); while, conditional, tuple and get_tuple_element are
host-side steps and buffer plumbing in program.py.
"""
from __future__ import annotations

from xlite.codegen.cuda import gemm, index_ops, reductions, scatter  # noqa: F401  (rules)
from xlite.codegen.cuda.availability import CudaUnavailableError, check_available, is_available, missing
from xlite.codegen.cuda.element_generator import is_elemental
from xlite.codegen.cuda.kernels import has_kernel_rule
from xlite.codegen.cuda.program import Program, emit_program
from xlite.ir.module import Module

STRUCTURAL_OPCODES = ("parameter", "tuple", "get_tuple_element", "while", "conditional", "fusion")


def has_cuda_rule(opcode: str) -> bool:
    """Whether the cuda backend compiles `opcode` (every layer must answer yes for every opcode)."""
    return is_elemental(opcode) or has_kernel_rule(opcode) or opcode in STRUCTURAL_OPCODES


def prepare(module: Module) -> Module:
    """Gives a module without a buffer assignment the naive one (every value its own arena slice)."""
    if "buffer_assignment" not in module.properties:
        from xlite.passes.buffer_assignment import NaiveBufferAssignment
        NaiveBufferAssignment().run(module)
    return module


def emit_cuda(module: Module, prefix: str = "xk") -> Program:
    """The Program of `module`: its CUDA C (prelude and one kernel per launch) and the steps that run it."""
    return emit_program(prepare(module), prefix)


def emit_cuda_source(module: Module) -> str:
    return emit_cuda(module).source


def compile_ptx(source: str, arch: str = "sm_90") -> str:
    from xlite.codegen.cuda.compiler import compile_ptx as _ptx
    return _ptx(source, arch)


def cuda_stages(module: Module, arch: str = "sm_90") -> list[tuple[str, str]]:
    """The dump stages `xlite dump-ir` shows for the cuda target: the CUDA C and, where nvcc is
    installed, its PTX for `arch`."""
    from xlite.codegen.cuda.compiler import find_nvcc
    source = emit_cuda_source(module)
    stages = [("cuda", source)]
    if find_nvcc() is not None:
        stages.append(("ptx", compile_ptx(source, arch)))
    return stages


def compile_cuda(module: Module, driver=None):
    """An executable for this machine's GPU (raises CudaUnavailableError naming what is missing), or for
    `driver` (emulator.EmulatedDriver runs the same kernels on the CPU)."""
    from xlite.codegen.cuda.executable import CudaExecutable
    if driver is None:
        check_available()
        from xlite.codegen.cuda.driver import default_driver
        driver = default_driver()
    program = emit_cuda(module)
    dump_stages(program.source, driver.arch)
    return CudaExecutable(module, program, driver)


def dump_stages(source: str, arch: str) -> None:
    """Adds the CUDA C and PTX stages to the dump of the compilation in progress (XLITE_DUMP, dump-ir)."""
    from xlite.passes import dump
    current = dump.current()
    if current is None:
        return
    current.text("cuda", source, "cu")
    from xlite.codegen.cuda.compiler import find_nvcc
    if find_nvcc() is not None:
        current.text("ptx", compile_ptx(source, arch), "ptx")


__all__ = ["compile_cuda", "emit_cuda", "emit_cuda_source", "compile_ptx", "cuda_stages", "has_cuda_rule",
           "is_available", "check_available", "missing", "CudaUnavailableError"]
