"""The reference semantics: one NumPy rule per opcode (`@eval_rule`), run instruction by instruction.

The interpreter target (xlite/runtime/executable.py), traced interpreter runs (xlite/runtime/tracing.py),
constant evaluation and constant folding all evaluate with these rules. They import only the IR, Philox
and the leaf `xlite.cancellation` (a while loop checks a run's timeout or Ctrl-C each iteration), so
every layer may use them.

Values are logical (row-major) NumPy arrays whatever their layout, and Python
tuples for tuple shapes. Integer division and remainder follow XLA: x / 0 is
-1, x % 0 is x, and INT_MIN / -1 is INT_MIN, so no backend ever traps.
`round` is half-to-even (TF's tf.round); integer `pow` with a negative exponent
is 1 for 1, +-1 for -1 and 0 otherwise; argmax/argmin take the first extremum
and treat NaN as larger/smaller than everything.
"""
from __future__ import annotations


import numpy as np

from xlite.cancellation import check as check_stop
from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.opcodes import RuleTable
from xlite.ir.parser import parse_module
from xlite.ir.printer import print_module
from xlite.ir.symbolic import check_consistent, module_symbols
from xlite.semantics import philox
from xlite.semantics import host_calls
from xlite.semantics.collectives import host_collective

_RULES = RuleTable()
eval_rule = _RULES.register


def has_eval_rule(opcode: str) -> bool:
    return opcode in _RULES


def _np(inst: Instruction) -> np.dtype:
    return inst.shape.dtype.np


def evaluate_instruction(inst: Instruction, values: list, module: Module | None = None):
    return _RULES[inst.opcode](inst, *values, module=module) if inst.opcode in _CALLERS else \
        _RULES[inst.opcode](inst, *values)


def evaluate_computation(comp: Computation, args: list, module: Module | None = None):
    n_params = sum(1 for i in comp.instructions if i.opcode == "parameter")
    if len(args) != n_params:
        raise ValueError(f"computation %{comp.name} takes {n_params} arguments, got {len(args)}")
    env: dict[Instruction, object] = {}
    for inst in comp.instructions:
        operands = [args[inst.attrs["number"]]] if inst.opcode == "parameter" else [env[o] for o in inst.operands]
        env[inst] = evaluate_instruction(inst, operands, module)
    return env[comp.root]


def evaluate_module(module: Module, args: list):
    """The entry's value for `args`; a module with symbolic sizes (xlite/ir/symbolic.py) is evaluated
    with the sizes the arguments give (InvalidArgumentError when they disagree)."""
    if module_symbols(module):
        dims = [p.shape.dims for p in sorted(module.entry.parameters, key=lambda p: p.attrs["number"])]
        sizes = check_consistent(dims, args, lambda n: f"parameter {n} of {module.name}")
        module = parse_module(print_module(module), sizes)
    return evaluate_computation(module.entry, args, module)


# leaves -----------------------------------------------------------------------
@eval_rule("parameter")
def _parameter(inst, argument):
    """A parameter's value is its argument, which must fit the parameter's shape (Python scalars are converted)."""
    shape = inst.shape
    if shape.is_tuple:
        if not isinstance(argument, tuple) or len(argument) != len(shape.elements):
            raise ValueError(f"parameter %{inst.name} of shape {shape} got {type(argument).__name__} argument")
        return argument
    array = np.asarray(argument) if hasattr(argument, "dtype") else np.asarray(argument, dtype=shape.dtype.np)
    if array.dtype != shape.dtype.np or (shape.is_static and array.shape != shape.dims):
        raise ValueError(f"parameter %{inst.name} of shape {shape} got a {array.dtype}{list(array.shape)} argument")
    return array


@eval_rule("constant")
def _constant(inst):
    return inst.literal


@eval_rule("iota")
def _iota(inst):
    dims = inst.shape.dims
    d = inst.attrs["dimension"]
    ramp = np.arange(dims[d], dtype=_np(inst)).reshape([dims[d] if i == d else 1 for i in range(len(dims))])
    return np.broadcast_to(ramp, dims).copy()


@eval_rule("rng")
def _rng(inst, counter):
    return philox.sample(inst.attrs["distribution"], inst.shape.dims, _np(inst),
                         inst.attrs["key"], int(counter))


# elementwise --------------------------------------------------------------------
def _float_unary(fn):
    def rule(inst, x):
        with np.errstate(all="ignore"):
            return np.asarray(fn(x), dtype=_np(inst))
    return rule


def _logistic(x):
    with np.errstate(over="ignore"):
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


_UNARY = {
    "neg": np.negative, "abs": np.abs, "exp": np.exp, "log": np.log, "log1p": np.log1p,
    "tanh": np.tanh, "logistic": _logistic, "sqrt": np.sqrt, "rsqrt": lambda x: 1 / np.sqrt(x),
    "sign": np.sign, "floor": np.floor, "ceil": np.ceil, "round": np.round, "sin": np.sin,
    "cos": np.cos, "is_finite": np.isfinite, "copy": np.copy,
}
for _name, _fn in _UNARY.items():
    eval_rule(_name)(_float_unary(_fn))


@eval_rule("not")
def _not(inst, x):
    return np.logical_not(x) if x.dtype == np.bool_ else np.invert(x)


def _minus_one(y: np.ndarray) -> np.ndarray:
    """Where a signed divisor is -1 (never, for unsigned types)."""
    return y == -1 if y.dtype.kind == "i" else np.zeros(y.shape, dtype=bool)


def _int_div(x, y):
    """C's truncating division, with x / 0 = -1 and INT_MIN / -1 = INT_MIN."""
    x, y = np.broadcast_arrays(x, y)
    minus_one = _minus_one(y)
    safe = np.where((y == 0) | minus_one, np.ones_like(y), y)
    q = np.floor_divide(x, safe)
    inexact = np.fmod(x, safe) != 0
    q = np.where(inexact & ((x < 0) != (safe < 0)), q + 1, q)
    with np.errstate(over="ignore"):
        q = np.where(minus_one, np.negative(x), q)     # wraps INT_MIN to itself
    all_ones = np.array(-1).astype(x.dtype) if x.dtype.kind == "i" else np.array(np.iinfo(x.dtype).max, x.dtype)
    return np.where(y == 0, all_ones, q).astype(x.dtype)


def _int_rem(x, y):
    """C's remainder (the dividend's sign), with x % 0 = x and x % -1 = 0."""
    x, y = np.broadcast_arrays(x, y)
    minus_one = _minus_one(y)
    safe = np.where((y == 0) | minus_one, np.ones_like(y), y)
    r = np.where(minus_one, np.zeros_like(x), np.fmod(x, safe))
    return np.where(y == 0, x, r).astype(x.dtype)


def _int_pow(x, y):
    x, y = np.broadcast_arrays(x, y)
    result = np.ones_like(x)
    base, exp = x.copy(), np.where(y < 0, 0, y)
    with np.errstate(over="ignore"):
        while np.any(exp > 0):
            odd = (exp & 1) == 1
            result = np.where(odd, result * base, result)
            base = base * base
            exp = exp >> 1
    negative = y < 0
    neg_value = np.where(x == 1, 1, np.where(x == -1, np.where(y % 2 == 0, 1, -1), 0)).astype(x.dtype)
    return np.where(negative, neg_value, result).astype(x.dtype)


def _binary(inst, x, y):
    op = inst.opcode
    integer = x.dtype.kind in "iu"
    with np.errstate(all="ignore"):
        if op == "add":
            r = x + y
        elif op == "sub":
            r = x - y
        elif op == "mul":
            r = np.logical_and(x, y) if x.dtype == np.bool_ else x * y
        elif op == "div":
            r = _int_div(x, y) if integer else x / y
        elif op == "rem":
            r = _int_rem(x, y) if integer else np.fmod(x, y)
        elif op == "pow":
            r = _int_pow(x, y) if integer else np.power(x, y)
        elif op == "max":
            r = np.maximum(x, y)
        elif op == "min":
            r = np.minimum(x, y)
        elif op == "and":
            r = x & y
        else:
            r = x | y
    return np.asarray(r, dtype=_np(inst))


for _name in ("add", "sub", "mul", "div", "rem", "pow", "max", "min", "and", "or"):
    eval_rule(_name)(_binary)

_COMPARE = {"EQ": np.equal, "NE": np.not_equal, "LT": np.less, "LE": np.less_equal,
            "GT": np.greater, "GE": np.greater_equal}


@eval_rule("compare")
def _compare(inst, x, y):
    return _COMPARE[inst.attrs["direction"]](x, y)


@eval_rule("select")
def _select(inst, pred, a, b):
    return np.where(pred, a, b).astype(_np(inst))


@eval_rule("clamp")
def _clamp(inst, lo, x, hi):
    return np.minimum(np.maximum(x, lo), hi).astype(_np(inst))


def convert_array(x: np.ndarray, target: np.dtype) -> np.ndarray:
    """Float to int truncates toward zero and saturates; NaN becomes 0 (as XLA's CPU backend does)."""
    target = np.dtype(target)
    if x.dtype.kind == "f" and target.kind in "iu":
        info = np.iinfo(target)
        t = np.trunc(np.nan_to_num(x.astype(np.float64), nan=0.0, posinf=np.inf, neginf=-np.inf))
        high, low = t >= float(info.max), t <= float(info.min)
        inside = np.where(high | low, 0, t).astype(target)
        return np.where(high, info.max, np.where(low, info.min, inside)).astype(target)
    if target == np.bool_:
        return x != 0
    with np.errstate(all="ignore"):
        return x.astype(target)


@eval_rule("convert")
def _convert(inst, x):
    return convert_array(x, _np(inst))


# shape ops ------------------------------------------------------------------------
@eval_rule("broadcast_in_dim")
def _broadcast_in_dim(inst, x):
    out_dims = inst.shape.dims
    shape = [1] * len(out_dims)
    for i, d in enumerate(inst.attrs["dimensions"]):
        shape[d] = x.shape[i]
    return np.broadcast_to(x.reshape(shape), out_dims)


@eval_rule("reshape")
def _reshape(inst, x):
    return x.reshape(inst.shape.dims)


@eval_rule("transpose")
def _transpose(inst, x):
    return np.transpose(x, inst.attrs["dimensions"])


def _physical_order(shape) -> tuple:
    """Dimensions from major to minor; row-major when no layout is assigned."""
    if shape.layout is None:
        return tuple(range(shape.rank))
    return tuple(reversed(shape.layout.minor_to_major))


@eval_rule("bitcast")
def _bitcast(inst, x):
    src, dst = inst.operands[0].shape, inst.shape
    flat = np.transpose(x, _physical_order(src)).reshape(-1)
    dst_order = _physical_order(dst)
    physical = flat.reshape([dst.dims[d] for d in dst_order])
    return np.transpose(physical, np.argsort(dst_order))


@eval_rule("slice")
def _slice(inst, x):
    a = inst.attrs
    return x[tuple(slice(lo, hi, st) for lo, hi, st in zip(a["start_indices"], a["limit_indices"], a["strides"]))]


@eval_rule("pad")
def _pad(inst, x, value):
    a = inst.attrs
    result = np.full(inst.shape.dims, value, dtype=_np(inst))
    # place interior-dilated x into a buffer covering negative padding, then crop
    dims = [d + max(d - 1, 0) * mid for d, mid in zip(x.shape, a["interior"])]
    lows = [max(lo, 0) for lo in a["low"]]
    big = np.full([lo + d + max(hi, 0) for lo, d, hi in zip(lows, dims, a["high"])], value, dtype=_np(inst))
    big[tuple(slice(lo, lo + d, mid + 1) for lo, d, mid in zip(lows, dims, a["interior"]))] = x
    crop = tuple(slice(max(-lo, 0), max(-lo, 0) + n) for lo, n in zip(a["low"], result.shape))
    return big[crop].reshape(result.shape).astype(_np(inst))


@eval_rule("concatenate")
def _concatenate(inst, *xs):
    return np.concatenate(xs, axis=inst.attrs["dimension"]).astype(_np(inst))


@eval_rule("reverse")
def _reverse(inst, x):
    return np.flip(x, axis=tuple(inst.attrs["dimensions"])) if inst.attrs["dimensions"] else x


@eval_rule("gather")
def _gather(inst, x, idx):
    axis = inst.attrs["axis"]
    if x.shape[axis] == 0:
        return np.zeros(inst.shape.dims, dtype=_np(inst))
    clamped = np.clip(idx, 0, x.shape[axis] - 1)
    return np.take(x, clamped, axis=axis)


@eval_rule("scatter_add")
def _scatter_add(inst, x, idx, updates):
    axis = inst.attrs["axis"]
    out = np.array(x, copy=True)
    moved = np.moveaxis(out, axis, 0)
    flat_idx = idx.reshape(-1)
    upd = np.moveaxis(updates.reshape(x.shape[:axis] + (flat_idx.size,) + x.shape[axis + 1:]), axis, 0)
    valid = (flat_idx >= 0) & (flat_idx < x.shape[axis])
    np.add.at(moved, flat_idx[valid], upd[valid])
    return out


def clamped_window(dims, sizes, starts) -> tuple:
    """XLA's dynamic-slice window: each start clamped to [0, dim - size], so it never leaves the array."""
    return tuple(slice(s, s + n) for s, n in
                 ((min(max(int(s), 0), d - n), n) for d, n, s in zip(dims, sizes, starts)))


@eval_rule("dynamic_slice")
def _dynamic_slice(inst, x, *starts):
    return x[clamped_window(x.shape, inst.attrs["dynamic_slice_sizes"], starts)].copy()


@eval_rule("dynamic_update_slice")
def _dynamic_update_slice(inst, x, update, *starts):
    out = np.array(x, copy=True)
    out[clamped_window(x.shape, update.shape, starts)] = update
    return out


# reductions ------------------------------------------------------------------------
def reduce_identity(kind: str, dtype: np.dtype):
    dtype = np.dtype(dtype)
    if kind == "sum":
        return dtype.type(0)
    if kind == "prod":
        return dtype.type(1)
    if kind == "and":
        return True
    if kind == "or":
        return False
    if dtype.kind == "f":
        return dtype.type(-np.inf if kind == "max" else np.inf)
    info = np.iinfo(dtype)
    return dtype.type(info.min if kind == "max" else info.max)


_REDUCERS = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "and": np.all, "or": np.any}


@eval_rule("reduce")
def _reduce(inst, x):
    kind, axes = inst.attrs["kind"], tuple(inst.attrs["dimensions"])
    if x.size == 0:
        return np.full(inst.shape.dims, reduce_identity(kind, x.dtype), dtype=_np(inst))
    with np.errstate(all="ignore"):
        if kind == "sum" and x.dtype.kind == "f":
            return np.asarray(_pairwise_sum(x, axes), dtype=_np(inst))
        return np.asarray(_REDUCERS[kind](x, axis=axes), dtype=_np(inst))


def _pairwise_sum(x: np.ndarray, axes: tuple) -> np.ndarray:
    """NumPy sums pairwise only along a contiguous innermost axis (over major axes it adds rows one by one, a
    long serial chain in float32): the reduced axes go last, contiguous, as one axis."""
    axes = sorted(a % x.ndim for a in axes)
    kept = [d for d in range(x.ndim) if d not in axes]
    if axes != list(range(len(kept), x.ndim)) or not x.flags.c_contiguous:
        x = np.ascontiguousarray(np.transpose(x, kept + axes))
    return x.reshape(x.shape[:len(kept)] + (-1,)).sum(axis=-1)


@eval_rule("argmax", "argmin")
def _argminmax(inst, x):
    fn = np.argmax if inst.opcode == "argmax" else np.argmin
    if x.size == 0:
        return np.zeros(inst.shape.dims, dtype=_np(inst))
    return np.asarray(fn(x, axis=inst.attrs["dimension"]), dtype=_np(inst))


def _windows(x, attrs, fill):
    """A view [out..., window...] of x padded with `fill`."""
    padded = np.pad(x, list(attrs["padding"]), constant_values=fill) if x.ndim else x
    window, strides = attrs["window"], attrs["strides"]
    out_dims = []
    for d, w, s in zip(padded.shape, window, strides):
        out_dims.append(max(0, (d - w) // s + 1) if d >= w else 0)
    view = np.lib.stride_tricks.sliding_window_view(padded, window) if all(
        d >= w for d, w in zip(padded.shape, window)) else np.zeros(tuple(out_dims) + tuple(window), x.dtype)
    view = view[tuple(slice(None, o * s, s) for o, s in zip(out_dims, strides))]
    return view[tuple(slice(0, o) for o in out_dims)]


@eval_rule("reduce_window")
def _reduce_window(inst, x):
    kind = inst.attrs["kind"]
    identity = reduce_identity(kind, x.dtype)
    view = _windows(x, inst.attrs, identity)
    axes = tuple(range(x.ndim, 2 * x.ndim))
    if view.size == 0:
        return np.full(inst.shape.dims, identity, dtype=_np(inst))
    return np.asarray(_REDUCERS[kind](view, axis=axes), dtype=_np(inst))


@eval_rule("select_and_scatter")
def _select_and_scatter(inst, x, source):
    """Max-pool's gradient: each window's first maximal element (row-major, never padding)
    receives the window's source value; NaN counts as the maximum. Sources that meet at one
    element add up in row-major window order."""
    a = inst.attrs
    lows = [lo for lo, _ in a["padding"]]
    padded_shape = [d + lo + hi for d, (lo, hi) in zip(x.shape, a["padding"])]
    out = np.zeros(padded_shape, dtype=_np(inst))
    if source.size:
        size = int(np.prod(a["window"], dtype=np.int64))
        win = _windows(x, a, reduce_identity("max", x.dtype)).reshape(source.shape + (size,))
        real = _windows(np.ones(x.shape, dtype=bool), a, False).reshape(source.shape + (size,))
        low = -np.inf if x.dtype.kind == "f" else (False if x.dtype == np.bool_ else np.iinfo(x.dtype).min)
        best = np.where(real, win, low).max(axis=-1, keepdims=True)
        hit = real & (win == best)
        if x.dtype.kind == "f":
            hit |= real & np.isnan(win) & np.isnan(best)
        chosen = hit.any(axis=-1)                       # windows with a real element
        offsets = np.unravel_index(hit.argmax(axis=-1), a["window"])
        at = tuple(np.indices(source.shape)[i] * a["strides"][i] + offsets[i] for i in range(x.ndim))
        np.add.at(out, tuple(p[chosen] for p in at), source[chosen])
    crop = tuple(slice(lo, lo + d) for lo, d in zip(lows, x.shape))
    return out[crop]


# linear algebra -----------------------------------------------------------------------
@eval_rule("dot")
def _dot(inst, lhs, rhs):
    a = inst.attrs
    lb, rb = list(a["lhs_batch_dims"]), list(a["rhs_batch_dims"])
    lc, rc = list(a["lhs_contracting_dims"]), list(a["rhs_contracting_dims"])
    lf = [i for i in range(lhs.ndim) if i not in lb + lc]
    rf = [i for i in range(rhs.ndim) if i not in rb + rc]
    batch = [lhs.shape[i] for i in lb]
    k = int(np.prod([lhs.shape[i] for i in lc], dtype=np.int64))
    m = int(np.prod([lhs.shape[i] for i in lf], dtype=np.int64))
    n = int(np.prod([rhs.shape[i] for i in rf], dtype=np.int64))
    l3 = np.transpose(lhs, lb + lf + lc).reshape(batch + [m, k])
    r3 = np.transpose(rhs, rb + rc + rf).reshape(batch + [k, n])
    if l3.dtype.kind in "iu":
        out = np.matmul(l3.astype(np.int64), r3.astype(np.int64))
    else:
        out = np.matmul(l3, r3)
    return out.astype(_np(inst)).reshape(inst.shape.dims)


@eval_rule("convolution")
def _convolution(inst, lhs, rhs):
    a = inst.attrs
    lspec, rspec, ospec = a["lhs_spec"], a["rhs_spec"], a["out_spec"]
    nsp = lhs.ndim - 2
    x = np.transpose(lhs, lspec)            # N C spatial...
    w = np.transpose(rhs, rspec)            # O I spatial...
    lhs_dil = a.get("lhs_dilation", (1,) * nsp)
    rhs_dil = a.get("rhs_dilation", (1,) * nsp)
    groups = a.get("feature_group_count", 1)
    if any(d > 1 for d in lhs_dil):
        dil = np.zeros(x.shape[:2] + tuple((s - 1) * d + 1 if s else 0 for s, d in zip(x.shape[2:], lhs_dil)), x.dtype)
        dil[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in lhs_dil)] = x
        x = dil
    pads = [(0, 0), (0, 0)]
    crops = [slice(None), slice(None)]
    for lo, hi in a["padding"]:
        pads.append((max(lo, 0), max(hi, 0)))
    x = np.pad(x, pads)
    for i, (lo, hi) in enumerate(a["padding"]):
        n = x.shape[2 + i]
        crops.append(slice(max(-lo, 0), n - max(-hi, 0)))
    x = x[tuple(crops)]
    out_sp = [inst.shape.dims[ospec[2 + i]] for i in range(nsp)]
    if 0 in out_sp:
        return np.zeros(inst.shape.dims, dtype=_np(inst))
    n_batch, out_feat = x.shape[0], w.shape[0]
    cin_g = w.shape[1]
    cout_g = out_feat // groups
    acc_dtype = np.float64 if lhs.dtype == np.float64 else np.float32
    out = np.zeros([n_batch, out_feat] + out_sp, dtype=acc_dtype)
    strides = a["window_strides"]
    for kpos in np.ndindex(*w.shape[2:]):
        sl = tuple(slice(kpos[i] * rhs_dil[i], kpos[i] * rhs_dil[i] + (out_sp[i] - 1) * strides[i] + 1, strides[i])
                   for i in range(nsp))
        patch = np.moveaxis(x[(slice(None), slice(None)) + sl], 1, -1)      # N out_sp... C
        for g in range(groups):
            pg = patch[..., g * cin_g:(g + 1) * cin_g]
            wg = w[g * cout_g:(g + 1) * cout_g, :, *kpos]     # O_g I_g
            out[:, g * cout_g:(g + 1) * cout_g] += np.moveaxis(pg @ wg.T, -1, 1)   # matmul: BLAS, not einsum
    return np.transpose(out, np.argsort(ospec)).astype(_np(inst))


# structure ---------------------------------------------------------------------------
@eval_rule("tuple")
def _tuple(inst, *xs):
    return tuple(xs)


@eval_rule("get_tuple_element")
def _gte(inst, t):
    return t[inst.attrs["index"]]


_CALLERS = {"while", "conditional", "fusion"}


@eval_rule("while")
def _while(inst, state, module=None):
    cond, body = inst.called
    while bool(evaluate_computation(cond, [state], module)):
        check_stop()                # a run's timeout or Ctrl-C (xlite/cancellation.py)
        state = evaluate_computation(body, [state], module)
    return state


@eval_rule("conditional")
def _conditional(inst, selector, *branch_args, module=None):
    """A pred selects branch 0 (true) or 1 (false); an s32 index selects that branch, and an
    index out of range selects the last one (XLA's default branch)."""
    n = len(inst.called)
    if selector.dtype == np.bool_:
        index = 0 if bool(selector) else 1
    else:
        index = int(selector)
        index = index if 0 <= index < n else n - 1
    return evaluate_computation(inst.called[index], [branch_args[index]], module)


@eval_rule("fusion")
def _fusion(inst, *args, module=None):
    return evaluate_computation(inst.called[0], list(args), module)



@eval_rule("host_call")
def _host_call(inst, *operands):
    """The Python function itself (xlite/semantics/host_calls.py), its errors raised as they come."""
    args = [np.array(o) for o in operands[:inst.attrs["args"]]]
    return host_calls.invoke(inst.attrs["key"], inst.attrs["output"], args, tuple(inst.shape.dims), _np(inst))


@eval_rule("all_reduce", "all_gather", "collective_broadcast", "all_reduce_start", "all_reduce_done")
def _collective(inst, x):
    """Over the world of processes (collectives.py): the identity in a world of one."""
    return host_collective(inst, np.asarray(x, dtype=_np(inst)))
