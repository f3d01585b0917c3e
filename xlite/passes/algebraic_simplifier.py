"""Algebraic simplification: local identities that remove work or expose more of it to later passes.

Each rule looks at one instruction (whose operands are already simplified) and returns
what computes the same value more cheaply, or None. The result keeps the instruction's
shape, layout included: an operand is forwarded only where its shape is exactly the same.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from xlite.ir.module import Instruction, Module
from xlite.ir.shape import Shape
from xlite.passes.pass_pipeline import Pass
from xlite.passes.rewrite import Rewrite, rewrite_computation

_RULES: dict[str, list[Callable[[Instruction], Rewrite]]] = {}


def _rule(*opcodes: str):
    def register(fn):
        for opcode in opcodes:
            _RULES.setdefault(opcode, []).append(fn)
        return fn
    return register


class AlgebraicSimplifier(Pass):
    """Applies the first matching rule to each instruction, in every computation."""

    name = "algebraic-simplifier"

    def run(self, module: Module) -> bool:
        changed = False
        for comp in module.all_computations():
            changed |= rewrite_computation(comp, simplify)
        return changed


def simplify(inst: Instruction) -> Rewrite:
    """The first rule for the instruction's opcode that applies, or None."""
    for rule in _RULES.get(inst.opcode, ()):
        result = rule(inst)
        if result is not None:
            return result
    return None


# helpers ----------------------------------------------------------------------------
def splat_value(inst: Instruction):
    """The one value every element of a constant (or a broadcast of one) holds, else None."""
    while inst.opcode == "broadcast_in_dim":
        inst = inst.operands[0]
    if inst.opcode != "constant" or inst.literal.size == 0:
        return None
    flat = inst.literal.reshape(-1)
    first = flat[0]
    return first.item() if np.all(flat == first) else None


def _is(inst: Instruction, value) -> bool:
    v = splat_value(inst)
    return v is not None and v == value


def _forward(inst: Instruction, x: Instruction) -> Rewrite:
    """`inst` computes exactly `x`: use `x`, provided nothing about the shape changes."""
    return (x, ()) if x.shape == inst.shape else None


def _fresh(opcode: str, operands, shape: Shape, like: Instruction, **attrs) -> Instruction:
    return Instruction(opcode, operands, shape, attrs, metadata=like.metadata)


def _splat(inst: Instruction, value) -> Rewrite:
    """`inst` is `value` everywhere: a scalar constant, broadcast when `inst` is not a scalar."""
    scalar = Shape(inst.shape.dtype, ())
    c = Instruction("constant", (), scalar if inst.shape.rank else inst.shape, metadata=inst.metadata,
                    literal=np.array(value, dtype=inst.shape.dtype.np))
    if not inst.shape.rank:
        return c, (c,)
    b = _fresh("broadcast_in_dim", (c,), inst.shape, inst, dimensions=())
    return b, (c, b)


def _static(*insts: Instruction) -> bool:
    return all(not i.shape.is_tuple and i.shape.is_static for i in insts)


# elementwise identities ----------------------------------------------------------------
def _unit(opcode: str, unit, commutes: bool) -> None:
    """x op unit is x, and so is unit op x where op commutes: forward x."""
    @_rule(opcode)
    def drop_unit(inst):
        x, y = inst.operands
        if _is(y, unit):
            return _forward(inst, x)
        if commutes and _is(x, unit):
            return _forward(inst, y)
        return None


_unit("add", 0, commutes=True)


@_rule("add")
def _add_into_window(inst):
    """a + dynamic_update_slice(0, u, s...) = dynamic_update_slice(a, dynamic_slice(a, s...) + u, s...) (both
    windows clamp alike), and likewise for scatter_add: a row's gradient summed into a loop-carried total
    touches that row only (XLA's rules too)."""
    for a, d in (inst.operands, inst.operands[::-1]):
        if d.opcode == "dynamic_update_slice" and _is(d.operands[0], 0) and a.shape == d.shape == inst.shape:
            u, starts = d.operands[1], d.operands[2:]
            window = _fresh("dynamic_slice", (a, *starts), u.shape, inst, dynamic_slice_sizes=tuple(u.shape.dims))
            summed = _fresh("add", (window, u), u.shape, inst)
            total = _fresh("dynamic_update_slice", (a, summed, *starts), inst.shape, inst)
            return total, (window, summed, total)
        if d.opcode == "scatter_add" and _is(d.operands[0], 0) and a.shape == d.shape == inst.shape:
            total = _fresh("scatter_add", (a, *d.operands[1:]), inst.shape, inst, **d.attrs)
            return total, (total,)      # a + scatter_add(0, i, u) = scatter_add(a, i, u): the same rows
    return None
_unit("sub", 0, commutes=False)
_unit("mul", 1, commutes=True)
_unit("div", 1, commutes=False)


@_rule("neg", "not")
def _involution(inst):
    (x,) = inst.operands
    return _forward(inst, x.operands[0]) if x.opcode == inst.opcode else None


@_rule("select")
def _select(inst):
    pred, on_true, on_false = inst.operands
    if on_true is on_false:
        return _forward(inst, on_true)
    v = splat_value(pred)
    if v is None:
        return None
    return _forward(inst, on_true if v else on_false)


_SELF_COMPARE = {"EQ": True, "LE": True, "GE": True, "NE": False, "LT": False, "GT": False}


@_rule("compare")
def _compare_self(inst):
    """x == x is always true for integers and preds (not for floats: NaN)."""
    x, y = inst.operands
    if x is not y or x.shape.dtype.is_floating or not _static(inst):
        return None
    return _splat(inst, _SELF_COMPARE[inst.attrs["direction"]])


# no-op shape ops ------------------------------------------------------------------------
@_rule("reshape", "bitcast", "convert")
def _same_shape(inst):
    return _forward(inst, inst.operands[0])


@_rule("transpose")
def _transpose(inst):
    (x,) = inst.operands
    perm = tuple(inst.attrs["dimensions"])
    if perm == tuple(range(len(perm))):
        return _forward(inst, x)
    if x.opcode == "transpose":
        inner = tuple(x.attrs["dimensions"])
        composed = tuple(inner[p] for p in perm)
        source = x.operands[0]
        if composed == tuple(range(len(composed))):
            return _forward(inst, source)
        t = _fresh("transpose", (source,), inst.shape, inst, dimensions=composed)
        return t, (t,)
    return None


@_rule("reshape")
def _reshape_of_reshape(inst):
    (x,) = inst.operands
    if x.opcode != "reshape":
        return None
    source = x.operands[0]
    if source.shape == inst.shape:
        return source, ()
    r = _fresh("reshape", (source,), inst.shape, inst)
    return r, (r,)


@_rule("broadcast_in_dim")
def _broadcast(inst):
    (x,) = inst.operands
    if x.shape == inst.shape:
        return x, ()
    if x.opcode == "broadcast_in_dim":
        inner, outer = x.attrs["dimensions"], inst.attrs["dimensions"]
        composed = tuple(outer[d] for d in inner)
        b = _fresh("broadcast_in_dim", (x.operands[0],), inst.shape, inst, dimensions=composed)
        return b, (b,)
    return None


@_rule("reshape", "transpose", "reverse", "slice")
def _move_scalar_broadcast(inst):
    """Rearranging a broadcast scalar gives the same broadcast scalar in the new shape."""
    (x,) = inst.operands
    if x.opcode != "broadcast_in_dim" or x.operands[0].shape.rank != 0:
        return None
    b = _fresh("broadcast_in_dim", (x.operands[0],), inst.shape, inst, dimensions=())
    return b, (b,)


@_rule("slice")
def _full_slice(inst):
    (x,) = inst.operands
    a = inst.attrs
    if not _static(x) or any(s != 0 for s in a["start_indices"]) or any(s != 1 for s in a["strides"]):
        return None
    return _forward(inst, x) if tuple(a["limit_indices"]) == x.shape.dims else None


@_rule("reverse")
def _trivial_reverse(inst):
    (x,) = inst.operands
    if all(x.shape.dims[d] is not None and x.shape.dims[d] <= 1 for d in inst.attrs["dimensions"]):
        return _forward(inst, x)
    return None


@_rule("pad")
def _no_padding(inst):
    x, _ = inst.operands
    a = inst.attrs
    if any(a["low"]) or any(a["high"]) or any(a["interior"]):
        return None
    return _forward(inst, x)


@_rule("concatenate")
def _single_concatenate(inst):
    return _forward(inst, inst.operands[0]) if len(inst.operands) == 1 else None


@_rule("get_tuple_element")
def _element_of_tuple(inst):
    (t,) = inst.operands
    return _forward(inst, t.operands[inst.attrs["index"]]) if t.opcode == "tuple" else None


@_rule("constant")
def _splat_constant(inst):
    """A literal whose elements are all equal becomes the canonical broadcast of a scalar."""
    if inst.shape.rank == 0 or not _static(inst) or inst.shape.dtype.np_name is None:
        return None
    if splat_value(inst) is None:
        return None
    c = Instruction("constant", (), Shape(inst.shape.dtype, ()), metadata=inst.metadata,
                    literal=inst.literal.reshape(-1)[:1].reshape(()))
    b = _fresh("broadcast_in_dim", (c,), inst.shape, inst, dimensions=())
    return b, (c, b)


# reductions and dots --------------------------------------------------------------------
@_rule("reduce")
def _reduce_unit_dims(inst):
    """Reducing a dimension of size 1 only drops it: a reshape."""
    (x,) = inst.operands
    dims = tuple(inst.attrs["dimensions"])
    if not _static(x):
        return None
    unit = [d for d in dims if x.shape.dims[d] == 1]
    if not unit:
        return None
    if len(unit) == len(dims):
        r = _fresh("reshape", (x,), inst.shape, inst)
        return r, (r,)
    kept = [d for d in range(x.shape.rank) if d not in unit]
    squeezed = _fresh("reshape", (x,), Shape(x.shape.dtype, tuple(x.shape.dims[d] for d in kept)), inst)
    remaining = tuple(kept.index(d) for d in dims if d not in unit)
    r = Instruction("reduce", (squeezed,), inst.shape, dict(inst.attrs, dimensions=remaining),
                    metadata=inst.metadata)
    return r, (squeezed, r)


@_rule("dot")
def _absorb_transpose(inst):
    """dot(transpose(a), b) reads `a` directly with permuted dimension numbers.

    The result lists batch dims, then the lhs free dims, then the rhs free dims, each in
    operand order; the transpose is absorbed only when it keeps its free dims in order."""
    attrs, operands = dict(inst.attrs), list(inst.operands)
    for index, side in enumerate(("lhs", "rhs")):
        t = operands[index]
        if t.opcode != "transpose":
            continue
        perm = tuple(t.attrs["dimensions"])
        batch, contracting = tuple(attrs[f"{side}_batch_dims"]), tuple(attrs[f"{side}_contracting_dims"])
        free = [perm[i] for i in range(len(perm)) if i not in batch + contracting]
        if free != sorted(free):
            continue
        attrs[f"{side}_batch_dims"] = tuple(perm[i] for i in batch)
        attrs[f"{side}_contracting_dims"] = tuple(perm[i] for i in contracting)
        operands[index] = t.operands[0]
    if operands == inst.operands:
        return None
    d = Instruction("dot", operands, inst.shape, attrs, metadata=inst.metadata)
    return d, (d,)
