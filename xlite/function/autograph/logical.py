"""`and`, `or`, `not` and `a if c else b` become operator calls that pick TF or Python at run time.

`a and b and c` -> `ag__.and_(lambda: a, lambda: ag__.and_(lambda: b, lambda: c))`: the
operands are lambdas so that, on Python values, an operand runs only when Python would run it.
"""
from __future__ import annotations

import ast

from xlite.function.autograph import templates


def _lambda(body: ast.expr) -> ast.Lambda:
    return ast.copy_location(ast.Lambda(args=templates.arguments([]), body=body), body)


class LogicalConverter(ast.NodeTransformer):
    def __init__(self, filename: str):
        self.filename = filename

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        op = "and_" if isinstance(node.op, ast.And) else "or_"
        result = node.values[-1]
        for value in reversed(node.values[:-1]):
            result = templates.expr(f"ag__.{op}(a, b)", node, a=_lambda(value), b=_lambda(result))
        return result

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return templates.expr("ag__.not_(a)", node, a=node.operand)
        return node

    def visit_IfExp(self, node):
        self.generic_visit(node)
        opts = ast.Dict(keys=[ast.Constant("file"), ast.Constant("line")],
                        values=[ast.Constant(self.filename), ast.Constant(node.lineno)])
        return templates.expr("ag__.if_exp(test, a, b, opts)", node, test=node.test, a=_lambda(node.body),
                              b=_lambda(node.orelse), opts=opts)


def transform(tree: ast.AST, filename: str) -> None:
    LogicalConverter(filename).visit(tree)
