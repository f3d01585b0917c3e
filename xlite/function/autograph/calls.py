"""Calls in converted code go through `ag__.converted_call`, so the functions they reach are converted too.

`f(a, *b, k=v, **kw)` becomes `ag__.converted_call(f, (a, *b), {'k': v, **kw})`; at run time
converted_call converts plain user functions and calls everything else as is (operators.py,
conversion.py). Calls that need the caller's frame (`locals()`, `globals()`, `vars()`, `eval`,
`exec`, `dir()`) stay direct; zero-argument `super()` becomes `super(__class__, self)`, since a
converted method is compiled outside its class. `x.append(v)` inside a loop, on a name the
loop body does not assign (a list from outside the loop), becomes `x = ag__.list_append(x, v, ...)`
when `x` is a local of the function: `x` is then loop state, and in a loop over tensors a
TensorArray (lists.py); the loops record the names in `ag_appended`. On a global or closure
list it stays `ag__.list_append(x, v, ...)`, which refuses it in a loop over tensors.
"""
from __future__ import annotations

import ast
import copy

from xlite.function.autograph import templates
from xlite.function.autograph.analysis import assigned_names

_FRAME_BUILTINS = {"locals", "globals", "vars", "eval", "exec", "dir", "super"}


def opts(filename: str, node: ast.AST, try_line: int | None = None, mutates: tuple = ()) -> ast.Dict:
    """The `opts` literal every operator call gets: where the user's statement is (and, for control flow,
    the line of an enclosing `try` and the attributes and items it assigns)."""
    items = {"file": filename, "line": node.lineno, "try_line": try_line, "mutates": tuple(mutates)}
    return ast.Dict(keys=[ast.Constant(k) for k in items], values=[ast.Constant(v) for v in items.values()])


class CallConverter(ast.NodeTransformer):
    def __init__(self, filename: str):
        self.filename = filename
        self.functions: list[ast.FunctionDef] = []
        self.loops: list[set] = []   # names each enclosing loop's body assigns, innermost last
        self.loop_nodes: list[ast.stmt] = []
        self.locals: list[set] = []   # each enclosing function's parameters and assigned names

    def visit_FunctionDef(self, node):
        self.functions.append(node)
        args = node.args
        self.locals.append({a.arg for a in args.posonlyargs + args.args + args.kwonlyargs} |
                           {a.arg for a in (args.vararg, args.kwarg) if a is not None} | set(assigned_names(node.body)))
        loops, nodes, self.loops, self.loop_nodes = self.loops, self.loop_nodes, [], []
        self.generic_visit(node)
        self.loops, self.loop_nodes = loops, nodes
        self.functions.pop()
        self.locals.pop()
        return node

    def visit_While(self, node):
        self.loops.append(set(assigned_names(node.body)))
        self.loop_nodes.append(node)
        self.generic_visit(node)
        self.loops.pop()
        self.loop_nodes.pop()
        return node

    def visit_For(self, node):
        self.loops.append(set(assigned_names(node.body)) | set(assigned_names(
            ast.Assign(targets=[node.target], value=ast.Constant(None)))))
        self.loop_nodes.append(node)
        self.generic_visit(node)
        self.loops.pop()
        self.loop_nodes.pop()
        return node

    def visit_Expr(self, node):
        call = node.value
        if self.loop_nodes and isinstance(call, ast.Call) and not call.args and \
                getattr(call.func, "attr", getattr(call.func, "id", None)) == "set_loop_options":
            self.loop_nodes[-1].ag_loop_options = ast.Dict(keys=[ast.Constant(kw.arg) for kw in call.keywords],
                                                           values=[copy.deepcopy(kw.value) for kw in call.keywords])
        if self.loops and isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and \
                call.func.attr == "append" and isinstance(call.func.value, ast.Name) and \
                call.func.value.id not in self.loops[-1] and len(call.args) == 1 and not call.keywords and \
                not isinstance(call.args[0], ast.Starred):
            value = self.visit(call.args[0])   # the argument's own calls
            target = call.func.value.id
            node.value = templates.expr(f"ag__.list_append({target}, value, {target!r}, opts)", call,
                                        value=value, opts=opts(self.filename, call))
            if not (self.locals and target in self.locals[-1]):
                return node
            for loop in self.loop_nodes:
                loop.ag_appended = getattr(loop, "ag_appended", ()) + (target,)
            store = ast.Name(id=target, ctx=ast.Store())
            return ast.copy_location(ast.Assign(targets=[store], value=node.value), node)
        return self.generic_visit(node)

    def _super(self, node: ast.Call) -> ast.Call:
        fn = self.functions[-1] if self.functions else None
        first = fn and (fn.args.posonlyargs + fn.args.args)
        if not node.args and not node.keywords and first:
            node.args = [templates.name("__class__"), templates.name(first[0].arg)]
            for arg in node.args:
                ast.copy_location(arg, node)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Name) and func.id in _FRAME_BUILTINS:
            return self._super(node) if func.id == "super" else node
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "ag__":
            return node
        args = ast.Tuple(elts=list(node.args), ctx=ast.Load())
        keys, values = [], []
        for kw in node.keywords:
            keys.append(None if kw.arg is None else ast.Constant(kw.arg))
            values.append(kw.value)
        kwargs = ast.Dict(keys=keys, values=values)
        call = templates.expr("ag__.converted_call(f, args, kwargs)", node, f=func, args=args, kwargs=kwargs)
        return call


def transform(tree: ast.AST, filename: str) -> None:
    CallConverter(filename).visit(tree)
