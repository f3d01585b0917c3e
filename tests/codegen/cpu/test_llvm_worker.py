"""The LLVM worker process gives the object code this process would, and LLVM's errors as this process would."""
import pytest

from xlite.codegen.cpu import compiler, llvm_worker

IR = """
define double @scale(double %x) {
  %y = fmul double %x, 3.500000e+00
  %z = fadd double %y, 1.000000e+00
  ret double %z
}
"""


def test_the_worker_compiles_what_this_process_compiles(monkeypatch):
    monkeypatch.setenv("XLITE_LLVM_WORKER", "0")
    here = compiler.compile_to_object(IR)
    monkeypatch.setenv("XLITE_LLVM_WORKER", "1")
    monkeypatch.setattr(llvm_worker, "IN_PROCESS", 0)
    monkeypatch.setattr(llvm_worker, "_broken", False)
    try:
        assert llvm_worker.compile_elsewhere(IR, 3) == here
        assert compiler.compile_to_object(IR) == here
        with pytest.raises(RuntimeError, match="expected"):
            compiler.compile_to_object("define double @broken(double %x) { ret }")
        assert not llvm_worker._broken and llvm_worker._worker is not None      # the worker survives an error
    finally:
        llvm_worker._close_worker()
