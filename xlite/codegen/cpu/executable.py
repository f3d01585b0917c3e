"""CpuExecutable: one native call per run through ctypes.

Calling convention of the generated code: `void xlite_entry(void **params,
void **results, char *arena)`; `params` holds one data pointer per entry
parameter (by number), `results` one per root output computed into a
caller-allocated array (numbered in order of those outputs), and `arena` a
64-byte aligned block the executable owns and reuses every run (runs of one
executable are serialized). `xlite_entry_objects` takes the NumPy array
objects themselves instead of data pointers and reads the pointers in
generated code, which saves a slow ctypes conversion per array.

One way in: `call(args, stop=None)` takes arguments that fit their parameters (xlite/arguments.py:
a Session's RunPlan checked them), and `run(args, stop=None)` is `call` after
converting an unchecked caller's arguments. `call` is the general call (any layout, any output kind),
or, for an executable whose parameters and outputs are plain, a closure over the object entry that
__init__ makes from the same specs.

Outputs aliased to a parameter (Variable updates) are written into that
parameter's array in place and call() returns that very array (donation); a
fetched parameter is copied before the run, constants from their literal.

A cancellable entry (plan.cancellable) returns nonzero when it stopped early, and call() then raises
why (xlite/cancellation.py): Ctrl-C (INTERRUPTED), or the RunFlag of a call(args, stop=flag), which
goes through `xlite_entry` with data pointers and the flag's word after the parameters.

A tiered executable (tiers.py) starts on -O0 code and `replace_code` swaps its -O3 code in between two
runs; the object-entry closures call through `_entry_cell`, so they take the new code too.

A traced executable (compile_cpu(compiled, traced=True)) also has `run_traced(args) -> (results,
KernelTrace)`: the kernel records its entry wrote into the arena's trace region (trace_ir.py).
"""
from __future__ import annotations

import ctypes
import math
import sys
import threading
import weakref
from typing import Sequence

import numpy as np

from xlite.cancellation import NEVER, RunFlag, raise_stopped
from xlite.arguments import as_arguments
from xlite.codegen.cpu.plan import TEMP_SYMBOL, EntryPlan, entry_symbols
from xlite.ir import dtypes
from xlite.ir.module import Module
from xlite.ir.symbolic import check_consistent, evaluate, has_symbolic
from xlite.ir.trace_format import KernelTrace

_ALIGN = 64
POOL_MIN_BYTES = 1 << 20      # results this big are recycled once the caller has dropped them
POOL_SIZE = 2                 # per output: the one the caller still holds, and the next
_ENTRY_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
_STATUS_ENTRY_TYPE = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


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
    """A compiled run signature; `call(args)` (checked arguments) and `run(args)` (any) take the
    parameters in order and return the root outputs."""

    target = "cpu"
    fresh_outputs = True        # call() never returns an argument's own array, but in-place updated ones
    compiled = None             # the CompiledModule it came from (compile_cpu sets it): traced variants start there
    tier = None                 # a running tier-up (tiers.py) that will swap -O3 code in; None when final

    def __init__(self, module: Module, plan: EntryPlan, code, constants: dict | None = None):
        self.module = module
        self.plan = plan
        self._by_object = plan.object_entry and code.object_address is not None
        self._entry_cell = [None]           # the entry the object-entry closures call (replace_code swaps it)
        self._retired: list = []            # code replaced while a call may still run it: kept loaded
        self._set_code(code)
        self._lock = threading.Lock()
        self._specs = [(dtypes.as_dtype(d).np, tuple(dims), _permutation(order))
                       for d, dims, order in plan.param_specs]
        self._param_dims = [dims for _, dims, _ in self._specs]
        self._symbolic = any(has_symbolic(dims) for dims in self._param_dims)
        self._symbol_dims = [(n, i) for n, dims in enumerate(self._param_dims)
                             for i, d in enumerate(dims) if has_symbolic((d,))]
        self._bound: dict = {}              # the run's symbolic sizes -> (slot table, result specs, arena bytes)
        # a symbolic signature's slot table (symbolic_sizes.py) goes after the stop word
        self._params = (ctypes.c_void_p * max(plan.num_params + plan.cancellable + self._symbolic, 1))()
        if plan.cancellable:                # the run's stop word, which xlite_entry (not the object entry) reads
            self._params[plan.num_params] = NEVER.word.ctypes.data
        n_results = sum(1 for o in plan.outputs if o.kind == "result")
        self._results = (ctypes.c_void_p * max(n_results, 1))()
        self._out_specs = [(o.kind, o.index, dtypes.as_dtype(o.dtype).np, tuple(o.dims), _permutation(o.order))
                           for o in plan.outputs]
        self._arena = aligned_empty((0 if self._symbolic else plan.arena_bytes,), np.dtype(np.uint8))
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
        self.arg_specs = [(dt, dims) for dt, dims, _ in self._specs]      # what arguments.fits checks
        self._symbolic_out_specs = self._out_specs
        self._lock_free = False             # calls skip the lock (`call_single` in _object_call)
        if (_TUPLE_ITEMS is not None and self._by_object and self._after_call is None
                and all(o is None for _, _, o in self._specs)
                and all(kind in ("result", "param") and order is None for kind, _, _, _, order in self._out_specs)):
            self.call = self._object_call()

    def _set_code(self, code) -> None:
        self._code = code                       # keeps the machine code alive
        entry_type = _STATUS_ENTRY_TYPE if self.plan.cancellable else _ENTRY_TYPE
        self._entry = entry_type(code.object_address if self._by_object else code.address)
        self._entry_cell[0] = self._entry
        # A run a timer may stop calls xlite_entry itself, with data pointers and its flag's word.
        self._stoppable = _STATUS_ENTRY_TYPE(code.address) if self.plan.cancellable else None

    def code_symbols(self) -> list:
        """The symbols its object code must define (what the loader looks up)."""
        return entry_symbols(self.plan.object_entry)

    def replace_code(self, code) -> bool:
        """Runs `code` (object code of the same LLVM IR: same plan, same arena) from the next call on: a
        tier-up (tiers.py). The old code stays loaded, since a call without the lock may be in it. False
        (nothing changed) where the new code would need the lock that this executable's calls skip."""
        if self._lock_free and getattr(code, "writable_bytes", None) != 0:
            return False
        if self._by_object != (self.plan.object_entry and code.object_address is not None):
            return False
        with self._lock:
            self._retired.append(self._code)
            self._set_code(code)
        return True

    def run(self, args: Sequence, stop: RunFlag | None = None) -> list:
        """The root outputs for these parameters, from a caller that has not checked them: arguments that
        fit (xlite/arguments.py) are used as they are, others converted (or refused, ValueError)."""
        if self._symbolic:          # the sizes are checked by `call` (check_consistent)
            return list(self.call([np.asarray(a, dtype=dt, order="C") for a, (dt, _) in zip(args, self.arg_specs)]
                                  if len(args) == len(self.arg_specs) else args, stop))
        return list(self.call(as_arguments(args, self.arg_specs), stop))

    def call(self, args: Sequence[np.ndarray], stop: RunFlag | None = None) -> Sequence:
        """The root outputs (a list or tuple) for arguments that fit their parameters (a RunPlan or `run`
        checked them). `stop`: a flag that, once set, makes the run stop at the next kernel boundary and
        raise its error. This is the general call (any layouts and output kinds), under the lock as a
        whole, since the pointer arrays, the arena and the result pools are this executable's own; an
        executable simple enough calls the object entry instead (`_object_call`, set in __init__)."""
        if len(args) != len(self._specs):
            raise ValueError(f"expected {len(self._specs)} arguments, got {len(args)}")
        with self._lock:
            if self._symbolic:
                self._bind_sizes(args, self._by_object and (stop is None or self._stoppable is None))
            if stop is None or self._stoppable is None:
                return self._call_locked(args, None)
            slot = self.plan.num_params
            self._params[slot] = stop.word.ctypes.data
            try:
                return self._call_locked(args, stop)
            finally:
                self._params[slot] = NEVER.word.ctypes.data

    def _call_locked(self, args: Sequence[np.ndarray], stop: RunFlag | None) -> list:
        """Lays the arguments and result arrays out for the entry, calls it, and assembles the outputs."""
        address, entry = (self._address, self._entry) if stop is None else (_data_pointer, self._stoppable)
        arrays, keep = [], []          # logical arrays by parameter number; buffers to keep alive
        for n, (arr, (_, _, order)) in enumerate(zip(args, self._specs)):
            if order is not None:           # a parameter with a non-row-major layout gets a physical copy
                physical = np.ascontiguousarray(arr.transpose(order))
                keep.append(physical)
                arr = physical.transpose(np.argsort(order))     # (an update in place writes the copy)
                self._params[n] = address(physical)
            else:
                self._params[n] = address(arr)
            arrays.append(arr)
        outputs: list = []
        for kind, index, dt, dims, order in self._out_specs:
            out = None
            if kind == "result":
                physical_dims = dims if order is None else tuple(dims[d] for d in order)
                physical = self._result_buffer(index, physical_dims, dt)
                self._results[index] = address(physical)
                keep.append(physical)
                out = physical if order is None else physical.transpose(np.argsort(order))
            elif kind == "param_before":
                out = arrays[index].copy()
            outputs.append(out)
        if entry(self._params, self._results, self._arena_ptr):
            raise_stopped(stop)
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

    def _bind_sizes(self, args: Sequence[np.ndarray], by_object: bool = False) -> np.ndarray:
        """A symbolic signature's run (under the lock): the symbol values from the arguments' shapes
        (InvalidArgumentError before any native code runs if they disagree), the slot table (returned,
        and in the parameter array after the stop word), an arena big enough, and this run's result dims.
        What a set of sizes gives is kept, so a repeated batch size costs one dict lookup."""
        key = tuple(args[n].shape[i] for n, i in self._symbol_dims)
        bound = self._bound.get(key)
        if bound is None:
            env = check_consistent(self._param_dims, args, lambda n: f"argument {n} of {self.module.name}")
            env[TEMP_SYMBOL] = evaluate(self.plan.temp_base, env)
            slots = np.array([evaluate(p, env) for p in self.plan.slots] or [0], np.int64)
            out_specs = [(kind, index, dt, tuple(evaluate(d, env) for d in dims), order)
                         for kind, index, dt, dims, order in self._symbolic_out_specs]
            if len(self._bound) >= 64:
                self._bound.clear()
            bound = self._bound[key] = (slots, out_specs, evaluate(self.plan.arena_bytes, env))
        slots, self._out_specs, arena_bytes = bound
        self._params[self.plan.num_params + 1] = id(slots) if by_object else slots.ctypes.data
        if arena_bytes > self._arena.size:         # (keeping the profile counters at its start)
            arena, self._arena = self._arena, aligned_empty((arena_bytes,), np.dtype(np.uint8))
            self._arena[:arena.size] = arena
            if self.plan.kernel_names and arena.size == 0:
                self._arena[self.plan.profile_offset:self.plan.profile_offset + 8 * len(self.plan.kernel_names)] = 0
            self._arena_ptr = self._arena.ctypes.data
        return slots

    def _object_call(self):
        """`call` through the object entry, for an executable whose parameters and outputs are all
        row-major, whose outputs are all result arrays or parameters updated in place, with nothing to
        do after the call: the arguments and result arrays go to it as tuples, whose item arrays are
        the `void **` it reads (no ctypes store per array). A closure over what it reads, made from the
        same specs as `call`; a stoppable run, or a wrong number of arguments, takes `call` itself.

        Generated code's only shared state is the arena: one small result and no arena (nor a
        writable section of the code's own, which none is emitted with today) need no lock."""
        general, this, n_params = CpuExecutable.call, weakref.ref(self), len(self._specs)  # (weak: no cycle)
        cell, offset, empty, stoppable = self._entry_cell, _TUPLE_ITEMS, np.empty, self._stoppable is not None
        outputs = [(-1, index) if kind == "param" else (index, -1) for kind, index, _, _, _ in self._out_specs]
        in_place = any(index < 0 for index, _ in outputs)
        if self._symbolic:
            def launch(self_, args) -> tuple:
                """(argument objects, result arrays, arena) of a symbolic signature's run: the sizes bound
                first (_bind_sizes), the slot table after the arguments, results of this run's dims."""
                objects = tuple(args) + (None, self_._bind_sizes(args, True))    # (None: the stop word's place)
                return objects, tuple([empty(dims, dt) for kind, _, dt, dims, _ in self_._out_specs
                                       if kind == "result"]), self_._arena_ptr
        else:
            results = [(index, dt, dims, dt.itemsize * math.prod(dims) >= POOL_MIN_BYTES)
                       for kind, index, dt, dims, _ in self._out_specs if kind == "result"]
            if (len(results) == 1 and not in_place and not results[0][3] and self.plan.arena_bytes == 0
                    and getattr(self._code, "writable_bytes", None) == 0):
                _, dt, dims, _ = results[0]
                self._lock_free = True

                def call_single(args, stop=None):
                    if len(args) != n_params or (stop is not None and stoppable):
                        return general(this(), args, stop)
                    args = tuple(args)
                    out = (empty(dims, dt),)
                    if cell[0](id(args) + offset, id(out) + offset, 0):
                        raise_stopped(None)
                    return out
                return call_single
            arena = self._arena_ptr

            def launch(self_, args) -> tuple:
                return tuple(args), tuple([self_._result_buffer(index, dims, dt) if pooled else empty(dims, dt)
                                           for index, dt, dims, pooled in results]), arena
        lock = self._lock

        def call(args, stop=None):
            if len(args) != n_params or (stop is not None and stoppable):
                return general(this(), args, stop)
            with lock:
                objects, out, arena_ptr = launch(this(), args)
                status = cell[0](id(objects) + offset, id(out) + offset, arena_ptr)
            if status:
                raise_stopped(None)
            if not in_place:
                return out
            return [args[param] if index < 0 else out[index] for index, param in outputs]
        return call

    def _address(self, array: np.ndarray):
        return id(array) if self._by_object else array.ctypes.data

    def _result_buffer(self, index: int, dims: tuple, dt: np.dtype) -> np.ndarray:
        """A fresh array for a result, or a big one this executable returned before that nobody
        references any more (no view of it is alive either): a new big array costs page faults and
        zeroing. Results own their data (np.empty), so the Session hands them out without a copy."""
        if dt.itemsize * math.prod(dims) < POOL_MIN_BYTES:
            return np.empty(dims, dt)
        pool = self._pools.setdefault(index, [])
        for array in pool:
            if sys.getrefcount(array) <= 3 and array.shape == dims:     # the pool list, `array`, getrefcount's arg
                return array
        array = np.empty(dims, dt)
        if len(pool) < POOL_SIZE:
            pool.append(array)
        return array

    def run_traced(self, args: list):
        """run(args) and the KernelTrace of that run (a traced executable only)."""
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


def _data_pointer(array: np.ndarray) -> int:
    return array.ctypes.data


def _tuple_items_offset() -> int | None:
    """Byte offset of a tuple's item array inside the tuple object (CPython: after the var-object
    header), when this Python lays it out as usual; then `id(t) + offset` is a `PyObject **` of t's items."""
    offset = 3 * ctypes.sizeof(ctypes.c_void_p)
    probe = (object(), object())
    ok = all(ctypes.c_void_p.from_address(id(probe) + offset + k * ctypes.sizeof(ctypes.c_void_p)).value
             == id(probe[k]) for k in range(2))
    return offset if ok else None


_TUPLE_ITEMS = _tuple_items_offset()


def _root_constants(module: Module) -> dict:
    root = module.entry.root
    return {i: np.asarray(inst.literal) for i, inst in enumerate(root.operands) if inst.opcode == "constant"}


__all__ = ["CpuExecutable", "aligned_empty"]
