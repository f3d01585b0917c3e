"""TF's retracing rules: what of a call's arguments picks its trace.

A call's arguments are bound to the Python function's parameters (so `f(1)` and `f(x=1)` are one
call), flattened with tf.nest, and each leaf gives part of the key: a tensor (graph, eager or a NumPy
array) its dtype and shape, a Variable its dtype and shape too (each call binds its own), any other
Python value itself (by value, so `f(2)` and `f(3)` trace twice). An `input_signature` of TensorSpecs replaces the tensor leaves'
shapes with the specs' (None dims relaxed), so one trace serves every shape that fits.
"""
from __future__ import annotations

import inspect

import numpy as np

from xlite.frontend import nest
from xlite.frontend.graph import Tensor
from xlite.frontend.tensor_shape import TensorShape
from xlite.function import eager_bridge
from xlite.function.eager_bridge import EagerTensor
from xlite.function.tensor_spec import TensorSpec
from xlite.ir import dtypes

TENSOR, VARIABLE, PYTHON = "tensor", "variable", "python"


def is_variable(value) -> bool:
    """A TF1 graph Variable or an eager Variable: passed to the trace as itself (captured there)."""
    if hasattr(value, "_as_graph_element") and hasattr(value, "initializer"):
        return True
    return eager_bridge.is_eager_variable(value)


def leaf_kind(value) -> str:
    if is_variable(value):
        return VARIABLE
    if isinstance(value, (Tensor, np.ndarray, TensorSpec)):
        return TENSOR
    return PYTHON


def leaf_key(value):
    if type(value) is EagerTensor or type(value) is np.ndarray:     # (the same key as the fast path's)
        array = value._value if type(value) is EagerTensor else value
        return (array.dtype, array.shape)
    kind = leaf_kind(value)
    if kind == TENSOR:
        dtype = dtypes.as_dtype(value.dtype)
        return (dtype.np if dtype.np_name is not None else dtype.name, TensorShape(value.shape)._dims)
    if kind == VARIABLE:        # by spec, as TF keys them: each call binds the trace's VariableV2 to its own
        return ("variable", dtypes.as_dtype(value.dtype).name, TensorShape(value.shape)._dims,
                bool(getattr(value, "_is_eager_variable", False)))
    try:
        hash(value)
    except TypeError:
        return ("id", type(value), id(value))
    return ("python", type(value), value)


def bind(parameters: inspect.Signature | None, args: tuple, kwargs: dict) -> tuple:
    """The call's arguments in parameter order, kwargs folded in and defaults applied."""
    if parameters is None or (not kwargs and _all_positional(parameters, len(args))):
        return tuple(args)
    bound = parameters.bind(*args, **kwargs)
    bound.apply_defaults()
    values = []
    for name, p in parameters.parameters.items():
        value = bound.arguments[name]
        if p.kind == p.VAR_POSITIONAL:
            values.append(tuple(value))
        elif p.kind == p.VAR_KEYWORD:
            values.append(dict(value))
        else:
            values.append(value)
    return tuple(values)


def unbind(parameters: inspect.Signature | None, values) -> tuple[list, dict]:
    """The positional and keyword arguments that call the Python function with bound `values`."""
    if parameters is None or _all_positional(parameters, len(values)):
        return list(values), {}
    args, kwargs = [], {}
    for (name, p), value in zip(parameters.parameters.items(), values):
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            args.append(value)
        elif p.kind == p.VAR_POSITIONAL:
            args.extend(value)
        elif p.kind == p.KEYWORD_ONLY:
            kwargs[name] = value
        else:
            kwargs.update(value)
    return args, kwargs


def _all_positional(parameters: inspect.Signature, n: int) -> bool:
    params = list(parameters.parameters.values())
    return len(params) == n and all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def cache_key(values: tuple):
    """The trace key of bound arguments: their structure and one key per leaf."""
    flat = nest.flatten(list(values))
    return (_structure(values), tuple(leaf_key(v) for v in flat))


def _structure(values):
    if isinstance(values, dict):
        return ("dict", tuple((k, _structure(values[k])) for k in sorted(values)))
    if isinstance(values, (list, tuple)):
        return (type(values), tuple(_structure(v) for v in values))
    return None


def conform_to_signature(input_signature: list, values: tuple, name: str) -> tuple:
    """The call's values checked against `input_signature` (TensorSpecs, nested like the arguments):
    Python values converted to the spec's dtype, tensors checked for dtype and shape."""
    if len(values) != len(input_signature):
        raise TypeError(f"{name}() takes {len(input_signature)} arguments per its input_signature, "
                        f"got {len(values)}")
    specs = nest.flatten(list(input_signature))
    try:
        flat = nest.flatten(list(values))
        if len(flat) != len(specs):
            raise ValueError
        nest.pack_sequence_as(list(input_signature), flat)
    except ValueError:
        raise ValueError(f"Structure of Python function inputs does not match input_signature: inputs "
                         f"{values!r}, input_signature {input_signature!r}") from None
    out = []
    for value, spec in zip(flat, specs):
        if not isinstance(spec, TensorSpec):
            raise TypeError(f"input_signature must be a possibly nested sequence of TensorSpec objects, "
                            f"got {spec!r}")
        if leaf_kind(value) != TENSOR:
            value = np.asarray(value, dtype=spec.dtype.np)
        if not spec.is_compatible_with(value):
            raise ValueError(f"Python inputs incompatible with input_signature:\n  inputs: ({value!r})\n"
                             f"  input_signature: ({spec!r})")
        out.append(value)
    return tuple(nest.pack_sequence_as(list(input_signature), out))
