"""Constructs AutoGraph cannot convert, refused before any conversion with the file and line.

Generators (`yield`) cannot become graph ops; `global` and `nonlocal` rebind names in other
scopes, which the functions converted control flow generates cannot carry as state; coroutines
have no graph form. TF refuses the same. (Tensor-dependent control flow inside `try` is refused
when it runs, by the operators: whether a test is a tensor is known only then.)
"""
from __future__ import annotations

import ast

from xlite import errors

_REASONS = {
    ast.Yield: "`yield`: generators cannot be converted to a graph",
    ast.YieldFrom: "`yield from`: generators cannot be converted to a graph",
    ast.Global: "`global`: converted control flow cannot rebind names of another scope",
    ast.Nonlocal: "`nonlocal`: converted control flow cannot rebind names of another scope",
    ast.AsyncFunctionDef: "`async def`: coroutines cannot be converted to a graph",
    ast.Await: "`await`: coroutines cannot be converted to a graph",
    ast.AsyncFor: "`async for`: coroutines cannot be converted to a graph",
    ast.AsyncWith: "`async with`: coroutines cannot be converted to a graph",
}


def unsupported_error(filename: str, node: ast.AST, function: str, reason: str) -> errors.OpError:
    return errors.unimplemented(f'File "{filename}", line {node.lineno}, in {function}: AutoGraph does not '
                                f"support {reason}")


def check(tree: ast.AST, filename: str, function: str) -> None:
    """Raises UnimplementedError at the first unsupported construct in `tree` (lines already the user's)."""
    found = [node for node in ast.walk(tree) if type(node) in _REASONS]
    if found:
        first = min(found, key=lambda n: (n.lineno, n.col_offset))
        raise unsupported_error(filename, first, function, _REASONS[type(first)])
