"""TensorArrays as tf.while_loop variables: each array travels as its buffer, as TF1 threads its flow.

Before the loop every array gets a buffer of fixed shape: a dynamic-size array
one row per iteration of a compile-time `maximum_iterations` more, and an array
without an element shape the shape its body writes, found by a trial trace of
the body whose ops are discarded (TF-XLA compiles such a body twice). Where that
shape is partly unknown (a fed batch size), the body runs once more outside the
loop on the initial values, and the buffer takes the shape of what that writes,
a shape the run's lowering knows. Inside such a loop the arrays cannot grow;
after it they are dynamic again.

A dynamic-size array in a loop without a compile-time `maximum_iterations` (a
fed bound, a data-dependent condition) has no size known before the loop runs.
Its buffer is then a loop variable of shape [None, *element] with its size as
one more (hidden) loop variable: each write appends a row and writes its index
(an index up to the rows there are), so the body changes the buffer's shape and
the Session runs the loop on the host (runtime/host_loops.py), which after each
iteration cuts the buffer to the size (the While op's "growing_arrays" attr).
An array that an enclosing loop grows grows in an inner loop too, whatever its
bound (the inner loop is then a top-level loop of the outer body's runs).
"""
from __future__ import annotations

from xlite import errors
from xlite.frontend import nest
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import get_default_graph
from xlite.frontend import shape_ops
from xlite.frontend.op_registry import is_stateful
from xlite.frontend.subgraph import assigns_variables, recording
from xlite.frontend.tensor_array_ops import TensorArray, _static_int
from xlite.frontend.tensor_shape import TensorShape


def has_tensor_arrays(structure) -> bool:
    return any(isinstance(v, TensorArray) for v in nest.flatten(structure))


class _Discard(Exception):
    """Ends the trial trace of a loop body."""


def _single(result, top: list):
    """The body's result as a list when the loop has one variable (as tf.while_loop accepts it)."""
    if len(top) == 1 and not (isinstance(result, (list, tuple)) and len(result) == 1):
        return [result]
    return result


def _trial_shapes(body, top: list, flat: list, slots: list, make_arg) -> dict:
    """The element shapes the body gives the arrays at `slots`, from one trace that is thrown away."""
    found = {}
    try:
        with recording(get_default_graph(), "a trial trace of a tf.while_loop body (TensorArray element shapes)"):
            args = []
            for k, v in enumerate(flat):
                if isinstance(v, TensorArray):
                    args.append(_stand_in(v))
                else:
                    t = convert_to_tensor(v)
                    args.append(make_arg(t, t.shape))
            result = nest.flatten(_single(body(*nest.pack_sequence_as(top, args)), top))
            for k in slots:
                if k < len(result) and isinstance(result[k], TensorArray):
                    found[k] = result[k].element_shape
            raise _Discard()
    except _Discard:
        pass
    return found


def _written_dims(body, top: list, flat: list, slots: list) -> dict:
    """Shape tensors of the elements the body writes into the arrays at `slots`, for element shapes that
    are partly unknown at graph construction: the body runs once more on the loop's initial values, outside
    the loop, and only the shapes of what it writes are used (the compiler drops the rest)."""
    graph = get_default_graph()
    start = len(graph.get_operations())
    args = [_stand_in(v) if isinstance(v, TensorArray) else v for v in flat]
    result = nest.flatten(_single(body(*nest.pack_sequence_as(top, args)), top))
    if any(assigns_variables(op) or is_stateful(op.type) for op in graph.get_operations()[start:]):
        return {}   # running it outside the loop would have effects
    return {k: shape_ops.shape(result[k].buffer)[1:] for k in slots
            if k < len(result) and isinstance(result[k], TensorArray) and result[k].buffer is not None}


def _stand_in(ta: TensorArray) -> TensorArray:
    """A fixed-size copy of `ta` for a trace of the body that only looks at the shapes written into it."""
    copy = ta._with_element(ta.element_shape)
    copy._dynamic_size, copy._size = False, max(ta.capacity or 0, 1)
    copy._shapes_only = True    # a write past its size (at the array's size, as appends write) is no error
    return copy


def _sized_for_loop(ta: TensorArray, limit: int | None, shape, dims=None, grows=False) -> TensorArray:
    """`ta` with a buffer that holds every row the loop may write (`dims`: the element's shape tensor);
    `grows`: the buffer of its rows so far, which the loop grows."""
    rows = None
    if ta.dynamic_size and not grows:
        if limit is None:
            raise errors.unimplemented(
                f"TensorArray '{ta._name}' (dynamic_size=True) in a tf.while_loop without a compile-time "
                "maximum_iterations: xlite sizes the array's buffer at compile time, so give the loop "
                "maximum_iterations (a constant) or the array a fixed size")
        rows = (ta.capacity or 0) + limit
    if ta.buffer is None:
        if shape is not None:
            ta = ta._with_element(shape)
        if not ta.element_shape.is_fully_defined() and dims is not None:
            size = ta._size if rows is None else rows
            static = _static_int(size)
            return ta._with(ta._zeros(static if static is not None else size, dims))
        if not ta.element_shape.is_fully_defined():
            raise errors.unimplemented(
                f"TensorArray '{ta._name}' enters a tf.while_loop with element shape {ta.element_shape}: xlite "
                "compiles the array as a buffer of static shape, so its elements' shape must be known at graph "
                "construction (pass element_shape= with every dimension, or write values of fully known shape)")
        return ta._materialized(None, rows)
    if rows is not None and ta.capacity is not None and rows > ta.capacity:
        ta = ta._grown(rows - 1)
    return ta


def while_loop(loop_fn, cond, body, loop_vars, top: list, make_arg, shape_invariants=None,
               maximum_iterations=None, return_same_structure=False, **kwargs):
    """tf.while_loop (`loop_fn`) over loop variables some of which are TensorArrays."""
    flat = list(nest.flatten(top))
    slots = [k for k, v in enumerate(flat) if isinstance(v, TensorArray)]
    limit = None if maximum_iterations is None else _static_int(maximum_iterations)
    growing = [k for k in slots if flat[k].dynamic_size and (limit is None or flat[k]._loop_size is not None)]
    pending = [k for k in slots if flat[k].buffer is None and not flat[k].element_shape.is_fully_defined()]
    shapes = _trial_shapes(body, top, flat, pending, make_arg) if pending else {}
    partial = [k for k in pending if k in shapes and not shapes[k].is_fully_defined()]
    dims = _written_dims(body, top, flat, partial) if partial else {}
    templates = {}
    for k in slots:
        flat[k] = _sized_for_loop(flat[k], limit, shapes.get(k), dims.get(k), k in growing)
        templates[k] = flat[k]
    sizes = [templates[k].size() for k in growing]

    def arrays(values, grown_sizes=()) -> list:
        values = list(nest.flatten(list(values)))
        for k in slots:
            inner = templates[k]._with(values[k])
            inner._dynamic_size = k in growing   # other arrays cannot grow: their buffers are loop state
            values[k] = inner
        for k, size in zip(growing, grown_sizes):
            values[k]._loop_size = size
        return nest.pack_sequence_as(top, values)

    def flows(result) -> list:
        result = _single(result, top)
        if not isinstance(result, (list, tuple)) or not nest.same_structure(list(top), list(result),
                                                                            check_types=False):
            raise ValueError(f"The body of tf.while_loop must return the same nested structure as loop_vars. "
                             f"loop_vars: {top!r}; body returned: {result!r}")
        out = list(nest.flatten(list(result)))
        for k, v in enumerate(out):
            if (k in slots) != isinstance(v, TensorArray):
                raise TypeError(f"loop variable {k} of tf.while_loop is {'a' if k in slots else 'not a'} "
                                f"TensorArray before an iteration but {v!r} after it")
            if k in slots:
                out[k] = v._materialized(None).buffer
        return nest.pack_sequence_as(top, out)

    if growing:
        return _growing_loop(loop_fn, cond, body, loop_vars, top, flat, slots, growing, templates, sizes, arrays,
                             flows, shape_invariants, maximum_iterations, return_same_structure, kwargs)
    if shape_invariants is not None:
        invariants = nest.flatten(shape_invariants) if nest.is_sequence(shape_invariants) else [shape_invariants]
        if len(invariants) == len(flat):
            for k in slots:
                invariants[k] = flat[k].buffer.shape
            shape_invariants = nest.pack_sequence_as(top, invariants)
    out = loop_fn(lambda *a: cond(*arrays(a)), lambda *a: flows(body(*arrays(a))),
                  nest.pack_sequence_as(top, [flat[k].buffer if k in slots else v for k, v in enumerate(flat)]),
                  shape_invariants=shape_invariants, maximum_iterations=maximum_iterations,
                  return_same_structure=True, **kwargs)
    return _outputs(out, top, slots, templates, loop_vars, return_same_structure)


def _outputs(out, top: list, slots: list, templates: dict, loop_vars, return_same_structure: bool):
    """The loop's results as the user's structure, arrays again."""
    values = list(nest.flatten(list(out)))
    for k in slots:
        values[k] = templates[k]._with(values[k])
    outputs = nest.pack_sequence_as(top, values)
    if len(top) == 1 and (not return_same_structure or top is not loop_vars):
        return outputs[0]
    return outputs


def _growing_loop(loop_fn, cond, body, loop_vars, top, flat, slots, growing, templates, sizes, arrays, flows,
                  shape_invariants, maximum_iterations, return_same_structure, kwargs):
    """The loop of arrays some of which grow (`growing`: their slots; `sizes`: their sizes now): the loop
    variables are the user's, the arrays as buffers of any number of rows, then the growing arrays' sizes."""
    start = [flat[k].buffer if k in slots else convert_to_tensor(v) for k, v in enumerate(flat)]
    if shape_invariants is None:
        invariants = [t.shape for t in start]
    else:
        invariants = nest.flatten(shape_invariants) if nest.is_sequence(shape_invariants) else [shape_invariants]
        if len(invariants) != len(flat):
            raise ValueError(f"shape_invariants has {len(invariants)} shapes for {len(flat)} loop variables")
        invariants = [start[k].shape if k in slots else inv for k, inv in enumerate(invariants)]
    for k in growing:
        invariants[k] = TensorShape([None]).concatenate(start[k].shape[1:])

    def grown_body(values, grown_sizes):
        result = _single(body(*arrays(values, grown_sizes)), top)
        out = list(nest.flatten(list(result))) if isinstance(result, (list, tuple)) else []
        new_sizes = [out[k].size() if k < len(out) and isinstance(out[k], TensorArray) else s
                     for k, s in zip(growing, grown_sizes)]
        return [flows(result), new_sizes]

    out = loop_fn(lambda values, grown_sizes: cond(*arrays(values, grown_sizes)), grown_body,
                  [nest.pack_sequence_as(top, start), sizes],
                  shape_invariants=[nest.pack_sequence_as(top, invariants), [TensorShape([])] * len(sizes)],
                  maximum_iterations=maximum_iterations, return_same_structure=True, **kwargs)
    buffers, grown_sizes = out
    loop = nest.flatten(list(buffers))[growing[0]].op
    loop.attrs["growing_arrays"] = tuple((k, len(flat) + j, templates[k]._name) for j, k in enumerate(growing))
    loop.attrs["relaxed"] = tuple(sorted(set(loop.attrs["relaxed"]) | set(growing)))  # (from [None] too: nested)
    outputs = _outputs(buffers, top, slots, templates, loop_vars, return_same_structure)
    values = nest.flatten(outputs if isinstance(outputs, (list, tuple)) and len(top) > 1 else [outputs])
    for k, size in zip(growing, grown_sizes):
        if values[k]._loop_size is not None:    # an array an enclosing loop grows: its size is now this one's
            values[k]._loop_size = size
    return outputs


def cond_branches(fns):
    """tf.cond's branch functions with TensorArray results returned as their buffers, and the function
    that turns the cond's outputs back into TensorArrays."""
    returned: dict = {}

    def as_buffers(fn, key):
        def run():
            result = fn()
            flat = nest.flatten(result)
            if not any(isinstance(v, TensorArray) for v in flat):
                return result
            returned[key] = flat
            return nest.pack_sequence_as(result, [v._materialized(None).buffer if isinstance(v, TensorArray) else v
                                                  for v in flat])
        return run

    def arrays(result):
        template = returned.get(0) or returned.get(1)
        flat = nest.flatten(result)
        if template is None or len(template) != len(flat):
            return result
        return nest.pack_sequence_as(result, [t._with(v) if isinstance(t, TensorArray) else v
                                              for t, v in zip(template, flat)])

    return [as_buffers(fn, k) for k, fn in enumerate(fns)], arrays
