"""xlite.aot.load: an AOT shared library (NAME.so) as a Python callable, through ctypes alone.

Imports nothing of xlite but its errors, and no LLVM: the signature comes from
the JSON string the object embeds as `NAME_signature_json` (see signature.py),
so starting is a dlopen and a JSON parse. A path that is missing, a directory
or not an xlite AOT library raises NotFoundError, FailedPreconditionError or
InvalidArgumentError, and one cut short DataLossError, before dlopen can fail or crash. Every argument is checked (present,
dtype, shape; Variables the run updates must be writeable C-ordered arrays of
their exact dtype, which are then updated in place) before native code runs;
a mistake raises InvalidArgumentError. Each thread gets its own scratch
buffer, so threads may call one function at the same time (ctypes releases
the GIL during the call).
"""
from __future__ import annotations

import ctypes
import json
import os
import struct
import threading

import numpy as np

from xlite import errors

FORMAT = "xlite-aot 1"
_SCRATCH_ALIGNMENT = 64


def _invalid(message: str) -> errors.InvalidArgumentError:
    return errors.InvalidArgumentError(None, None, message)


def _check_elf(path: str, data: bytes) -> None:
    """Refuses what is not a whole ELF64 file: dlopen of one cut short dies of SIGBUS instead of failing."""
    if len(data) < 64 or data[:4] != b"\x7fELF" or data[4] != 2:
        raise _invalid(f"{path} is not a shared library this process can load: not a 64-bit ELF file")
    order = "<" if data[5] == 1 else ">"
    phoff, shoff = struct.unpack_from(order + "QQ", data, 0x20)
    phentsize, phnum, shentsize, shnum = struct.unpack_from(order + "HHHH", data, 0x36)
    ends = [phoff + phnum * phentsize, shoff + shnum * shentsize]
    if ends[0] <= len(data):
        for i in range(phnum):
            offset, _, _, filesz = struct.unpack_from(order + "QQQQ", data, phoff + i * phentsize + 8)
            ends.append(offset + filesz)
    if max(ends) > len(data):
        raise errors.DataLossError(None, None, f"{path} is truncated: it needs {max(ends)} bytes and has "
                                   f"{len(data)}")


def _open_library(path: str) -> ctypes.CDLL:
    """dlopen, raising TF's errors for a path that is missing, a directory, unreadable or not a library."""
    if os.path.isdir(path):
        raise errors.FailedPreconditionError(None, None, f"{path}; Is a directory")
    with errors.os_errors_as_tf(path), open(path, "rb") as f:
        _check_elf(path, f.read())
    try:
        return ctypes.CDLL(path)
    except OSError as e:
        raise _invalid(f"{path} is not a shared library this process can load: {e}") from None


def _shape_text(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


class AotFunction:
    """`f(*args, **named) -> list of results`: arguments by position or by name (the TF name such as
    "images:0" or "images", a Variable's name, or the header's C name); results in the header's order.
    `rng_counter`, when the model has one and it is not given, counts calls from 1 like a Session."""

    def __init__(self, path: str, name: str | None = None):
        self.path = os.path.abspath(path)
        self._lib = _open_library(self.path)
        if name is None:
            name = os.path.basename(path).split(".")[0]
        try:
            text = ctypes.c_char.in_dll(self._lib, f"{name}_signature_json")
            self.signature = json.loads(ctypes.string_at(ctypes.addressof(text)).decode())
            self._run = getattr(self._lib, f"{name}_run")
            self._message = getattr(self._lib, f"{name}_error_message")
        except (ValueError, AttributeError) as e:
            raise _invalid(f"{path} is not an xlite AOT library named {name!r} (pass name=...): {e}") from None
        found = self.signature.get("format") if isinstance(self.signature, dict) else None
        if found != FORMAT:
            raise _invalid(f"{path}: signature format {found!r}, expected {FORMAT!r}")
        self.name = name
        self._run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        self._run.restype = ctypes.c_int
        self._message.argtypes = [ctypes.c_int]
        self._message.restype = ctypes.c_char_p
        self.args = self.signature["args"]
        self.results = self.signature["results"]
        self.scratch_bytes = int(self.signature["scratch_bytes"])
        self._specs = [(np.dtype(a["dtype"]), tuple(a["shape"])) for a in self.args]
        self._result_specs = [(np.dtype(r["dtype"]), tuple(r["shape"])) for r in self.results]
        self._index: dict[str, int] = {}
        for i, a in enumerate(self.args):
            for key in (a["name"], a["c_name"], a["name"][:-2] if a["name"].endswith(":0") else None):
                if key:
                    self._index.setdefault(key, i)
        self._rng = next((i for i, a in enumerate(self.args) if a["kind"] == "rng_counter"), None)
        self._counter = 0
        self._counter_lock = threading.Lock()
        self._local = threading.local()
        self._arg_table = ctypes.c_void_p * max(len(self.args), 1)
        self._result_table = ctypes.c_void_p * max(len(self.results), 1)

    @property
    def arg_names(self) -> list:
        return [a["name"] for a in self.args]

    @property
    def result_names(self) -> list:
        return [r["name"] for r in self.results]

    def error_message(self, code: int) -> str:
        return self._message(int(code)).decode()

    def __repr__(self) -> str:
        def fmt(specs):
            return ", ".join(f"{s['name']}: {s['dtype']}{_shape_text(s['shape'])}" for s in specs)
        return f"<xlite.aot function {self.name}({fmt(self.args)}) -> ({fmt(self.results)})>"

    # calling -----------------------------------------------------------------------------------
    def _gather(self, positional: tuple, named: dict) -> list:
        if len(positional) > len(self.args):
            raise TypeError(f"{self.name} takes {len(self.args)} arguments, got {len(positional)}")
        values: list = list(positional) + [None] * (len(self.args) - len(positional))
        given = [i < len(positional) for i in range(len(self.args))]
        for key, value in named.items():
            i = self._index.get(key)
            if i is None:
                raise TypeError(f"{self.name} has no argument {key!r}; its arguments are "
                                f"{', '.join(self.arg_names)}")
            if given[i]:
                raise TypeError(f"{self.name} got argument {self.args[i]['name']!r} twice")
            values[i], given[i] = value, True
        missing = [self.args[i]["name"] for i in range(len(self.args)) if not given[i] and i != self._rng]
        if missing:
            raise _invalid(f"{self.name}: missing argument(s) {', '.join(missing)}")
        if self._rng is not None and not given[self._rng]:
            with self._counter_lock:
                self._counter += 1
                values[self._rng] = np.array(self._counter, np.int64)
        return values

    def _check(self, i: int, value) -> np.ndarray:
        spec = self.args[i]
        dtype, shape = self._specs[i]
        if isinstance(value, (np.ndarray, np.generic)):
            if value.dtype != dtype:
                raise _invalid(f"{self.name}: argument {spec['name']} must be {dtype.name}, got {value.dtype.name}")
            array = value
        else:
            try:
                array = np.asarray(value, dtype=dtype)
            except (TypeError, ValueError) as e:
                raise _invalid(f"{self.name}: argument {spec['name']} cannot be {dtype.name}: {e}") from None
        if array.shape != shape:
            raise _invalid(f"{self.name}: argument {spec['name']} must have shape {_shape_text(shape)}, got "
                           f"{_shape_text(array.shape)}")
        if spec.get("updated"):
            if not (isinstance(array, np.ndarray) and array.flags.c_contiguous and array.flags.writeable
                    and array.flags.aligned):
                raise _invalid(f"{self.name}: Variable {spec['name']} is updated in place, so it must be a "
                               "writeable, C-contiguous, aligned ndarray")
            return array
        if not (isinstance(array, np.ndarray) and array.flags.c_contiguous and array.flags.aligned):
            array = np.ascontiguousarray(array)
        return array

    def _scratch(self) -> int:
        buffer = getattr(self._local, "scratch", None)
        if buffer is None:
            raw = np.empty(self.scratch_bytes + _SCRATCH_ALIGNMENT, np.uint8)
            start = (-raw.ctypes.data) % _SCRATCH_ALIGNMENT
            buffer = self._local.scratch = (raw, raw.ctypes.data + start)
        return buffer[1] if self.scratch_bytes else 0

    def __call__(self, *positional, **named) -> list:
        values = self._gather(positional, named)
        arrays = [self._check(i, v) for i, v in enumerate(values)]
        for i, spec in enumerate(self.args):
            if spec.get("updated") and arrays[i].size:
                for k, other in enumerate(arrays):
                    if k != i and other.size and np.may_share_memory(arrays[i], other):
                        raise _invalid(f"{self.name}: Variable {spec['name']} shares memory with argument "
                                       f"{self.args[k]['name']}")
        results = [np.empty(shape, dtype) for dtype, shape in self._result_specs]
        arg_table = self._arg_table(*[a.ctypes.data for a in arrays])
        result_table = self._result_table(*[r.ctypes.data for r in results])
        code = self._run(arg_table, result_table, self._scratch())
        if code != 0:
            raise _invalid(f"{self.name}_run: {self.error_message(code)}")
        return results


def load(path: str, name: str | None = None) -> AotFunction:
    """The AOT library at `path` (NAME.so written by xlite.aot.compile / `xlite compile`) as a callable;
    `name` defaults to the file name up to its first dot."""
    return AotFunction(path, name)


__all__ = ["load", "AotFunction"]
