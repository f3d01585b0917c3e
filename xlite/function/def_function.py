"""`tf.function`: a Python function traced into a graph once per input signature, compiled, and called.

A `Function` keeps its traces (ConcreteFunctions) by the key TF's retracing rules give a call
(xlite/function/signature.py); a call whose key is known goes straight to that trace. With an
`input_signature` there is one trace for every call that fits it; with `reduce_retracing` (or
`experimental_relax_shapes`) a second shape for the same argument traces once more with the differing
dims relaxed to None, and that trace serves every later shape that fits. Variables may be created only
by the first trace, which (as in TF) is then traced again to check that the function creates none on
later calls; the second trace is the one calls use. AutoGraph (xlite/function/autograph/) converts
the Python function's control flow on tensors to tf.cond / tf.while_loop before the first trace.
"""
from __future__ import annotations

import functools
import inspect
import weakref

from xlite.eager import recording
from xlite.frontend import nest
from xlite.frontend.graph import get_default_graph
from xlite.frontend.tensor_shape import TensorShape
from xlite.function import eager_bridge
from xlite.function.eager_bridge import EagerTensor, executing_eagerly
from xlite.function.concrete import ConcreteFunction
from xlite.function.signature import (TENSOR, VARIABLE, bind, cache_key, conform_to_signature, leaf_kind)
from xlite.function.tensor_spec import TensorSpec
from xlite.function.tracing import trace


_MAX_FAST = 64          # fast calls kept per Function (distinct shapes of eager arguments)


class Function:
    """What `@tf.function` makes: callable like the Python function, traced per input signature."""

    def __init__(self, python_function, name: str | None = None, input_signature=None, autograph: bool = True,
                 jit_compile=None, reduce_retracing: bool = False):
        self._python_function = python_function
        self._name = name or getattr(python_function, "__name__", "function")
        self._input_signature = None if input_signature is None else list(input_signature)
        self._autograph = autograph
        self._jit_compile = jit_compile
        self._reduce_retracing = reduce_retracing
        try:
            self._parameters = inspect.signature(python_function)
        except (TypeError, ValueError):
            self._parameters = None
        self._traces: dict = {}             # cache key -> ConcreteFunction
        self._by_rank: dict = {}            # key by dtypes and ranks -> [(argument shapes, trace)]
        self._tracing_count = 0
        self._fast: dict = {}               # (dtype, shape) per positional eager tensor -> its call
        self._converted = None
        self._bound: dict[int, tuple] = {}  # id(instance) -> (weakref or instance, bound Function)
        functools.update_wrapper(self, python_function)

    # properties -------------------------------------------------------------------------------------
    @property
    def python_function(self):
        return self._python_function

    @property
    def input_signature(self):
        return None if self._input_signature is None else tuple(self._input_signature)

    @property
    def function_spec(self):
        return self._parameters

    def experimental_get_tracing_count(self) -> int:
        return self._tracing_count

    # calling ----------------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        fast = self._fast
        if fast and not kwargs and not recording.active:      # a recording tape needs record_call's op
            try:      # the key of positional eager tensors (a graph tensor or a Python value has no `_value`)
                call = fast.get(tuple([(a.__class__, a.dtype, a._value.shape) for a in args]))
            except AttributeError:
                call = None
            if call is not None and executing_eagerly():
                return call(args)
        concrete, values = self._trace_for(args, kwargs)
        flat = nest.flatten(list(values))
        result = concrete.call_flat([v for v in flat if leaf_kind(v) == TENSOR],
                                    [v for v in flat if leaf_kind(v) == VARIABLE])
        if not kwargs and len(fast) < _MAX_FAST and executing_eagerly() and all(type(a) is EagerTensor for a in args) \
                and len(concrete.graph.arg_inputs) == len(args):
            key = tuple([(a.__class__, a.dtype, a._value.shape) for a in args])
            fast[key] = concrete.fast_call(tuple(a._value.shape for a in args))
        return result

    def get_concrete_function(self, *args, **kwargs) -> ConcreteFunction:
        """The trace for these arguments (values or TensorSpecs), made now if it does not exist; with
        no arguments, the trace of the input_signature."""
        if not args and not kwargs and self._input_signature is not None:
            args = tuple(self._input_signature)
        concrete, _ = self._trace_for(args, kwargs)
        return concrete

    def _trace_for(self, args, kwargs):
        values = bind(self._parameters, args, kwargs)
        context = None if eager_bridge.executing_eagerly() else get_default_graph()
        shapes = None
        if self._input_signature is not None:
            values = conform_to_signature(self._input_signature, values, self._name)
            key = (context, "input_signature")          # one trace serves every call that fits
            shapes = [s.shape for s in nest.flatten(list(self._input_signature))]
        else:
            key = (context, cache_key(values))
        concrete = self._traces.get(key)
        if concrete is not None:
            return concrete, values
        if shapes is None:
            concrete, shapes = self._compatible_trace(context, values)
            if concrete is not None:
                self._traces[key] = concrete
                return concrete, values
        concrete = self._trace(values, shapes)
        self._traces[key] = concrete
        if self._input_signature is None:
            self._by_rank.setdefault((context, _relaxed_key(values)), []).append(
                ([t.shape for t in concrete.graph.arg_inputs], concrete))
        return concrete, values

    def _compatible_trace(self, context, values):
        """(a trace whose argument shapes fit `values`' tensors, None), else (None, the shapes a new trace
        takes: None (the values' own), or with reduce_retracing the dims that differ relaxed to None)."""
        known = self._by_rank.get((context, _relaxed_key(values)))
        if not known:
            return None, None
        mine = _shapes(values)
        for shapes, concrete in reversed(known):          # the latest (most relaxed) first
            if all(s.is_compatible_with(m) for s, m in zip(shapes, mine)):
                return concrete, None
        if not self._reduce_retracing:
            return None, None
        return None, [_relax(s, m) for s, m in zip(known[-1][0], mine)]

    def _trace(self, values, shapes) -> ConcreteFunction:
        function = self._python_function
        if self._autograph:
            function = self._autograph_converted()
        graph = trace(function, self._name, self._parameters, values, shapes,
                      allow_variables=self._tracing_count == 0)
        self._tracing_count += 1
        if graph.created_variables:   # as TF does: trace again, using the Variables and creating none
            graph = trace(function, self._name, self._parameters, values, shapes, allow_variables=False)
            self._tracing_count += 1
        return ConcreteFunction(graph, self._parameters, values, self._name)

    def _autograph_converted(self):
        if self._converted is None:
            self._converted = _autograph_convert(self._python_function)
        return self._converted

    # methods ----------------------------------------------------------------------------------------
    def __get__(self, instance, owner=None):
        """`@tf.function` on a method: each instance gets its own Function with `self` bound (TF's rule)."""
        if instance is None:
            return self
        entry = self._bound.get(id(instance))
        if entry is not None and _alive(entry[0]) is instance:
            return entry[1]
        bound = Function(self._python_function.__get__(instance, owner), self._name, self._input_signature,
                         self._autograph, self._jit_compile, self._reduce_retracing)
        try:
            ref = weakref.ref(instance, lambda _, key=id(instance): self._bound.pop(key, None))
        except TypeError:
            ref = instance
        self._bound[id(instance)] = (ref, bound)
        return bound

    def __repr__(self) -> str:
        return f"<tf.function {self._name}>"


def _alive(ref):
    return ref() if isinstance(ref, weakref.ref) else ref


def _autograph_convert(python_function):
    """AutoGraph's conversion (xlite/function/autograph/, ast-based): control flow on tensors becomes
    tf.cond / tf.while_loop; the same code on Python values runs as Python."""
    from xlite.function.autograph import convert
    return convert(python_function)


def _shapes(values) -> list[TensorShape]:
    return [TensorShape(v.shape) for v in nest.flatten(list(values)) if leaf_kind(v) == TENSOR]


def _relax(a: TensorShape, b: TensorShape) -> TensorShape:
    """`a` with the dims where `b` differs unknown (TF's relaxed shape of two calls)."""
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.dims, b.dims)])


def _relaxed_key(values):
    """The cache key with tensors by dtype and rank only."""
    flat = nest.flatten(list(values))
    structure, leaves = cache_key(values)
    relaxed = tuple((k[0], len(k[1]) if k[1] is not None else None) if leaf_kind(v) == TENSOR else k
                    for v, k in zip(flat, leaves))
    return structure, relaxed


def function(func=None, input_signature=None, autograph: bool = True, jit_compile=None,
             experimental_relax_shapes: bool = False, reduce_retracing: bool = False,
             experimental_compile=None, experimental_implements=None, experimental_autograph_options=None,
             experimental_follow_type_hints=None):
    """`tf.function` as a decorator (with or without arguments) or a call: a `Function`.

    Everything xlite runs is compiled, so `jit_compile`/`experimental_compile` change nothing."""
    relax = bool(experimental_relax_shapes or reduce_retracing)

    def decorate(fn):
        if isinstance(fn, Function):
            fn = fn.python_function
        return Function(fn, input_signature=input_signature, autograph=autograph,
                        jit_compile=jit_compile if jit_compile is not None else experimental_compile,
                        reduce_retracing=relax)
    return decorate if func is None else decorate(func)


__all__ = ["function", "Function", "TensorSpec"]
