"""Generated code written as Python text with holes, as TF's AutoGraph does: easier to read than ast builders.

`replace("name = ag__.f(x)", name=..., x=...)` parses the text and substitutes each Name whose
id is a keyword by the node given (an expression node, a string for a plain name, or a list of
statements where the name stands alone as a statement). Every node made gets `at`'s location.
"""
from __future__ import annotations

import ast
import copy
import textwrap


class _Filler(ast.NodeTransformer):
    def __init__(self, holes: dict):
        self.holes = holes

    def visit_Name(self, node):
        if node.id not in self.holes:
            return node
        value = self.holes[node.id]
        if isinstance(value, str):
            return ast.Name(id=value, ctx=node.ctx)
        value = copy.deepcopy(value)
        if hasattr(value, "ctx"):
            value.ctx = node.ctx
        return value

    def visit_Expr(self, node):
        if isinstance(node.value, ast.Name) and isinstance(self.holes.get(node.value.id), list):
            return list(self.holes[node.value.id])
        return self.generic_visit(node)

    def visit_FunctionDef(self, node):
        if isinstance(self.holes.get(node.name), str):
            node.name = self.holes[node.name]
        return self.generic_visit(node)


def replace(text: str, at: ast.AST | None = None, **holes) -> list[ast.stmt]:
    """Statements of `text` with the holes filled; the template's own nodes get `at`'s location, the
    nodes filled in keep theirs."""
    tree = ast.parse(textwrap.dedent(text))
    if at is not None:   # one line: a call's traceback line is its callee's last line, so keep it on at's first
        for node in ast.walk(tree):
            if "lineno" in node._attributes:
                node.lineno = node.end_lineno = at.lineno
                node.col_offset = node.end_col_offset = at.col_offset
    out = []
    for stmt in tree.body:
        filled = _Filler(holes).visit(stmt)
        out.extend(filled if isinstance(filled, list) else [filled])
    return out


def expr(text: str, at: ast.AST | None = None, **holes) -> ast.expr:
    (stmt,) = replace(text, at, **holes)
    return stmt.value


def name(id_: str, store: bool = False) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Store() if store else ast.Load())


def names_tuple(ids, store: bool = False) -> ast.Tuple:
    return ast.Tuple(elts=[name(i, store) for i in ids], ctx=ast.Store() if store else ast.Load())


def strings_tuple(items) -> ast.Tuple:
    return ast.Tuple(elts=[ast.Constant(value=i) for i in items], ctx=ast.Load())


def arguments(ids) -> ast.arguments:
    return ast.arguments(posonlyargs=[], args=[ast.arg(arg=i) for i in ids], vararg=None, kwonlyargs=[],
                         kw_defaults=[], kwarg=None, defaults=[])
