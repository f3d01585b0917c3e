"""LLVM for the host: the target machine, the -O3 pipeline, object code, and loading it into the JIT."""
from __future__ import annotations

import functools
import struct
import threading

import llvmlite
import llvmlite.binding as llvm

from xlite import errors
from xlite.codegen.cpu.blas import register_blas_symbols

_lock = threading.Lock()


def new_target_machine(opt: int = 3):
    """A target machine for the host (code generation at -O`opt`); an execution engine takes ownership
    of the one it gets."""
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                        features=llvm.get_host_cpu_features().flatten(), opt=opt)


@functools.lru_cache(maxsize=None)
def target_machine(opt: int = 3):
    """The target machine that optimizes and emits code at -O`opt` (never handed to an engine); -O0's
    is the fast instruction selector and register allocator that code run once is compiled with."""
    return new_target_machine(opt)


@functools.lru_cache(maxsize=None)
def host_description() -> str:
    """Everything about the host that changes the generated code: part of every cache key."""
    tm = target_machine()
    from xlite.codegen.cpu.blas import blas_provider
    from xlite.codegen.cpu.plan import numpy_data_offset
    blas = blas_provider()
    return "\n".join([llvm.get_process_triple(), llvm.get_host_cpu_name(), f"numpy data at {numpy_data_offset()}",
                      f"blas {blas.name} int{blas.int_bits}",
                      llvm.get_host_cpu_features().flatten(), str(tm.target_data),
                      f"llvmlite {llvmlite.__version__}", f"llvm {'.'.join(map(str, llvm.llvm_version_info))}"])


def triple_and_layout() -> tuple[str, str]:
    return llvm.get_process_triple(), str(target_machine().target_data)


def compile_to_object(ir_text: str, dump=None, tm=None, speed_level: int = 3, in_parts: bool = True,
                      merged: bool = False) -> bytes:
    """Parses, verifies, optimizes at -O3 (loop and SLP vectorization on; -O1 without them, or -O0's
    unoptimized code from the fast code generator, when asked) and emits object code. Identical functions
    are merged first, and at -O2 and up a large module is optimized as parts on several threads
    (llvm_parts.py) before one code generation.

    `dump(stage, text, extension)`, when given, receives the LLVM IR, the optimized IR and the assembly.
    `tm` is another target machine to optimize and emit for (xlite.aot: position-independent, a named CPU).
    `in_parts=False` optimizes on this thread alone (a tier-up, which leaves the other cores to the program);
    `merged=True` says the caller already merged identical functions (llvm_parts.merge_identical).
    Past a process's first compiles this runs in a worker process (llvm_worker.py: llvmlite leaks memory
    on every optimization that only a process's exit returns)."""
    if tm is None and not dump:
        from xlite.codegen.cpu.llvm_worker import compile_elsewhere
        obj = compile_elsewhere(ir_text, speed_level)
        if obj is not None:
            return obj
    from xlite.codegen.cpu.llvm_parts import merge_identical, pipeline_options
    own_machine = tm is None
    tm = tm or target_machine(0 if speed_level == 0 else 3)
    ir_text = ir_text if merged else merge_identical(ir_text)
    with _lock:
        if dump:
            dump("llvm-ir", ir_text, "ll")
        context = llvm.create_context()        # its own: types and constants in the global one are never freed
        mod = (_optimized_in_parts(ir_text, speed_level, context) if own_machine and in_parts and speed_level >= 2
               else None)
        if mod is None:
            mod = llvm.parse_assembly(ir_text, context=context)
            mod.verify()
            pb = llvm.create_pass_builder(tm, pipeline_options(speed_level))
            pb.getModulePassManager().run(mod, pb)
        if dump:
            dump("llvm-ir-optimized", str(mod), "ll")
            dump("assembly", tm.emit_assembly(mod), "s")
        obj = tm.emit_object(mod)
        mod.close()
        return obj


def _optimized_in_parts(ir_text: str, speed_level: int, context):
    """The module optimized as parts on several threads (llvm_parts.py), or None where it stays whole: one
    thread, a small module."""
    from xlite.codegen.cpu import num_threads
    from xlite.codegen.cpu.llvm_parts import optimize_in_parts, split
    threads = num_threads()
    parts = split(ir_text, threads) if threads > 1 else None
    return optimize_in_parts(*parts, speed_level, context) if parts is not None else None


def undefined_symbols(obj: bytes) -> list[str]:
    """The symbols an ELF64 object file needs from elsewhere (libm, BLAS, compiler runtime)."""
    if obj[:4] != b"\x7fELF" or obj[4] != 2:
        return []
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", obj, shoff + i * shentsize) for i in range(shnum)]
    names = []
    for _, sh_type, _, _, offset, size, link, _, _, entsize in sections:
        if sh_type != 2:                           # SHT_SYMTAB
            continue
        strtab = sections[link]
        for k in range(size // (entsize or 24)):
            st_name, _, _, st_shndx = struct.unpack_from("<IBBH", obj, offset + k * 24)
            if st_name and st_shndx == 0:
                start = strtab[4] + st_name
                names.append(obj[start:obj.index(b"\0", start)].decode())
    return names


@functools.lru_cache(maxsize=None)
def _resolvable(name: str) -> bool:
    if llvm.address_of_symbol(name):
        return True
    import ctypes
    try:
        getattr(ctypes.CDLL(None), name)
        return True
    except AttributeError:
        return False


def LoadedCode(obj: bytes, symbols: list[str]):
    """Object code linked into this process: elf_loader.load_code (without LLVM where it can)."""
    from xlite.codegen.cpu.elf_loader import load_code
    return load_code(obj, symbols)


class JitLoadedCode:
    """Object code linked by LLVM's JIT linker (MCJIT).

    Every symbol the object needs is checked first: the JIT linker aborts the process on one it
    cannot resolve, so a missing one becomes an UnimplementedError instead."""

    def __init__(self, obj: bytes, symbols: list[str]):
        self.obj = obj
        register_blas_symbols()
        from xlite.codegen.cpu.host_callback import symbol_addresses as host_symbols
        from xlite.codegen.cpu.plan import stop_symbols
        for name, address in {**stop_symbols(), **host_symbols()}.items():
            llvm.add_symbol(name, address)
        from xlite.codegen.cpu.mpi_provider import address_of
        for name in undefined_symbols(obj):
            if address_of(name) is not None:
                llvm.add_symbol(name, address_of(name))
        missing = [s for s in undefined_symbols(obj) if not _resolvable(s)]
        if missing:
            raise errors.unimplemented(f"generated code needs {', '.join(missing)}, which this process "
                                       "does not provide (cpu backend)")
        tm = new_target_machine()
        with _lock:
            empty = llvm.parse_assembly("")
            empty.triple, empty.data_layout = triple_and_layout()
            self._engine = llvm.create_mcjit_compiler(empty, tm)
            self._engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
            self._engine.finalize_object()
            addresses = [self._engine.get_function_address(s) for s in symbols]
        if not all(addresses):
            raise RuntimeError(f"generated code lacks one of {symbols}")
        self.address = addresses[0]
        self.object_address = addresses[1] if len(addresses) > 1 else None


__all__ = ["target_machine", "host_description", "compile_to_object", "LoadedCode", "JitLoadedCode",
           "triple_and_layout"]
