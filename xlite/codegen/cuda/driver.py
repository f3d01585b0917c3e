"""The device as CudaExecutable sees it: pycuda's driver API behind a small interface.

A driver provides mem_alloc, memcpy_htod / memcpy_dtoh / memcpy_dtod (device
addresses are ints), load_module(cuda_source) -> an object whose
get_function(name) has pycuda's prepare / prepared_call, synchronize(),
active() (a context manager making the context current on this thread) and
`arch` (sm_XY). `PycudaDriver` is the real one; emulator.py has a CPU stand-in
that runs the same generated kernels as C++ threads, for CI without a GPU
(XLITE_CUDA_EMULATOR=1 makes it the default, so Session(target="cuda") runs on it).
"""
from __future__ import annotations

import atexit
import os
import threading
import weakref

_DEFAULT: list = []


class _Active:
    """Makes the driver's context current on threads other than the one that created it."""

    def __init__(self, driver: "PycudaDriver"):
        self.driver = driver
        self.pushed = False

    def __enter__(self):
        self.pushed = threading.get_ident() != self.driver.thread
        if self.pushed:
            self.driver.context.push()

    def __exit__(self, *exc):
        if self.pushed:
            self.driver.drv.Context.pop()


class _Buffer:
    """A device allocation the driver can free before pycuda tears the context down at exit."""

    __slots__ = ("allocation", "address", "__weakref__")

    def __init__(self, allocation):
        self.allocation = allocation
        self.address = int(allocation)

    def __int__(self) -> int:
        return self.address

    __index__ = __int__

    def free(self) -> None:
        if self.allocation is not None:
            try:
                self.allocation.free()
            except Exception:       # the context may already be gone
                pass
            self.allocation = None


class PycudaDriver:
    """The GPU through pycuda, on device 0's primary context (shared with cuBLAS, CuPy and friends)."""

    def __init__(self):
        import pycuda.driver as drv
        try:
            import pycuda.autoprimaryctx as auto
        except ImportError:                     # older pycuda
            import pycuda.autoinit as auto
        self.drv = drv
        self.context = auto.context
        self.device = auto.device
        self.thread = threading.get_ident()
        major, minor = self.device.compute_capability()
        self.arch = f"sm_{major}{minor}"
        self.name = self.device.name()
        self._preloaded: dict = {}
        self._buffers = weakref.WeakSet()
        atexit.register(self._free_all)        # runs before pycuda's own exit hook pops the context

    def _free_all(self) -> None:
        for buffer in list(self._buffers):
            buffer.free()
        self._preloaded.clear()

    def active(self) -> _Active:
        return _Active(self)

    def mem_alloc(self, nbytes: int) -> _Buffer:
        buffer = _Buffer(self.drv.mem_alloc(max(int(nbytes), 1)))
        self._buffers.add(buffer)
        return buffer

    def memcpy_htod(self, dst: int, array) -> None:
        self.drv.memcpy_htod(dst, array)

    def memcpy_dtoh(self, array, src: int) -> None:
        self.drv.memcpy_dtoh(array, src)

    def memcpy_dtod(self, dst: int, src: int, nbytes: int) -> None:
        self.drv.memcpy_dtod(dst, src, nbytes)

    def load_module(self, source: str):
        from xlite.codegen.cuda.compiler import compile_cubin
        if source in self._preloaded:
            return self._preloaded[source]
        return self.drv.module_from_buffer(compile_cubin(source, self.arch))

    def preload(self, sources: list[str]) -> None:
        """Compiles many programs' kernels (each under its own prefix) as one cubin, one nvcc run."""
        from xlite.codegen.cuda.compiler import compile_cubin
        from xlite.codegen.cuda.prelude import PRELUDE
        bodies = [s[len(PRELUDE):] if s.startswith(PRELUDE) else s for s in sources]
        module = self.drv.module_from_buffer(compile_cubin(PRELUDE + "\n".join(bodies), self.arch))
        for s in sources:
            self._preloaded[s] = module

    def synchronize(self) -> None:
        self.drv.Context.synchronize()


def emulating() -> bool:
    """XLITE_CUDA_EMULATOR=1: target "cuda" runs its kernels on the CPU emulator (a testing aid)."""
    return os.environ.get("XLITE_CUDA_EMULATOR", "") not in ("", "0")


def default_driver():
    if not _DEFAULT:
        if emulating():
            from xlite.codegen.cuda.emulator import EmulatedDriver
            _DEFAULT.append(EmulatedDriver())
        else:
            _DEFAULT.append(PycudaDriver())
    return _DEFAULT[0]


__all__ = ["PycudaDriver", "default_driver", "emulating"]
