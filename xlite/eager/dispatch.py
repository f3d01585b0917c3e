"""Per-op dispatch: an eager op runs a kernel compiled through the compile driver, once per signature.

A signature is the op type, its attributes, its inputs' dtypes and shapes, and the values of the few
inputs whose values its lowering needs (a reshape's shape, a reduction's axes, a random op's shape:
what a TF kernel takes in host memory). The first call of a signature makes a tiny graph (a
Placeholder per input, a Const per value input, a VariableV2 for an assignment's Variable, then the
op), lowers it with `lower_run` as a Session run would, and compiles it with `driver.compile` for the
target; the executable is kept in a bounded in-memory LRU (the driver's lowered cache keeps it on
disk). Later calls look the signature up and call the executable with the input arrays.

Which inputs are value inputs is learned per op type and input count: a lowering first sees every input as a run-time
parameter (so `x[i]` stays one dynamic-slice kernel); if its rule needs a value, the integer inputs
become constants, and then every small one; inputs it turns out not to need are given back.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict

import numpy as np

from xlite import errors
from xlite.eager import recording
from xlite.eager.context import random_state
from xlite.eager.tensor import EagerTensor
from xlite.frontend.graph import Graph
from xlite.frontend.lower import lower_run
from xlite.frontend.op_registry import has_ref_input, make_op
from xlite.frontend.run_checks import REPORTED_OP_TYPES
from xlite.frontend.tensor_shape import TensorShape
from xlite.ir import dtypes
from xlite.ir.shape_inference import ShapeError
from xlite.runtime import driver, fetches
from xlite.runtime.executable import default_target

MAX_KERNELS = int(os.environ.get("XLITE_EAGER_KERNELS", "4096"))
_SMALL = 4096                       # inputs up to this size may become constants of a kernel
_kernels: OrderedDict = OrderedDict()         # the current target's kernels, least recently used first
_by_target: dict[str, OrderedDict] = {}
_value_inputs: dict[tuple, frozenset] = {}     # (op type, input count) -> its value inputs
_new_tensor = EagerTensor.__new__
_compiling = threading.RLock()


class Stats:
    """How many kernels eager ops compiled and how many calls found theirs cached (tests, XLITE_LOG)."""
    compiles = 0
    hits = 0


stats = Stats()


def clear_cache() -> None:
    """Forgets the in-memory kernels (the driver's disk cache still has them)."""
    from xlite.eager import fast_ops
    _kernels.clear()
    fast_ops.forget()


# the op's inputs ------------------------------------------------------------------------------------
def _input_arrays(op_type: str, inputs) -> tuple[list, list, object]:
    """(arrays, the input tensors a tape sees, the Variable an assignment names or None)."""
    arrays, tensors, variable = [], list(inputs), None
    for i, t in enumerate(tensors):
        if type(t) is EagerTensor:
            arrays.append(t._value)
            continue
        var = getattr(getattr(t, "op", None), "_py_variable", None)
        if var is not None and getattr(var, "_is_eager_variable", False):
            if i == 0 and has_ref_input(op_type):
                variable = var
                arrays.append(var._array())
                continue
            t = tensors[i] = var._read()
            arrays.append(t._value)
        elif isinstance(t, EagerTensor):
            arrays.append(t._value)
        else:
            raise TypeError(f"An op outside of the function building code is being passed a graph tensor "
                            f"({t!r}) while executing eagerly (op type {op_type}). Graph tensors belong to "
                            "a tf.Graph: run them in a Session, or build them with eager values.")
    return arrays, tensors, variable


def _freeze(value):
    """A hashable stand-in for an attribute value (part of a kernel's signature)."""
    if isinstance(value, (str, int, float, bool, type(None), dtypes.DType)):
        return value
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return ("dict",) + tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, TensorShape):
        return ("shape", value._dims)
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        return ("array", array.dtype.str, array.shape, array.tobytes())
    try:
        hash(value)
    except TypeError:
        raise errors.unimplemented(f"an eager op's attribute of type {type(value).__name__} "
                                   "cannot key a compiled kernel") from None
    return value


# the entry point ---------------------------------------------------------------------------------------
def execute(op_type: str, inputs, attrs, name, n_outputs, output_shapes) -> recording.EagerOp:
    """Runs one op now (make_op's eager path): its EagerOp record, whose outputs are EagerTensors."""
    if op_type == "Const":
        return recording.EagerOp(op_type, name, [], [EagerTensor(attrs["value"], attrs["dtype"])], attrs)
    if op_type == "NoOp":
        return recording.EagerOp(op_type, name, [], [], attrs or {})
    if op_type == "Placeholder":
        raise RuntimeError("tf.placeholder() is not compatible with eager execution.")
    attrs = attrs or {}
    if "_key" in attrs and not attrs.get("seed") and not attrs.get("seed2"):
        attrs = dict(attrs, _key=random_state.unseeded_key)    # unseeded random ops share one kernel
    if any(getattr(t, "dtype", None) is dtypes.string for t in inputs):
        raise errors.unimplemented(f"{op_type} of a tf.string tensor: compiled ops take numbers only "
                                   "(tf.strings ops work on strings)")
    arrays, tensors, variable = _input_arrays(op_type, inputs)
    if op_type in _MADE_ON_HOST:
        return _made_on_host(op_type, arrays, tensors, attrs, name)
    key = _signature(op_type, attrs, arrays)
    kernel = _kernels.get(key)
    if kernel is None:
        with _compiling:                # one compile at a time (threads running eager ops share the cache)
            kernel = _kernels.get(_signature(op_type, attrs, arrays))
            if kernel is None:
                try:
                    kernel, key = _compile(op_type, arrays, tensors, attrs, name, n_outputs, output_shapes, variable)
                except errors.InvalidArgumentError as e:     # an index check that lowering could decide
                    raise _eager_error(e, op_type, name) from None
                _kernels[key] = kernel
                if len(_kernels) > MAX_KERNELS:
                    _kernels.popitem(last=False)
    else:
        stats.hits += 1
        try:
            _kernels.move_to_end(key)
        except KeyError:                # another thread's compile evicted it meanwhile: it is still usable
            pass
    try:
        if kernel.single is not None:                       # one result of the inputs alone: call it here
            t = _new_tensor(EagerTensor)
            try:
                t._value = kernel._call(arrays)[0]
            except MemoryError as e:
                raise errors.ResourceExhaustedError(None, None, f"OOM when allocating tensor: {e}") from None
            t.dtype, t._shape_cache = kernel.single, None
            outputs = [t]
        else:
            outputs = kernel(arrays, variable)
    except errors.InvalidArgumentError as e:      # a run-time check (frontend/run_checks.py)
        raise _eager_error(e, op_type, name) from None
    op = recording.EagerOp(op_type, name or op_type, tensors, outputs, attrs)
    if recording.active:
        recording.record(op)
    return op


_MADE_ON_HOST = frozenset({"TrimToCount"})
_NODE_SUFFIX = "\n\t [[node "       # a graph error's node; the kernel's was made by its first call


def _eager_error(e: errors.OpError, op_type: str, name) -> errors.OpError:
    """A check's error as TF's eager op says it: the message, then [Op:Type] and the name the user gave."""
    shown = REPORTED_OP_TYPES.get(op_type, op_type)
    named = "" if name is None or name.rstrip("/") in (shown, op_type) else name     # a default name: none given
    return type(e)(None, None, f"{e.message.split(_NODE_SUFFIX)[0]} [Op:{shown}] name: {named}")


def _made_on_host(op_type: str, arrays: list, tensors: list, attrs: dict, name) -> recording.EagerOp:
    """A data-dependent result (xlite/frontend/bounded_ops.py): the compiled ops before it filled a bounded
    buffer and counted its rows; eagerly, as a Session.run fetch, it is that buffer cut to the count here."""
    op = recording.EagerOp(op_type, name or op_type, tensors, [], attrs)
    dtype = tensors[0].dtype
    op.outputs = [EagerTensor(fetches.input_rule(op_type)(op, *arrays), dtype)]
    if recording.active:
        recording.record(op)
    return op


def _signature(op_type: str, attrs: dict, arrays: list) -> tuple:
    values = _value_inputs.get((op_type, len(arrays)))
    return (op_type, _freeze(attrs) if attrs else (), tuple([(a.dtype, a.shape) for a in arrays]),
            values, tuple([arrays[i].tobytes() for i in values]) if values else ())


# kernels ---------------------------------------------------------------------------------------------------
class Kernel:
    """One compiled signature: which argument each executable parameter takes, and what its results are."""

    def __init__(self, lowered, executable, feeds: list[int], out_dtypes: list, n_inputs: int):
        self.executable = executable
        self._call = getattr(type(executable), "call", None) and executable.call or executable.run
        self.target = getattr(executable, "target", "")
        sources, next_feed = [], iter(feeds)         # lower_run's feed parameters keep the feeds' order
        for kind, _ in lowered.params:
            sources.append(next(next_feed) if kind == "feed" else -1 if kind == "variable" else -2)
        self.direct = sources == list(range(n_inputs))      # the inputs are the parameters, in order
        self.sources = sources
        self.fetches = [(j, dt) for j, ((kind, _), dt) in enumerate(zip(lowered.results, out_dtypes))
                        if kind == "fetch"]
        self.update = next((j for j, (kind, _) in enumerate(lowered.results) if kind == "update"), None)
        # one result, the inputs as the parameters: fast_ops.py calls `_call` and wraps it itself
        self.single = self.fetches[0][1] if (self.direct and len(self.fetches) == 1 and self.update is None
                                             and self.target == "cpu") else None

    def __call__(self, arrays: list, variable) -> list:
        if self.direct:
            args = arrays
        else:
            args = []
            for s in self.sources:
                if s >= 0:
                    args.append(arrays[s])
                elif s == -1:
                    args.append(arrays[0])          # the Variable's own array (input 0 of an assignment)
                else:
                    args.append(np.array(random_state.next_counter(), np.int64))
        try:
            results = self._call(args)
        except MemoryError as e:
            raise errors.ResourceExhaustedError(None, None, f"OOM when allocating tensor: {e}") from None
        if self.update is not None:
            variable._store(results[self.update])
        outputs = []
        for j, dt in self.fetches:
            t = _new_tensor(EagerTensor)
            value = results[j]
            if self.target != "cpu" and not (type(value) is np.ndarray and value.flags.c_contiguous):
                value = np.array(value, order="C")          # (ascontiguousarray would make 0-d 1-d)
            t._value, t.dtype, t._shape_cache = value, dt, None
            outputs.append(t)
        return outputs


def _compile(op_type, arrays, tensors, attrs, name, n_outputs, output_shapes, variable):
    """Lowers and compiles the op's kernel; (kernel, the signature it is filed under)."""
    in_dtypes = [t.dtype for t in tensors]
    if variable is not None:
        in_dtypes[0] = variable.dtype
    spec = (op_type, arrays, in_dtypes, attrs, name, n_outputs, output_shapes, variable is not None)
    known = _value_inputs.get((op_type, len(arrays)), frozenset())
    skip = {0} if variable is not None else set()
    integer = {i for i, a in enumerate(arrays) if a.dtype.kind in "iub" and a.size <= _SMALL} - skip
    small = {i for i, a in enumerate(arrays) if a.size <= _SMALL} - skip
    ladder = []
    for values in (known, known | integer, known | small):
        if values not in ladder:
            ladder.append(frozenset(values))
    first_error = None
    for values in ladder:
        try:
            lowered, feeds, outputs = _lower(*spec, values)
        except _RetryWithValues as e:
            first_error = first_error or e.error
            if values == ladder[-1] and isinstance(e.error, errors.InvalidArgumentError):
                raise e.error from None     # about a value now known (a gather's index out of range)
            continue
        if values != known:                 # learned: keep only the new value inputs it really needs
            values = known | _fewest(spec, known, values - known)
            lowered, feeds, outputs = _lower(*spec, values)
            _value_inputs[(op_type, len(arrays))] = values
        executable = driver.compile(lowered.module, _target())
        stats.compiles += 1
        kernel = Kernel(lowered, executable, feeds, [t.dtype for t in outputs], len(arrays))
        return kernel, _signature(op_type, attrs, arrays)
    raise first_error


def _fewest(spec, known: frozenset, extra: frozenset) -> frozenset:
    """The new value inputs the lowering really needs: each one it lowers without is given back."""
    for i in sorted(extra):
        try:
            _lower(*spec, known | (extra - {i}))
        except _RetryWithValues:
            continue
        extra = extra - {i}
    return extra


class _RetryWithValues(Exception):
    """The lowering needed the value of an input that was a run-time parameter."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


def _lower(op_type, arrays, in_dtypes, attrs, name, n_outputs, output_shapes, has_variable, values):
    """The tiny graph of one op on these inputs, lowered: (LoweredRun, input index per feed, outputs)."""
    graph = Graph()
    feeds, feed_shapes, inputs = [], {}, []
    for i, (a, dt) in enumerate(zip(arrays, in_dtypes)):
        shape = TensorShape(a.shape)
        if i == 0 and has_variable:
            t = make_op("VariableV2", [], {"shape": shape, "dtype": dt}, name="variable", graph=graph,
                        output_shapes=[shape]).outputs[0]
        elif i in values:
            const = np.array(a, order="C")
            const.flags.writeable = False
            t = make_op("Const", [], {"value": const, "dtype": dt}, name=f"value_{i}", graph=graph).outputs[0]
        else:
            t = make_op("Placeholder", [], {"dtype": dt, "shape": shape}, name=f"input_{i}", graph=graph,
                        output_shapes=[shape]).outputs[0]
            feeds.append(i)
            feed_shapes[t] = a.shape
        inputs.append(t)
    with graph.as_default():
        try:
            op = make_op(op_type, inputs, attrs, name=name, n_outputs=n_outputs, graph=graph,
                         output_shapes=output_shapes)
        except ValueError as e:         # a shape error: TF's eager kernels raise InvalidArgumentError
            raise _RetryWithValues(errors.InvalidArgumentError(None, None, str(e))) from None
        try:
            lowered = lower_run(graph, list(op.outputs), [] if op.outputs else [op], feed_shapes,
                                name=f"eager_{op_type}")
        except (errors.InvalidArgumentError, errors.UnimplementedError, ShapeError, ValueError) as e:
            raise _RetryWithValues(e) from None
    return lowered, feeds, op.outputs


_TARGET: list = []


def _target() -> str:
    """The target eager kernels compile for: XLITE_TARGET (cpu by default), read when eager mode began."""
    return _TARGET[0] if _TARGET else default_target()


def set_target(target: str | None) -> None:
    """Runs later ops on `target`'s kernels (None: XLITE_TARGET's); tests and `xlite bench` run eager
    ops on each target. Each target keeps its own kernels."""
    global _kernels
    from xlite.eager import fast_ops
    old = _target()
    _by_target[old] = _kernels
    _TARGET[:] = [target] if target else []
    _kernels = _by_target.setdefault(_target(), OrderedDict())
    fast_ops.switch(old, _target())


__all__ = ["execute", "stats", "clear_cache", "set_target", "MAX_KERNELS"]
