"""Compiled run signatures: one `compile_module` for every target, one `run(args) -> results` for the Session."""
from __future__ import annotations

import os
import sys

import numpy as np

from xlite import cancellation, errors
from xlite.ir.module import Module
from xlite.runtime.interpreter import evaluate_module

TARGETS = ("cpu", "cuda", "interpreter")


class Executable:
    """Runs a Module on flat NumPy arguments and returns its flat results."""

    target = "abstract"

    def __init__(self, module: Module):
        self.module = module

    def run(self, args: list[np.ndarray], stop: cancellation.RunFlag | None = None) -> list[np.ndarray]:
        """The root outputs; `stop`, once set, ends the run early with its error (xlite/cancellation.py)."""
        raise NotImplementedError


class InterpreterExecutable(Executable):
    target = "interpreter"

    def run(self, args, stop=None):
        with cancellation.running(stop or cancellation.NEVER):     # checked per while iteration
            return list(evaluate_module(self.module, args))


class TracedInterpreterExecutable(InterpreterExecutable):
    """The interpreter for traced runs: `run_traced` times each instruction (xlite/runtime/tracing.py)."""

    def run_traced(self, args):
        from xlite.runtime.tracing import interpret_traced
        return interpret_traced(self.module, args)


def default_target() -> str:
    return os.environ.get("XLITE_TARGET", "cpu")


def resolve_target(target: str | None) -> str:
    if not target:
        return default_target()
    target = target.lower()
    if target in ("", "local", "grpc"):
        return default_target()
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")
    return target


def check_target_available(target: str) -> None:
    """Raises a clear error at Session creation when a target cannot run on this machine."""
    if target == "interpreter":
        return
    if target == "cpu":
        from xlite.codegen.cpu import is_available
        if is_available():
            return
        raise errors.unimplemented("target 'cpu' needs llvmlite with a native target for this machine")
    if target == "cuda":
        from xlite.codegen.cuda.availability import check_available
        check_available()
        return
    raise errors.unimplemented(f"target {target!r} is not available yet in this build of xlite")


def compile_module(module: Module, target: str) -> Executable:
    """The one seam every backend extends: the lowered Module in, an Executable out.

    The cpu and cuda targets optimize the Module with the cpu pipeline first (one optimized Module,
    two code generators). With dumping on
    (XLITE_DUMP=dir, `xlite dump-ir`) every stage is written out; the interpreter then
    runs the pipeline on a copy, for the dump only, and interprets the Module as lowered.

    The cpu target first looks the Module up in the disk cache as lowered (xlite/codegen/cpu/lowered.py):
    a hit runs no pass and no LLVM; its executable optimizes a copy of the Module only if asked for
    `executable.module`."""
    lowered_key = None
    if target == "cpu" and "buffer_assignment" not in module.properties and not _dumping():
        from xlite.codegen.cpu.lowered import cached_executable, lowered_cache_key
        lowered_key = lowered_cache_key(module)
        if lowered_key is not None:
            executable = cached_executable(lowered_key, module)
            if executable is not None:
                return executable
    from xlite.passes import dump
    from xlite.passes.pipelines import cpu_pipeline
    with dump.compiling(module, target) as dumping:
        if target == "interpreter":
            if dumping is not None:
                dump.run_pipeline(cpu_pipeline(), dump.clone_module(module))
            return InterpreterExecutable(module)
        if target == "cpu":
            from xlite.codegen.cpu import compile_cpu
            if "buffer_assignment" not in module.properties:
                dump.run_pipeline(cpu_pipeline(), module)
            executable = compile_cpu(module)
            if lowered_key is not None:
                from xlite.codegen.cpu.lowered import store_lowered
                store_lowered(lowered_key, executable)
            return executable
        if target == "cuda":
            from xlite.codegen.cuda import compile_cuda
            if "buffer_assignment" not in module.properties:
                dump.run_pipeline(cpu_pipeline(), module)
            return compile_cuda(module)
    raise errors.unimplemented(f"target {target!r} is not available yet in this build of xlite")


def _dumping() -> bool:
    """Whether IR dumping is on (XLITE_DUMP, or xlite.passes.dump configured), without importing the passes."""
    if os.environ.get("XLITE_DUMP"):
        return True
    dump = sys.modules.get("xlite.passes.dump")
    return dump is not None and dump.options() is not None


def compile_traced(executable):
    """The traced variant of a compiled run signature, for RunOptions FULL_TRACE runs (see
    xlite/runtime/tracing.py): the cpu backend compiles the same optimized Module again with a
    timestamp around every kernel call, the interpreter times each instruction in Python; a backend
    with no traced variant gives the executable back (the trace then holds one event for the run)."""
    target = getattr(executable, "target", None)
    if target == "interpreter":
        return TracedInterpreterExecutable(executable.module)
    if target == "cpu":
        from xlite.codegen.cpu import compile_cpu
        return compile_cpu(executable.module, traced=True)
    return executable
