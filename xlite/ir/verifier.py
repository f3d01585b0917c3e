"""Checks the invariants every pass must keep, so a broken pass fails at the pass, not in a backend.

Run between passes in tests and debug mode: operand order, shapes against the
shape rules, parameter numbering, roots, calls into sub-computations (while,
conditional, fusion) and, once layouts are assigned, a valid layout on every array.
"""
from __future__ import annotations

import numpy as np

from xlite.ir import dtypes
from xlite.ir.module import Computation, Instruction, Module
from xlite.ir.shape import Shape, TupleShape, leaf_shapes
from xlite.ir.shape_inference import ShapeError, infer_shape


class VerificationError(ValueError):
    """A module breaks an IR invariant; the message names the computation and the instruction."""

    def __init__(self, message: str, computation: Computation | None = None,
                 instruction: Instruction | None = None):
        super().__init__(message)
        self.computation, self.instruction = computation, instruction


_CALL_COUNTS = {"while": 2, "fusion": 1}
_PRED_SCALAR = Shape(dtypes.bool_, ())


def verify_module(module: Module) -> None:
    """Raises VerificationError at the first broken invariant of `module`."""
    if module.entry is None:
        raise VerificationError(f"module {module.name}: no entry computation")
    layouts = module.layouts_assigned
    comps = module.all_computations()
    names = [c.name for c in comps]
    for name in names:
        if names.count(name) > 1:
            raise VerificationError(f"module {module.name}: two computations named %{name}")
    _check_call_graph(module)
    for comp in comps:
        _verify_computation(comp, module, layouts)


def _fail(comp: Computation, inst: Instruction | None, message: str):
    where = f"computation %{comp.name}" + (f", instruction %{inst.name} ({inst.opcode})" if inst else "")
    raise VerificationError(f"{where}: {message}", comp, inst)


def strip_layouts(shape):
    """The shape with every layout removed: what shape rules compare."""
    if shape.is_tuple:
        return TupleShape(tuple(strip_layouts(e) for e in shape.elements))
    return Shape(shape.dtype, shape.dims)


def _same(a, b, with_layouts: bool) -> bool:
    return a == b if with_layouts else strip_layouts(a) == strip_layouts(b)


def _check_call_graph(module: Module) -> None:
    """No computation may call itself, directly or through others (walked without recursion)."""
    state: dict[int, str] = {}
    for start in module.all_computations():
        if id(start) in state:
            continue
        state[id(start)] = "open"
        stack = [(start, _calls(start))]
        while stack:
            comp, calls = stack[-1]
            step = next(calls, None)
            if step is None:
                state[id(comp)] = "done"
                stack.pop()
                continue
            inst, callee = step
            if state.get(id(callee)) == "open":
                _fail(comp, inst, f"calls %{callee.name} recursively")
            if id(callee) not in state:
                state[id(callee)] = "open"
                stack.append((callee, _calls(callee)))


def _calls(comp: Computation):
    return ((inst, callee) for inst in comp.instructions for callee in inst.called)


def _verify_computation(comp: Computation, module: Module, layouts: bool) -> None:
    if comp.root is None:
        _fail(comp, None, "no root instruction")
    defined: set[int] = set()
    names: set[str] = set()
    numbers: list[int] = []
    for inst in comp.instructions:
        if id(inst) in defined:
            _fail(comp, inst, "appears twice")
        if inst.name in names:
            _fail(comp, inst, f"name %{inst.name} is used twice")
        for operand in inst.operands:
            if not isinstance(operand, Instruction) or id(operand) not in defined:
                name = getattr(operand, "name", operand)
                _fail(comp, inst, f"operand %{name} is not defined before use in this computation")
        if inst.opcode == "parameter":
            numbers.append(inst.attrs.get("number"))
        _check_shape(comp, inst)
        _check_calls(comp, inst, module, layouts)
        _check_async_pair(comp, inst)
        if layouts:
            _check_layouts(comp, inst)
        defined.add(id(inst))
        names.add(inst.name)
    if id(comp.root) not in defined:
        _fail(comp, comp.root, "the root is not an instruction of this computation")
    if not all(isinstance(n, (int, np.integer)) for n in numbers) or sorted(numbers) != list(range(len(numbers))):
        _fail(comp, None, f"parameter numbers {numbers} are not 0..{len(numbers) - 1}, each once")


def _check_async_pair(comp: Computation, inst: Instruction) -> None:
    """An all_reduce_start's value (in flight) is read only by an all_reduce_done, which reads nothing else."""
    for operand in inst.operands:
        if (operand.opcode == "all_reduce_start") != (inst.opcode == "all_reduce_done"):
            _fail(comp, inst, f"%{operand.name} ({operand.opcode}) may not be an operand of {inst.opcode}: an "
                              "all_reduce_start is read only by an all_reduce_done")


def _check_shape(comp: Computation, inst: Instruction) -> None:
    """The instruction's shape is what its shape rule gives (explicit-result ops: checked as given)."""
    if not isinstance(inst.shape, (Shape, TupleShape)):
        _fail(comp, inst, f"shape {inst.shape!r} is not a Shape or TupleShape")
    try:
        inferred = infer_shape(inst.opcode, [o.shape for o in inst.operands], inst.attrs, inst.shape)
    except ShapeError as e:
        _fail(comp, inst, str(e))
    except (KeyError, TypeError, IndexError, AttributeError, ValueError, ArithmeticError) as e:
        _fail(comp, inst, f"shape rule failed on attributes {inst.attrs!r}: {type(e).__name__}: {e}")
    if not _same(inferred, inst.shape, False):
        _fail(comp, inst, f"shape {inst.shape} differs from the inferred {inferred}")
    if inst.opcode == "constant":
        lit = inst.literal
        if lit is None:
            _fail(comp, inst, "constant without a literal")
        if inst.shape.is_tuple or lit.shape != inst.shape.dims or lit.dtype != inst.shape.dtype.np:
            _fail(comp, inst, f"literal {lit.dtype}{list(lit.shape)} does not match shape {inst.shape}")


def _check_calls(comp: Computation, inst: Instruction, module: Module, layouts: bool) -> None:
    op = inst.opcode
    if op not in ("while", "conditional", "fusion"):
        if inst.called:
            _fail(comp, inst, f"{op} calls no computations, got {len(inst.called)}")
        return
    expected = _CALL_COUNTS.get(op, len(inst.operands) - 1)
    if len(inst.called) != expected:
        _fail(comp, inst, f"{op} calls {expected} computation(s), got {len(inst.called)}")
    for callee in inst.called:
        if not any(callee is c for c in module.computations):
            _fail(comp, inst, f"calls %{callee.name}, which is not registered in the module")
        if callee is module.entry:
            _fail(comp, inst, "calls the entry computation")
    if op == "while":
        state = inst.operands[0].shape
        cond, body = inst.called
        _check_signature(comp, inst, cond, [state], _PRED_SCALAR, layouts, "condition")
        _check_signature(comp, inst, body, [state], state, layouts, "body")
    elif op == "conditional":
        for i, branch in enumerate(inst.called):
            _check_signature(comp, inst, branch, [inst.operands[i + 1].shape], inst.shape, layouts,
                             f"branch {i}")
    else:
        _check_signature(comp, inst, inst.called[0], [o.shape for o in inst.operands], inst.shape,
                         layouts, "fused computation")


def _check_signature(comp, inst, callee: Computation, params: list, result, layouts: bool, role: str) -> None:
    """The callee takes exactly `params` and returns `result`."""
    got = callee.parameters
    if len(got) != len(params):
        _fail(comp, inst, f"{role} %{callee.name} takes {len(got)} parameters, expected {len(params)}")
    for p, want in zip(got, params):
        if not _same(p.shape, want, layouts):
            _fail(comp, inst, f"{role} %{callee.name} parameter {p.attrs.get('number')} is {p.shape}, "
                              f"expected {want}")
    if callee.root is None or not _same(callee.root.shape, result, layouts and result is not _PRED_SCALAR):
        got_root = None if callee.root is None else callee.root.shape
        _fail(comp, inst, f"{role} %{callee.name} returns {got_root}, expected {result}")


def _check_layouts(comp: Computation, inst: Instruction) -> None:
    for leaf in leaf_shapes(inst.shape):
        if leaf.layout is None:
            _fail(comp, inst, f"shape {leaf} has no layout after layout assignment")
        if sorted(leaf.layout.minor_to_major) != list(range(leaf.rank)):
            _fail(comp, inst, f"layout {leaf.layout} is not a permutation of the {leaf.rank} dims of {leaf}")
