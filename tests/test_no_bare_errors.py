"""Users see TF's error classes: no `raise NotImplementedError` outside abstract methods, no bare OSError/MemoryError.

TF's UnimplementedError (xlite.errors.unimplemented) is what xlite raises for what it cannot do; a file
operation's OSError becomes the TF class of its errno (xlite.errors.os_errors_as_tf)."""
import ast
import builtins
import functools
import os

import pytest

import xlite

PACKAGE = os.path.dirname(xlite.__file__)

# (file under xlite/, enclosing function) -> why NotImplementedError stays
ALLOWED_NOT_IMPLEMENTED: dict = {     # abstract methods (see _is_abstract_method) need no entry
    ("keras/engine/training.py", "Model.call"): "tf.keras's own error for a Model with neither a graph nor call",
    ("keras/engine/training.py", "Model.get_config"): "tf.keras's own error for a subclassed model's config",
}
# (file under xlite/, enclosing function) -> why an OSError subclass is raised there
ALLOWED_OS_ERRORS = {
    ("codegen/cpu/cache.py", "_cpuinfo"): "caught by host_fingerprint, which then reads no host",
}
OS_ERRORS = {name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, OSError)}
FORBIDDEN = OS_ERRORS | {"MemoryError", "NotImplementedError"}


def _name(node) -> str | None:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


@functools.lru_cache(maxsize=None)
def _raises() -> tuple:
    """(file, enclosing qualname, exception name, line) of every raise or class base naming a forbidden class."""
    return tuple(_walk_package())


def _walk_package():
    for root, _, files in os.walk(PACKAGE):
        for file in sorted(files):
            if not file.endswith(".py"):
                continue
            path = os.path.join(root, file)
            rel = os.path.relpath(path, PACKAGE).replace(os.sep, "/")
            tree = ast.parse(open(path, encoding="utf-8").read(), path)
            yield from _walk(tree, rel, [])


def _is_abstract_method(node, in_class: bool) -> bool:
    """A method whose whole body (after its docstring) raises NotImplementedError: a subclass must override
    it, as TF's and Keras's own abstract methods do; calling it unoverridden is a programming error."""
    if not in_class or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    body = node.body[1:] if node.body and isinstance(node.body[0], ast.Expr) \
        and isinstance(node.body[0].value, ast.Constant) else node.body
    return (len(body) == 1 and isinstance(body[0], ast.Raise) and body[0].exc is not None
            and _name(body[0].exc) == "NotImplementedError")


def _walk(node, rel, scope):
    for child in ast.iter_child_nodes(node):
        if _is_abstract_method(child, isinstance(node, ast.ClassDef)):
            continue
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if isinstance(child, ast.ClassDef):
                for base in child.bases:
                    if _name(base) in FORBIDDEN:
                        yield rel, ".".join(scope + [child.name]), _name(base), child.lineno
            yield from _walk(child, rel, scope + [child.name])
            continue
        if isinstance(child, ast.Raise) and child.exc is not None and _name(child.exc) in FORBIDDEN:
            yield rel, ".".join(scope), _name(child.exc), child.lineno
        yield from _walk(child, rel, scope)


def test_no_bare_python_errors_reach_users():
    found = _raises()
    assert found, "the walk found no raise at all: it is not looking at the package"
    bad = []
    for rel, where, name, line in found:
        allowed = ALLOWED_NOT_IMPLEMENTED if name == "NotImplementedError" else ALLOWED_OS_ERRORS
        if name == "MemoryError" or (rel, where) not in allowed:
            bad.append(f"xlite/{rel}:{line} in {where or '<module>'}: {name}")
    assert not bad, ("raise TF's classes instead (errors.unimplemented(...), ResourceExhaustedError, "
                     "errors.os_errors_as_tf(path)):\n" + "\n".join(bad))


def test_allow_lists_name_real_places():
    found = {(rel, where) for rel, where, _, _ in _raises()}
    stale = sorted((set(ALLOWED_NOT_IMPLEMENTED) | set(ALLOWED_OS_ERRORS)) - found)
    assert not stale, f"allow-list entries that raise nothing any more: {stale}"


@pytest.mark.parametrize("source, expected", [
    ("def f():\n    raise NotImplementedError('x')\n", [("m.py", "f", "NotImplementedError", 2)]),
    ("class A:\n    def g(self):\n        raise MemoryError\n", [("m.py", "A.g", "MemoryError", 3)]),
    ("raise FileNotFoundError(2, 'x')\n", [("m.py", "", "FileNotFoundError", 1)]),
    ("class E(PermissionError):\n    pass\n", [("m.py", "E", "PermissionError", 1)]),
    ("def h():\n    raise errors.unimplemented('x')\n", []),
    ("class B:\n    def g(self):\n        \"\"\"Subclasses say.\"\"\"\n        raise NotImplementedError\n", []),
    ("class C:\n    def g(self, x):\n        if x:\n            return 1\n        raise NotImplementedError\n",
     [("m.py", "C.g", "NotImplementedError", 5)]),
    ("def k():\n    raise NotImplementedError\n", [("m.py", "k", "NotImplementedError", 2)]),
])
def test_the_walk_sees_each_kind_of_bare_error(source, expected):
    assert list(_walk(ast.parse(source), "m.py", [])) == expected
