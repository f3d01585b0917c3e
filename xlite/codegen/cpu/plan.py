"""What run() needs besides the machine code: parameter specs, how each output is produced, arena size.

It is computed by the entry emitter and stored in the disk cache next to the
object code (as JSON), so a cache hit needs no IR generation.
"""
from __future__ import annotations

import ctypes
import functools
from dataclasses import dataclass, field

import numpy as np

from xlite.ir.symbolic import Derived, dim_text, is_symbolic, parse_dim

ENTRY_NAME = "xlite_entry"                   # void (void **params, void **results, char *arena); int when
                                             # cancellable (1: stopped early), params then ending in a stop word
OBJECT_ENTRY_NAME = "xlite_entry_objects"    # the same, taking the NumPy array objects (computation.py)
INTERRUPTED_SYMBOL = "xlite_interrupted"     # int32 cancellation.INTERRUPTED, which cancellable code reads
TEMP_SYMBOL = "_temp"       # a symbolic signature's temp region offset: a run-time size (symbolic_sizes.py)


def entry_symbols(object_entry: bool) -> list[str]:
    """The symbols a signature's object code defines and its loader looks up."""
    return [ENTRY_NAME] + ([OBJECT_ENTRY_NAME] if object_entry else [])


def stop_symbols() -> dict[str, int]:
    """The addresses cancellable code needs from this process (see computation.py)."""
    from xlite.cancellation import INTERRUPTED
    return {INTERRUPTED_SYMBOL: INTERRUPTED.ctypes.data}


@dataclass
class OutputPlan:
    """How run() produces root output i: a result array the code fills, a parameter's array (written in
    place, or copied before/after the run), constant data, or a copy of an earlier output."""
    kind: str                 # "result" | "param" | "param_before" | "param_after" | "const" | "same_as"
    index: int = 0            # result index / parameter number / earlier output
    dtype: str = ""
    dims: tuple = ()
    order: tuple = ()         # physical order of the dims, major to minor (a layout-assigned output)


@dataclass
class EntryPlan:
    num_params: int = 0
    param_specs: list = field(default_factory=list)     # (dtype ir name, dims, physical order) per parameter
    outputs: list = field(default_factory=list)         # OutputPlan per root tuple element
    arena_bytes: int = 0
    object_entry: bool = False                          # has xlite_entry_objects (see computation.py)
    kernel_names: list = field(default_factory=list)    # with XLITE_PROFILE: one cycle counter each
    profile_offset: int = 0                             # arena offset of the counters
    trace_kernels: list = field(default_factory=list)   # traced executables: what each kernel id is
    trace_offset: int = 0                               # arena offset of the trace region (trace_ir.py)
    trace_capacity: int = 0                             # records it holds; 0: not traced
    cancellable: bool = False                           # checks stop words, returns a status (computation.py)
    # A symbolic run signature (xlite/ir/symbolic.py): dims, arena_bytes and temp_base may be SymInts;
    # slots are the size polynomials the code reads at run time (symbolic_sizes.py), in slot order.
    slots: list = field(default_factory=list)
    temp_base: object = 0                               # the temp region's arena offset


def _out(x):
    """A size for JSON: an int, a symbolic size's text, or a derived size's structure."""
    return dim_text(x) if is_symbolic(x) else x.to_json() if isinstance(x, Derived) else x


def _in(x):
    return parse_dim(x) if isinstance(x, str) else Derived.from_json(x) if isinstance(x, dict) else x


def plan_to_dict(plan: EntryPlan) -> dict:
    return {"num_params": plan.num_params,
            "param_specs": [[d, [_out(x) for x in dims], list(order)] for d, dims, order in plan.param_specs],
            "outputs": [[o.kind, o.index, o.dtype, [_out(x) for x in o.dims], list(o.order)] for o in plan.outputs],
            "arena_bytes": _out(plan.arena_bytes), "object_entry": plan.object_entry,
            "slots": [_out(x) for x in plan.slots], "temp_base": _out(plan.temp_base),
            "kernel_names": plan.kernel_names, "profile_offset": plan.profile_offset,
            "trace_kernels": plan.trace_kernels, "trace_offset": plan.trace_offset,
            "trace_capacity": plan.trace_capacity, "cancellable": plan.cancellable}


def plan_from_dict(data: dict) -> EntryPlan:
    return EntryPlan(data["num_params"],
                     [(d, tuple(map(_in, dims)), tuple(order)) for d, dims, order in data["param_specs"]],
                     [OutputPlan(k, i, d, tuple(map(_in, dims)), tuple(order))
                      for k, i, d, dims, order in data["outputs"]],
                     _in(data["arena_bytes"]), data["object_entry"], data["kernel_names"], data["profile_offset"],
                     data.get("trace_kernels", []), data.get("trace_offset", 0), data.get("trace_capacity", 0),
                     data.get("cancellable", False), [_in(x) for x in data.get("slots", [])],
                     _in(data.get("temp_base", 0)))


@functools.lru_cache(maxsize=None)
def numpy_data_offset() -> int | None:
    """Byte offset of the data pointer inside a NumPy array object (PyArrayObject.data), when this
    Python and NumPy lay it out as usual; the object entry then reads it without a ctypes round trip."""
    offset = 2 * ctypes.sizeof(ctypes.c_void_p)          # after PyObject_HEAD
    for probe in (np.arange(3, dtype=np.float32), np.asarray(np.float64(1)), np.empty((0, 2))):
        if ctypes.c_void_p.from_address(id(probe) + offset).value != probe.ctypes.data:
            return None
    return offset
