"""The one compile driver: `compile(module, target, options) -> Executable`.

Every caller that turns a lowered Module into code comes here: Session.run (a run signature), its
FULL_TRACE variant (`compile_traced`), `xlite.aot.compile` (target "aot": an object file), the
benchmarks (through Session) and `xlite dump-ir` (through Session, or `optimize` for an IR file).
This module alone decides, per target,

- whether the cpu target's lowered-Module disk cache answers (xlite/codegen/cpu/lowered.py: a hit
  runs no pass, no code generator and no LLVM);
- which pass pipeline runs (`optimize`: the cpu pipeline for every native target, one optimized
  Module and two code generators; `run_pipeline` is the runner under it), handing its results to
  codegen as a CompiledModule;
- which code generator runs, and with what dump callback (XLITE_DUMP, `xlite dump-ir`: the
  pipeline's stages here, LLVM IR / assembly / CUDA C from the generator through the callback).

It lives in xlite/runtime because the runtime is the layer that may import all the others (IR,
passes, codegen); the code generators below it receive what they need and import no pass.
"""
from __future__ import annotations

import contextlib
import gc
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from xlite import errors
from xlite.ir.buffers import BufferAssignment
from xlite.ir.compiled import CompiledModule, TextDump
from xlite.ir.module import Module
from xlite.runtime.memory import allocation_errors, check_allocations
from xlite.semantics import host_calls
from xlite.runtime.executable import Executable, InterpreterExecutable, TracedInterpreterExecutable

if TYPE_CHECKING:                 # the passes load only when a compile needs them (not on a cache hit)
    from xlite.passes.pipelines import StageHook

# How many times `compile` ran in this process, per target (tests count recompiles: a symbolic run
# signature compiles once for every batch size).
STATS: dict = {}

ObjectEmitter = Callable[[CompiledModule, "TextDump | None"], bytes]   # target "aot": (compiled, dump) -> object


@dataclass(frozen=True)
class CompileOptions:
    """What a caller may ask of a compilation beyond the Module and the target.

    traced: the FULL_TRACE variant (cpu: a timestamp around every kernel call; the interpreter: each
        instruction timed). It is compiled from an already compiled module, never dumped, never
        looked up in the lowered cache.
    emit_object: target "aot" only: makes the object file from the compiled module (xlite/aot), given
        the dump callback for its LLVM stages.
    """
    traced: bool = False
    emit_object: ObjectEmitter | None = None


@dataclass(frozen=True)
class ObjectCode:
    """What target "aot" compiles to: the object file's bytes and the compiled module they came from."""
    compiled: CompiledModule
    obj: bytes


def compile(module: Module | CompiledModule, target: str,
            options: CompileOptions | None = None) -> Executable | ObjectCode:
    """The executable of `module` for `target` ("cpu", "cuda", "interpreter"; "aot" gives ObjectCode).

    A Module as lowered is optimized here; a CompiledModule is optimized already (a traced variant,
    or a caller that ran `optimize`). With dumping on (XLITE_DUMP=dir, `xlite dump-ir`) every stage
    is written out; the interpreter then runs the pipeline on a copy, for the dump only, and
    interprets the Module as lowered. Every array a lowered Module makes is checked against memory
    first (xlite/runtime/memory.py), so Session runs, eager ops and tf.function calls alike raise
    TF's ResourceExhaustedError before compiling anything too large."""
    options = options or CompileOptions()
    STATS[target] = STATS.get(target, 0) + 1
    if options.traced:
        return _compile_traced(module, target)
    if target not in ("cpu", "cuda", "interpreter") and not (target == "aot" and options.emit_object is not None):
        raise errors.unimplemented(f"target {target!r} is not available yet in this build of xlite")
    if target == "aot" and _calls_host(module):
        raise errors.unimplemented("an ahead-of-time object of a graph with Python host calls (tf.py_func, "
                                   "tf.numpy_function, tf.Print, tf.print, check_numerics, a run-time tf.Assert)")
    if isinstance(module, Module) and target != "aot":      # before any pass: TF's OOM at the op's line
        check_allocations(module, "GPU" if target == "cuda" else "CPU")
    with allocation_errors(), _collection_paused():
        executable = _compile(module, target, options)
    if target in ("cpu", "cuda") and _calls_host(module):
        executable = _raising_host_errors(executable)
    checks = getattr(module, "run_checks", None)
    return _raising_check_errors(executable, checks) if checks and target != "aot" else executable


@contextlib.contextmanager
def _collection_paused():
    """Python's cyclic garbage collector off while compiling: a compile allocates tens of thousands of
    small objects (LLVM IR values), whose full collections scanned the whole heap, the user's graph
    included (10-200 ms pauses measured within W6's step compile); its garbage waits for the next one."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _calls_host(module: Module | CompiledModule) -> bool:
    lowered = module.module if isinstance(module, CompiledModule) else module
    return any(i.opcode == "host_call" for c in lowered.all_computations() for i in c.instructions)


def _raising_host_errors(executable):
    """Its `call` raises the error a Python host call kept during the native run (semantics/host_calls.py)."""
    def wrap(call):
        def call_raising(args, stop=None):
            host_calls.clear_pending()
            results = call(args, stop)
            host_calls.raise_pending()
            return results
        return call_raising
    return _wrapped_once(executable, "_host_errors_raised", wrap)


def _raising_check_errors(executable, checks: list):
    """Its `call` raises TF's error for an index a run-time check of the run found out of range
    (xlite/frontend/run_checks.py: each check is one more output, [position or -1, value, bound])."""
    def wrap(call):
        def call_checking(args, stop=None):
            results = call(args, stop)
            for number, check in checks:
                found = results[number]
                if found[0] >= 0:
                    check.raise_if_failed(found)
            return results
        return call_checking
    return _wrapped_once(executable, "_check_errors_raised", wrap)


def _wrapped_once(executable, marker: str, wrap):
    """The executable with `call` replaced by wrap(call), once: a cached executable comes back here again."""
    if not getattr(executable, marker, False):
        executable.call = wrap(executable.call)
        setattr(executable, marker, True)
    return executable


def _compile(module: Module | CompiledModule, target: str, options: CompileOptions):
    lowered_key = None
    if target == "cpu" and isinstance(module, Module) and not _dumping():
        from xlite.codegen.cpu.lowered import cached_executable, lowered_cache_key
        lowered_key = lowered_cache_key(module)
        if lowered_key is not None:
            executable = cached_executable(lowered_key, module, _optimize_copy)
            if executable is not None:
                return executable
    if target == "cpu" and options.emit_object is None:
        from xlite.codegen.cpu import load_llvm_behind
        load_llvm_behind()          # while the passes run
    from xlite.passes import dump
    lowered = module.module if isinstance(module, CompiledModule) else module
    with dump.compiling(lowered, target) as dumping:
        stage = dumping.stage if dumping is not None else None
        text = dumping.text if dumping is not None else None
        if target == "interpreter":
            if dumping is not None:
                optimize(dump.clone_module(lowered), stage=stage)
            return InterpreterExecutable(lowered)
        compiled = module if isinstance(module, CompiledModule) else optimize(module, stage=stage)
        if target == "cpu":
            from xlite.codegen.cpu import compile_cpu
            executable = compile_cpu(compiled, dump=text)
            if lowered_key is not None:     # once its final code is in (a tier-up's -O3: codegen/cpu/tiers.py)
                from xlite.codegen.cpu.lowered import store_lowered
                from xlite.codegen.cpu.tiers import when_final
                from xlite.passes.fusion import kernel_count
                kernels = kernel_count(compiled.module.entry)
                when_final(executable, lambda final: store_lowered(lowered_key, final, kernels))
            return executable
        if target == "cuda":
            from xlite.codegen.cuda import compile_cuda
            return compile_cuda(compiled, dump=text)
        return ObjectCode(compiled, options.emit_object(compiled, text))          # target "aot"


def compile_traced(executable: Executable) -> Executable:
    """The traced variant of a compiled run signature, for RunOptions FULL_TRACE runs (see
    xlite/runtime/tracing.py): the cpu backend compiles the same compiled module again with a
    timestamp around every kernel call, the interpreter times each instruction in Python; a backend
    with no traced variant gives the executable back (the trace then holds one event for the run)."""
    target = getattr(executable, "target", None)
    if target == "interpreter":
        return compile(executable.module, target, CompileOptions(traced=True))
    if target == "cpu":
        return compile(executable.compiled, target, CompileOptions(traced=True))
    return executable


def _compile_traced(module: Module | CompiledModule, target: str):
    if target == "interpreter" and isinstance(module, Module):
        return TracedInterpreterExecutable(module)
    if target == "cpu" and isinstance(module, CompiledModule):
        from xlite.codegen.cpu import compile_cpu
        return compile_cpu(module, traced=True)
    raise errors.unimplemented(f"no traced variant of target {target!r} for a {type(module).__name__}")


def optimize(module: Module, stage: StageHook | None = None) -> CompiledModule:
    """The cpu pipeline, which every native target compiles with, on `module` (in place), paired
    with the buffer assignment it made. `stage(name, module, assignment)` sees the module after each
    pass (dumps)."""
    from xlite.passes.pipelines import cpu_pipeline
    return CompiledModule(module, run_pipeline(module, cpu_pipeline(), stage))


def run_pipeline(module: Module, pipeline, stage: StageHook | None = None) -> BufferAssignment | None:
    """Runs `pipeline` (an xlite.passes PassPipeline) on `module` in place; the buffer assignment it
    made, or None. `optimize` runs the cpu pipeline through it; `xlite dump-ir` runs the passes an
    IR file asks for (its pass-by-pass mode)."""
    from xlite.passes.pipelines import run_passes
    return run_passes(pipeline, module, stage)


def with_naive_buffers(module: Module) -> CompiledModule:
    """`module` exactly as it is, for a code generator: every value in a buffer of its own (the naive
    buffer assignment, no pass that changes the Module). What `xlite dump-ir` generates CUDA C from
    when its passes made no assignment, and how codegen tests compile a Module as written."""
    from xlite.passes.pipelines import naive_pipeline
    return CompiledModule(module, run_pipeline(module, naive_pipeline()))


def _optimize_copy(lowered: Module) -> CompiledModule:
    """A cache hit's compiled module, on demand: the pipeline on a copy of the Module as lowered."""
    from xlite.passes.dump import clone_module
    return optimize(clone_module(lowered))


def finish_background_compiles() -> None:
    """Waits until every executable compiled so far runs its final code: the cpu target's tier-ups
    (xlite/codegen/cpu/tiers.py) compile -O3 code behind quick code. What a steady-state timing calls."""
    tiers = sys.modules.get("xlite.codegen.cpu.tiers")
    if tiers is not None:
        tiers.wait()


def _dumping() -> bool:
    """Whether IR dumping is on (XLITE_DUMP, or xlite.passes.dump configured), without importing the passes."""
    if os.environ.get("XLITE_DUMP"):
        return True
    dump = sys.modules.get("xlite.passes.dump")
    return dump is not None and dump.options() is not None


__all__ = ["compile", "compile_traced", "optimize", "run_pipeline", "with_naive_buffers", "finish_background_compiles",
           "CompileOptions", "ObjectCode"]
