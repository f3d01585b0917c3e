"""The closed op set of xlite's IR: every layer registers one rule per opcode listed here."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OpInfo:
    """What passes and backends ask of an opcode, kept once here so no consumer keeps its own set of names."""
    name: str
    kind: str       # leaf; unary, binary, ternary (elementwise); shape (data movement); reduce; linalg; structure;
                    # collective
    arity: int | None               # None: variadic
    differentiable: bool = True
    cost: int = 1                   # rough operations per element (load 1, transcendental 20): thread splits
    expensive: bool = False         # fusion never recomputes it per use; row kernels keep it in registers
    needs_libm: bool = False        # cpu code may call libm (sinf, fmod; floorf without SSE4.1): AOT links -lm
    collective: bool = False        # talks to the other processes (MPI): never evaluated at compile time
    host: bool = False              # calls back into Python (py_func, Print, checks): never folded or merged

    @property
    def run_time_only(self) -> bool:
        """Whether only a run may evaluate it (constant folding must leave it alone)."""
        return self.collective or self.host

    @property
    def is_elementwise(self) -> bool:
        return self.kind in ELEMENTWISE_KINDS


_OPS: dict[str, OpInfo] = {}


def _op(name: str, kind: str, arity: int | None, **facts) -> None:
    _OPS[name] = OpInfo(name, kind, arity, **facts)


_NO_GRAD = {"differentiable": False}
_TRANSCENDENTAL = {"cost": 20, "expensive": True, "needs_libm": True}   # libm's, or fast_math's polynomials

_op("parameter", "leaf", 0, **_NO_GRAD)
_op("constant", "leaf", 0, **_NO_GRAD)
_op("iota", "leaf", 0, **_NO_GRAD)
_op("rng", "leaf", 1, **_NO_GRAD, cost=60, needs_libm=True)      # Philox rounds; normal: log and cos
_op("neg", "unary", 1)
_op("abs", "unary", 1)
_op("exp", "unary", 1, **_TRANSCENDENTAL)
_op("log", "unary", 1, **_TRANSCENDENTAL)
_op("log1p", "unary", 1, **_TRANSCENDENTAL)
_op("tanh", "unary", 1, **_TRANSCENDENTAL)
_op("logistic", "unary", 1, **_TRANSCENDENTAL)
_op("sqrt", "unary", 1, cost=4, expensive=True)
_op("rsqrt", "unary", 1, cost=5, expensive=True)
_op("sin", "unary", 1, **_TRANSCENDENTAL)
_op("cos", "unary", 1, **_TRANSCENDENTAL)
_op("copy", "unary", 1)
_op("sign", "unary", 1, **_NO_GRAD)
_op("floor", "unary", 1, **_NO_GRAD, needs_libm=True)
_op("ceil", "unary", 1, **_NO_GRAD, needs_libm=True)
_op("round", "unary", 1, **_NO_GRAD, needs_libm=True)
_op("not", "unary", 1, **_NO_GRAD)
_op("is_finite", "unary", 1, **_NO_GRAD)
_op("add", "binary", 2)
_op("sub", "binary", 2)
_op("mul", "binary", 2)
_op("div", "binary", 2, cost=4)
_op("rem", "binary", 2, cost=8, expensive=True, needs_libm=True)
_op("pow", "binary", 2, cost=40, expensive=True, needs_libm=True)
_op("max", "binary", 2)
_op("min", "binary", 2)
_op("and", "binary", 2, **_NO_GRAD)
_op("or", "binary", 2, **_NO_GRAD)
_op("compare", "binary", 2, **_NO_GRAD)
_op("select", "ternary", 3)
_op("clamp", "ternary", 3)
_op("convert", "unary", 1)
_op("broadcast_in_dim", "shape", 1)
_op("reshape", "shape", 1)
_op("transpose", "shape", 1)
_op("slice", "shape", 1)
_op("reverse", "shape", 1)
_op("bitcast", "shape", 1)
_op("pad", "shape", 2)
_op("concatenate", "shape", None)
_op("gather", "shape", 2)
_op("scatter_add", "shape", 3)
_op("dynamic_slice", "shape", None)          # operand, then one start per dim
_op("dynamic_update_slice", "shape", None)   # operand and update, then one start per dim
_op("reduce", "reduce", 1)
_op("reduce_window", "reduce", 1)
_op("argmax", "reduce", 1, **_NO_GRAD)
_op("argmin", "reduce", 1, **_NO_GRAD)
_op("select_and_scatter", "reduce", 2)
_op("dot", "linalg", 2)
_op("convolution", "linalg", 2)
_op("tuple", "structure", None)
_op("get_tuple_element", "structure", 1)
_op("while", "structure", None)
_op("conditional", "structure", None)
_op("fusion", "structure", None)
# Collectives over the world group of processes (xlite/semantics/world.py), as XLA's all-reduce, all-gather
# and collective-broadcast: every process runs the same instructions in the same order.
_COLLECTIVE = {"collective": True}
_op("all_reduce", "collective", 1, **_COLLECTIVE)               # kind: sum, mean, max, min
_op("all_gather", "collective", 1, **_COLLECTIVE)               # along dim 0; replicas: the group size
_op("collective_broadcast", "collective", 1, **_COLLECTIVE)     # root's value to every process
# all_reduce split in two (XLA's all-reduce-start/-done), made by passes/async_collectives.py: the start begins
# the reduction (kind as all_reduce's) and its value may be read only by its done, which waits for it, so the
# scheduler can run other work between them
_op("all_reduce_start", "collective", 1, differentiable=False, **_COLLECTIVE)
_op("all_reduce_done", "collective", 1, differentiable=False, **_COLLECTIVE)   # operand: an all_reduce_start
# A call of a Python function registered in xlite/semantics/host_calls.py (attrs: key, output, args): the
# operands are its arguments (the first `args`) and ordering inputs; the result is its output number `output`.
_op("host_call", "host", None, differentiable=False, cost=100, host=True)

OPCODES: tuple[str, ...] = tuple(_OPS)
ELEMENTWISE_KINDS = ("unary", "binary", "ternary")
COMPARISON_DIRECTIONS = ("EQ", "NE", "LT", "LE", "GT", "GE")
REDUCE_KINDS = ("sum", "prod", "max", "min", "and", "or")
ALL_REDUCE_KINDS = ("sum", "mean", "max", "min")


def op_info(opcode: str) -> OpInfo:
    try:
        return _OPS[opcode]
    except KeyError:
        raise ValueError(f"unknown opcode {opcode!r}") from None


def is_elementwise(opcode: str) -> bool:
    return _OPS[opcode].is_elementwise


class RuleTable(dict):
    """One concern's rule per opcode (shape, eval, cpu, cuda); registering checks the opcode exists."""

    def register(self, *opcodes: str):
        def add(fn):
            for opcode in opcodes:
                op_info(opcode)
                self[opcode] = fn
            return fn
        return add
