"""One run plan per signature: everything about a Session.run that does not change between runs.

A `Request` is a fetch structure and a set of feed keys, resolved once (the FetchMapper, the tensors
the feed keys name). A `RunPlan` is a Request compiled for one signature (its feeds' shapes, the
shapes of dynamic-shape Variables): where each feed and Variable goes among the executable's
parameters, the run counters, the updates to keep, and how the executable's results become the
fetch structure. It is built once per signature, by `Session._run_plan`, and runs two ways that
share all of it:

- `fast(feed_dict)`, Session.run's steady state: one cheap check (`xlite.arguments.fits`)
  that the feeds (and, for an executable that needs it, the Variables) are arrays of exactly the
  signature's dtypes and shapes, then `executable.call`. Anything that does not fit gives MISFIT,
  and Session.run takes its careful path, which converts, finds or builds the right plan, or raises.
- `run(feeds, ...)`, the careful path's run: feeds already through `validate_feeds`; it calls
  `executable.run` (which converts what `call` would not take) under a RunFlag, or the traced
  executable for a FULL_TRACE RunMetadata.

For the commonest signature (feeds that are the parameters in order, no Variable or run counter, an
executable that never returns an argument's own array) the plan builder makes `fast` a closure over
what it reads: the same specs, the same `fits`, the same unpacking, fewer steps.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from xlite import errors
from xlite.arguments import fits
from xlite.frontend.graph import Graph, Tensor
from xlite.frontend.lower import LoweredRun
from xlite.runtime import driver, tracing
from xlite.ir.symbolic import has_symbolic
from xlite.runtime.feeds import feed_tensors
from xlite.runtime.memory import check_sized_allocations, symbolic_allocations
from xlite.runtime.symbolic_runs import bind_feeds
from xlite.runtime.fetches import FetchMapper, _as_fetch_value

MISFIT = object()       # what `RunPlan.fast` gives when the feeds or the Session's state do not fit it


class Request:
    """What a fetch structure and a set of feed keys resolve to, and the run plans made for them.

    `feed_tensors` (the tensors the feed keys name, in feed_dict order) is None for a request that
    is not filed for reuse (an unhashable fetch structure or feed key) or whose keys need the
    careful path's errors: its plans then have no `fast`."""

    def __init__(self, graph: Graph, fetches, feed_dict: dict, reusable: bool):
        self.mapper = FetchMapper(graph, fetches)
        self.fetch_tensors = self.mapper.unique_tensors()
        self.key = (tuple(id(t) for t in self.fetch_tensors), tuple(id(o) for o in self.mapper.target_ops))
        self.feed_tensors = feed_tensors(graph, feed_dict) if reusable else None
        self.plans: dict = {}               # signature -> RunPlan (a reusable request's only)
        self.value_feeds: frozenset = frozenset()   # feeds compiled in as constants (a fed batch size)


class RunPlan:
    """One signature of a Request on one executable (see the module docstring)."""

    def __init__(self, session, request: Request, signature: tuple, lowered: LoweredRun, executable,
                 feeds: dict[Tensor, np.ndarray]):
        self.session = session
        self.signature = signature          # the Session's compile-cache key
        self.executable = executable
        params = lowered.params
        self.n_params = len(params)
        self.feed_slots = {id(item): n for n, (kind, item) in enumerate(params) if kind == "feed"}
        self.variables = [(n, item) for n, (kind, item) in enumerate(params) if kind == "variable"]
        self.counters = [n for n, (kind, _) in enumerate(params) if kind == "rng_counter"]
        # a symbolic signature (runtime/symbolic_runs.py): each feed's dims, and the sizes used as values
        entry_params = lowered.module.entry.parameters
        self.feed_dims = {id(item): entry_params[n].shape.dims for n, (kind, item) in enumerate(params)
                          if kind == "feed"} if any(has_symbolic(p.shape.dims) for p in entry_params) else None
        self.sizes = [(n, item) for n, (kind, item) in enumerate(params) if kind == "size"]
        self._size_arrays: dict = {}
        self._allocations = symbolic_allocations(lowered.module) if self.feed_dims is not None else []
        self.updates = [(j, item) for j, (kind, item) in enumerate(lowered.results) if kind == "update"]
        self.stateful = bool(self.variables or self.counters or self.updates)
        # An executable whose `call` takes only arrays that fit (cpu) says what they are; the Variables
        # it is given are then checked too (a restored value may have another dtype).
        arg_specs = getattr(executable, "arg_specs", None)
        self.variable_specs = [arg_specs[n] for n, _ in self.variables] if arg_specs is not None else None
        self.unpack = _unpacker(request.mapper, lowered.results)
        self.fast: Callable | None = None
        if request.feed_tensors is not None and not request.value_feeds:    # (a new value: another signature)
            self.fast = self._fast_call(request.feed_tensors, feeds)

    # the careful path --------------------------------------------------------------------------------
    def run(self, feeds: dict[Tensor, np.ndarray], stop=None, options=None, run_metadata=None):
        """The fetch structure's values for feeds `validate_feeds` made; `stop` a RunFlag or None. A
        run given a RunMetadata clears it, and fills its step_stats when options ask for FULL_TRACE."""
        if run_metadata is not None:
            run_metadata.Clear()
        traced = self._traced() if tracing.requested(options, run_metadata) else None
        args = self._place(feeds)
        if traced is not None:
            traces = []

            def invoke_traced(a):
                results, trace = tracing.run_traced(traced, a)
                traces.append(trace)
                return results
            results = self._with_state(args, invoke_traced, fast=False)
            run_metadata.step_stats = tracing.step_stats(traces[0], tracing.device_name(self.session.target))
            return self.unpack(results)
        executable = self.executable        # `run` looked up here, each time (xlite/bench/gpu.py wraps it)
        invoke = executable.run if stop is None else (lambda a: executable.run(a, stop=stop))
        return self.unpack(self._with_state(args, invoke, fast=False))

    def arguments(self, feeds: dict[Tensor, np.ndarray]) -> list:
        """The executable's parameters for validated feeds, with the Session's Variables and a new run
        counter in place: what a tool that calls the executable itself passes it (benchmarks/profile.py)."""
        args = self._place(feeds)
        with self.session._lock:
            self._fill_state(args, fast=False)
        return args

    def _place(self, feeds: dict[Tensor, np.ndarray]) -> list:
        args = [None] * self.n_params
        slots = self.feed_slots
        for t, array in feeds.items():
            slot = slots.get(id(t))
            if slot is not None:        # (a feed compiled in as a constant has none)
                args[slot] = array
        if self.feed_dims is not None:
            self._fill_sizes(args, bind_feeds([self.feed_dims[id(t)] for t in feeds], feeds.values()))
        return args

    def _fill_sizes(self, args: list, env: dict) -> None:
        """The symbolic sizes used as values (a Mean's divisor) for this run's symbol values `env` (the
        arrays made once per set of sizes: read-only to native code). A set of sizes seen first is checked
        against memory: an array of a symbolic size over the limit is TF's ResourceExhaustedError, before
        native code runs."""
        key = tuple(env.values())
        arrays = self._size_arrays.get(key)
        if arrays is None:
            if self._allocations:
                check_sized_allocations(self._allocations, env, "GPU" if self.session.target == "cuda" else "CPU")
            if len(self._size_arrays) >= 64:
                self._size_arrays.clear()
            arrays = self._size_arrays[key] = [np.array(value.evaluate(env), dtype.np)
                                               for _, (value, dtype) in self.sizes]
        for (n, _), array in zip(self.sizes, arrays):
            args[n] = array

    def _traced(self):
        """The signature's FULL_TRACE variant, compiled the first time a run asks for it."""
        session = self.session
        with session._lock:
            traced = session._traced.get(self.signature)
            if traced is None:
                traced = session._traced[self.signature] = driver.compile_traced(self.executable)
        return traced

    # both paths ----------------------------------------------------------------------------------------
    def _with_state(self, args: list, invoke: Callable, fast: bool):
        """invoke(args) with the Session's Variables and run counters filled in and its updates kept,
        under the Session's lock; a run that reads and writes none of its state takes no lock."""
        if not self.stateful:
            return invoke(args)
        session = self.session
        with session._lock:
            if self._fill_state(args, fast) is MISFIT:
                return MISFIT
            results = invoke(args)
            for j, var_op in self.updates:
                session._store_variable(var_op, results[j])
        return results

    def _fill_state(self, args: list, fast: bool):
        """Puts the Variables and new run counters among `args` (the caller holds the Session's lock).
        An uninitialized Variable raises FailedPreconditionError; on the fast path, Variables that do
        not fit the signature (a dynamic shape, another dtype) give MISFIT before anything changed."""
        session = self.session
        if self.variables:
            if fast and session._dynamic_shapes:
                return MISFIT
            stored = session._variables
            values = []
            for n, var_op in self.variables:
                value = stored.get(var_op)
                if value is None:
                    raise errors.FailedPreconditionError(
                        var_op.node_def, var_op, f"Attempting to use uninitialized value {var_op.name}")
                args[n] = value
                values.append(value)
            if fast and self.variable_specs is not None and not fits(values, self.variable_specs):
                return MISFIT
        for n in self.counters:
            session._run_counter += 1
            args[n] = np.array(session._run_counter, np.int64)
        return None

    # the fast path ---------------------------------------------------------------------------------------
    def _fast_call(self, tensors: list[Tensor], feeds: dict[Tensor, np.ndarray]) -> Callable:
        """`fast(feed_dict)`: the run for a feed_dict with these keys whose values fit this signature."""
        if self.feed_dims is not None:
            return self._symbolic_fast_call(tensors)
        specs = [(np.dtype(t.dtype.np), feeds[t].shape) for t in tensors]     # in feed_dict order
        slots = [self.feed_slots[id(t)] for t in tensors]
        views = not getattr(self.executable, "fresh_outputs", False)   # a feed must not come back as is
        call, unpack, n_params = self.executable.call, self.unpack, self.n_params
        if not self.stateful and not views and slots == list(range(n_params)):
            def fast_direct(feed_dict):       # the feeds are the parameters, in feed_dict order
                args = feed_dict.values() if feed_dict else ()          # (`call` makes its own tuple)
                if not fits(args, specs):
                    return MISFIT
                return unpack(call(args))
            return fast_direct
        with_state = self._with_state

        def fast(feed_dict):
            values = tuple(feed_dict.values()) if feed_dict else ()
            if not fits(values, specs):
                return MISFIT
            args = [None] * n_params
            for value, n in zip(values, slots):
                args[n] = value.view() if views else value
            results = with_state(args, call, True)
            return MISFIT if results is MISFIT else unpack(results)
        return fast

    def _symbolic_fast_call(self, tensors: list[Tensor]) -> Callable:
        """`fast` for a symbolic signature: any feeds whose sizes fit its pattern (one executable)."""
        dtypes_ = [np.dtype(t.dtype.np) for t in tensors]
        dims = [self.feed_dims[id(t)] for t in tensors]
        slots = [self.feed_slots[id(t)] for t in tensors]
        call, unpack, n_params, with_state = self.executable.call, self.unpack, self.n_params, self._with_state
        views = not getattr(self.executable, "fresh_outputs", False)

        def fast(feed_dict):
            values = tuple(feed_dict.values()) if feed_dict else ()
            env = bind_feeds(dims, values)
            if env is None or not fits(values, [(dt, v.shape) for dt, v in zip(dtypes_, values)]):
                return MISFIT
            args = [None] * n_params
            for value, n in zip(values, slots):
                args[n] = value.view() if views else value
            self._fill_sizes(args, env)
            results = with_state(args, call, True)
            return MISFIT if results is MISFIT else unpack(results)
        return fast


def _unpacker(mapper: FetchMapper, results: list) -> Callable:
    """results -> the fetch structure: `mapper.build`, or, for a single fetch or a flat list or tuple
    of distinct tensors and ops, the same values picked straight from their positions."""
    fetched = [(j, item) for j, (kind, item) in enumerate(results) if kind == "fetch"]

    def build(values):
        return mapper.build({item: values[j] for j, item in fetched})
    positions = {id(item): j for j, item in fetched}
    kind, sequence, children = mapper._template
    leaves = children if kind == "seq" else [mapper._template] if kind in ("tensor", "op") else None
    if leaves is None or not all(c[0] in ("tensor", "op") for c in leaves):
        return build
    slots = [positions[id(c[1])] if c[0] == "tensor" else None for c in leaves]
    if len(set(j for j in slots if j is not None)) != sum(j is not None for j in slots):
        return build                            # a repeated tensor: each leaf gets its own copy
    if kind != "seq":
        sequence = None
    ndarray, as_fetch_value = np.ndarray, _as_fetch_value
    if len(slots) == 1 and slots[0] is not None:
        j = slots[0]

        # A 0-d array's scalar is taken here rather than in _as_fetch_value: these are the runs whose
        # time is mostly Python's (W4), and `[one(values)]` would cost a call more.
        def one(values):
            value = values[j]
            return value[()] if type(value) is ndarray and value.ndim == 0 else as_fetch_value(value)
        if sequence is None:
            return one

        def one_in_list(values):
            value = values[j]
            return [value[()] if type(value) is ndarray and value.ndim == 0 else as_fetch_value(value)]
        return one_in_list if sequence is list else lambda values: sequence((one(values),))

    def flat(values):
        out = [None if j is None else as_fetch_value(values[j]) for j in slots]
        return out if sequence is list else out[0] if sequence is None else sequence(out)
    return flat


__all__ = ["MISFIT", "Request", "RunPlan"]
