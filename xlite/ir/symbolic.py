"""Symbolic dimension sizes: a `None` dim of a feed becomes a run-time size `b` that shapes, passes and
codegen carry as a polynomial, so one executable serves every value of it.

A `SymInt` is a polynomial with integer coefficients over named symbols (each >= 1 at run time). It
is deliberately not an int: whatever needs a concrete number (range(), numpy shapes, int()) raises
`SymbolicUnsupported`, and the caller then specializes on the concrete value instead (today's path).
Comparisons answer only what holds for every value of the symbols (`b + 1 > b`, `784*b >= b`);
anything else (`b > 100`) raises as well. Equality is structural: `b == 1` is False, which picks the
general code path; where a size of 1 changes what TF computes, the rule itself asks (broadcasting
stretches a symbolic size only against a static 1; a squeeze without axes raises), and a size of 0
is never made symbolic (xlite/runtime/symbolic_runs.py).

Code generators turn a SymInt into run-time values through `slot_table()`: while one is active,
`str(x)` names x's slot in it, and the executable evaluates every slot from the run's sizes.
"""
from __future__ import annotations

import contextlib
import contextvars
import math

import numpy as np
from typing import Iterator

from xlite import errors


class SymbolicUnsupported(errors.UnimplementedError):
    """A symbolic size met code that needs a concrete number: the caller specializes instead."""

    def __init__(self, *args):
        super().__init__(*((None, None) + args if len(args) == 1 else args))


_SLOTS = contextvars.ContextVar("xlite_symbolic_slots", default=None)


def _poly(terms: dict) -> dict:
    return {m: c for m, c in terms.items() if c}


class SymInt:
    """A size polynomial: {monomial (sorted tuple of symbol names): coefficient}; () is the constant."""

    __slots__ = ("terms", "_hash")

    def __init__(self, terms: dict):
        self.terms = terms
        self._hash = None

    @staticmethod
    def symbol(name: str) -> "SymInt":
        return SymInt({(name,): 1})

    # arithmetic ---------------------------------------------------------------------------------
    @staticmethod
    def _terms(x) -> dict:
        if isinstance(x, SymInt):
            return x.terms
        if isinstance(x, bool) or not isinstance(x, int):
            if isinstance(x, np.integer):
                return {(): int(x)} if int(x) else {}
            raise SymbolicUnsupported(f"a symbolic size combined with {type(x).__name__} {x!r}")
        return {(): x} if x else {}

    def __add__(self, other):
        terms = dict(self.terms)
        for m, c in self._terms(other).items():
            terms[m] = terms.get(m, 0) + c
        return simplify(_poly(terms))

    __radd__ = __add__

    def __neg__(self):
        return SymInt({m: -c for m, c in self.terms.items()})

    def __sub__(self, other):
        return self + (-other if isinstance(other, SymInt) else -int(other))

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        terms: dict = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in self._terms(other).items():
                m = tuple(sorted(m1 + m2))
                terms[m] = terms.get(m, 0) + c1 * c2
        return simplify(_poly(terms))

    __rmul__ = __mul__

    def __floordiv__(self, other):
        if isinstance(other, int) and other > 0 and all(c % other == 0 for c in self.terms.values()):
            return simplify({m: c // other for m, c in self.terms.items()})
        if isinstance(other, int) and other == 1:
            return self
        raise SymbolicUnsupported(f"the symbolic size {self} divided by {other}")

    def __mod__(self, other):
        if isinstance(other, int) and other > 0:
            rest = {m: c % other for m, c in self.terms.items() if c % other}
            if not rest or list(rest) == [()]:
                return rest.get((), 0)
        raise SymbolicUnsupported(f"the symbolic size {self} modulo {other}")

    def __truediv__(self, other):
        raise SymbolicUnsupported(f"the symbolic size {self} divided by {other}")

    __rtruediv__ = __rfloordiv__ = __rmod__ = __pow__ = __rpow__ = __truediv__

    # what cannot be a number --------------------------------------------------------------------
    def __index__(self):
        raise SymbolicUnsupported(f"the symbolic size {self} where a concrete number is needed")

    __int__ = __float__ = __index__

    def __bool__(self) -> bool:
        return True             # every symbol is >= 1 and every size polynomial has nonnegative terms

    # comparisons ---------------------------------------------------------------------------------
    def __eq__(self, other) -> bool:
        if not isinstance(other, (int, SymInt)):
            return NotImplemented
        diff = self - other
        if not isinstance(diff, SymInt):
            return diff == 0
        return False

    def __ne__(self, other) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self.terms.items()))
        return self._hash

    def __ge__(self, other) -> bool:
        return _decide(self - other, self, other, ">=")

    def __gt__(self, other) -> bool:
        return _decide(self - other - 1, self, other, ">")

    def __le__(self, other) -> bool:
        return _decide(other - self, self, other, "<=")

    def __lt__(self, other) -> bool:
        return _decide(other - self - 1, self, other, "<")

    # text -------------------------------------------------------------------------------------
    def text(self) -> str:
        """Human-readable: `b`, `784*b`, `b+1`."""
        parts = []
        for m, c in sorted(self.terms.items(), key=lambda t: (-len(t[0]), t[0])):
            name = "*".join(m)
            if not m:
                parts.append(str(c))
            elif c == 1:
                parts.append(name)
            else:
                parts.append(f"{c}*{name}")
        return "+".join(parts).replace("+-", "-") or "0"

    def __str__(self) -> str:
        slots = _SLOTS.get()
        return slots.name(self) if slots is not None else self.text()

    def __repr__(self) -> str:
        return f"SymInt({self.text()})"

    def __format__(self, spec: str) -> str:
        return str(self)

    def symbols(self) -> set:
        return {name for m in self.terms for name in m}

    def evaluate(self, env: dict) -> int:
        return sum(c * math.prod(env[n] for n in m) for m, c in self.terms.items())


class Derived:
    """A run-time size that is no polynomial: ceil(a / b) or min(a, b) of sizes (how code generators
    share a run-time extent over threads). Evaluated, like a SymInt, from the run's sizes; printed, in a
    slot table, as its slot."""

    __slots__ = ("op", "args")
    _OPS = {"ceildiv": lambda a, b: -(-a // b), "min": min}

    def __init__(self, op: str, *args):
        self.op, self.args = op, args

    def evaluate(self, env: dict) -> int:
        return self._OPS[self.op](*(evaluate(a, env) for a in self.args))

    def symbols(self) -> set:
        return set().union(*(a.symbols() for a in self.args if hasattr(a, "symbols")))

    def text(self) -> str:
        return f"{self.op}({','.join(_text(a) for a in self.args)})"

    def __str__(self) -> str:
        slots = _SLOTS.get()
        return slots.name(self) if slots is not None else self.text()

    def __eq__(self, other) -> bool:
        return isinstance(other, Derived) and (self.op, self.args) == (other.op, other.args)

    def __hash__(self) -> int:
        return hash((self.op, self.args))

    def __index__(self):
        raise SymbolicUnsupported(f"the run-time size {self.text()} where a concrete number is needed")

    def to_json(self):
        return {"op": self.op, "args": [a.to_json() if isinstance(a, Derived) else dim_text(a) if
                                        isinstance(a, SymInt) else a for a in self.args]}

    @staticmethod
    def from_json(data):
        return Derived(data["op"], *(Derived.from_json(a) if isinstance(a, dict) else parse_dim(a)
                                     if isinstance(a, str) else a for a in data["args"]))


def ceildiv(a, b):
    """ceil(a / b) for sizes (b >= 1): a number when both are, else a run-time size (Derived)."""
    if isinstance(a, int) and isinstance(b, int):
        return -(-a // b)
    return Derived("ceildiv", a, b)


def is_runtime(x) -> bool:
    """Whether x is a size known only at run time (a SymInt or a Derived)."""
    return isinstance(x, (SymInt, Derived))


def _decide(diff, a, b, op: str) -> bool:
    """Whether diff >= 0 for every value >= 1 of its symbols; raises when that depends on them."""
    if not isinstance(diff, SymInt):
        return diff >= 0
    if _nonnegative(diff):
        return True
    if _nonnegative(-diff - 1):
        return False
    raise SymbolicUnsupported(f"whether {_text(a)} {op} {_text(b)} depends on the run's sizes")


def _nonnegative(p) -> bool:
    """A sufficient test that polynomial p >= 0 for all symbols >= 1: p(t + 1) has no negative coefficient."""
    if not isinstance(p, SymInt):
        return p >= 0
    shifted = 0
    for m, c in p.terms.items():
        term = c
        for name in m:
            term = term * (SymInt.symbol(name) + 1)
        shifted = shifted + term
    terms = shifted.terms if isinstance(shifted, SymInt) else {(): shifted}
    return all(c >= 0 for c in terms.values())


def _text(x) -> str:
    return x.text() if isinstance(x, SymInt) else str(x)


def simplify(terms: dict):
    """A polynomial as a SymInt, or as a plain int when it has no symbol."""
    if not terms:
        return 0
    if list(terms) == [()]:
        return terms[()]
    return SymInt(terms)


def is_symbolic(x) -> bool:
    return isinstance(x, SymInt)


def has_symbolic(dims) -> bool:
    return any(isinstance(d, SymInt) for d in dims)


def evaluate(x, env: dict) -> int:
    """x (an int, a SymInt or a Derived) for the run's symbol values `env`."""
    return x.evaluate(env) if isinstance(x, (SymInt, Derived)) else x


def dim_text(d) -> str:
    """A dimension as the IR text shows it: `?` unknown, `b` / `784*b` symbolic, else the number."""
    if d is None:
        return "?"
    return d.text() if isinstance(d, SymInt) else str(d)


def parse_dim(text: str):
    """The inverse of `dim_text` for one dimension: `?`, a number, or a polynomial such as `784*b+1`."""
    text = text.strip()
    if text == "?":
        return None
    total = 0
    for part in text.replace("-", "+-").split("+"):
        if not part:
            continue
        value = 1
        for factor in part.split("*"):
            factor = factor.strip()
            neg = factor.startswith("-")
            factor = factor.lstrip("-")
            term = int(factor) if factor.isdigit() else SymInt.symbol(factor)
            value = value * (-term if neg else term)
        total = total + value
    return total


def check_consistent(params: list, arrays: list, what=lambda n: f"parameter {n}") -> dict:
    """The symbol values of `arrays` for parameters of dims `params`; InvalidArgumentError naming the
    parameter (`what(n)`) whose size disagrees with an earlier one's (or with its static dims), before
    any native code runs."""
    env: dict = {}
    for n, (dims, array) in enumerate(zip(params, arrays)):
        shape = np.shape(array)
        if len(shape) != len(dims):
            raise errors.InvalidArgumentError(None, None, f"{what(n)} has shape {shape}, expected rank {len(dims)}")
        for d, size in zip(dims, shape):
            if type(d) is SymInt and len(d.terms) == 1 and list(d.terms.values()) == [1]:
                name = next(iter(d.symbols()))
                if size < 1 or env.setdefault(name, size) != size:
                    raise errors.InvalidArgumentError(
                        None, None, f"{what(n)} has shape {shape}: its size {size} for symbolic dim {name} "
                                    f"disagrees with {env[name]} from another input" if size >= 1 else
                                    f"{what(n)} has shape {shape}: symbolic dim {name} must be at least 1")
            elif type(d) is not SymInt and d != size:
                raise errors.InvalidArgumentError(None, None, f"{what(n)} has shape {shape}, expected {dims}")
    for dims in params:
        for d in dims:
            if type(d) is SymInt and not d.symbols() <= env.keys():
                raise errors.InvalidArgumentError(None, None, f"no input gives symbolic size {d}")
    return env


NOMINAL_SIZE = 128       # what a heuristic (a schedule's memory estimate) takes a symbol to be


def nominal(x) -> int:
    """x with every symbol at NOMINAL_SIZE: for estimates only, never for what code computes."""
    return x.evaluate({name: NOMINAL_SIZE for name in x.symbols()}) if isinstance(x, SymInt) else x


def align_up(n, alignment: int):
    """n rounded up to a multiple of `alignment`; a symbolic n to a multiple for every value of its
    symbols (each coefficient rounded up: a bound at most `alignment` - 1 bytes per term too big)."""
    if not isinstance(n, SymInt):
        return (n + alignment - 1) // alignment * alignment
    return simplify({m: -(-c // alignment) * alignment for m, c in n.terms.items()})


def upper_max(a, b):
    """max(a, b) where decidable for every run, else a + b (sizes are nonnegative: a bound on both)."""
    try:
        return max(a, b)
    except SymbolicUnsupported:
        return a + b


def guess(decide, default: bool) -> bool:
    """A performance heuristic's answer `decide()`, or `default` where it depends on the run's sizes.
    Only for choices every answer of which computes the same values (fuse or not, threads or not)."""
    try:
        return decide()
    except SymbolicUnsupported:
        return default


def module_symbols(module) -> set:
    """The symbols of a Module's entry parameters (empty for a static Module)."""
    return {name for p in module.entry.parameters for d in p.shape.dims if type(d) is SymInt
            for name in d.symbols()} if module.entry is not None else set()


class SlotTable:
    """The run-time values generated code reads: slot k holds polynomial `polys[k]` for this run."""

    def __init__(self, prefix: str = "xs."):
        self.polys: list = []
        self._index: dict = {}
        self.prefix = prefix

    def slot(self, x) -> int:
        k = self._index.get(x)
        if k is None:
            k = self._index[x] = len(self.polys)
            self.polys.append(x)
        return k

    def name(self, x) -> str:
        return f'%"{self.prefix}{self.slot(x)}"'

    def values(self, env: dict) -> list:
        return [p.evaluate(env) for p in self.polys]


@contextlib.contextmanager
def slot_table(table: SlotTable) -> Iterator[SlotTable]:
    token = _SLOTS.set(table)
    try:
        yield table
    finally:
        _SLOTS.reset(token)


__all__ = ["SymInt", "Derived", "ceildiv", "is_runtime", "SymbolicUnsupported", "SlotTable", "slot_table",
           "is_symbolic", "has_symbolic", "align_up", "upper_max", "guess", "nominal", "NOMINAL_SIZE", "module_symbols",
           "evaluate", "check_consistent", "dim_text", "parse_dim", "simplify"]
