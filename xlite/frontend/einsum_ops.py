"""tf.einsum and tf.tensordot: one "Einsum" op of one or two operands, lowered to reduce, transpose and dot.

An equation is resolved against the operands' ranks into plain letters ('...'
becomes one fresh letter per broadcast dim), so the lowering, the gradient and
tensordot all speak the same explicit form. More than two operands fold left
to right into two-operand Einsums. A letter repeated within one operand (a
trace or diagonal, 'ii->i') is not supported.
"""
from __future__ import annotations

import string

from xlite import errors
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import grad_rule, to_shape_of, to_shape_of_grad
from xlite.frontend.graph import Tensor
from xlite.frontend.math_ops import NUMERIC, check_dtype
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.scopes import name_scope
from xlite.ir.shape import Shape

__all__ = ["einsum", "tensordot"]


# equations ------------------------------------------------------------------------------
def parse_equation(equation: str, ranks: list[int]) -> tuple[list[str], str, frozenset]:
    """(letters per operand, output letters, the letters '...' stands for), with '...' spelled out."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(ranks):
        raise ValueError(f"einsum equation '{equation}' names {len(inputs)} operands, got {len(ranks)}")
    for term in inputs + ([out] if arrow else []):
        body = term.replace("...", "")
        if "." in body or any(c not in string.ascii_letters for c in body):
            raise ValueError(f"einsum equation '{equation}': subscripts must be letters or '...', got '{term}'")
    fresh = [c for c in string.ascii_letters if c not in eq]
    ellipsis_rank = max((r - len(t.replace("...", "")) for t, r in zip(inputs, ranks) if "..." in t), default=0)
    ellipsis = "".join(fresh[:ellipsis_rank])
    resolved = []
    for term, rank in zip(inputs, ranks):
        if "..." in term:
            n = rank - len(term.replace("...", ""))
            if n < 0:
                raise ValueError(f"einsum equation '{equation}': operand of rank {rank} has too many subscripts "
                                 f"in '{term}'")
            term = term.replace("...", ellipsis[len(ellipsis) - n:])
        elif len(term) != rank:
            raise ValueError(f"einsum equation '{equation}': '{term}' has {len(term)} subscripts for an operand of "
                             f"rank {rank}")
        if len(set(term)) != len(term):
            raise errors.unimplemented(f"einsum equation '{equation}': a subscript repeated within one operand "
                                       f"('{term}', a trace or diagonal) is not supported by xlite")
        resolved.append(term)
    if arrow:
        out = out.replace("...", ellipsis)
    else:   # implicit: '...' first, then the letters used exactly once, in alphabetical order
        counts = {}
        for c in "".join(t.replace("...", "") for t in inputs):
            counts[c] = counts.get(c, 0) + 1
        out = ellipsis + "".join(sorted(c for c, k in counts.items() if k == 1))
    if len(set(out)) != len(out):
        raise ValueError(f"einsum equation '{equation}': output subscripts '{out}' repeat a letter")
    missing = set(out) - set("".join(resolved))
    if missing:
        raise ValueError(f"einsum equation '{equation}': output subscript(s) {sorted(missing)} appear in no operand")
    return resolved, out, frozenset(ellipsis)


def _letter_sizes(equation, terms, shapes, broadcast) -> dict:
    """Each letter's size: '...' letters broadcast (a 1 stretches), named letters must agree; None if unknown."""
    sizes = {}
    for c in dict.fromkeys("".join(terms)):
        dims = [d for term, shape in zip(terms, shapes) for k, d in zip(term, shape) if k == c]
        known = {d for d in dims if d is not None and not (c in broadcast and d == 1)}
        if len(known) > 1:
            raise ValueError(f"Dimensions must be equal, but are {sorted(known)} for subscript '{c}' of einsum "
                             f"equation '{equation}' with input shapes {[list(s) for s in shapes]}")
        sizes[c] = known.pop() if known else (None if None in dims else 1)
    return sizes


# lowering ---------------------------------------------------------------------------------
@lowering("Einsum")
def _lower_einsum(ctx, op, *xs):
    equation = op.attrs["equation"]
    terms, out, broadcast = parse_equation(equation, [x.shape.rank for x in xs])
    broadcast = broadcast | set(op.attrs.get("broadcast", ""))
    sizes = _letter_sizes(equation, terms, [x.shape.dims for x in xs], broadcast)
    out_dims = tuple(sizes[c] for c in out)
    if ctx.static and any(None in x.shape.dims for x in xs):
        return ctx.unknown(Shape(xs[0].dtype, out_dims))
    b = ctx.b
    kept = []
    for i, (term, x) in enumerate(zip(terms, xs)):   # sum letters no one else needs, stretch broadcast ones
        others = set(out).union(*(terms[j] for j in range(len(terms)) if j != i))
        drop = [k for k, c in enumerate(term) if c not in others]
        x = b.reduce(x, "sum", drop)
        term = "".join(c for c in term if c in others)
        x = b.broadcast_to(x, tuple(sizes[c] for c in term))
        kept.append((term, x))
    if len(kept) == 1:
        (term, x), = kept
        return b.transpose(x, [term.index(c) for c in out])
    (ta, a), (tb, y) = kept
    batch = [c for c in ta if c in tb and c in out]
    contract = [c for c in ta if c in tb and c not in out]
    r = b.emit("dot", (a, y), lhs_batch_dims=tuple(ta.index(c) for c in batch),
               rhs_batch_dims=tuple(tb.index(c) for c in batch),
               lhs_contracting_dims=tuple(ta.index(c) for c in contract),
               rhs_contracting_dims=tuple(tb.index(c) for c in contract))
    order = "".join(batch) + "".join(c for c in ta if c not in tb) + "".join(c for c in tb if c not in ta)
    return b.transpose(r, [order.index(c) for c in out])


@lowering("SumOrBroadcastToShapeOf")
def _lower_sum_or_broadcast(ctx, op, g, like):
    """g (of like's rank) summed where like has a 1 and broadcast where g has a 1: a broadcast's adjoint."""
    b = ctx.b
    dims, target = g.shape.dims, like.shape.dims
    if ctx.static and (None in dims or None in target):
        return ctx.unknown(Shape(g.dtype, target))
    summed = [k for k, (d, t) in enumerate(zip(dims, target)) if t == 1 and d != 1]
    g = b.reduce(g, "sum", summed)
    return b.broadcast_to(b.reshape(g, [1 if k in summed else d for k, d in enumerate(dims)]), target)


def _sum_or_broadcast_to(g: Tensor, like: Tensor) -> Tensor:
    return to_shape_of("SumOrBroadcastToShapeOf", g, like, "SumOrBroadcast")


grad_rule("SumOrBroadcastToShapeOf")(to_shape_of_grad(_sum_or_broadcast_to))   # its own adjoint


@grad_rule("Einsum")
def _einsum_grad(op, g):
    """Each operand's gradient is an einsum of g with the other operands, then summed or stretched to its shape."""
    terms, out, _ = parse_equation(op.attrs["equation"], [x.shape.ndims for x in op.inputs])
    every = "".join(dict.fromkeys("".join(terms)))
    grads = []
    for i, x in enumerate(op.inputs):
        others = [(terms[j], op.inputs[j]) for j in range(len(terms)) if j != i]
        known = set(out).union(*(t for t, _ in others))
        target = "".join(c for c in terms[i] if c in known)
        r = _einsum_op(",".join([out] + [t for t, _ in others]) + "->" + target, [g] + [t for _, t in others],
                       "einsum_grad", broadcast=every)
        if len(target) < len(terms[i]):   # letters only x had were summed away: put back size-1 dims
            from xlite.frontend.array_ops import expand_dims
            for k, c in enumerate(terms[i]):
                if c not in known:
                    r = expand_dims(r, k)
        grads.append(_sum_or_broadcast_to(r, x))
    return grads


def _einsum_op(equation: str, xs: list, name, broadcast: str = "") -> Tensor:
    """An Einsum op; letters in `broadcast` stretch from size 1 like '...' dims (the explicit forms of '...')."""
    attrs = {"equation": equation, "N": len(xs), "T": xs[0].dtype}
    if broadcast:
        attrs["broadcast"] = broadcast
    return make_op("Einsum", xs, attrs, name=name).outputs[0]


# API --------------------------------------------------------------------------------------
def einsum(equation: str, *inputs, **kwargs) -> Tensor:
    """TF's einsum, '...' broadcasting included; three or more operands contract pairwise, left to right."""
    name = kwargs.pop("name", None)
    kwargs.pop("optimize", None)   # TF2's contraction-order hint; the order here is left to right
    if kwargs:
        raise TypeError(f"einsum() got unexpected keyword arguments: {sorted(kwargs)}")
    if not inputs:
        raise ValueError("einsum needs at least one operand")
    with name_scope(name, "einsum", list(inputs)):
        xs = [convert_to_tensor(x, name=f"inputs_{i}") for i, x in enumerate(inputs)]
        for x in xs:
            check_dtype(x, NUMERIC, "Einsum", "inputs")
            if x.dtype != xs[0].dtype:
                raise TypeError(f"einsum operands must have one dtype, got {xs[0].dtype.name} and {x.dtype.name}")
            if x.shape.ndims is None:
                raise ValueError(f"einsum needs operands of known rank; {x.name} has unknown rank")
        terms, out, ellipsis = parse_equation(equation, [x.shape.ndims for x in xs])
        if len(xs) <= 2:
            return _einsum_op(equation, xs, "Einsum")
        while len(xs) > 2:   # fold the first two, keeping the letters later operands or the output use
            later = set(out).union(*terms[2:])
            joined = "".join(dict.fromkeys(c for c in terms[0] + terms[1] if c in later))
            xs = [_einsum_op(f"{terms[0]},{terms[1]}->{joined}", xs[:2], "Einsum", "".join(ellipsis))] + xs[2:]
            terms = [joined] + terms[2:]
        return _einsum_op(",".join(terms) + "->" + out, xs, "Einsum", "".join(ellipsis))


def _tensordot_axes(axes, a_rank: int, b_rank: int) -> tuple[list[int], list[int]]:
    if isinstance(axes, Tensor):
        if axes._static_value is None:
            raise ValueError("tensordot axes must be known when the graph is built")
        axes = axes._static_value.tolist()
    if isinstance(axes, int) or (hasattr(axes, "ndim") and axes.ndim == 0):
        n = int(axes)
        if not 0 <= n <= min(a_rank, b_rank):
            raise ValueError(f"'axes' must be at most the rank of a and b ({a_rank}, {b_rank}) and non-negative, "
                             f"got {n}")
        return list(range(a_rank - n, a_rank)), list(range(n))
    if len(axes) != 2:
        raise ValueError(f"'axes' must be an integer or have length 2, got {axes!r}")
    a_axes, b_axes = ([int(v)] if isinstance(v, int) else [int(i) for i in v] for v in axes)
    if len(a_axes) != len(b_axes):
        raise ValueError(f"Different number of contraction axes 'a' and 'b', {len(a_axes)} != {len(b_axes)}")
    for axes_, rank in ((a_axes, a_rank), (b_axes, b_rank)):
        for k in axes_:
            if not -rank <= k < rank:
                raise ValueError(f"tensordot axis {k} is out of range for an operand of rank {rank}")
    return [k % a_rank for k in a_axes], [k % b_rank for k in b_axes]


def tensordot(a, b, axes, name=None) -> Tensor:
    """Contracts a's `axes[0]` with b's `axes[1]` (or a's last `axes` dims with b's first); free dims a's then b's."""
    with name_scope(name, "Tensordot", [a, b]) as scope:
        a = convert_to_tensor(a, name="a")
        b = convert_to_tensor(b, name="b")
        if a.dtype != b.dtype:
            raise TypeError(f"Input 'b' of 'Tensordot' Op has type {b.dtype.name} that does not match type "
                            f"{a.dtype.name} of argument 'a'.")
        check_dtype(a, NUMERIC, "Tensordot", "a")
        if a.shape.ndims is None or b.shape.ndims is None:
            raise ValueError("tensordot needs operands of known rank in xlite")
        a_axes, b_axes = _tensordot_axes(axes, a.shape.ndims, b.shape.ndims)
        letters = iter(string.ascii_letters)
        ta = [next(letters) for _ in range(a.shape.ndims)]
        tb = [next(letters) for _ in range(b.shape.ndims)]
        for i, j in zip(a_axes, b_axes):
            tb[j] = ta[i]
        out = [c for k, c in enumerate(ta) if k not in a_axes] + [c for k, c in enumerate(tb) if k not in b_axes]
        return _einsum_op(f"{''.join(ta)},{''.join(tb)}->{''.join(out)}", [a, b], scope)
