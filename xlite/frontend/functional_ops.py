"""tf.map_fn, tf.scan, tf.foldl and tf.foldr: one tf.while_loop over the elements' leading dimension.

As in TF, each reads element i of every (nested) input (a dynamic slice), and
map_fn and scan write each step's output into a TensorArray that is stacked
after the loop; the trip count is the leading dimension, passed as the loop's
maximum_iterations, so loops of a static length are differentiable by the
While gradient. `parallel_iterations` and `swap_memory` are accepted and
ignored (one compiled loop runs in order); `back_prop=False` stops gradients.
"""
from __future__ import annotations

from xlite.frontend import nest
from xlite.frontend.control_flow_ops import while_loop
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import get_default_graph
from xlite.frontend.shape_ops import shape
from xlite.frontend.tensor_array_ops import TensorArray, row
from xlite.ir import dtypes

__all__ = ["map_fn", "scan", "foldl", "foldr"]


def _flat_elems(elems, what: str) -> list:
    flat = [convert_to_tensor(e, name="elem") for e in nest.flatten(elems)]
    if not flat:
        raise ValueError(f"{what}: elems must be a Tensor or (possibly nested) sequence of Tensors")
    for e in flat:
        if e.shape.ndims == 0:
            raise ValueError(f"{what}: elements in elems must be 1+ dimensional Tensors, not scalars")
    return flat


def _length(flat: list):
    """The shared leading dimension: a Python int where static, else a scalar tensor."""
    static = {e.shape[0] for e in flat if e.shape.ndims is not None and e.shape[0] is not None}
    if len(static) > 1:
        raise ValueError(f"Elements in elems must have the same first dimension, got {sorted(static)}")
    return static.pop() if static else shape(flat[0])[0]


def _signature_dtypes(signature):
    """The flat dtypes of fn_output_signature / dtype (dtypes, TensorSpecs, or structures of them)."""
    return [dtypes.as_dtype(getattr(s, "dtype", s)) for s in nest.flatten(signature)]


def _stop(flat: list, back_prop: bool) -> list:
    if back_prop:
        return flat
    from xlite.frontend.math_ops import stop_gradient
    return [stop_gradient(e) for e in flat]


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True, swap_memory=False,
           infer_shape=True, name=None, fn_output_signature=None):
    """fn applied to each element of elems (unpacked on dim 0); the results stacked on dim 0."""
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {fn!r}")
    if dtype is not None and fn_output_signature is not None:
        raise ValueError("Only one of dtype and fn_output_signature should be specified.")
    signature = fn_output_signature if fn_output_signature is not None else dtype
    graph = get_default_graph()
    with graph.name_scope(name or "map"):
        flat = _stop(_flat_elems(elems, "map_fn"), back_prop)
        n = _length(flat)
        out_structure = elems if signature is None else signature
        out_dtypes = [e.dtype for e in flat] if signature is None else _signature_dtypes(signature)
        arrays = [TensorArray(dt, size=n, infer_shape=infer_shape) for dt in out_dtypes]

        def body(i, arrays):
            value = fn(nest.pack_sequence_as(elems, [row(e, i) for e in flat]))
            out = nest.flatten(value)
            if len(out) != len(arrays):
                raise ValueError(f"map_fn: fn returned {len(out)} values ({value!r}) but the output signature "
                                 f"has {len(arrays)}; pass fn_output_signature= (or dtype=) matching fn's output")
            return i + 1, [ta.write(i, v) for ta, v in zip(arrays, out)]

        _, arrays = while_loop(lambda i, _: i < n, body, [0, arrays], maximum_iterations=n,
                               back_prop=back_prop, swap_memory=swap_memory)
        results = [ta.stack() for ta in arrays]
    return nest.pack_sequence_as(out_structure, results)


def _accumulation(elems, flat: list, n, initializer, reverse: bool):
    """(element index of step i, the accumulator's structure, the first step, its initial flat value):
    without an initializer the first element is the initial accumulator and the loop starts at step 1."""
    index = (lambda i: n - 1 - i) if reverse else (lambda i: i)
    if initializer is None:
        return index, elems, 1, [row(e, index(0)) for e in flat]
    return index, initializer, 0, [convert_to_tensor(a) for a in nest.flatten(initializer)]


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False,
         infer_shape=True, reverse=False, name=None):
    """Every accumulator of a = fn(a, x) over elems (from the last with `reverse`), stacked on dim 0."""
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {fn!r}")
    with get_default_graph().name_scope(name or "scan"):
        flat = _stop(_flat_elems(elems, "scan"), back_prop)
        n = _length(flat)
        index, structure, first, acc = _accumulation(elems, flat, n, initializer, reverse)
        arrays = [TensorArray(a.dtype, size=n, element_shape=a.shape, infer_shape=infer_shape) for a in acc]
        if initializer is None:
            arrays = [ta.write(index(0), a) for ta, a in zip(arrays, acc)]

        def body(i, acc, arrays):
            x = nest.pack_sequence_as(elems, [row(e, index(i)) for e in flat])
            out = nest.flatten(fn(nest.pack_sequence_as(structure, acc), x))
            if len(out) != len(acc):
                raise ValueError(f"scan: fn returned {len(out)} values but the accumulator has {len(acc)}")
            out = [convert_to_tensor(v, preferred_dtype=a.dtype) for v, a in zip(out, acc)]
            return i + 1, out, [ta.write(index(i), v) for ta, v in zip(arrays, out)]

        _, _, arrays = while_loop(lambda i, *_: i < n, body, [first, acc, arrays],
                                  maximum_iterations=n - first, back_prop=back_prop, swap_memory=swap_memory)
        results = [ta.stack() for ta in arrays]
    return nest.pack_sequence_as(structure, results)


def _fold(fn, elems, initializer, back_prop, swap_memory, reverse: bool, what: str):
    if not callable(fn):
        raise TypeError(f"{what}: fn must be callable, got {fn!r}")
    flat = _stop(_flat_elems(elems, what), back_prop)
    n = _length(flat)
    index, structure, first, acc = _accumulation(elems, flat, n, initializer, reverse)

    def body(i, acc):
        x = nest.pack_sequence_as(elems, [row(e, index(i)) for e in flat])
        out = nest.flatten(fn(nest.pack_sequence_as(structure, acc), x))
        if len(out) != len(acc):
            raise ValueError(f"{what}: fn returned {len(out)} values but the accumulator has {len(acc)}")
        return i + 1, [convert_to_tensor(v, preferred_dtype=a.dtype) for v, a in zip(out, acc)]

    _, acc = while_loop(lambda i, _: i < n, body, [first, acc], maximum_iterations=n - first,
                        back_prop=back_prop, swap_memory=swap_memory)
    return nest.pack_sequence_as(structure, acc)


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """a = fn(a, x) over elems from the first; the last accumulator."""
    with get_default_graph().name_scope(name or "foldl"):
        return _fold(fn, elems, initializer, back_prop, swap_memory, False, "foldl")


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """a = fn(a, x) over elems from the last; the last accumulator."""
    with get_default_graph().name_scope(name or "foldr"):
        return _fold(fn, elems, initializer, back_prop, swap_memory, True, "foldr")
