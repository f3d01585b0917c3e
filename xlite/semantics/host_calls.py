"""Python functions that compiled code calls back (`host_call`): py_func, Print, check_numerics, Assert.

The frontend registers a function under an integer key; a `host_call` instruction names the key and which
of the function's outputs it is. Output 0 calls the function and keeps all its outputs for the other
numbers, which take output 0 as an ordering operand. Native code cannot unwind a Python exception, so an
error inside a call is kept here (later calls of the same run are skipped) and raised by the compile
driver's wrapper when the native call returns (`raise_pending`); the interpreter raises it at once.
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from xlite import errors


@dataclass
class HostFunction:
    """`fn(*arrays) -> list of arrays`; `name`: the TF op it stands for, named in every error."""
    fn: Callable
    name: str
    results: list = field(default_factory=list)     # the outputs of the latest call


_FUNCTIONS: dict[int, HostFunction] = {}
_KEYS = itertools.count(1)
_LOCK = threading.Lock()
_PENDING: list = []          # the first error of the current compiled run


def register(fn: Callable, name: str) -> int:
    """The key of a new host function (kept for the life of the process, as TF keeps py_func's)."""
    key = next(_KEYS)
    _FUNCTIONS[key] = HostFunction(fn, name)
    return key


def is_registered(key: int) -> bool:
    return key in _FUNCTIONS


def rename(key: int, name: str) -> None:
    """The op's name once the graph has given it one."""
    _FUNCTIONS[key].name = name


def invoke(key: int, output: int, args: list, dims: tuple, dtype: np.dtype) -> np.ndarray:
    """Output number `output` of function `key` on `args`, checked against the compiled dims and dtype."""
    entry = _FUNCTIONS.get(key)
    if entry is None:
        raise errors.InternalError(None, None, f"host function {key} is not registered in this process")
    if output == 0:
        try:
            entry.results = list(entry.fn(*args))
        except errors.OpError:
            raise
        except Exception as e:      # noqa: BLE001 - any exception of user code becomes TF's UnknownError
            raise errors.UnknownError(None, None, f"{type(e).__name__}: {e}\n\t [[{{{{node {entry.name}}}}}]]") \
                from e
    value = np.asarray(entry.results[output])
    if value.dtype != dtype:
        raise errors.InvalidArgumentError(
            None, None, f"{entry.name}: output {output} is {value.dtype.name}, but the op declares "
                        f"{np.dtype(dtype).name}")
    if tuple(value.shape) != tuple(dims):
        raise errors.InvalidArgumentError(
            None, None, f"{entry.name}: output {output} has shape {tuple(value.shape)}, but the compiled "
                        f"program expects {tuple(dims)} (give the op's output its static shape with "
                        f"set_shape when it differs from the input's)")
    return value


def call_from_native(key: int, output: int, args: list, dims: tuple, dtype: np.dtype) -> np.ndarray | None:
    """`invoke` for native code: None (the error kept) where it raises, or once a call of this run failed."""
    if _PENDING:
        return None
    try:
        return invoke(key, output, args, dims, dtype)
    except BaseException as e:      # noqa: BLE001 - nothing may unwind through native frames
        keep_error(e)
        return None


def keep_error(error: BaseException) -> None:
    """Keeps the first error of a compiled run for `raise_pending`."""
    with _LOCK:
        if not _PENDING:
            _PENDING.append(error)


def clear_pending() -> None:
    _PENDING.clear()


def raise_pending() -> None:
    """Raises the error a host call of the run that just returned kept, if any."""
    if _PENDING:
        error = _PENDING.pop()
        _PENDING.clear()
        raise error


__all__ = ["HostFunction", "register", "is_registered", "rename", "invoke", "call_from_native", "keep_error", "clear_pending", "raise_pending"]
