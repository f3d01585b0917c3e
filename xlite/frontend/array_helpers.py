"""What the array ops share: their lowering decorator, compile-time arguments, and shape vectors known in part.

Shapes, axes and permutations given as tensors must be compile-time constants
when a run is lowered (every `tf.shape` is a constant then). At graph
construction they may be known only in part (`[tf.shape(x)[0], 10]`); like
TF's `constant_value_as_shape`, `partial_value` walks the graph to recover the
known elements so static shapes stay as precise as TF's.
"""
from __future__ import annotations

import contextlib
import functools

import numpy as np

from xlite import errors
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.graph import Tensor, get_default_graph
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.slice_spec import slice_python_list
from xlite.ir.symbolic import is_symbolic
from xlite.ir import dtypes
from xlite.ir.module import Instruction
from xlite.ir.shape import Shape

_FOLD_LIMIT = 4096   # results up to this many elements become constants at graph construction


def array_lowering(*op_types: str, outputs=None):
    """`lowering`, plus what every array op wants at graph construction.

    Inputs of unknown rank give outputs of unknown shape (of dtype attr `out_type`, `T` or `Tidx`;
    `outputs(op)` counts them for multi-output ops), and small results computable from
    constants become constants, so `tf.shape(x)[0]` of a known shape is itself known."""
    def register(fn):
        @functools.wraps(fn)
        def rule(ctx, op, *operands):
            if ctx.static and any(t.shape.ndims is None for t in op.inputs):
                dtype = op.attrs.get("out_type") or op.attrs.get("T") or op.attrs["Tidx"]
                if outputs is None:
                    return ctx.unknown(Shape(dtype, ()))
                return [ctx.unknown(Shape(dtype, ())) for _ in range(outputs(op))]
            result = fn(ctx, op, *operands)
            if not ctx.static:
                return result
            if isinstance(result, (list, tuple)):
                return [_fold(ctx, r) for r in result]
            return _fold(ctx, result)
        return lowering(*op_types)(rule)
    return register


def _fold(ctx, inst):
    if inst.opcode == "constant" or not inst.shape.is_static or inst.shape.num_elements > _FOLD_LIMIT:
        return inst
    value = ctx.constant_value(inst)
    return inst if value is None else ctx.b.constant(np.asarray(value, dtype=inst.dtype.np))


class NeedsFedValue(errors.UnimplementedError):
    """A shape-like operand computed from values fed to the run: the Session compiles the run again with
    the small integer feeds it needs as constants (runtime/session.py); elsewhere it is TF's Unimplemented."""


def constant_arg(ctx, op, inst, what: str) -> np.ndarray | None:
    """The NumPy value of a shape-like operand; None at graph construction when it is not yet known."""
    value = ctx.constant_value(inst)
    if value is None and not ctx.static:
        raise NeedsFedValue(
            None, None, f"{op.type} '{op.name}': {what} must be a compile-time constant (a constant, computed from "
                        f"shapes, or computed from small integer feeds); xlite compiles static shapes")
    return value


def shape_arg(ctx, op, index: int, inst) -> list | None:
    """A shape vector operand as a list of ints, None for elements unknown at graph construction.

    None when even its length is unknown."""
    value = constant_arg(ctx, op, inst, f"input {index} (a shape)")
    if value is not None:       # (a shape of symbolic sizes keeps them: xlite/ir/symbolic.py)
        return [v if is_symbolic(v) else int(v) for v in np.reshape(value, -1)]
    return partial_value(op.inputs[index])


def partial_value(t: Tensor) -> list | None:
    """The elements of a small int scalar or vector known at graph construction (None where unknown).

    A scalar is a 1-element list; None when the length itself is unknown."""
    if t._static_value is not None:
        return [int(v) for v in np.reshape(t._static_value, -1)]
    ndims = t.shape.ndims
    if ndims is None or ndims > 1:
        return None
    n = 1 if ndims == 0 else t.shape.dims[0]
    found = _walk(t)
    if found is not None and (n is None or len(found) == n):
        return found
    return None if n is None else [None] * n


def _walk(t: Tensor) -> list | None:
    op = t.op
    if op.type in ("Shape", "ShapeN"):
        dims = op.inputs[t.value_index].shape.dims
        return None if dims is None else list(dims)
    if op.type in ("Identity", "Cast", "Reshape", "StopGradient"):
        return partial_value(op.inputs[0])
    if op.type == "Pack" and op.attrs["axis"] == 0 and all(i.shape.ndims == 0 for i in op.inputs):
        return [partial_value(i)[0] for i in op.inputs]
    if op.type == "ConcatV2":
        parts = [partial_value(i) for i in op.inputs[:-1]]
        if any(p is None for p in parts):
            return None
        return [v for p in parts for v in p]
    if op.type == "StridedSlice":
        source = partial_value(op.inputs[0])
        args = [i._static_value for i in op.inputs[1:]]
        if source is None or op.inputs[0].shape.ndims != 1 or any(a is None for a in args):
            return None
        masks = {k: op.attrs[k] for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                          "shrink_axis_mask")}
        return slice_python_list(source, *[list(np.reshape(a, -1)) for a in args], **masks)
    return None


@contextlib.contextmanager
def op_scope(name: str | None, default: str, graph=None):
    """TF's name scope for an op and its constant inputs: yields the op's absolute name ('Reshape/')."""
    graph = graph or get_default_graph()
    with graph.as_default(), graph.name_scope(name or default) as scope:
        yield scope


def is_tensor_like(value) -> bool:
    return isinstance(value, Tensor) or hasattr(value, "_as_tensor")


def as_int_tensor(value, name: str, dtype: dtypes.DType | None = None) -> Tensor:
    """A shape, axis or index argument as an int32/int64 tensor; lists holding tensors are stacked (autopacking)."""
    if isinstance(value, (list, tuple)) and any(is_tensor_like(v) for v in value):
        items = [convert_to_tensor(v) for v in value if is_tensor_like(v)]
        dtype = dtype or (dtypes.int64 if any(i.dtype == dtypes.int64 for i in items) else dtypes.int32)
        elements = []
        for v in value:
            t = convert_to_tensor(v) if is_tensor_like(v) else convert_to_tensor(v, dtype=dtype)
            if t.dtype != dtype:
                from xlite.frontend.math_ops import cast
                t = cast(t, dtype)
            elements.append(t)
        _check_int(elements[0], name)
        return make_op("Pack", elements, {"axis": 0, "N": len(elements), "T": dtype}, name=name).outputs[0]
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu" and dtype is None:
        t = convert_to_tensor(value.astype(np.int64 if value.dtype.itemsize > 4 else np.int32), name=name)
    else:
        t = convert_to_tensor(value, dtype=None if is_tensor_like(value) else dtype,
                              preferred_dtype=dtypes.int32, name=name)
    _check_int(t, name)
    return t


def _check_int(t: Tensor, name: str) -> None:
    if t.dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"Value passed to parameter '{name}' has DataType {t.dtype.name} not in list of "
                        f"allowed values: int32, int64")


def normalize_axis(axis: int, rank: int, what: str = "axis") -> int:
    if not -rank <= axis < rank:
        raise ValueError(f"{what} {axis} is out of range [{-rank}, {rank}) for a tensor of rank {rank}")
    return axis % rank


def scalar_arg(ctx, op, inst, what: str, index: int | None = None) -> int | None:
    """A scalar int operand; at graph construction also one found by `partial_value` of op.inputs[index]."""
    value = constant_arg(ctx, op, inst, what)
    if value is None and index is not None:
        known = partial_value(op.inputs[index])
        value = None if known is None or len(known) != 1 else known[0]
    if value is None:
        return None
    value = np.asarray(value)
    if value.size != 1:
        raise ValueError(f"{what} must be a scalar, got shape {list(value.shape)}")
    return int(value.reshape(()))


# IR emission shared by the slicing, splitting and padding rules ---------------------
def slice_ir(b, x: Instruction, starts, limits, strides=None) -> Instruction:
    """An IR slice, or x itself when it takes everything."""
    strides = tuple(strides or (1,) * x.shape.rank)
    if tuple(starts) == (0,) * x.shape.rank and tuple(limits) == x.shape.dims and set(strides) <= {1}:
        return x
    return b.emit("slice", (x,), start_indices=tuple(starts), limit_indices=tuple(limits), strides=strides)


def slice_dim(b, x: Instruction, axis: int, start: int, stop: int) -> Instruction:
    dims = x.shape.dims
    return slice_ir(b, x, [start if d == axis else 0 for d in range(len(dims))],
                    [stop if d == axis else n for d, n in enumerate(dims)])


def pad_dim(b, x: Instruction, axis: int, low: int, high: int) -> Instruction:
    """Zeros before and after x along one axis."""
    if not low and not high:
        return x
    rank = x.shape.rank
    return b.emit("pad", (x, b.scalar(0, x.dtype)), low=tuple(low if d == axis else 0 for d in range(rank)),
                  high=tuple(high if d == axis else 0 for d in range(rank)), interior=(0,) * rank)


def zeros_ir(b, dtype, dims) -> Instruction:
    return b.broadcast_in_dim(b.scalar(0, dtype), tuple(dims), ())
