"""Whether target "cuda" can run here, and if not, which of its needs is missing.

It needs pycuda (the Python binding), a CUDA driver (libcuda.so.1) and an
NVIDIA GPU, plus nvcc to compile the generated CUDA C. The driver and the GPU
are probed through ctypes, so the answer names every missing piece even where
pycuda itself is absent; nothing here imports pycuda. With XLITE_CUDA_EMULATOR=1
the CPU emulator stands in for all of them (it needs only a C++ compiler).
"""
from __future__ import annotations

import ctypes
import functools
import importlib.util

from xlite import errors


class CudaUnavailableError(errors.UnimplementedError):
    """target 'cuda' cannot run on this machine; the message says what is missing."""


def _pycuda_installed() -> bool:
    return importlib.util.find_spec("pycuda") is not None


@functools.lru_cache(maxsize=None)
def _probe_driver() -> tuple[bool, int, str]:
    """(driver loads and initializes, GPU count, detail) from libcuda itself."""
    for name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll", "libcuda.dylib"):
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    else:
        return False, 0, "libcuda.so.1 not found"
    status = lib.cuInit(0)
    if status == 100:                                   # CUDA_ERROR_NO_DEVICE
        return True, 0, "the driver reports no CUDA device"
    if status != 0:
        return False, 0, f"cuInit failed with CUDA error {status}"
    count = ctypes.c_int(0)
    if lib.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return True, 0, "cuDeviceGetCount failed"
    return True, count.value, f"{count.value} device(s)"


def missing() -> list[str]:
    """What target 'cuda' lacks here, as phrases for an error message (empty when it can run)."""
    from xlite.codegen.cuda.compiler import find_nvcc
    from xlite.codegen.cuda.driver import emulating
    if emulating():
        import shutil
        return [] if shutil.which("g++") or shutil.which("clang++") else [
            "XLITE_CUDA_EMULATOR is set but no C++ compiler (g++ or clang++) was found"]
    result = []
    if not _pycuda_installed():
        result.append("pycuda is not installed (pip install pycuda)")
    driver, gpus, detail = _probe_driver()
    if not driver:
        result.append(f"no CUDA driver ({detail})")
    elif gpus == 0:
        result.append(f"no NVIDIA GPU ({detail})")
    if find_nvcc() is None:
        result.append("nvcc is not installed (needed to compile the generated CUDA C)")
    return result


def is_available() -> bool:
    return not missing()


def check_available() -> None:
    gaps = missing()
    if gaps:
        raise CudaUnavailableError(None, None, "target 'cuda' needs pycuda, a CUDA driver, an NVIDIA GPU and nvcc; "
                                   "on this machine " + "; ".join(gaps))


__all__ = ["CudaUnavailableError", "missing", "is_available", "check_available"]
