"""The closed op set of xlite's IR: every layer registers one rule per opcode listed here."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OpInfo:
    name: str
    kind: str           # leaf, unary, binary, ternary, shape, reduce, linalg, structure
    arity: int | None   # None: variadic
    differentiable: bool = True


_OPS: dict[str, OpInfo] = {}


def _define(kind: str, arity: int | None, names: str, differentiable: bool = True) -> None:
    for name in names.split():
        _OPS[name] = OpInfo(name, kind, arity, differentiable)


_define("leaf", 0, "parameter constant iota", differentiable=False)
_define("leaf", 1, "rng", differentiable=False)
_define("unary", 1, "neg abs exp log log1p tanh logistic sqrt rsqrt sin cos copy")
_define("unary", 1, "sign floor ceil round not is_finite", differentiable=False)
_define("binary", 2, "add sub mul div rem pow max min")
_define("binary", 2, "and or", differentiable=False)
_define("binary", 2, "compare", differentiable=False)
_define("ternary", 3, "select clamp")
_define("unary", 1, "convert")
_define("shape", 1, "broadcast_in_dim reshape transpose slice reverse bitcast")
_define("shape", 2, "pad")
_define("shape", None, "concatenate")
_define("shape", 2, "gather")
_define("shape", 3, "scatter_add")
_define("reduce", 1, "reduce reduce_window")
_define("reduce", 1, "argmax argmin", differentiable=False)
_define("reduce", 2, "select_and_scatter")
_define("linalg", 2, "dot convolution")
_define("structure", None, "tuple")
_define("structure", 1, "get_tuple_element")
_define("structure", None, "while conditional fusion")

OPCODES: tuple[str, ...] = tuple(_OPS)
ELEMENTWISE_KINDS = ("unary", "binary", "ternary")
COMPARISON_DIRECTIONS = ("EQ", "NE", "LT", "LE", "GT", "GE")
REDUCE_KINDS = ("sum", "prod", "max", "min", "and", "or")


def op_info(opcode: str) -> OpInfo:
    try:
        return _OPS[opcode]
    except KeyError:
        raise ValueError(f"unknown opcode {opcode!r}") from None


def is_elementwise(opcode: str) -> bool:
    return _OPS[opcode].kind in ELEMENTWISE_KINDS


class RuleTable(dict):
    """One concern's rule per opcode (shape, eval, cpu, cuda); registering checks the opcode exists."""

    def register(self, *opcodes: str):
        def add(fn):
            for opcode in opcodes:
                op_info(opcode)
                self[opcode] = fn
            return fn
        return add
