"""CpuExecutable: one native call per run through ctypes.

Calling convention of the generated code: `void xlite_entry(void **params,
void **results, char *arena)`; `params` holds one data pointer per entry
parameter (by number), `results` one per root output computed into a
caller-allocated array (numbered in order of those outputs), and `arena` a
64-byte aligned block the executable owns and reuses every run (runs of one
executable are serialized). `xlite_entry_objects` takes the NumPy array
objects themselves instead of data pointers and reads the pointers in
generated code, which saves a slow ctypes conversion per array.

Outputs aliased to a parameter (Variable updates) are written into that
parameter's array in place and run() returns that very array (donation); a
fetched parameter is copied before the run, constants from their literal.

A traced executable (compile_cpu(module, traced=True)) also has `run_traced(args) -> (results,
KernelTrace)`: the kernel records its entry wrote into the arena's trace region (trace_ir.py).
"""
from __future__ import annotations

import ctypes
import math
import sys
import threading

import numpy as np

from xlite.codegen.cpu.plan import EntryPlan
from xlite.ir import dtypes
from xlite.ir.module import Module

_ALIGN = 64
POOL_MIN_BYTES = 1 << 20      # results this big are recycled once the caller has dropped them
POOL_SIZE = 2                 # per output: the one the caller still holds, and the next
_ENTRY_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


def aligned_empty(dims, dtype: np.dtype) -> np.ndarray:
    """An uninitialized C-ordered array whose data starts on a 64-byte boundary."""
    nbytes = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + _ALIGN, dtype=np.uint8)
    start = (-raw.ctypes.data) % _ALIGN
    return raw[start:start + nbytes].view(dtype).reshape(dims)


def _permutation(order) -> tuple | None:
    """None for row-major, else the transpose that puts a logical array in physical order."""
    order = tuple(order)
    return None if order == tuple(range(len(order))) else order


class CpuExecutable:
    """A compiled run signature; `run(args)` takes the parameters in order and returns the root outputs."""

    target = "cpu"

    def __init__(self, module: Module, plan: EntryPlan, code, constants: dict | None = None):
        self.module = module
        self.plan = plan
        self._code = code                       # keeps the machine code alive
        self._by_object = plan.object_entry and code.object_address is not None
        self._entry = _ENTRY_TYPE(code.object_address if self._by_object else code.address)
        self._lock = threading.Lock()
        self._specs = [(dtypes.as_dtype(d).np, tuple(dims), _permutation(order))
                       for d, dims, order in plan.param_specs]
        self._params = (ctypes.c_void_p * max(plan.num_params, 1))()
        n_results = sum(1 for o in plan.outputs if o.kind == "result")
        self._results = (ctypes.c_void_p * max(n_results, 1))()
        self._out_specs = [(o.kind, o.index, dtypes.as_dtype(o.dtype).np, tuple(o.dims), _permutation(o.order))
                           for o in plan.outputs]
        self._arena = aligned_empty((plan.arena_bytes,), np.dtype(np.uint8))
        self._arena_ptr = self._arena.ctypes.data
        self._constants = constants if constants is not None else _root_constants(module)
        self._pools: dict = {}
        self._after_call = None             # XLITE_PROFILE's table, or a traced run's records
        if plan.kernel_names:
            self._arena[plan.profile_offset:plan.profile_offset + 8 * len(plan.kernel_names)] = 0
            self._after_call = self._print_profile
        if plan.trace_capacity:
            self._trace_lock = threading.Lock()
            self._records = None
            self._after_call = self._take_records if not plan.kernel_names else self._profile_and_records

    def _address(self, array: np.ndarray):
        return id(array) if self._by_object else array.ctypes.data

    def run(self, args: list) -> list:
        if len(args) != len(self._specs):
            raise ValueError(f"expected {len(self._specs)} arguments, got {len(args)}")
        arrays, keep = [], []          # logical arrays by parameter number; buffers to keep alive
        for n, (arg, (dt, dims, order)) in enumerate(zip(args, self._specs)):
            arr = arg
            if not (type(arr) is np.ndarray and arr.dtype == dt and arr.flags.c_contiguous
                    and arr.flags.aligned):
                arr = np.asarray(arg, dtype=dt)
                if not (arr.flags.c_contiguous and arr.flags.aligned):
                    arr = arr.copy(order="C")
            if arr.shape != dims:
                raise ValueError(f"argument {n} has shape {arr.shape}, the executable expects {dims}")
            if order is not None:           # a parameter with a non-row-major layout gets a physical copy
                physical = np.ascontiguousarray(arr.transpose(order))
                keep.append(physical)
                arr = physical.transpose(np.argsort(order))
                self._params[n] = self._address(physical)
            else:
                self._params[n] = self._address(arr)
            arrays.append(arr)
        outputs: list = []
        for kind, index, dt, dims, order in self._out_specs:
            out = None
            if kind == "result":
                physical_dims = dims if order is None else tuple(dims[d] for d in order)
                physical = self._result_buffer(index, physical_dims, dt)
                self._results[index] = self._address(physical)
                keep.append(physical)
                out = physical if order is None else physical.transpose(np.argsort(order))
            elif kind == "param_before":
                out = arrays[index].copy()
            outputs.append(out)
        with self._lock:
            self._entry(self._params, self._results, self._arena_ptr)
            if self._after_call is not None:
                self._after_call()
        for i, (kind, index, dt, dims, order) in enumerate(self._out_specs):
            if kind == "param":
                outputs[i] = arrays[index]
            elif kind == "param_after":
                outputs[i] = arrays[index].copy()
            elif kind == "const":
                outputs[i] = self._constants[i].copy()
            elif kind == "same_as":
                outputs[i] = outputs[index].copy()
        return outputs


    def _result_buffer(self, index: int, dims: tuple, dt: np.dtype) -> np.ndarray:
        """A fresh array for a result, or a big one this executable returned before that nobody
        references any more (no view of it is alive either): a new big array costs page faults and
        zeroing. Results own their data (np.empty), so the Session hands them out without a copy."""
        if dt.itemsize * math.prod(dims) < POOL_MIN_BYTES:
            return np.empty(dims, dt)
        pool = self._pools.setdefault(index, [])
        for array in pool:
            if sys.getrefcount(array) <= 3:          # the pool list, `array`, getrefcount's argument
                return array
        array = np.empty(dims, dt)
        if len(pool) < POOL_SIZE:
            pool.append(array)
        return array

    def run_traced(self, args: list):
        """run(args) and the KernelTrace of that run (a traced executable only)."""
        from xlite.runtime.tracing import KernelTrace
        from xlite.codegen.cpu.trace_ir import HEADER_BYTES, RECORD_WORDS
        if not self.plan.trace_capacity:
            raise ValueError("this executable was compiled without tracing (compile_cpu(..., traced=True))")
        start = self.plan.trace_offset + HEADER_BYTES
        with self._trace_lock:              # one traced run at a time keeps each run's records its own
            outputs = self.run(args)
            count = self._records
            kept = min(count, self.plan.trace_capacity)
            events = self._arena[start:start + 8 * RECORD_WORDS * kept].view(np.int64)
            events = events.reshape(kept, RECORD_WORDS).copy()
        names = {0: "xlite_entry (calling thread)"}
        names.update({int(t): f"xlite worker {int(t)}" for t in np.unique(events[:, 3]) if t})
        return outputs, KernelTrace(self.plan.trace_kernels, events, names, dropped=count - kept)

    def _take_records(self) -> None:
        self._records = int(self._arena[self.plan.trace_offset:self.plan.trace_offset + 8].view(np.int64)[0])

    def _profile_and_records(self) -> None:
        self._print_profile()
        self._take_records()

    def _print_profile(self) -> None:
        """Cycles per kernel over every run so far (XLITE_PROFILE=1), most expensive first."""
        n = len(self.plan.kernel_names)
        start = self.plan.profile_offset
        cycles = self._arena[start:start + 8 * n].view(np.int64)
        total = max(int(cycles.sum()), 1)
        self._runs = getattr(self, "_runs", 0) + 1
        lines = [f"xlite cpu profile after {self._runs} runs: {total / self._runs / 1e6:.3f} Mcycles/run"]
        for k in np.argsort(-cycles)[:25]:
            lines.append(f"  {100 * cycles[k] / total:5.1f}%  {cycles[k] / self._runs / 1e3:10.1f} kcycles  "
                         f"{self.plan.kernel_names[k]}")
        print("\n".join(lines))


def _root_constants(module: Module) -> dict:
    root = module.entry.root
    return {i: np.asarray(inst.literal) for i, inst in enumerate(root.operands) if inst.opcode == "constant"}


__all__ = ["CpuExecutable", "aligned_empty"]
