"""The disk cache keyed on a Module as lowered: a hit skips the pass pipeline, IR generation and LLVM.

The compile driver (xlite/runtime/driver.py) computes `lowered_cache_key(module)` before the
pipeline touches the Module. `cached_executable(key, module, optimize)` then gives the executable
straight from the entry: the plan, the object code (linked by elf_loader.py, no llvmlite), and the
constant root outputs, which the entry holds because no optimized Module exists to read them
from. On a miss the driver runs the pipeline and compile_cpu, then `store_lowered(key,
executable, kernels)` files the result under the key.

A hit's executable (CachedCpuExecutable) keeps the Module as lowered in `lowered_module`; its
`compiled` (and so its `module`) is still the optimized Module, made on first access by the
driver's `optimize` callback (running the executable never needs it; reports, checks and traced
variants do). Codegen never runs passes itself.

Only light modules are imported here (no llvmlite, no code generator, no passes).
"""
from __future__ import annotations

from typing import Callable

from xlite.codegen.cpu import cache
from xlite.codegen.cpu.executable import CpuExecutable
from xlite.codegen.cpu.plan import entry_symbols, plan_from_dict, plan_to_dict
from xlite.ir.compiled import CompiledModule
from xlite.ir.symbolic import nominal
from xlite.ir.module import Module

Optimize = Callable[[Module], CompiledModule]     # the Module as lowered -> a compiled copy of it


def options_text() -> str:
    """The settings besides the Module and the sources that change the code (as compile_cpu keys them)."""
    from xlite.codegen.cpu import num_threads, profiling
    return f"profile={profiling()} threads={num_threads()}"


def lowered_cache_key(module: Module) -> str | None:
    """The key of `module` as lowered, or None when it has none (see cache.lowered_key) or the cache is off."""
    if cache.cache_dir() is None:
        return None
    from xlite.codegen.cpu.mpi_provider import world_description
    return cache.lowered_key(module, options_text() + world_description(module))


def cached_executable(key: str, module: Module, optimize: Optimize) -> CpuExecutable | None:
    """The executable filed under `key`, or None (a miss is not counted: compile_cpu's lookup follows).
    `optimize` makes its `compiled` from a copy of `module` when something asks for it."""
    entry = cache.lookup_entry(key, count_miss=False)
    if entry is None:
        return None
    from xlite.codegen.cpu.elf_loader import MalformedObject, load_code
    try:                 # an entry whose plan or object is not well formed is dropped, never run
        plan = plan_from_dict(entry.plan)
        code = load_code(entry.obj, entry_symbols(plan.object_entry))
    except (MalformedObject, KeyError, TypeError, ValueError):
        cache.drop(key)
        return None
    executable = CachedCpuExecutable(module, plan, code, constants=entry.constants)
    executable.optimize = optimize
    _set_stats(executable, entry.stats)
    return executable


class CachedCpuExecutable(CpuExecutable):
    """A CpuExecutable from a cache hit: `lowered_module` is the Module as lowered; `compiled` (and
    `module`, its optimized Module) made by the driver's `optimize` callback on first access."""

    _compiled = None
    optimize: Optimize

    @property
    def compiled(self) -> CompiledModule:
        if self._compiled is None:
            self._compiled = self.optimize(self.lowered_module)
        return self._compiled

    @property
    def module(self) -> Module:
        return self.compiled.module

    @module.setter
    def module(self, module) -> None:         # CpuExecutable.__init__ gives the Module as lowered
        self.lowered_module = module


def store_lowered(key: str, executable: CpuExecutable, kernels: int) -> None:
    """Files a freshly compiled executable under the lowered Module's key, with the number of
    kernels its optimized Module launches (for reports: a hit has no optimized Module to count)."""
    peak = nominal(executable.compiled.buffer_assignment.peak_bytes)    # (symbolic: at NOMINAL_SIZE)
    stats = {"peak_bytes": int(peak), "kernels": int(kernels)}
    cache.store(key, plan_to_dict(executable.plan), executable._code.obj, constants=executable._constants,
                stats=stats)
    _set_stats(executable, stats)


def _set_stats(executable: CpuExecutable, stats: dict) -> None:
    """Kernels and peak bytes of the optimized Module, for reports (xlite bench) that cannot read them
    from a lowered `module`."""
    if "kernels" in stats:
        executable.num_kernels = stats["kernels"]
    if "peak_bytes" in stats:
        executable.peak_bytes = stats["peak_bytes"]


__all__ = ["lowered_cache_key", "cached_executable", "store_lowered", "CachedCpuExecutable"]
