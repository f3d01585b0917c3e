"""The elemental emitter: `element(inst, index)` writes the CUDA C that computes one element of `inst`.

It recurses through a (fused) computation, so a whole fusion computes each
output element from its inputs' elements in registers: elementwise ops render
their `@cuda_rule` formula (elemental.py), index ops only rewrite the index
(index_ops.py), and reductions loop over their inputs (reductions.py).
Instructions whose values are in memory (kernel inputs) are loads from a `Buffer`.

Values are `const` locals named once and memoized per (instruction, index),
scoped like the C blocks they are declared in, so a value shared by several
consumers is computed once per element. Indices are C expressions of the
kernel's index type (`int`, or `long long` when some array is too large).
"""
from __future__ import annotations

import contextlib

from xlite import errors
from xlite.codegen.cuda.c_types import ctype, index_literal, memory_type
from xlite.codegen.cuda.elemental import emit_elementwise, has_elemental_rule
from xlite.codegen.cuda.writer import Block, Writer
from xlite.ir.module import Instruction
from xlite.ir.shape import Shape, physical_order, strides
from xlite.ir.opcodes import RuleTable

_ELEMENT_RULES = RuleTable()
# element_rule registers `fn(gen, inst, index) -> C expression` for an elemental non-elementwise opcode.
element_rule = _ELEMENT_RULES.register


def is_elemental(opcode: str) -> bool:
    return has_elemental_rule(opcode) or opcode in _ELEMENT_RULES


class Index:
    """A point of logical `dims`: per-dimension C expressions, or a `linear` position in physical
    `order` whose per-dimension values are derived on first use (into `home`, where it was made)."""

    __slots__ = ("dims", "_values", "linear", "order", "_home")

    def __init__(self, dims, values=None, linear=None, order=None, home: Block | None = None):
        self.dims = tuple(dims)
        self._values = [str(v) for v in values] if values is not None else None
        self.linear = linear
        self.order = tuple(order) if order is not None else tuple(range(len(self.dims)))
        self._home = home
        assert values is not None or linear is not None or not self.dims

    def key(self) -> tuple:
        if self.linear is not None:
            return ("linear", self.linear, self.order)
        return tuple(self._values or ())

    def values(self, gen: "ElementGenerator") -> list[str]:
        if self._values is None:
            vals = ["0"] * len(self.dims)
            rest = self.linear
            home = self._home if self._home is not None else gen.w.block
            for k in range(len(self.order) - 1, -1, -1):
                d = self.order[k]
                size = self.dims[d]
                if size == 1:
                    continue
                if k == 0:
                    vals[d] = rest
                    break
                name = gen.fresh("i")
                home.line(f"const {gen.idx} {name} = {rest} % {gen.lit(size)};")
                vals[d] = name
                if any(self.dims[e] != 1 for e in self.order[:k]):
                    quotient = gen.fresh("q")
                    home.line(f"const {gen.idx} {quotient} = {rest} / {gen.lit(size)};")
                    rest = quotient
            self._values = vals
        return self._values

    def linear_in(self, gen: "ElementGenerator", shape: Shape) -> str:
        """The element's position in `shape`'s physical layout (shape has this index's dims)."""
        if self.linear is not None and tuple(shape.dims) == self.dims and physical_order(shape) == self.order:
            return self.linear
        if not self.dims:
            return "0"
        terms = []
        for v, d, s in zip(self.values(gen), shape.dims, strides(shape)):
            if d == 1 or v == "0":
                continue
            terms.append(v if s == 1 else f"{v} * {gen.lit(s)}")
        return "(" + " + ".join(terms) + ")" if terms else "0"

    def row_major_linear(self, gen: "ElementGenerator") -> str:
        return self.linear_in(gen, Shape(_ANY, self.dims))


class _AnyDType:
    ir_name = "any"


_ANY = _AnyDType()


def scalar_index() -> Index:
    return Index((), values=[])


class Buffer:
    """An array of `shape` at the kernel pointer argument `name`."""

    def __init__(self, name: str, shape: Shape):
        self.name = name
        self.shape = shape

    def load(self, gen: "ElementGenerator", index: Index) -> str:
        expr = f"{self.name}[{index.linear_in(gen, self.shape)}]"
        return f"({expr} != 0)" if self.shape.dtype.is_bool else expr

    def store(self, gen: "ElementGenerator", index: Index, value: str) -> None:
        if self.shape.dtype.is_bool:
            value = f"({memory_type(self.shape.dtype)})({value})"
        gen.w.line(f"{self.name}[{index.linear_in(gen, self.shape)}] = {value};")


class ElementGenerator:
    """Element values of instructions in one kernel; `buffers` holds those already in memory."""

    def __init__(self, writer: Writer, index_type: str, buffers: dict | None = None):
        self.w = writer
        self.idx = index_type
        self.buffers: dict[Instruction, Buffer] = dict(buffers or {})
        self._memo: list[dict] = [{}]
        self._names = 0

    def fresh(self, prefix: str = "v") -> str:
        self._names += 1
        return f"{prefix}{self._names}"

    def lit(self, value: int) -> str:
        return index_literal(value, self.idx)

    def let(self, c_type: str, expr: str, prefix: str = "v") -> str:
        name = self.fresh(prefix)
        self.w.line(f"const {c_type} {name} = {expr};")
        return name

    def var(self, c_type: str, init: str, prefix: str = "a") -> str:
        name = self.fresh(prefix)
        self.w.line(f"{c_type} {name} = {init};")
        return name

    @contextlib.contextmanager
    def memo_scope(self):
        """Values computed inside are forgotten on exit (the C block that declares them closes)."""
        self._memo.append({})
        try:
            yield
        finally:
            self._memo.pop()

    @contextlib.contextmanager
    def scope(self, header: str = ""):
        with self.w.scope(header), self.memo_scope():
            yield

    def remember(self, inst: Instruction, index: Index, value: str) -> None:
        self._memo[-1][(inst, index.key())] = value

    def pin(self, inst: Instruction, value: str) -> None:
        """inst is `value` wherever this scope asks for it (a row kernel's reduction of the current row)."""
        self._memo[-1][(inst, None)] = value

    def element(self, inst: Instruction, index: Index) -> str:
        key, pinned = (inst, index.key()), (inst, None)
        for scope in reversed(self._memo):
            if key in scope:
                return scope[key]
            if pinned in scope:
                return scope[pinned]
        value = self._compute(inst, index)
        self._memo[-1][key] = value
        return value

    def _compute(self, inst: Instruction, index: Index) -> str:
        buffer = self.buffers.get(inst)
        if buffer is not None:
            return self.let(ctype(inst.shape.dtype), buffer.load(self, index))
        op = inst.opcode
        if has_elemental_rule(op):
            values = []
            for operand in inst.operands:
                sub = index if operand.shape.rank == inst.shape.rank else scalar_index()
                values.append(self.element(operand, sub))
            return self.let(ctype(inst.shape.dtype), emit_elementwise(inst, values))
        rule = _ELEMENT_RULES.get(op)
        if rule is None:
            raise errors.unimplemented(f"opcode {op!r} cannot be computed element by element by the cuda backend")
        return rule(self, inst, index)

    def guarded_element(self, inst: Instruction, values: list, valid: str | None, fill: str) -> str:
        """inst's element at `values` where `valid` holds, else `fill`; inst is never read (nor
        computed) outside `valid`, and an empty inst never at all."""
        if 0 in inst.shape.dims:
            return fill
        if valid is None:
            return self.element(inst, Index(inst.shape.dims, values=values))
        result = self.var(ctype(inst.shape.dtype), fill, "g")
        with self.scope(f"if ({valid})"):
            value = self.element(inst, Index(inst.shape.dims, values=values))
            self.w.line(f"{result} = {value};")
        return result


def and_all(conds: list) -> str | None:
    conds = [c for c in conds if c and c != "true"]
    return " && ".join(f"({c})" for c in conds) if conds else None


__all__ = ["ElementGenerator", "Index", "Buffer", "element_rule", "is_elemental", "physical_order", "strides",
           "scalar_index", "and_all"]
