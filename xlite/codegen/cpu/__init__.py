"""The CPU backend: an IR Module in, one LLVM module JIT-compiled for the host out (see docs/internals.md).

compile_cpu(compiled) -> CpuExecutable, from the CompiledModule (optimized Module and buffer
assignment) that the compile driver (xlite/runtime/driver.py) hands it. Rules register when load_rules() imports their
modules (on the first compile, not on import: a cached executable needs none): elementwise ops
in elemental.py (`@cpu_rule`), index ops and reductions as elemental rules
(`@element_rule`), ops that write their buffer in their own order as kernel
rules (`@kernel_rule`: BLAS dot, scatter); while, conditional, tuple and
get_tuple_element are control flow and buffer plumbing in computation.py.
"""
from __future__ import annotations

import os
import sys

from xlite.codegen.cpu import cache
from xlite.codegen.cpu.executable import CpuExecutable
from xlite.codegen.cpu.plan import entry_symbols, plan_from_dict, plan_to_dict
from xlite.ir.compiled import CompiledModule, TextDump
from xlite.ir.module import Module

_rules_loaded = False


def load_rules() -> None:
    """Imports the code generator (its rule modules register on import) and installs fast math.

    Done on first use, not on import: running a cached executable needs none of it (lowered.py)."""
    global _rules_loaded
    if _rules_loaded:
        return
    from xlite.codegen.cpu import blas, collectives, conv, host_calls, index_ops, philox_ir, reductions  # noqa: F401
    from xlite.codegen.cpu import scatter  # noqa: F401
    from xlite.codegen.cpu import fast_math
    # Vectorizable polynomials for the functions ML graphs are made of (within 1 ulp over the whole
    # range); sin and cos stay on libm, whose argument reduction is exact for every |x|.
    fast_math.install(("exp", "expm1", "log", "log1p", "tanh", "logistic"))
    _rules_loaded = True


def __getattr__(name: str):
    """The code generator's own names (EntryEmitter, CodegenModule, ...), its rules loaded first."""
    homes = {"EntryEmitter": "computation", "CodegenModule": "function", "is_elemental": "element_generator",
             "has_kernel_rule": "kernels"}
    if name not in homes:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    load_rules()
    import importlib
    return getattr(importlib.import_module(f"{__name__}.{homes[name]}"), name)


STRUCTURAL_OPCODES = ("parameter", "tuple", "get_tuple_element", "while", "conditional", "fusion")
# emitted in the entry function itself, not as kernels (computation.py, collectives.py)
ENTRY_OPCODES = ("all_reduce_start", "all_reduce_done")


def has_cpu_rule(opcode: str) -> bool:
    """Whether the cpu backend compiles `opcode` (every layer must answer yes for every opcode)."""
    load_rules()
    from xlite.codegen.cpu.element_generator import is_elemental
    from xlite.codegen.cpu.kernels import has_kernel_rule
    return is_elemental(opcode) or has_kernel_rule(opcode) or opcode in STRUCTURAL_OPCODES + ENTRY_OPCODES


def is_available() -> bool:
    """Whether llvmlite has a native target here. Until something has loaded LLVM, a host whose
    fingerprint reads (cache.host_fingerprint: Linux, llvmlite's library present) counts as
    available without starting LLVM, which a cached compile never needs; the first real compile
    starts it (and fails there if it cannot)."""
    if "llvmlite.binding" not in sys.modules and cache.host_fingerprint() is not None:
        return True
    try:
        from xlite.codegen.cpu.compiler import target_machine
        target_machine()
        return True
    except Exception:
        return False


_llvm_loader = None             # load_llvm_behind's thread (started once per process)


def load_llvm_behind() -> None:
    """Imports llvmlite.binding and makes the target machines on a thread, once per process, so that a
    cold compile's passes and IR emission run meanwhile (loading LLVM's library: ~30 ms of the first
    compile). compile_cpu joins it before it needs LLVM; an error is the compile's to raise."""
    global _llvm_loader
    if _llvm_loader is not None or "llvmlite.binding" in sys.modules:
        return

    def load() -> None:
        try:
            from xlite.codegen.cpu.compiler import target_machine
            target_machine(0)
            target_machine(3)
        except Exception:       # noqa: BLE001 - compile_to_object raises it again, where it matters
            pass
    import threading
    loader = _llvm_loader = threading.Thread(target=load, name="xlite-llvm-load", daemon=True)
    loader.start()
    if hasattr(os, "register_at_fork"):     # no child may inherit the dynamic loader's lock mid-load
        os.register_at_fork(before=loader.join)


def _llvm_loaded() -> None:
    """Waits for load_llvm_behind's thread (a compile ends with no thread of its own left running)."""
    if _llvm_loader is not None:
        _llvm_loader.join()


def num_threads() -> int:
    """Threads a big loop kernel is split over: XLITE_NUM_THREADS, else the CPUs this process may use."""
    value = os.environ.get("XLITE_NUM_THREADS")
    if value:
        return max(1, int(value))
    try:
        return max(1, min(len(os.sched_getaffinity(0)), 16))
    except AttributeError:
        return max(1, min(os.cpu_count() or 1, 16))


def profiling() -> bool:
    """XLITE_PROFILE=1: generated code counts cycles per kernel; run() prints the table."""
    return os.environ.get("XLITE_PROFILE", "0") not in ("", "0")


def emit_llvm_ir(compiled: CompiledModule, traced: bool = False) -> tuple[str, object]:
    """The unoptimized LLVM IR text of a compiled module and its run plan; `traced` times every
    kernel call (trace_ir.py), which only FULL_TRACE runs use."""
    load_rules()
    from xlite.codegen.cpu.compiler import triple_and_layout
    from xlite.codegen.cpu.computation import EntryEmitter
    from xlite.codegen.cpu.function import CodegenModule
    cg = CodegenModule(compiled.module.name, *triple_and_layout())
    plan = EntryEmitter(cg, compiled.module, compiled.buffer_assignment, profile=profiling(),
                        threads=num_threads(), traced=traced, cancellable=True).emit()
    return str(cg.module), plan


def initializes_only(module: Module) -> bool:
    """Whether the run fetches nothing and reads no array parameter (no Variable's value, no fed array): it
    only sets Variables from constants and random numbers, as an initializer does (see speed_level)."""
    entry = module.entry
    if module.fetch_count != 0 or entry.root.opcode != "tuple" or not entry.root.operands:
        return False
    users = entry.users()
    return all(u is entry.root for p in entry.parameters if p.shape.rank > 0 for u in users[p])


O0_INITIALIZER_ELEMENTS = 1 << 24


def speed_level(module: Module) -> int:
    """The optimization level a run signature compiles at: 3, or 0 for an initializer (it runs once per
    Session) that makes at most O0_INITIALIZER_ELEMENTS elements.

    -O0 compiles W3's initializer in ~10 ms instead of ~85 ms at -O1 (a fifth of W6's cold start) and
    runs it ~1.4x slower (~8 ns more per random element), so past ~16M elements -O1 pays again."""
    if not initializes_only(module):
        return 3
    made = sum(s.num_elements for s in module.entry.root.shape.elements if not s.is_tuple)
    return 0 if made <= O0_INITIALIZER_ELEMENTS else 1


def compile_cpu(compiled: CompiledModule, traced: bool = False, dump: TextDump | None = None) -> CpuExecutable:
    """The executable of a compiled module; `traced=True` gives the variant that FULL_TRACE runs use
    (CpuExecutable.run_traced), compiled from the same Module. `dump(stage, text, extension)`, when
    given (XLITE_DUMP, xlite dump-ir), receives the LLVM IR and assembly; the object cache is then
    bypassed, so that every stage is written."""
    load_rules()
    from xlite.codegen.cpu.compiler import LoadedCode, compile_to_object, host_description
    module = compiled.module
    level = speed_level(module)
    from xlite.codegen.cpu.mpi_provider import world_description
    key = cache.module_key(compiled, host_description() + world_description(module)
                           + f"\nprofile={profiling()} threads={num_threads()}"
                           + ("\ntraced" if traced else "") + f"\nO{level}")
    from xlite.codegen.cpu import tiers
    if dump is None:
        tiers.wait(key)         # this signature's -O3 code, compiling behind quick code: soon in the cache
    hit = cache.lookup(key) if dump is None else None
    quick = False
    if hit is not None:
        plan_dict, obj = hit
        plan = plan_from_dict(plan_dict)
    else:
        text, plan = emit_llvm_ir(compiled, traced)
        _llvm_loaded()
        quick = dump is None and not traced and tiers.tiered(module, text, level)
        if quick:               # merged once, here, for both tiers (the tier-up does no Python work: tiers.py)
            from xlite.codegen.cpu.llvm_parts import merge_identical
            text = merge_identical(text)
        obj = compile_to_object(text, dump=dump, speed_level=tiers.QUICK_LEVEL if quick else level, merged=quick)
        if not quick:
            cache.store(key, plan_to_dict(plan), obj)
    _llvm_loaded()
    executable = CpuExecutable(module, plan, LoadedCode(obj, entry_symbols(plan.object_entry)))
    executable.compiled = compiled
    if quick:                   # the -O3 code compiles behind it (tiers.py)
        tiers.start(executable, text, key, lambda final: cache.store(key, plan_to_dict(plan), final))
    return executable


__all__ = ["compile_cpu", "initializes_only", "speed_level", "CpuExecutable", "has_cpu_rule", "is_available", "emit_llvm_ir",
           "load_rules", "load_llvm_behind"]
