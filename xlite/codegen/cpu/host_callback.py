"""The `xlite_host_call` symbol that cpu code calls for a host_call: a ctypes callback into Python.

What linking an object needs (elf_loader.py, compiler.JitLoadedCode), apart from the code generator
(host_calls.py emits the calls), so that loading a cached executable imports no llvmlite.
"""
from __future__ import annotations

import ctypes

import numpy as np

from xlite.ir import dtypes
from xlite.semantics import host_calls

SYMBOL = "xlite_host_call"
DTYPE_CODES = ("pred", "s8", "u8", "s32", "u32", "s64", "f16", "f32", "f64")
_CALLBACK_TYPE = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p,
                                  ctypes.c_void_p, ctypes.c_void_p)


def _read(words, at: int):
    code, rank = words[at], words[at + 1]
    dims = tuple(words[at + 2:at + 2 + rank])
    return np.dtype(dtypes.as_dtype(DTYPE_CODES[code]).np), dims, at + 2 + rank


def _view(address: int, dtype: np.dtype, dims: tuple) -> np.ndarray:
    nbytes = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if nbytes == 0:
        return np.zeros(dims, dtype)
    return np.frombuffer((ctypes.c_char * nbytes).from_address(address), dtype).reshape(dims)


def _callback(key: int, output: int, descriptor: int, pointers: int, result: int) -> int:
    """What native code calls: 0 when the output is written, 1 when an error was kept for the caller."""
    try:
        n = ctypes.c_int64.from_address(descriptor).value
        words, at, args = _Words(descriptor), 1, []
        for k in range(n):
            dtype, dims, at = _read(words, at)
            args.append(_view(ctypes.c_void_p.from_address(pointers + 8 * k).value or 0, dtype, dims).copy())
        dtype, dims, _ = _read(words, at)
        out = _view(result, dtype, dims)
        value = host_calls.call_from_native(key, output, args, dims, dtype)
        if value is None:
            out[...] = 0
            return 1
        out[...] = value
        return 0
    except BaseException as e:      # noqa: BLE001 - nothing may unwind through native frames
        host_calls.keep_error(e)
        return 1


class _Words:
    """The descriptor's int64 words, read where native code keeps them."""

    def __init__(self, address: int):
        self.address = address

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(index.start, index.stop)]
        return ctypes.c_int64.from_address(self.address + 8 * index).value


_CALLBACK = _CALLBACK_TYPE(_callback)       # kept alive for the life of the process


def symbol_addresses() -> dict[str, int]:
    """The address generated code calls for `xlite_host_call`."""
    return {SYMBOL: ctypes.cast(_CALLBACK, ctypes.c_void_p).value}


__all__ = ["symbol_addresses", "SYMBOL", "DTYPE_CODES"]
