"""LLVM for the host: the target machine, the -O3 pipeline, object code, and loading it into the JIT."""
from __future__ import annotations

import functools
import os
import threading

import llvmlite
import llvmlite.binding as llvm

from xlite.codegen.cpu.blas import register_blas_symbols

_lock = threading.Lock()


def new_target_machine():
    """A target machine for the host at -O3; an execution engine takes ownership of the one it gets."""
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                        features=llvm.get_host_cpu_features().flatten(), opt=3)


@functools.lru_cache(maxsize=None)
def target_machine():
    """The target machine that optimizes and emits code (never handed to an engine)."""
    return new_target_machine()


@functools.lru_cache(maxsize=None)
def host_description() -> str:
    """Everything about the host that changes the generated code: part of every cache key."""
    tm = target_machine()
    return "\n".join([llvm.get_process_triple(), llvm.get_host_cpu_name(),
                      llvm.get_host_cpu_features().flatten(), str(tm.target_data),
                      f"llvmlite {llvmlite.__version__}", f"llvm {'.'.join(map(str, llvm.llvm_version_info))}"])


def triple_and_layout() -> tuple[str, str]:
    return llvm.get_process_triple(), str(target_machine().target_data)


def _dump(name: str, text: str) -> None:
    directory = os.environ.get("XLITE_DUMP")
    if directory:
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, name), "w") as f:
            f.write(text)


def compile_to_object(ir_text: str, name: str = "module") -> bytes:
    """Parses, verifies, optimizes at -O3 (loop and SLP vectorization on) and emits object code."""
    tm = target_machine()
    with _lock:
        _dump(f"{name}.ll", ir_text)
        mod = llvm.parse_assembly(ir_text)
        mod.verify()
        pto = llvm.create_pipeline_tuning_options(speed_level=3)
        pto.loop_vectorization = True
        pto.slp_vectorization = True
        pb = llvm.create_pass_builder(tm, pto)
        pb.getModulePassManager().run(mod, pb)
        if os.environ.get("XLITE_DUMP"):
            _dump(f"{name}.opt.ll", str(mod))
            _dump(f"{name}.s", tm.emit_assembly(mod))
        return tm.emit_object(mod)


class LoadedCode:
    """Object code linked into this process; keeps its memory alive while referenced."""

    def __init__(self, obj: bytes, symbol: str):
        register_blas_symbols()
        tm = new_target_machine()
        with _lock:
            empty = llvm.parse_assembly("")
            empty.triple, empty.data_layout = triple_and_layout()
            self._engine = llvm.create_mcjit_compiler(empty, tm)
            self._engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
            self._engine.finalize_object()
            self.address = self._engine.get_function_address(symbol)
        if not self.address:
            raise RuntimeError(f"generated code has no symbol {symbol!r}")


__all__ = ["target_machine", "host_description", "compile_to_object", "LoadedCode", "triple_and_layout"]
