"""`break`, `continue` and an early `return` lowered to flags, as TF's AutoGraph does.

A tf.while_loop body or a tf.cond branch is a function traced once: it cannot jump. So
`break` sets a flag that the loop's test reads (`while not ag__break_1 and test`), `continue`
sets a flag that guards the rest of the body, and `return x` inside control flow sets
`ag__do_return` and `ag__retval` and guards everything after it; the function ends with
`return ag__.retval(ag__retval)` (which also gets the flag when the function may reach its end
without a `return`: a tensor flag there means a return value on some paths only, which TF
refuses). Statements after one that may set a flag move under `if not flag:`, which
control_flow.py converts like any `if` (a tf.cond once the flag is a tensor). On Python values the lowered code does what the original did.

A loop's `else:` runs after the loop unless a `break` ran, so it moves after the loop under
`if not ag__break_N:`. For loops get their extra test as `node.ag_extra_test` (a list of flag
names), which control_flow.py passes to `for_stmt`.
"""
from __future__ import annotations

import ast
import itertools

from xlite.function.autograph import calls, templates
from xlite.function.autograph.analysis import LOOPS, SCOPES, contains

_BLOCKS = ("body", "orelse", "finalbody")


class _Fresh:
    def __init__(self):
        self.counter = itertools.count(1)

    def __call__(self, kind: str) -> str:
        return f"ag__{kind}_{next(self.counter)}"


def _assign(flag: str, value, at: ast.AST) -> ast.stmt:
    return templates.replace(f"{flag} = value", at, value=value)[0]


def _sub_blocks(stmt: ast.stmt):
    """The statement lists inside a compound statement (handlers' bodies included)."""
    for field in _BLOCKS:
        if isinstance(getattr(stmt, field, None), list):
            yield stmt, field
    for handler in getattr(stmt, "handlers", ()):
        yield handler, "body"
    for case in getattr(stmt, "cases", ()):
        yield case, "body"


def _guard(stmts: list, kinds, flag: str, stop, on_jump, on_loop=None) -> list:
    """`stmts` with each jump of `kinds` replaced by `on_jump(stmt)` and what follows a statement that may
    jump moved under `if not flag:`. `stop`: node types whose insides are out of reach."""
    out = []
    for i, stmt in enumerate(stmts):
        if isinstance(stmt, kinds):
            return out + on_jump(stmt)
        if not contains(stmt, kinds, stop):
            out.append(stmt)
            continue
        for owner, field in _sub_blocks(stmt):
            setattr(owner, field, _guard(getattr(owner, field), kinds, flag, stop, on_jump, on_loop) or
                    [ast.copy_location(ast.Pass(), stmt)])
        if on_loop is not None and isinstance(stmt, LOOPS):
            on_loop(stmt)
        out.append(stmt)
        rest = stmts[i + 1:]
        if rest:
            out += templates.replace(f"if not {flag}:\n    rest", rest[0],
                                     rest=_guard(rest, kinds, flag, stop, on_jump, on_loop))
        return out
    return out


def add_loop_test(loop: ast.stmt, flag: str) -> None:
    """The loop stops once `flag` is set: `while not flag and test`, or a for loop's extra test."""
    if isinstance(loop, ast.While):
        loop.test = templates.expr(f"not {flag} and test", loop.test, test=loop.test)
    else:
        loop.ag_extra_test = getattr(loop, "ag_extra_test", []) + [flag]


def _lower_loop(loop: ast.stmt, fresh: _Fresh) -> list:
    """Lowers the jumps of one loop (inner loops done already); returns what replaces it."""
    stop = SCOPES + LOOPS
    if contains(loop.body, ast.Continue, stop):
        flag = fresh("continue")
        loop.body = [_assign(flag, ast.Constant(False), loop)] + _guard(
            loop.body, ast.Continue, flag, stop, lambda s: [_assign(flag, ast.Constant(True), s)])
    before, after = [], list(loop.orelse)
    loop.orelse = []
    if contains(loop.body, ast.Break, stop):
        flag = fresh("break")
        loop.body = _guard(loop.body, ast.Break, flag, stop, lambda s: [_assign(flag, ast.Constant(True), s)])
        before = [_assign(flag, ast.Constant(False), loop)]
        add_loop_test(loop, flag)
        if after:
            after = templates.replace(f"if not {flag}:\n    orelse", after[0], orelse=after)
    return before + [loop] + after


class _Loops(ast.NodeTransformer):
    def __init__(self, fresh: _Fresh):
        self.fresh = fresh

    def visit_While(self, node):
        self.generic_visit(node)   # inner loops first: their jumps are theirs
        return _lower_loop(node, self.fresh)

    visit_For = visit_While


def _nested_return(body: list) -> bool:
    """Whether a `return` sits inside a compound statement (a top-level one needs no flag)."""
    return any(not isinstance(stmt, ast.Return) and contains(stmt, ast.Return, SCOPES) for stmt in body)


def always_returns(body: list) -> bool:
    """Whether every path through `body` ends in `return` or `raise` (an `if` needs both branches to)."""
    for stmt in body:
        if isinstance(stmt, (ast.Return, ast.Raise)):
            return True
        if isinstance(stmt, ast.If) and always_returns(stmt.body) and always_returns(stmt.orelse):
            return True
    return False


def lower_returns(fn: ast.FunctionDef, fresh: _Fresh, filename: str) -> None:
    if not _nested_return(fn.body):
        return
    ends = always_returns(fn.body)
    do_return, value = "ag__do_return", "ag__retval"

    def on_return(stmt):
        result = stmt.value if stmt.value is not None else ast.Constant(None)
        return [_assign(do_return, ast.Constant(True), stmt), _assign(value, result, stmt)]

    body = _guard(fn.body, ast.Return, do_return, SCOPES, on_return, lambda loop: add_loop_test(loop, do_return))
    first, last = fn.body[0], fn.body[-1]
    if ends:
        tail = templates.replace(f"return ag__.retval({value})", last)
    else:   # may fall off the end: TF refuses a return decided by a tensor there
        tail = templates.replace(f"return ag__.retval({value}, {do_return}, opts)", last,
                                 opts=calls.opts(filename, fn))
    fn.body = (templates.replace(f"{do_return} = False\n{value} = ag__.UndefinedReturnValue()", first) + body +
               tail)


def transform(tree: ast.AST, filename: str) -> None:
    """Lowers the jumps of every function in `tree`."""
    fresh = _Fresh()
    _Loops(fresh).visit(tree)
    for node in list(ast.walk(tree)):
        if isinstance(node, ast.FunctionDef):
            lower_returns(node, fresh, filename)
