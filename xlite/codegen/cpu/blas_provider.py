"""Which BLAS the generated code calls and where its entry points are, without LLVM.

See blas.py: the generated code calls `xlite_sgemm` / `xlite_dgemm` (Fortran-ABI gemm, every scalar
by pointer) and `xlite_blas_threads_local`; this module finds the provider and the addresses those
names stand for in this process, so loading cached object code (elf_loader.py) needs no llvmlite.
"""
from __future__ import annotations

import ctypes
import functools
import os
from dataclasses import dataclass

SYMBOLS = {"f32": "xlite_sgemm", "f64": "xlite_dgemm"}
THREADS_SYMBOL = "xlite_blas_threads_local"   # int (int n): this thread's BLAS thread count, returns the old


@dataclass(frozen=True)
class BlasProvider:
    name: str
    int_bits: int                 # width of the Fortran INTEGER arguments
    sgemm: int
    dgemm: int
    threads_local: int            # openblas_set_num_threads_local, or a function that does nothing


_keep_alive = []


def _noop_setter() -> int:
    noop = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda n: 0)
    _keep_alive.append(noop)
    return ctypes.cast(noop, ctypes.c_void_p).value


def _address(lib, name: str) -> int:
    return ctypes.cast(getattr(lib, name), ctypes.c_void_p).value


def _numpy_openblas() -> BlasProvider | None:
    """The scipy-openblas64 build inside NumPy's wheel (symbols scipy_sgemm_64_, ...), if present."""
    import numpy as np
    core = getattr(np, "_core", None) or np.core
    try:
        lib = ctypes.CDLL(core._multiarray_umath.__file__)
        return BlasProvider("numpy-openblas64", 64, _address(lib, "scipy_sgemm_64_"),
                            _address(lib, "scipy_dgemm_64_"), _address(lib, "openblas_set_num_threads_local"))
    except (OSError, AttributeError):
        return None


def _scipy_blas() -> BlasProvider:
    from scipy.linalg import cython_blas
    api = ctypes.pythonapi
    api.PyCapsule_GetName.restype = ctypes.c_char_p
    api.PyCapsule_GetName.argtypes = [ctypes.py_object]
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]

    def pointer(name):
        capsule = cython_blas.__pyx_capi__[name]
        return api.PyCapsule_GetPointer(capsule, api.PyCapsule_GetName(capsule))
    try:
        threads = _address(ctypes.CDLL(cython_blas.__file__), "openblas_set_num_threads_local")
    except (OSError, AttributeError):
        threads = _noop_setter()
    return BlasProvider("scipy-cython-blas", 32, pointer("sgemm"), pointer("dgemm"), threads)


@functools.lru_cache(maxsize=None)
def blas_provider() -> BlasProvider:
    provider = None if os.environ.get("XLITE_BLAS") == "scipy" else _numpy_openblas()
    return provider or _scipy_blas()


def symbol_addresses() -> dict[str, int]:
    """The xlite_* symbols generated code needs, and their addresses in this process."""
    provider = blas_provider()
    return {SYMBOLS["f32"]: provider.sgemm, SYMBOLS["f64"]: provider.dgemm, THREADS_SYMBOL: provider.threads_local}
