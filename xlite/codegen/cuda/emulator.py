"""A CPU stand-in for the GPU: the generated CUDA C compiled as C++ (g++), kernels run by host threads.

It is the driver interface of driver.py over host memory, so CudaExecutable
runs unchanged on it: device addresses are host addresses, and a launch runs
every block of the grid in turn. Kernels that synchronize (`__syncthreads`,
warp shuffles) get one OS thread per CUDA thread with real barriers (each
warp's shuffle goes through a 32-slot exchange between two warp barriers);
the others run their threads one after another. `__shared__` arrays become
function statics, shared by the block's threads and reused block after block.

This checks what PTX compilation cannot: that the kernels compute the right
values, that reductions synchronize correctly, and that the executable's steps,
buffers and argument marshalling fit together. It does not prove anything about
the GPU itself (memory model, occupancy, libdevice's math): the cuda-marked
tests on a real GPU do that. Compiled libraries are cached by source hash under
XLITE_CACHE_DIR/cuda-emulator.
"""
from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

SHIM = r"""
#include <cmath>
#include <cstring>
#include <cstdint>
#include <atomic>
#include <barrier>
#include <functional>
#include <memory>
#include <thread>
#include <vector>
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
struct xl_dim3 { unsigned x = 1, y = 1, z = 1; };
static thread_local xl_dim3 threadIdx, blockIdx;
static xl_dim3 blockDim, gridDim;
struct xl_warp { std::barrier<> bar; unsigned long long slot[32]; explicit xl_warp(int n) : bar(n) {} };
static thread_local std::barrier<>* xl_block_barrier = nullptr;
static thread_local xl_warp* xl_this_warp = nullptr;
static thread_local int xl_lane = 0;
inline void __syncthreads() { xl_block_barrier->arrive_and_wait(); }
template <typename T> inline T __shfl_down_sync(unsigned, T v, int offset) {
  unsigned long long raw = 0;
  std::memcpy(&raw, &v, sizeof(T));
  xl_this_warp->slot[xl_lane] = raw;
  xl_this_warp->bar.arrive_and_wait();
  const int src = xl_lane + offset;
  const unsigned long long got = src < 32 ? xl_this_warp->slot[src] : raw;
  xl_this_warp->bar.arrive_and_wait();
  T r;
  std::memcpy(&r, &got, sizeof(T));
  return r;
}
// CUDA's atomicAdd overloads (only those: code the emulator accepts must compile with nvcc too). Atomic also
// when a block's threads run concurrently (kernels that synchronize) and across the sequential blocks.
template <typename T> inline T xl_emu_atomic_add(T* p, T v) { return std::atomic_ref<T>(*p).fetch_add(v); }
inline int atomicAdd(int* p, int v) { return xl_emu_atomic_add(p, v); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return xl_emu_atomic_add(p, v); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) { return xl_emu_atomic_add(p, v); }
inline float atomicAdd(float* p, float v) { return xl_emu_atomic_add(p, v); }
inline double atomicAdd(double* p, double v) { return xl_emu_atomic_add(p, v); }
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
inline float __int_as_float(int v) { float f; std::memcpy(&f, &v, 4); return f; }
inline double __longlong_as_double(long long v) { double d; std::memcpy(&d, &v, 8); return d; }
struct xl_ptr { void* p; template <typename T> operator T*() const { return (T*)p; } };

static void xl_run_grid(const std::function<void()>& body, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                        bool cooperative) {
  gridDim = {gx, gy, gz};
  blockDim = {bx, 1, 1};
  if (!cooperative) {
    for (unsigned z = 0; z < gz; ++z) for (unsigned y = 0; y < gy; ++y) for (unsigned x = 0; x < gx; ++x)
      for (unsigned t = 0; t < bx; ++t) { blockIdx = {x, y, z}; threadIdx = {t, 0, 0}; body(); }
    return;
  }
  std::barrier<> block(bx);
  std::vector<std::unique_ptr<xl_warp>> warps;
  for (unsigned w = 0; w < (bx + 31) / 32; ++w) warps.emplace_back(new xl_warp(bx - 32 * w < 32 ? bx - 32 * w : 32));
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < bx; ++t) {
    threads.emplace_back([&, t] {
      threadIdx = {t, 0, 0};
      xl_block_barrier = &block;
      xl_this_warp = warps[t / 32].get();
      xl_lane = t % 32;
      for (unsigned z = 0; z < gz; ++z) for (unsigned y = 0; y < gy; ++y) for (unsigned x = 0; x < gx; ++x) {
        blockIdx = {x, y, z};
        body();
        block.arrive_and_wait();
      }
    });
  }
  for (auto& th : threads) th.join();
}
"""

_KERNEL = re.compile(r'extern "C" __global__ void (?:__launch_bounds__\(\d+\) )?(\w+)\(([^)]*)\) \{')


def kernels_of(source: str) -> dict[str, tuple[int, bool]]:
    """name -> (argument count, whether its threads synchronize) of every kernel in `source`."""
    found = {}
    matches = list(_KERNEL.finditer(source))
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(source)
        body = source[m.end():end]
        nargs = len([a for a in m.group(2).split(",") if a.strip()])
        found[m.group(1)] = (nargs, "__syncthreads" in body or "shfl" in body)
    return found


def _launchers(kernels: dict) -> str:
    out = []
    for name, (nargs, coop) in kernels.items():
        args = ", ".join(f"xl_ptr{{a[{i}]}}" for i in range(nargs))
        out.append(f'extern "C" void xl_emu_{name}(void** a, unsigned gx, unsigned gy, unsigned gz, unsigned bx) '
                   f'{{ xl_run_grid([&] {{ {name}({args}); }}, gx, gy, gz, bx, {str(coop).lower()}); }}')
    return "\n".join(out) + "\n"


def _cache_dir() -> Path:
    root = os.environ.get("XLITE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "xlite")
    return Path(root) / "cuda-emulator"


def compile_library(source: str) -> ctypes.CDLL:
    """The generated CUDA C, built as a shared library with one `xl_emu_<kernel>` launcher per kernel."""
    kernels = kernels_of(source)
    text = SHIM + source + "\n" + _launchers(kernels)
    key = hashlib.sha256(text.encode()).hexdigest()
    path = _cache_dir() / f"{key}.so"
    if not path.exists():
        compiler = shutil.which("g++") or shutil.which("clang++")
        if compiler is None:
            from xlite.codegen.cuda.availability import CudaUnavailableError
            raise CudaUnavailableError(None, None, "the cuda emulator needs g++ or clang++")
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="xlite-emu-") as tmp:
            src = os.path.join(tmp, "module.cpp")
            with open(src, "w") as f:
                f.write(text)
            out = os.path.join(tmp, "module.so")
            cmd = [compiler, "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", "-w", "-o", out, src]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"the cuda emulator could not compile the generated code:\n{proc.stderr[-4000:]}")
            fd, tmp_path = tempfile.mkstemp(dir=path.parent, suffix=".so")
            os.close(fd)
            shutil.copyfile(out, tmp_path)
            os.replace(tmp_path, path)
    return ctypes.CDLL(str(path))


class _Function:
    def __init__(self, lib: ctypes.CDLL, name: str):
        self._fn = getattr(lib, f"xl_emu_{name}")
        self._fn.restype = None
        self._fn.argtypes = [ctypes.c_void_p] + [ctypes.c_uint] * 4
        self.launches = 0

    def prepare(self, arg_types: str) -> "_Function":
        self._nargs = len(arg_types)
        return self

    def prepared_call(self, grid, block, *args) -> None:
        grid = tuple(grid) + (1,) * (3 - len(grid))
        argv = (ctypes.c_void_p * max(len(args), 1))(*[int(a) for a in args])
        self.launches += 1
        self._fn(argv, grid[0], grid[1], grid[2], block[0])


class _Module:
    def __init__(self, lib: ctypes.CDLL):
        self._lib = lib
        self.functions: dict[str, _Function] = {}

    def get_function(self, name: str) -> _Function:
        if name not in self.functions:
            self.functions[name] = _Function(self._lib, name)
        return self.functions[name]


class _Allocation:
    """Host memory standing in for a device allocation (256-byte aligned, poisoned with NaN-ish bytes)."""

    def __init__(self, nbytes: int):
        self._raw = np.full(max(int(nbytes), 1) + 256, 0xFF, np.uint8)
        self.address = self._raw.ctypes.data + (-self._raw.ctypes.data) % 256

    def __int__(self) -> int:
        return self.address

    __index__ = __int__


class EmulatedDriver:
    """driver.py's interface on the CPU. `preload(sources)` builds many modules' kernels into one library
    (one g++ run) so that a test suite compiles once."""

    arch = "sm_90"
    name = "xlite CPU emulator"

    def __init__(self):
        self._libraries: dict[str, ctypes.CDLL] = {}
        self.modules: list[_Module] = []
        self.stats = {"htod": 0, "htod_bytes": 0, "dtoh": 0, "dtoh_bytes": 0, "dtod": 0}

    def preload(self, sources: list[str]) -> None:
        from xlite.codegen.cuda.prelude import PRELUDE
        bodies = [s[len(PRELUDE):] if s.startswith(PRELUDE) else s for s in sources]
        lib = compile_library(PRELUDE + "\n".join(bodies))
        for s in sources:
            self._libraries[s] = lib

    def active(self):
        return contextlib.nullcontext()

    def mem_alloc(self, nbytes: int) -> _Allocation:
        return _Allocation(nbytes)

    def memcpy_htod(self, dst: int, array) -> None:
        array = np.ascontiguousarray(array)
        self.stats["htod"] += 1
        self.stats["htod_bytes"] += array.nbytes
        ctypes.memmove(int(dst), array.ctypes.data, array.nbytes)

    def memcpy_dtoh(self, array, src: int) -> None:
        self.stats["dtoh"] += 1
        self.stats["dtoh_bytes"] += array.nbytes
        ctypes.memmove(array.ctypes.data, int(src), array.nbytes)

    def memcpy_dtod(self, dst: int, src: int, nbytes: int) -> None:
        self.stats["dtod"] += 1
        ctypes.memmove(int(dst), int(src), nbytes)

    def load_module(self, source: str) -> _Module:
        lib = self._libraries.get(source)
        if lib is None:
            lib = self._libraries[source] = compile_library(source)
        module = _Module(lib)
        self.modules.append(module)
        return module

    def synchronize(self) -> None:
        pass

    def launches(self) -> int:
        return sum(f.launches for m in self.modules for f in m.functions.values())


__all__ = ["EmulatedDriver", "compile_library", "kernels_of", "SHIM"]
