"""tf.random_normal, truncated_normal, random_uniform: counter-based Philox, the same on every backend.

Each random op lowers to one IR `rng` whose 64-bit key comes from the op's
seeds (TF's graph-seed/op-seed rule) and whose counter is the Session's run
number, so a seeded graph repeats its values in every fresh Session while
successive runs of one Session draw new ones.
"""
from __future__ import annotations

import secrets
import weakref

import numpy as np

from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import no_gradient
from xlite.frontend import execution_hook
from xlite.frontend.graph import Tensor, executing_eagerly, get_default_graph
from xlite.frontend.math_ops import FLOATS, add, multiply
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.scopes import name_scope
from xlite.frontend.tensor_shape import TensorShape
from xlite.ir import dtypes
from xlite.ir.shape import Shape

__all__ = ["get_seed", "random_normal", "random_uniform", "set_random_seed", "truncated_normal"]

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2 ** 31 - 1
_graph_seed_counts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # graph -> ops seeded by it
_SHORT_SIGNIFICANDS = {"float16": 11, "bfloat16": 8}   # significand bits of the types narrower than float32
_DISTRIBUTIONS = {"RandomStandardNormal": "normal", "TruncatedNormal": "truncated_normal",
                  "RandomUniform": "uniform", "RandomUniformInt": "uniform"}


# seeds ---------------------------------------------------------------------------------------
def set_random_seed(seed) -> None:
    """The default graph's seed, from which every random op without its own seed derives one.
    While executing eagerly it also starts the sequence again (xlite/eager/context.py), as in TF."""
    get_default_graph().seed = None if seed is None else int(seed)
    if execution_hook.on_random_seed is not None and executing_eagerly():
        execution_hook.on_random_seed()


set_seed = set_random_seed


def get_seed(op_seed) -> tuple:
    """TF's rule: (graph seed, op seed), where an op without a seed takes the next number of a per-graph
    count of such ops; (None, None) when neither seed is set. Seeds are truncated to 31 bits, as in TF."""
    graph = get_default_graph()
    if graph.seed is not None:
        if op_seed is None:
            op_seed = _graph_seed_counts.get(graph, 0)
            _graph_seed_counts[graph] = op_seed + 1
        seeds = (int(graph.seed) % _MAXINT32, int(op_seed) % _MAXINT32)
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, int(op_seed) % _MAXINT32)
    else:
        return None, None
    return (0, _MAXINT32) if seeds == (0, 0) else seeds   # (0, 0) means "unseeded" to TF's kernels


def _key(seed, seed2) -> tuple[int, int]:
    """The Philox key for an op's seeds; an unseeded op gets a fresh random key when it is created."""
    if seed is None:
        return secrets.randbits(32), secrets.randbits(32)
    return seed, seed2


# lowering ---------------------------------------------------------------------------------------
def _result_dims(ctx, shape_inst) -> tuple:
    value = ctx.constant_value(shape_inst)
    if value is not None:
        return tuple(int(d) for d in np.asarray(value).reshape(-1))
    if not ctx.static:
        raise ValueError("the shape of a random op must be computable when the run is compiled")
    count = 1 if shape_inst.shape.rank == 0 else shape_inst.shape.dims[0]
    return () if count is None else (None,) * count   # unknown rank: _random_op overrides the static shape


def _rng(ctx, op, shape_inst, dtype):
    dims = _result_dims(ctx, shape_inst)
    return ctx.b.emit("rng", (ctx.rng_counter(),), Shape(dtype, dims),
                      distribution=_DISTRIBUTIONS[op.type], key=op.attrs["_key"])


@lowering("RandomStandardNormal", "TruncatedNormal", "RandomUniform", stateful=True)
def _lower_random(ctx, op, shape_inst):
    dtype = op.attrs["dtype"]
    bits = _SHORT_SIGNIFICANDS.get(dtype.name)
    if op.type != "RandomUniform" or bits is None:
        return _rng(ctx, op, shape_inst, dtype)
    # keep only as many bits as the narrow type holds, so rounding can never reach 1.0
    b = ctx.b
    u = _rng(ctx, op, shape_inst, dtypes.float32)
    scale = b.broadcast_to(b.scalar(2.0 ** bits, dtypes.float32), u.shape.dims)
    return b.convert(b.emit("div", (b.emit("floor", (b.emit("mul", (u, scale)),)), scale)), dtype)


@lowering("RandomUniformInt", stateful=True)
def _lower_random_int(ctx, op, shape_inst, minval, maxval):
    """minval + floor(u * (maxval - minval)): u has 23 random bits, exact in float64, so u * range < range."""
    b = ctx.b
    lo, hi = ctx.constant_value(minval), ctx.constant_value(maxval)
    if not ctx.static and lo is not None and hi is not None and not lo < hi:
        raise ValueError(f"Need minval < maxval: {lo} >= {hi}")
    u = _rng(ctx, op, shape_inst, dtypes.float64)
    dims = u.shape.dims
    width = b.emit("sub", (b.convert(maxval, dtypes.float64), b.convert(minval, dtypes.float64)))
    offset = b.emit("floor", (b.emit("mul", (u, b.broadcast_to(width, dims))),))
    return b.emit("add", (b.convert(offset, op.attrs["dtype"]), b.broadcast_to(minval, dims)))


no_gradient(*_DISTRIBUTIONS)   # samples do not depend differentiably on their shape or bounds


# API -----------------------------------------------------------------------------------------------
def _shape_tensor(shape) -> Tensor:
    if isinstance(shape, Tensor) or hasattr(shape, "_as_tensor"):
        shape = convert_to_tensor(shape)
        if not shape.dtype.is_integer or (shape.shape.ndims or 0) > 1:
            raise ValueError(f"shape must be a 1-D integer tensor, got {shape}")
        return shape
    if isinstance(shape, (list, tuple)) and any(isinstance(d, Tensor) or hasattr(d, "_as_tensor") for d in shape):
        from xlite.frontend.array_ops import stack   # a shape mixing tensors and ints, packed as TF does
        return stack([convert_to_tensor(d, dtype=dtypes.int32) for d in shape], name="shape")
    dims = TensorShape(shape).as_list() if isinstance(shape, TensorShape) else np.asarray(shape).reshape(-1)
    if any(d is None for d in dims):
        raise ValueError(f"Cannot create a random tensor of partially known shape {shape}")
    dims = np.asarray(dims, dtype=np.int64)
    if dims.size and dims.min() < 0:
        raise ValueError(f"Dimensions must be non-negative, got shape {list(dims)}")
    narrow = not dims.size or dims.max() <= np.iinfo(np.int32).max
    return convert_to_tensor(dims.astype(np.int32 if narrow else np.int64), name="shape")


def _random_op(op_type: str, inputs, dtype, seed, name: str) -> Tensor:
    seed1, seed2 = get_seed(seed)
    attrs = {"dtype": dtype, "seed": seed1 or 0, "seed2": seed2 or 0, "_key": _key(seed1, seed2)}
    return make_op(op_type, inputs, attrs, name=name, output_shapes=[_static_shape(inputs[0])]).outputs[0]


def _static_shape(shape: Tensor) -> TensorShape:
    """What graph construction knows of a shape tensor's value (TF's constant_value_as_shape)."""
    if shape._static_value is not None:
        return TensorShape([int(d) for d in np.asarray(shape._static_value).reshape(-1)])
    if shape.op.type == "Shape":
        return shape.op.inputs[0].shape
    if shape.op.type == "Pack":
        return TensorShape([None if t._static_value is None else int(t._static_value) for t in shape.op.inputs])
    if shape.shape.ndims == 1 and shape.shape.dims[0] is not None:
        return TensorShape([None] * shape.shape.dims[0])
    return TensorShape(None if shape.shape.ndims else [])


def _scaled(op_type, default_name, shape, mean, stddev, dtype, seed, name) -> Tensor:
    dtype = dtypes.as_dtype(dtype)
    if dtype not in FLOATS:
        raise ValueError(f"Invalid dtype {dtype.name} for {default_name}: a floating-point type is required")
    with name_scope(name, default_name, [shape, mean, stddev]) as scope:
        shape = _shape_tensor(shape)
        mean = convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev = convert_to_tensor(stddev, dtype=dtype, name="stddev")
        rnd = _random_op(op_type, [shape], dtype, seed, op_type)
        return add(rnd * stddev, mean, name=scope)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None) -> Tensor:
    """Normal values (Box-Muller on Philox words) scaled to `mean` and `stddev`."""
    return _scaled("RandomStandardNormal", "random_normal", shape, mean, stddev, dtype, seed, name)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None) -> Tensor:
    """Normal values conditioned to lie within two standard deviations of the mean."""
    return _scaled("TruncatedNormal", "truncated_normal", shape, mean, stddev, dtype, seed, name)


def random_uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None) -> Tensor:
    """Uniform in [minval, maxval); floats default to [0, 1), integers need an explicit maxval."""
    dtype = dtypes.as_dtype(dtype)
    if dtype not in FLOATS + (dtypes.int32, dtypes.int64):
        raise ValueError(f"Invalid dtype {dtype.name} for random_uniform")
    if maxval is None:
        if dtype.is_integer:
            raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
        maxval = 1
    from_zero = isinstance(minval, int) and minval == 0
    to_one = isinstance(maxval, int) and maxval == 1
    with name_scope(name, "random_uniform", [shape, minval, maxval]) as scope:
        shape = _shape_tensor(shape)
        if not (from_zero and to_one) or dtype.is_integer:
            minval = convert_to_tensor(minval, dtype=dtype, name="min")
            maxval = convert_to_tensor(maxval, dtype=dtype, name="max")
        if dtype.is_integer:
            for bound in (minval, maxval):
                if bound.shape.ndims not in (None, 0):
                    raise ValueError(f"minval and maxval must be scalars for integer dtypes, got {bound.shape}")
            return _random_op("RandomUniformInt", [shape, minval, maxval], dtype, seed, scope)
        rnd = _random_op("RandomUniform", [shape], dtype, seed, "RandomUniform")
        if not from_zero:
            return add(rnd * (maxval - minval), minval, name=scope)
        return rnd if to_one else multiply(rnd, maxval)     # TF skips the arithmetic for Python 0 and 1


normal = random_normal
uniform = random_uniform
