"""Run signatures with symbolic sizes: the `None` dims of a run's feeds become symbols, so one executable
serves every batch size (xlite/ir/symbolic.py says what a symbolic size is).

A feed's dim is symbolic when its placeholder's static dim is None and the fed size is at least 1; fed
dims of equal size share one symbol (`b`, then `b1`, ...), since that is how a batch dim reaches
several placeholders (images and labels). The run's *pattern* (the feeds' dims with those symbols) is
what the Session files the symbolic executable under: a later run whose sizes give the same pattern
reuses it without compiling. A size of 0 stays concrete (specialized), as does every dim of a
placeholder of unknown rank.

Where the symbolic compile meets something that needs a concrete size (a reshape to a fed shape,
an op whose lowering or codegen is not symbolic), it raises `SymbolicUnsupported` and the Session
specializes on the concrete sizes (one executable per size, as before); `docs/design.md` lists which
ops are which.
"""
from __future__ import annotations

import numpy as np

from xlite.ir.symbolic import SymInt


def symbolic_pattern(feeds: dict) -> tuple | None:
    """The run's feeds as ((tensor id, dims with symbol names), ...), or None when no dim is symbolic."""
    names: dict[int, str] = {}
    pattern, symbolic = [], False
    for t, array in feeds.items():
        static = t.shape.dims
        if static is None or len(static) != array.ndim:
            pattern.append((id(t), tuple(array.shape)))
            continue
        dims = []
        for d, size in zip(static, array.shape):
            if d is None and size >= 1:
                name = names.get(size)
                if name is None:
                    name = names[size] = "b" if not names else f"b{len(names)}"
                dims.append(name)
                symbolic = True
            else:
                dims.append(size)
        pattern.append((id(t), tuple(dims)))
    return tuple(pattern) if symbolic else None


def symbolic_shapes(feeds: dict, pattern: tuple) -> dict:
    """The feed shapes to lower with: each symbol name as its SymInt."""
    return {t: tuple(SymInt.symbol(d) if isinstance(d, str) else d for d in dims)
            for t, (_, dims) in zip(feeds, pattern)}


def size_values(lowered_params: list, env: dict) -> dict:
    """Parameter number -> the array of each ("size", (SymInt, DType)) parameter for symbol values `env`."""
    return {n: np.array(value.evaluate(env), dtype.np)
            for n, (kind, item) in enumerate(lowered_params) if kind == "size" for value, dtype in [item]}


def bind_feeds(feed_dims: list, values) -> dict | None:
    """The symbol values of feeds `values` (arrays, in `feed_dims` order: each a dims tuple of ints and
    SymInt symbols), or None when a shape does not fit the pattern (another rank, another static dim, a
    symbol given two sizes, a size of 0)."""
    env: dict = {}
    for dims, value in zip(feed_dims, values):
        shape = getattr(value, "shape", None)
        if shape is None or len(shape) != len(dims):
            return None
        for d, size in zip(dims, shape):
            if type(d) is SymInt:
                name = next(iter(d.symbols()))
                if size < 1 or env.setdefault(name, size) != size:
                    return None
            elif d != size:
                return None
    return env


__all__ = ["symbolic_pattern", "symbolic_shapes", "size_values", "bind_feeds"]
