"""Scatters into a tensor or a Variable: tf.tensor_scatter_nd_add/sub/update, tf.scatter_add/sub/update and
tf.scatter_nd_add/sub/update, each one IR `scatter_add` over the rows the indices name.

A Variable's scatter reads it and assigns the scattered value, which the
compiler updates in place (the assign's output is the Variable's buffer).
Out-of-range index tuples are dropped, XLA's rule; indices known when the graph
is built are checked then, with TF's InvalidArgumentError. An update with a
repeated index keeps the last write, as TF's CPU kernel does.
"""
from __future__ import annotations

import numpy as np

from xlite import errors
from xlite.frontend.array_helpers import array_lowering, op_scope, zeros_ir
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.fill_ops import zeros_like
from xlite.frontend.gather_ops import _check_indices, _linear_index, _scatter_nd_updates_grad
from xlite.frontend.gradients import grad_rule, no_gradient
from xlite.frontend.graph import Tensor
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.variables import _variable_tensor
from xlite.ir import dtypes
from xlite.ir.shape import Shape

__all__ = ["tensor_scatter_nd_add", "tensor_scatter_nd_sub", "tensor_scatter_nd_update", "scatter_add",
           "scatter_sub", "scatter_update", "scatter_nd_add", "scatter_nd_sub", "scatter_nd_update"]

_MODES = {"Add": "add", "Sub": "sub", "Update": "update"}


def _last_writes(b, linear):
    """keep[j]: no later j' writes the same row (so the last of repeated writes wins)."""
    n = linear.shape.dims[0]
    same = b.compare(b.broadcast_in_dim(linear, (n, n), (0,)), b.broadcast_in_dim(linear, (n, n), (1,)), "EQ")
    later = b.compare(b.iota(dtypes.int32, (n, n), 1), b.iota(dtypes.int32, (n, n), 0), "GT")
    return b.emit("not", (b.reduce(b.emit("and", (same, later)), "or", [1]),))


def scatter_ir(b, mode: str, tensor, indices, updates):
    """tensor with updates added, subtracted or written at the index tuples along indices' last axis."""
    dims = tensor.shape.dims
    k = indices.shape.dims[-1]
    lead, rest = dims[:k], tuple(dims[k:])
    rows = int(np.prod(lead, dtype=np.int64))
    batch = indices.shape.dims[:-1]
    n = int(np.prod(batch, dtype=np.int64))
    flat = b.reshape(tensor, (rows,) + rest)
    linear = b.reshape(_linear_index(b, indices, lead, clamp=False), (n,))
    upd = b.reshape(updates, (n,) + rest)
    if mode == "sub":
        upd = b.emit("neg", (upd,))
    if mode != "update" or n == 0:
        out = b.emit("scatter_add", (flat, linear, upd), axis=0)
    else:
        keep = _last_writes(b, linear)
        touched = b.emit("scatter_add", (zeros_ir(b, dtypes.int32, (rows,)), linear, b.convert(keep, dtypes.int32)),
                         axis=0)
        touched = b.compare(touched, zeros_ir(b, dtypes.int32, (rows,)), "GT")
        kept = b.emit("select", (b.broadcast_in_dim(keep, upd.shape.dims, (0,)), upd,
                                 zeros_ir(b, upd.dtype, upd.shape.dims)))
        written = b.emit("scatter_add", (zeros_ir(b, flat.dtype, flat.shape.dims), linear, kept), axis=0)
        out = b.emit("select", (b.broadcast_in_dim(touched, flat.shape.dims, (0,)), written, flat))
    return b.reshape(out, dims)


def _check_shapes(op_type: str, dims, indices, updates) -> None:
    k = indices.shape.dims[-1]
    if k is not None and k > len(dims):
        raise ValueError(f"{op_type}: index innermost dimension length must be <= tensor rank; saw: {k} vs. "
                         f"{len(dims)}")
    if k is None:
        return
    want = tuple(indices.shape.dims[:-1]) + tuple(dims[k:])
    got = updates.shape.dims
    if len(got) != len(want) or any(None not in (a, w) and a != w for a, w in zip(got, want)):
        raise ValueError(f"{op_type}: updates must have shape {list(want)} (indices.shape[:-1] + "
                         f"tensor.shape[{k}:]), got {list(got)}")


def _unknown(dims, indices, updates) -> bool:
    return None in dims or None in indices.shape.dims or None in updates.shape.dims


@array_lowering("TensorScatterAdd", "TensorScatterSub", "TensorScatterUpdate")
def _lower_tensor_scatter(ctx, op, tensor, indices, updates):
    dims = tensor.shape.dims
    _check_shapes(op.type, dims, indices, updates)
    if ctx.static and _unknown(dims, indices, updates):
        return ctx.unknown(Shape(tensor.dtype, dims))
    return scatter_ir(ctx.b, _MODES[op.type[len("TensorScatter"):]], tensor, indices, updates)


@lowering("ScatterAdd", "ScatterSub", "ScatterUpdate", "ScatterNdAdd", "ScatterNdSub", "ScatterNdUpdate",
          stateful=True, ref_input=True)
def _lower_variable_scatter(ctx, op, _var, indices, updates):
    var_op = op.inputs[0].op
    current = ctx.read_variable(var_op)
    dims = current.shape.dims
    b = ctx.b
    nd = op.type.startswith("ScatterNd")
    if not nd:
        indices = b.reshape(indices, tuple(indices.shape.dims) + (1,))
    _check_shapes(op.type, dims, indices, updates)
    if ctx.static and _unknown(dims, indices, updates):
        return ctx.unknown(Shape(current.dtype, dims))
    mode = _MODES[op.type[len("ScatterNd" if nd else "Scatter"):]]
    return ctx.assign_variable(var_op, scatter_ir(b, mode, current, indices, updates))


# TF's state_grad: a Variable's update passes no gradient
no_gradient("ScatterAdd", "ScatterSub", "ScatterUpdate", "ScatterNdAdd", "ScatterNdSub", "ScatterNdUpdate")


@grad_rule("TensorScatterAdd", "TensorScatterSub")
def _tensor_scatter_add_grad(op, g):
    indices = op.inputs[1]
    gu = _scatter_nd_updates_grad(g, indices)
    return [g, None, -gu if op.type == "TensorScatterSub" else gu]


@grad_rule("TensorScatterUpdate")
def _tensor_scatter_update_grad(op, g):
    """TF's rule: the written rows pass nothing back to the tensor; each update gets g at its index."""
    indices, updates = op.inputs[1], op.inputs[2]
    return [tensor_scatter_nd_update(g, indices, zeros_like(updates)), None, _scatter_nd_updates_grad(g, indices)]


# the API ------------------------------------------------------------------------------------------
def _check_static_indices(op_type: str, indices: Tensor, dims, nd: bool) -> None:
    """TF's run-time InvalidArgumentError, raised when the graph is built for indices known then."""
    value = indices._static_value
    if value is None or dims is None:
        return
    value = np.asarray(value).reshape(-1, value.shape[-1] if nd and np.ndim(value) else 1)
    for i, row in enumerate(value):
        bounds = dims[:len(row)]
        if any(d is not None and not 0 <= v < d for v, d in zip(row, bounds)):
            if nd:
                raise errors.InvalidArgumentError(
                    None, None, f"{op_type}: indices[{i}] = [{', '.join(map(str, row))}] does not index into "
                                f"shape [{','.join(map(str, dims))}]")
            raise errors.InvalidArgumentError(None, None, f"{op_type}: indices[{i}] = {row[0]} is not in "
                                                          f"[0, {dims[0]})")


def _scatter_args(tensor: Tensor, indices, updates, op_type: str) -> tuple[Tensor, Tensor]:
    idx = convert_to_tensor(indices, name="indices")
    _check_indices(idx)
    upd = convert_to_tensor(updates, dtype=tensor.dtype, name="updates")
    if upd.dtype != tensor.dtype:
        raise TypeError(f"Input 'updates' of '{op_type}' Op has type {upd.dtype.name} that does not match type "
                        f"{tensor.dtype.name} of argument 'tensor'.")
    return idx, upd


def _tensor_scatter(op_type: str, tensor, indices, updates, name) -> Tensor:
    t = convert_to_tensor(tensor, name="tensor")
    with op_scope(name, op_type, t.graph) as scope:
        idx, upd = _scatter_args(t, indices, updates, op_type)
        if idx.shape.ndims == 0:
            raise ValueError(f"{op_type}: indices must be at least a vector")
        dims = t.shape.dims if t.shape.ndims is not None else None
        if dims is not None:
            _check_static_indices(op_type, idx, dims, nd=True)
        return make_op(op_type, [t, idx, upd], {"T": t.dtype, "Tindices": idx.dtype}, name=scope).outputs[0]


def _tensor_api(op_type: str, doc: str):
    def api(tensor, indices, updates, name=None) -> Tensor:
        return _tensor_scatter(op_type, tensor, indices, updates, name)
    api.__doc__ = doc
    return api


tensor_scatter_nd_add = _tensor_api("TensorScatterAdd", "tensor with updates added at the index tuples.")
tensor_scatter_nd_sub = _tensor_api("TensorScatterSub", "tensor with updates subtracted at the index tuples.")
tensor_scatter_nd_update = _tensor_api("TensorScatterUpdate", "tensor with the slices at the index tuples "
                                                              "replaced by updates (the last of repeats wins).")


def _variable_scatter(op_type: str, ref, indices, updates, name) -> Tensor:
    var = _variable_tensor(ref)
    with op_scope(name, op_type, var.graph) as scope:
        idx, upd = _scatter_args(var, indices, updates, op_type)
        nd = op_type.startswith("ScatterNd")
        if var.shape.ndims is not None:
            _check_static_indices(op_type, idx, var.shape.dims, nd)
        op = make_op(op_type, [var, idx, upd], {"T": var.dtype, "Tindices": idx.dtype, "use_locking": True},
                     name=scope)
        op.outputs[0]._shape = var.shape
        return op.outputs[0]


def _variable_api(op_type: str, doc: str, locking: bool = False):
    def api(ref, indices, updates, use_locking=locking, name=None) -> Tensor:
        return _variable_scatter(op_type, ref, indices, updates, name)
    api.__doc__ = doc + " Returns the Variable's new value."
    return api


scatter_add = _variable_api("ScatterAdd", "ref[indices[i], ...] += updates[i, ...].")
scatter_sub = _variable_api("ScatterSub", "ref[indices[i], ...] -= updates[i, ...].")
scatter_update = _variable_api("ScatterUpdate", "ref[indices[i], ...] = updates[i, ...].", locking=True)
scatter_nd_add = _variable_api("ScatterNdAdd", "ref[indices[i]] += updates[i] for index tuples.")
scatter_nd_sub = _variable_api("ScatterNdSub", "ref[indices[i]] -= updates[i] for index tuples.")
scatter_nd_update = _variable_api("ScatterNdUpdate", "ref[indices[i]] = updates[i] for index tuples.", locking=True)
