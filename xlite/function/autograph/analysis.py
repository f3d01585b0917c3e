"""What the converters need to know about a piece of code, read off the ast: the names it binds.

AutoGraph turns a compound statement into functions that take the statement's state (every
name the statement may rebind) and return its new value, so the one question each converter
asks is "which names does this code assign?". Nested functions, lambdas, classes and
comprehensions have scopes of their own: only the name a `def` or `class` binds counts.
"""
from __future__ import annotations

import ast

HELPER_PREFIX = "ag__fn_"   # functions the converters generate: never state
GENERATED_FLAG = "ag__"     # flags the converters generate (break, continue, return): state like any name


def _target_names(target: ast.AST, out: list) -> None:
    if isinstance(target, ast.Name):
        out.append(target.id)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            _target_names(elt, out)
    elif isinstance(target, ast.Starred):
        _target_names(target.value, out)
    # attributes and subscripts mutate an object; they bind no name


class _Binder(ast.NodeVisitor):
    def __init__(self):
        self.names: list[str] = []

    def visit_Assign(self, node):
        for t in node.targets:
            _target_names(t, self.names)
        self.visit(node.value)

    def visit_AugAssign(self, node):
        _target_names(node.target, self.names)
        self.visit(node.value)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            _target_names(node.target, self.names)
            self.visit(node.value)

    def visit_NamedExpr(self, node):
        _target_names(node.target, self.names)
        self.visit(node.value)

    def visit_For(self, node):
        _target_names(node.target, self.names)
        self.generic_visit(node)

    def visit_With(self, node):
        for item in node.items:
            if item.optional_vars is not None:
                _target_names(item.optional_vars, self.names)
        self.generic_visit(node)

    def visit_ExceptHandler(self, node):
        if node.name:
            self.names.append(node.name)
        self.generic_visit(node)

    def visit_Import(self, node):
        for alias in node.names:
            self.names.append((alias.asname or alias.name).split(".")[0])

    visit_ImportFrom = visit_Import

    def visit_FunctionDef(self, node):
        self.names.append(node.name)   # its body is another scope

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_Lambda(self, node):
        pass

    def visit_ListComp(self, node):
        for gen in node.generators:   # walrus in a comprehension binds in the enclosing scope: rare, ignored
            self.visit(gen.iter)

    visit_SetComp = visit_GeneratorExp = visit_DictComp = visit_ListComp


def assigned_names(nodes) -> list[str]:
    """Names `nodes` (a statement, expression or list of them) may bind in their own scope, first-seen
    order, generated helper functions left out."""
    binder = _Binder()
    for node in nodes if isinstance(nodes, list) else [nodes]:
        binder.visit(node)
    seen: dict[str, None] = {}
    for name in binder.names:
        if not name.startswith(HELPER_PREFIX):
            seen.setdefault(name, None)
    return list(seen)


def mutated_targets(nodes) -> list[ast.expr]:
    """Attributes and items `nodes` assign (`self.x = ...`, `d[k] += ...`), the first of each spelling."""
    found: dict[str, ast.expr] = {}
    todo = list(nodes) if isinstance(nodes, list) else [nodes]
    while todo:
        node = todo.pop(0)
        if isinstance(node, SCOPES):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, (ast.Attribute, ast.Subscript)) and isinstance(sub.ctx, ast.Store):
                    found.setdefault(ast.unparse(sub), sub)
        todo.extend(ast.iter_child_nodes(node))
    return list(found.values())


def attribute_chain_root(node: ast.expr) -> ast.Name | None:
    """`self` for `self.a.b`; None unless the expression is a name followed by attributes only."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node if isinstance(node, ast.Name) else None


def contains(nodes, kinds, stop=(ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)) -> bool:
    """Whether any node of type `kinds` occurs in `nodes`, not looking into nodes of type `stop`."""
    todo = list(nodes) if isinstance(nodes, list) else [nodes]
    while todo:
        node = todo.pop()
        if isinstance(node, kinds):
            return True
        if isinstance(node, stop):
            continue
        todo.extend(ast.iter_child_nodes(node))
    return False


LOOPS = (ast.While, ast.For)
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
