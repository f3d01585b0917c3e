"""What a compiled parameter accepts as it is, and the conversion for everything else.

`fits` is the one cheap check every run makes (xlite/runtime/run_plan.py on a Session's feeds and
Variables, every executable's `run` on an unchecked caller's arguments): arrays that pass go to native
code untouched, as the memory they already are. `as_argument` is what an unchecked caller's other
values become. This is a base module (like xlite/cancellation.py, the other half of the calling
convention), so that codegen, which never imports the runtime, and the runtime share it. The
Session's careful conversion of feeds, with TF's error messages, is xlite/runtime/feeds.py; it ends
in `fits` as well.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy import ndarray

Spec = tuple      # (NumPy dtype, dims): what one parameter of an executable is


def fits(values: Sequence, specs: Sequence[Spec]) -> bool:
    """Whether each value is an ndarray of exactly its spec's dtype and dims, C-contiguous and aligned:
    what generated code may read through its data pointer with no conversion. One call checks a whole
    run (a function call per array would be most of a small run's cost); `values` and `specs` are as long."""
    for value, (dtype, dims) in zip(values, specs):
        if type(value) is not ndarray or (value.dtype is not dtype and value.dtype != dtype) \
                or value.shape != dims:
            return False
        flags = value.flags
        if not (flags.carray or (flags.c_contiguous and flags.aligned)):     # carray: also writeable
            return False
    return True


def as_argument(value, spec: Spec, n: int) -> np.ndarray:
    """`value` as parameter n's C-contiguous aligned array of its dtype; ValueError for another shape."""
    dtype, dims = spec
    array = np.asarray(value, dtype=dtype)
    if not (array.flags.c_contiguous and array.flags.aligned):
        array = array.copy(order="C")
    if array.shape != dims:
        raise ValueError(f"argument {n} has shape {array.shape}, the executable expects {dims}")
    return array


def as_arguments(args: Sequence, specs: Sequence[Spec]) -> Sequence:
    """An unchecked caller's arguments as an executable's `call` takes them: unchanged when they fit
    (the common case costs one `fits`), else each converted that does not."""
    if len(args) != len(specs):
        raise ValueError(f"expected {len(specs)} arguments, got {len(args)}")
    if fits(args, specs):
        return args
    return [arg if fits((arg,), (spec,)) else as_argument(arg, spec, n)
            for n, (arg, spec) in enumerate(zip(args, specs))]


__all__ = ["fits", "as_argument", "as_arguments"]
