"""Result shapes for every opcode, and the errors for operands that do not fit.

Dims may be None (unknown) while the frontend builds a graph; a rule then
returns None wherever the answer depends on an unknown dim. Ops whose result
shape cannot be derived from their operands (parameter, iota, rng, reshape,
broadcast_in_dim, convert, bitcast, conditional, fusion, while) take it as
`result` and check it.
"""
from __future__ import annotations


from xlite.ir import dtypes
from xlite.ir.opcodes import ALL_REDUCE_KINDS, COMPARISON_DIRECTIONS, REDUCE_KINDS, RuleTable, op_info
from xlite.ir.shape import Shape, TupleShape


class ShapeError(ValueError):
    """An instruction's operands or attributes do not fit its opcode."""


_RULES = RuleTable()
shape_rule = _RULES.register


def has_shape_rule(opcode: str) -> bool:
    return opcode in _RULES


def infer_shape(opcode: str, operands: list, attrs: dict, result=None):
    arity = op_info(opcode).arity
    if arity is not None and len(operands) != arity:
        raise ShapeError(f"{opcode} takes {arity} operands, got {len(operands)}")
    return _RULES[opcode](opcode, list(operands), attrs, result)


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ShapeError(message)


def merge_dim(a, b, what: str):
    """Two dims that must agree; None agrees with anything."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    raise ShapeError(f"{what}: dimension {a} does not match {b}")


def _same_dims(opcode: str, shapes: list[Shape]) -> tuple:
    dims = shapes[0].dims
    for s in shapes[1:]:
        if s.dims == dims:            # the common case; messages are only formatted for an error
            continue
        _check(s.rank == len(dims), f"{opcode}: operand ranks differ: {shapes[0]} vs {s}")
        dims = tuple(merge_dim(a, b, f"{opcode}: shapes {shapes[0]} and {s}") for a, b in zip(dims, s.dims))
    return dims


def _axes(opcode: str, axes, rank: int, what: str = "dimensions") -> tuple:
    axes = tuple(axes)
    _check(all(0 <= a < rank for a in axes), f"{opcode}: {what} {axes} out of range for rank {rank}")
    _check(len(set(axes)) == len(axes), f"{opcode}: repeated {what} {axes}")
    return axes


def _check_result(opcode: str, result) -> None:
    """An explicit result shape: present, and (for arrays) no negative dims."""
    _check(result is not None, f"{opcode} needs an explicit result shape")
    if not result.is_tuple and not all(d is None or d >= 0 for d in result.dims):
        raise ShapeError(f"{opcode}: negative dimension in {result}")


@shape_rule("parameter", "iota", "rng", "fusion", "conditional")
def _explicit(opcode, operands, attrs, result):
    _check_result(opcode, result)
    if opcode == "iota":
        _check(0 <= attrs["dimension"] < result.rank, f"iota: dimension {attrs['dimension']} out of range")
        _check(not result.dtype.is_bool, f"iota: result must be numeric, got {result}")
    if opcode == "rng":
        _check(operands[0].dtype == dtypes.int64 and operands[0].rank == 0,
               f"rng: the counter operand must be s64[], got {operands[0]}")
        _check(attrs["distribution"] in ("uniform", "normal", "truncated_normal"),
               f"rng: unknown distribution {attrs['distribution']!r}")
        _check(result.dtype.is_floating, f"rng: result must be floating, got {result}")
        key = attrs["key"]
        _check(len(key) == 2 and all(0 <= int(k) < 2 ** 32 for k in key),
               f"rng: key must be two 32-bit words, got {key!r}")
    if opcode == "conditional":
        _check(len(operands) >= 2, "conditional takes a selector and at least one branch operand")
        sel = operands[0]
        _check(not sel.is_tuple and sel.rank == 0 and sel.dtype in (dtypes.bool_, dtypes.int32),
               f"conditional: selector must be pred[] or s32[], got {sel}")
        _check(sel.dtype != dtypes.bool_ or len(operands) == 3,
               "conditional: a pred selector takes exactly two branch operands")
    return result


@shape_rule("constant")
def _constant(opcode, operands, attrs, result):
    _check_result(opcode, result)
    if not result.is_static:
        raise ShapeError(f"constant: shape {result} must be fully known")
    return result


_FLOAT_ONLY = {"exp", "log", "log1p", "tanh", "logistic", "sqrt", "rsqrt", "sin", "cos",
               "floor", "ceil", "round", "is_finite"}


@shape_rule("neg", "abs", "exp", "log", "log1p", "tanh", "logistic", "sqrt", "rsqrt", "sign",
            "floor", "ceil", "round", "sin", "cos", "not", "is_finite")
def _unary(opcode, operands, attrs, result):
    (x,) = operands
    if opcode in _FLOAT_ONLY and not x.dtype.is_floating:
        raise ShapeError(f"{opcode}: operand must be floating point, got {x}")
    if opcode == "not":
        _check(x.dtype.is_bool or x.dtype.is_integer, f"not: operand must be pred or integer, got {x}")
    if opcode in ("neg", "abs", "sign"):
        _check(not x.dtype.is_bool, f"{opcode}: operand must be numeric, got {x}")
    dtype = dtypes.bool_ if opcode == "is_finite" else x.dtype
    return Shape(dtype, x.dims)


@shape_rule("add", "sub", "mul", "div", "rem", "pow", "max", "min", "and", "or", "compare")
def _binary(opcode, operands, attrs, result):
    a, b = operands
    if a.dtype != b.dtype:
        raise ShapeError(f"{opcode}: operand dtypes differ: {a} vs {b}")
    dims = _same_dims(opcode, operands)
    if opcode == "compare":
        _check(attrs.get("direction") in COMPARISON_DIRECTIONS,
               f"compare: direction must be one of {COMPARISON_DIRECTIONS}")
        return Shape(dtypes.bool_, dims)
    if opcode in ("and", "or"):
        _check(not a.dtype.is_floating, f"{opcode}: operands must be pred or integer, got {a}")
    elif opcode != "max" and opcode != "min" and a.dtype.is_bool:
        raise ShapeError(f"{opcode}: operands must be numeric, got {a}")
    return Shape(a.dtype, dims)


@shape_rule("select")
def _select(opcode, operands, attrs, result):
    pred, on_true, on_false = operands
    _check(pred.dtype == dtypes.bool_, f"select: predicate must be pred, got {pred}")
    _check(on_true.dtype == on_false.dtype, f"select: branch dtypes differ: {on_true} vs {on_false}")
    return Shape(on_true.dtype, _same_dims("select", operands))


@shape_rule("clamp")
def _clamp(opcode, operands, attrs, result):
    lo, x, hi = operands
    for bound in (lo, hi):
        _check(bound.dtype == x.dtype, f"clamp: bound dtype {bound} differs from operand {x}")
        if bound.rank:
            _same_dims("clamp", [bound, x])
    return Shape(x.dtype, x.dims)


@shape_rule("convert")
def _convert(opcode, operands, attrs, result):
    return Shape(dtypes.as_dtype(attrs["dtype"]), operands[0].dims)


@shape_rule("bitcast")
def _bitcast(opcode, operands, attrs, result):
    _check_result(opcode, result)
    x = operands[0]
    _check(x.dtype == result.dtype, f"bitcast: element type changes from {x} to {result}")
    if x.is_static and result.is_static:
        _check(x.byte_size == result.byte_size, f"bitcast: {x} and {result} differ in byte size")
    return result


@shape_rule("broadcast_in_dim")
def _broadcast_in_dim(opcode, operands, attrs, result):
    (x,) = operands
    _check_result(opcode, result)
    dims = tuple(attrs["dimensions"])
    _check(len(dims) == x.rank, f"broadcast_in_dim: {len(dims)} dimensions for operand rank {x.rank}")
    _axes(opcode, dims, result.rank)
    _check(list(dims) == sorted(dims), f"broadcast_in_dim: dimensions {dims} must increase")
    for i, d in enumerate(dims):
        src, dst = x.dims[i], result.dims[d]
        _check(src is None or dst is None or src == dst or src == 1,
               f"broadcast_in_dim: operand dim {i} of size {src} cannot broadcast to {dst}")
    return Shape(x.dtype, result.dims)


@shape_rule("reshape")
def _reshape(opcode, operands, attrs, result):
    (x,) = operands
    _check_result(opcode, result)
    if x.is_static and result.is_static:
        _check(x.num_elements == result.num_elements,
               f"reshape: cannot reshape {x} ({x.num_elements} elements) to {result.dims}")
    return Shape(x.dtype, result.dims)


@shape_rule("transpose")
def _transpose(opcode, operands, attrs, result):
    (x,) = operands
    perm = _axes(opcode, attrs["dimensions"], x.rank)
    _check(len(perm) == x.rank, f"transpose: permutation {perm} for rank {x.rank}")
    return Shape(x.dtype, tuple(x.dims[p] for p in perm))


@shape_rule("slice")
def _slice(opcode, operands, attrs, result):
    (x,) = operands
    starts, limits, strides = attrs["start_indices"], attrs["limit_indices"], attrs["strides"]
    _check(len(starts) == len(limits) == len(strides) == x.rank,
           f"slice: needs {x.rank} starts, limits and strides")
    dims = []
    for d, (lo, hi, st) in enumerate(zip(starts, limits, strides)):
        _check(st >= 1, f"slice: stride {st} must be positive")
        size = x.dims[d]
        _check(0 <= lo <= hi and (size is None or hi <= size),
               f"slice: [{lo}:{hi}] out of range for dimension {d} of {x}")
        dims.append(-(-(hi - lo) // st))
    return Shape(x.dtype, tuple(dims))


@shape_rule("pad")
def _pad(opcode, operands, attrs, result):
    x, value = operands
    _check(value.rank == 0 and value.dtype == x.dtype, f"pad: padding value must be a {x.dtype.ir_name} scalar")
    low, high, interior = attrs["low"], attrs["high"], attrs["interior"]
    _check(len(low) == len(high) == len(interior) == x.rank, f"pad: needs {x.rank} low, high, interior")
    dims = []
    for d, lo, hi, mid in zip(x.dims, low, high, interior):
        _check(mid >= 0, "pad: interior padding must be non-negative")
        if d is None:
            dims.append(None)
            continue
        size = lo + hi + d + max(d - 1, 0) * mid
        _check(size >= 0, f"pad: negative result size for dimension of size {d}")
        dims.append(size)
    return Shape(x.dtype, tuple(dims))


@shape_rule("concatenate")
def _concatenate(opcode, operands, attrs, result):
    _check(len(operands) >= 1, "concatenate needs at least one operand")
    axis = attrs["dimension"]
    first = operands[0]
    _check(0 <= axis < first.rank, f"concatenate: dimension {axis} out of range for {first}")
    total = 0
    dims = list(first.dims)
    for s in operands:
        _check(s.dtype == first.dtype and s.rank == first.rank, f"concatenate: {s} does not match {first}")
        for d in range(first.rank):
            if d != axis:
                dims[d] = merge_dim(dims[d], s.dims[d], f"concatenate: {s} vs {first}")
        total = None if total is None or s.dims[axis] is None else total + s.dims[axis]
    dims[axis] = total
    return Shape(first.dtype, tuple(dims))


@shape_rule("reverse")
def _reverse(opcode, operands, attrs, result):
    (x,) = operands
    _axes(opcode, attrs["dimensions"], x.rank)
    return x.with_layout(None)


@shape_rule("gather")
def _gather(opcode, operands, attrs, result):
    x, idx = operands
    axis = attrs["axis"]
    _check(idx.dtype.is_integer, f"gather: indices must be integer, got {idx}")
    _check(0 <= axis < x.rank, f"gather: axis {axis} out of range for {x}")
    return Shape(x.dtype, x.dims[:axis] + idx.dims + x.dims[axis + 1:])


@shape_rule("scatter_add")
def _scatter_add(opcode, operands, attrs, result):
    x, idx, updates = operands
    axis = attrs["axis"]
    _check(idx.dtype.is_integer, f"scatter_add: indices must be integer, got {idx}")
    _check(0 <= axis < x.rank, f"scatter_add: axis {axis} out of range for {x}")
    _check(not x.dtype.is_bool, f"scatter_add: operand must be numeric, got {x}")
    _check(updates.dtype == x.dtype, f"scatter_add: updates {updates} do not match {x}")
    expected = Shape(x.dtype, x.dims[:axis] + idx.dims + x.dims[axis + 1:])
    _check(updates.rank == expected.rank, f"scatter_add: updates {updates} should be {expected}")
    _same_dims("scatter_add", [updates, expected])
    return Shape(x.dtype, x.dims)


def _check_starts(opcode: str, x: Shape, starts: list) -> None:
    """One scalar s32 or s64 start per dim of x, all of one dtype (XLA's dynamic-slice operands)."""
    _check(len(starts) == x.rank, f"{opcode}: needs {x.rank} start indices for {x}, got {len(starts)}")
    for s in starts:
        _check(not s.is_tuple and s.rank == 0 and s.dtype in (dtypes.int32, dtypes.int64),
               f"{opcode}: start indices must be s32[] or s64[] scalars, got {s}")
        _check(s.dtype == starts[0].dtype, f"{opcode}: start indices differ in dtype: {starts[0]} vs {s}")


@shape_rule("dynamic_slice")
def _dynamic_slice(opcode, operands, attrs, result):
    """x[start_0:start_0 + size_0, ...] with starts read at run time (clamped into range by every backend)."""
    _check(len(operands) >= 1, "dynamic_slice needs an operand")
    x, starts = operands[0], operands[1:]
    _check_starts(opcode, x, starts)
    sizes = tuple(attrs["dynamic_slice_sizes"])
    _check(len(sizes) == x.rank, f"dynamic_slice: needs {x.rank} dynamic_slice_sizes for {x}, got {sizes}")
    for d, (n, size) in enumerate(zip(x.dims, sizes)):
        _check(0 <= size and (n is None or size <= n),
               f"dynamic_slice: size {size} out of range for dimension {d} of {x}")
    return Shape(x.dtype, sizes)


@shape_rule("dynamic_update_slice")
def _dynamic_update_slice(opcode, operands, attrs, result):
    """x with `update` written over the window at the run-time starts (clamped so the window fits)."""
    _check(len(operands) >= 2, "dynamic_update_slice needs an operand and an update")
    x, update, starts = operands[0], operands[1], operands[2:]
    _check_starts(opcode, x, starts)
    _check(update.dtype == x.dtype and update.rank == x.rank,
           f"dynamic_update_slice: update {update} does not match {x}")
    for d, (n, size) in enumerate(zip(x.dims, update.dims)):
        _check(None in (n, size) or size <= n,
               f"dynamic_update_slice: update {update} larger than {x} in dimension {d}")
    return Shape(x.dtype, x.dims)


@shape_rule("reduce")
def _reduce(opcode, operands, attrs, result):
    (x,) = operands
    kind = attrs["kind"]
    _check(kind in REDUCE_KINDS, f"reduce: unknown kind {kind!r}")
    if kind in ("and", "or"):
        _check(x.dtype == dtypes.bool_, f"reduce {kind}: operand must be pred, got {x}")
    else:
        _check(not x.dtype.is_bool, f"reduce {kind}: operand must be numeric, got {x}")
    axes = _axes(opcode, attrs["dimensions"], x.rank)
    return Shape(x.dtype, tuple(d for i, d in enumerate(x.dims) if i not in axes))


@shape_rule("argmax", "argmin")
def _argminmax(opcode, operands, attrs, result):
    (x,) = operands
    axis = attrs["dimension"]
    _check(0 <= axis < x.rank, f"{opcode}: dimension {axis} out of range for {x}")
    _check(x.dims[axis] != 0, f"{opcode}: cannot reduce an empty dimension of {x}")
    index_dtype = dtypes.as_dtype(attrs.get("index_dtype", "s64"))
    _check(index_dtype in (dtypes.int32, dtypes.int64), f"{opcode}: index type must be s32 or s64")
    return Shape(index_dtype, x.dims[:axis] + x.dims[axis + 1:])


def window_output_dims(dims, window, strides, padding) -> tuple:
    out = []
    for d, w, s, (lo, hi) in zip(dims, window, strides, padding):
        if d is None:
            out.append(None)
            continue
        padded = d + lo + hi
        out.append(max(0, (padded - w) // s + 1) if padded >= w else 0)
    return tuple(out)


def _window_attrs(opcode, x, attrs):
    window, strides, padding = attrs["window"], attrs["strides"], attrs["padding"]
    _check(len(window) == len(strides) == len(padding) == x.rank,
           f"{opcode}: window, strides and padding need {x.rank} entries")
    _check(all(w >= 1 for w in window) and all(s >= 1 for s in strides),
           f"{opcode}: window sizes and strides must be positive")
    _check(all(len(p) == 2 and p[0] >= 0 and p[1] >= 0 for p in padding),
           f"{opcode}: padding {padding} must be (low, high) pairs, non-negative")
    _check(not x.dtype.is_bool, f"{opcode}: operand must be numeric, got {x}")
    return window_output_dims(x.dims, window, strides, padding)


@shape_rule("reduce_window")
def _reduce_window(opcode, operands, attrs, result):
    (x,) = operands
    _check(attrs["kind"] in ("sum", "max", "min"), f"reduce_window: unknown kind {attrs['kind']!r}")
    return Shape(x.dtype, _window_attrs(opcode, x, attrs))


@shape_rule("select_and_scatter")
def _select_and_scatter(opcode, operands, attrs, result):
    """Max-pool's gradient: `source` holds one value per window of `x`."""
    x, source = operands
    expected = Shape(x.dtype, _window_attrs(opcode, x, attrs))
    _check(source.dtype == x.dtype and source.rank == x.rank,
           f"select_and_scatter: source {source} should be {expected}")
    _same_dims(opcode, [source, expected])
    return Shape(x.dtype, x.dims)


@shape_rule("dot")
def _dot(opcode, operands, attrs, result):
    lhs, rhs = operands
    _check(lhs.dtype == rhs.dtype, f"dot: operand dtypes differ: {lhs} vs {rhs}")
    _check(not lhs.dtype.is_bool, "dot: operands must be numeric")
    lb, rb = tuple(attrs["lhs_batch_dims"]), tuple(attrs["rhs_batch_dims"])
    lc, rc = tuple(attrs["lhs_contracting_dims"]), tuple(attrs["rhs_contracting_dims"])
    _axes(opcode, lb + lc, lhs.rank, "lhs dimensions")
    _axes(opcode, rb + rc, rhs.rank, "rhs dimensions")
    _check(len(lb) == len(rb) and len(lc) == len(rc), "dot: batch/contracting dimension counts differ")
    batch = tuple(merge_dim(lhs.dims[a], rhs.dims[b], f"dot: batch dims of {lhs} and {rhs}")
                  for a, b in zip(lb, rb))
    for a, b in zip(lc, rc):
        merge_dim(lhs.dims[a], rhs.dims[b], f"dot: contracting dims of {lhs} and {rhs}")
    lfree = tuple(d for i, d in enumerate(lhs.dims) if i not in lb + lc)
    rfree = tuple(d for i, d in enumerate(rhs.dims) if i not in rb + rc)
    return Shape(lhs.dtype, batch + lfree + rfree)


@shape_rule("convolution")
def _convolution(opcode, operands, attrs, result):
    """Dimension numbers: lhs_spec (batch, feature, spatial...), rhs_spec (out, in, spatial...), out_spec."""
    lhs, rhs = operands
    _check(lhs.dtype == rhs.dtype and lhs.dtype.is_floating, f"convolution: operands {lhs}, {rhs}")
    lspec, rspec, ospec = attrs["lhs_spec"], attrs["rhs_spec"], attrs["out_spec"]
    nsp = lhs.rank - 2
    _check(lhs.rank >= 2 and rhs.rank == lhs.rank and len(lspec) == len(rspec) == len(ospec) == lhs.rank,
           f"convolution: ranks of {lhs} and {rhs} do not match the dimension numbers")
    for spec in (lspec, rspec, ospec):
        _check(sorted(spec) == list(range(lhs.rank)), f"convolution: {spec} is not a permutation")
    groups = attrs.get("feature_group_count", 1)
    _check(groups >= 1, f"convolution: feature_group_count {groups} must be positive")
    in_feat = lhs.dims[lspec[1]]
    if in_feat is not None and rhs.dims[rspec[1]] is not None:
        _check(in_feat == rhs.dims[rspec[1]] * groups,
               f"convolution: input features {in_feat} != kernel input features {rhs.dims[rspec[1]]} x {groups}")
    out_feat = rhs.dims[rspec[0]]
    _check(out_feat is None or out_feat % groups == 0,
           f"convolution: output features {out_feat} not divisible by feature_group_count {groups}")
    strides = attrs["window_strides"]
    padding = attrs["padding"]
    lhs_dil = attrs.get("lhs_dilation", (1,) * nsp)
    rhs_dil = attrs.get("rhs_dilation", (1,) * nsp)
    _check(len(strides) == len(padding) == len(lhs_dil) == len(rhs_dil) == nsp,
           f"convolution: strides, padding and dilations need {nsp} entries")
    _check(all(v >= 1 for v in tuple(strides) + tuple(lhs_dil) + tuple(rhs_dil)),
           "convolution: strides and dilations must be positive")
    spatial = []
    for i in range(nsp):
        d, k = lhs.dims[lspec[2 + i]], rhs.dims[rspec[2 + i]]
        if d is None or k is None:
            spatial.append(None)
            continue
        d = (d - 1) * lhs_dil[i] + 1 if d > 0 else 0
        k = (k - 1) * rhs_dil[i] + 1
        padded = d + padding[i][0] + padding[i][1]
        spatial.append(max(0, (padded - k) // strides[i] + 1) if padded >= k else 0)
    out = [None] * lhs.rank
    out[ospec[0]] = lhs.dims[lspec[0]]
    out[ospec[1]] = rhs.dims[rspec[0]]
    for i in range(nsp):
        out[ospec[2 + i]] = spatial[i]
    return Shape(lhs.dtype, tuple(out))


@shape_rule("tuple")
def _tuple(opcode, operands, attrs, result):
    return TupleShape(tuple(operands))


@shape_rule("get_tuple_element")
def _gte(opcode, operands, attrs, result):
    (t,) = operands
    _check(t.is_tuple, f"get_tuple_element: operand {t} is not a tuple")
    index = attrs["index"]
    _check(0 <= index < len(t.elements), f"get_tuple_element: index {index} out of range for {t}")
    return t.elements[index]


@shape_rule("while")
def _while(opcode, operands, attrs, result):
    _check(len(operands) == 1, "while takes one (tuple) operand")
    return operands[0]


@shape_rule("copy")
def _copy(opcode, operands, attrs, result):
    return operands[0]


@shape_rule("host_call")
def _host_call(opcode, operands, attrs, result):
    """The declared result of a Python function's output: an array, like a parameter's."""
    _check_result(opcode, result)
    _check(not result.is_tuple, f"host_call: result must be an array, got {result}")
    for name in ("key", "output", "args"):
        _check(isinstance(attrs.get(name), int) and attrs[name] >= 0, f"host_call: bad {name} {attrs.get(name)!r}")
    _check(attrs["args"] <= len(operands), f"host_call: {attrs['args']} arguments but {len(operands)} operands")
    _check(all(not o.is_tuple for o in operands), "host_call: operands must be arrays")
    return result


@shape_rule("all_reduce", "all_reduce_start")
def _all_reduce(opcode, operands, attrs, result):
    (x,) = operands
    kind = attrs["kind"]
    _check(kind in ALL_REDUCE_KINDS, f"{opcode}: unknown kind {kind!r}, expected one of {ALL_REDUCE_KINDS}")
    _check(not x.is_tuple and not x.dtype.is_bool, f"{opcode}: operand must be a numeric array, got {x}")
    _check(kind != "mean" or x.dtype.is_floating, f"{opcode} mean: operand must be floating point, got {x}")
    return Shape(x.dtype, x.dims)


@shape_rule("all_reduce_done")
def _all_reduce_done(opcode, operands, attrs, result):
    """The reduced value its all_reduce_start began (the verifier checks the operand is one)."""
    (x,) = operands
    _check(not x.is_tuple, f"all_reduce_done: operand must be an array, got {x}")
    return Shape(x.dtype, x.dims)


@shape_rule("all_gather")
def _all_gather(opcode, operands, attrs, result):
    """Every process's operand, concatenated along dimension 0 in rank order."""
    (x,) = operands
    replicas = attrs["replicas"]
    _check(isinstance(replicas, int) and replicas >= 1, f"all_gather: replicas must be >= 1, got {replicas!r}")
    _check(not x.is_tuple and x.rank >= 1, f"all_gather: operand must be an array of rank >= 1, got {x}")
    first = None if x.dims[0] is None else x.dims[0] * replicas
    return Shape(x.dtype, (first,) + tuple(x.dims[1:]))


@shape_rule("collective_broadcast")
def _collective_broadcast(opcode, operands, attrs, result):
    (x,) = operands
    root = attrs["root"]
    _check(isinstance(root, int) and root >= 0, f"collective_broadcast: root must be a rank >= 0, got {root!r}")
    _check(not x.is_tuple, f"collective_broadcast: operand must be an array, got {x}")
    return Shape(x.dtype, x.dims)
