"""`if`, `while` and `for` become functions of their state and a call to the operator that runs them.

    if test:                          def ag__fn_if_true_3_0(y):
        y = x * x                         y = x * x
    else:                  ->             return (y,)
        y = -x                        def ag__fn_if_false_3_0(y):
                                          y = -x
                                          return (y,)
                                      (y,) = ag__.if_stmt(test, ag__fn_if_true_3_0, ag__fn_if_false_3_0,
                                                          (y,), ('y',), opts)

The state is every name the statement may assign (analysis.py); one not bound yet enters as
`ag__.Undefined('y')` (a `try: y / except NameError:` before the statement finds out), and
every load of a state name elsewhere goes through `ag__.ld`, which raises on an Undefined, so
a variable left undefined fails where it is read, as in Python. The operators (operators.py)
choose tf.cond / tf.while_loop or Python at run time. Statements inside a `try` pass the try's
line, and those that assign attributes or items (`self.x = ...`) pass them: the operators refuse
a tensor test for both (a traced branch would set the attribute whichever branch runs).
"""
from __future__ import annotations

import ast
import copy
import itertools

from xlite.function.autograph import templates
from xlite.function.autograph.analysis import (HELPER_PREFIX, assigned_names, attribute_chain_root,
                                               mutated_targets)
from xlite.function.autograph.calls import opts as opts_literal


def _load(node: ast.expr) -> ast.expr:
    """A copy of an assignment target's sub-expression (`self` of `self.x`) as a load."""
    node = copy.deepcopy(node)
    for sub in ast.walk(node):
        if hasattr(sub, "ctx"):
            sub.ctx = ast.Load()
    return node


def _target_names(target: ast.expr) -> list[str]:
    return assigned_names(ast.Assign(targets=[target], value=ast.Constant(None)))


def state_names(tree: ast.AST) -> set[str]:
    """Every name that some converted statement in `tree` carries as state."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.If, ast.While)):
            names.update(assigned_names(node.body + node.orelse))
        elif isinstance(node, ast.For):
            names.update(assigned_names(node.body + node.orelse) + _target_names(node.target))
    return names


class _Loads(ast.NodeTransformer):
    """Wraps each load of a state name in `ag__.ld(...)`."""

    def __init__(self, names: set):
        self.names = names

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.names:
            return templates.expr("ag__.ld(x)", node, x=node)
        return node


class ControlFlowConverter(ast.NodeTransformer):
    def __init__(self, filename: str):
        self.filename = filename
        self.counter = itertools.count()
        self.try_lines: list[int] = []
        self.params: list[set] = [set()]

    def visit_FunctionDef(self, node):
        args = node.args
        self.params.append({a.arg for a in args.posonlyargs + args.args + args.kwonlyargs} |
                           {a.arg for a in (args.vararg, args.kwarg) if a is not None})
        tries, self.try_lines = self.try_lines, []
        self.generic_visit(node)
        self.try_lines = tries
        self.params.pop()
        return node

    def visit_Try(self, node):
        self.try_lines.append(node.lineno)
        self.generic_visit(node)
        self.try_lines.pop()
        return node

    visit_TryStar = visit_Try

    # pieces ------------------------------------------------------------------------------
    def _opts(self, node, names: list) -> ast.Dict:
        """Where the statement is, and what it assigns besides names: attributes of an object it does not
        rebind travel as state (composites.py), anything else (items) is refused on tensors."""
        composites, mutates = [], []
        for target in mutated_targets(node.body + node.orelse):
            root = attribute_chain_root(target)
            if isinstance(target, ast.Attribute) and root is not None and root.id not in names:
                composites.append(ast.Tuple(elts=[_load(target.value), ast.Constant(target.attr),
                                                  ast.Constant(ast.unparse(target))], ctx=ast.Load()))
            else:
                mutates.append(ast.unparse(target))
        opts = opts_literal(self.filename, node, self.try_lines[-1] if self.try_lines else None, mutates)
        opts.keys.append(ast.Constant("composites"))
        opts.values.append(ast.Tuple(elts=composites, ctx=ast.Load()))
        opts.keys.append(ast.Constant("appended"))   # lists the loop appends to (calls.py)
        opts.values.append(ast.Constant(tuple(dict.fromkeys(getattr(node, "ag_appended", ())))))
        if hasattr(node, "ag_loop_options"):   # tf.autograph.experimental.set_loop_options in the body
            opts.keys.append(ast.Constant("loop_options"))
            opts.values.append(node.ag_loop_options)
        return opts

    def _undefined(self, names: list, at: ast.AST) -> list:
        out = []
        for n in names:
            if n not in self.params[-1]:
                out += templates.replace(f"try:\n    {n}\nexcept NameError:\n    {n} = ag__.Undefined({n!r})", at)
        return out

    def _function(self, kind: str, node, params: list, body: list, returns: ast.expr) -> tuple[str, ast.stmt]:
        fname = f"{HELPER_PREFIX}{kind}_{node.lineno}_{next(self.counter)}"
        fn = ast.FunctionDef(name=fname, args=templates.arguments(params), body=list(body) + [
            ast.copy_location(ast.Return(value=returns), node)], decorator_list=[], returns=None,
            type_comment=None)
        return fname, ast.copy_location(fn, node)

    def _call(self, names: list, call: ast.expr, node) -> ast.stmt:
        if not names:
            return ast.copy_location(ast.Expr(value=call), node)
        return ast.copy_location(ast.Assign(targets=[templates.names_tuple(names, store=True)], value=call), node)

    # statements --------------------------------------------------------------------------
    def visit_If(self, node):
        names = assigned_names(node.body + node.orelse)
        opts = self._opts(node, names)   # before the body's own statements become functions
        self.generic_visit(node)
        state = templates.names_tuple(names)
        true_name, true_def = self._function("if_true", node, names, node.body, state)
        false_name, false_def = self._function("if_false", node, names, node.orelse, state)
        call = templates.expr(f"ag__.if_stmt(test, {true_name}, {false_name}, state, names, opts)", node,
                              test=node.test, state=state, names=templates.strings_tuple(names),
                              opts=opts)
        return self._undefined(names, node) + [true_def, false_def, self._call(names, call, node)]

    def visit_While(self, node):
        names = assigned_names(node.body)
        opts = self._opts(node, names)
        self.generic_visit(node)
        state = templates.names_tuple(names)
        test_name, test_def = self._function("while_test", node, names, [], node.test)
        body_name, body_def = self._function("while_body", node, names, node.body, state)
        call = templates.expr(f"ag__.while_stmt({test_name}, {body_name}, state, names, opts)", node,
                              state=state, names=templates.strings_tuple(names), opts=opts)
        return self._undefined(names, node) + [test_def, body_def, self._call(names, call, node)] + node.orelse

    def visit_For(self, node):
        names = list(dict.fromkeys(_target_names(node.target) + assigned_names(node.body)))
        opts = self._opts(node, names)
        self.generic_visit(node)
        state = templates.names_tuple(names)
        bind = templates.replace("target = ag__itr", node, target=node.target)
        body_name, body_def = self._function("for_body", node, ["ag__itr"] + names, bind + node.body, state)
        defs, extra = [body_def], "None"
        flags = getattr(node, "ag_extra_test", [])
        if flags:
            test = templates.expr(f"ag__.not_({flags[0]})", node)
            for flag in flags[1:]:
                test = templates.expr(f"ag__.and_(lambda: a, lambda: ag__.not_({flag}))", node, a=test)
            extra, test_def = self._function("for_test", node, names, [], test)
            defs.append(test_def)
        call = templates.expr(f"ag__.for_stmt(iterable, {extra}, {body_name}, state, names, opts)", node,
                              iterable=node.iter, state=state, names=templates.strings_tuple(names),
                              opts=opts)
        return self._undefined(names, node) + defs + [self._call(names, call, node)] + node.orelse


def transform(tree: ast.AST, filename: str) -> None:
    _Loads(state_names(tree)).visit(tree)
    ControlFlowConverter(filename).visit(tree)
