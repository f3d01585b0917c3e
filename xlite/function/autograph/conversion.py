"""convert(f): a function's source, through the converters, compiled back into a function like f.

The source comes from `inspect.getsource` (dedented, decorators such as `@tf.function`
dropped, line numbers moved back to the file's so tracebacks and errors name the user's lines),
the converters rewrite the ast (unsupported.py, break_continue_return.py, calls.py, logical.py,
control_flow.py, in that order), and the result compiles under the user's filename inside a
factory function whose parameters are the original's free variables and `ag__` (the operators
module). The function it returns runs with the original's globals, defaults and closure cells
(so later changes to a closed-over variable are seen) and carries its `functools.wraps`
attributes. Conversions are cached per function object.

`converted_call` is what calls in converted code go through: plain Python functions from user
modules are converted (lazily, so recursion is fine); `range`, `len`, `enumerate`, `int` and
`float` of a graph tensor become tf.range, its dim 0, a tensor loop and tf.cast; other builtins,
C functions, classes and functions of libraries (xlite, NumPy, the standard library, installed
packages) run as they are,
as do functions whose source is not available (a lambda sharing its line with others, code
typed at a prompt), functions marked `do_not_convert` and, with a warning as in TF, called
functions holding a construct AutoGraph refuses (`convert` itself raises for those).
"""
from __future__ import annotations

import ast
import functools
import inspect
import sysconfig
import types
import weakref

from xlite import errors, tf_logging
from xlite.function.autograph import (break_continue_return, calls, control_flow, logical, operators,
                                      unsupported)

_DO_NOT_CONVERT = "__ag_do_not_convert__"
_CONVERTED = "__ag_converted__"
_FUTURE_FLAGS = 0
for _feature in ("annotations", "division", "generator_stop"):
    _FUTURE_FLAGS |= getattr(__import__("__future__"), _feature).compiler_flag

_cache: "weakref.WeakKeyDictionary[types.FunctionType, types.FunctionType]" = weakref.WeakKeyDictionary()
_as_is: "weakref.WeakSet[types.FunctionType]" = weakref.WeakSet()   # called functions that failed to convert
_LIBRARY_ROOTS = ("xlite", "numpy", "scipy", "builtins", "functools", "itertools", "collections", "abc",
                  "typing", "inspect", "contextlib", "copy", "math", "re", "os", "sys", "weakref", "threading",
                  "networkx", "llvmlite", "pytest", "_pytest")
_LIBRARY_DIRS = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")})


_BUILTINS = {id(b): (b, op) for b, op in ((range, operators.range_), (len, operators.len_),
                                          (enumerate, operators.enumerate_), (int, operators.int_),
                                          (float, operators.float_))}   # tf.range etc. on graph tensors


class _NoSource(Exception):
    """The function's source is not available or not its own: it runs unconverted."""


# the public API ----------------------------------------------------------------------------
def do_not_convert(func=None):
    """Decorator: AutoGraph calls `func` as it is, never converting it (tf.autograph.experimental)."""
    if func is None:
        return do_not_convert

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    setattr(wrapper, _DO_NOT_CONVERT, True)
    return wrapper


def convert(python_function, recursive: bool = True):
    """The converted function: tensor-dependent control flow becomes tf.cond / tf.while_loop.

    Raises UnimplementedError naming the file and line of a construct AutoGraph cannot convert;
    a function whose source is unavailable comes back unconverted."""
    del recursive   # calls are always converted lazily, through converted_call
    if getattr(python_function, _DO_NOT_CONVERT, False) or getattr(python_function, _CONVERTED, False):
        return python_function
    if isinstance(python_function, types.MethodType):
        return types.MethodType(convert(python_function.__func__), python_function.__self__)
    if isinstance(python_function, functools.partial):
        return functools.partial(convert(python_function.func), *python_function.args,
                                 **python_function.keywords)
    if not isinstance(python_function, types.FunctionType):
        return python_function
    try:
        return _converted(python_function)
    except _NoSource:
        return python_function


def to_graph(entity, recursive: bool = True, experimental_optional_features=None):
    """tf.autograph.to_graph: the converted function (or method)."""
    return convert(entity, recursive)


# calls in converted code -------------------------------------------------------------------
def _is_library(fn: types.FunctionType) -> bool:
    module = getattr(fn, "__module__", None) or ""
    if module.split(".")[0] in _LIBRARY_ROOTS:
        return True
    filename = fn.__code__.co_filename
    return filename.startswith(_LIBRARY_DIRS) or filename.startswith("<")


def converted_call(f, args: tuple, kwargs: dict):
    """Calls `f`, converted first when it is a user's Python function."""
    builtin = _BUILTINS.get(id(f))
    if builtin is not None and builtin[0] is f:
        return builtin[1](*args, **kwargs)
    if getattr(f, _DO_NOT_CONVERT, False):
        return f(*args, **kwargs)
    if isinstance(f, functools.partial):
        return converted_call(f.func, f.args + tuple(args), {**f.keywords, **kwargs})
    target, bound = f, None
    if isinstance(f, types.MethodType):
        target, bound = f.__func__, f.__self__
    elif not isinstance(f, (types.FunctionType, type, types.BuiltinFunctionType)) and callable(f):
        call = getattr(type(f), "__call__", None)
        if isinstance(call, types.FunctionType):   # an object with a Python __call__
            target, bound = call, f
    if not isinstance(target, types.FunctionType) or target in _as_is or _is_library(target) or \
            getattr(target, _DO_NOT_CONVERT, False) or target.__code__.co_flags & inspect.CO_GENERATOR:
        return f(*args, **kwargs)
    try:
        converted = _converted(target)
    except _NoSource:
        return f(*args, **kwargs)
    except errors.UnimplementedError as e:   # TF runs a called function it cannot convert as it is, and says so
        tf_logging.warning("AutoGraph could not transform %s and will run it as-is: %s", target.__qualname__,
                           e.message)
        _as_is.add(target)
        return f(*args, **kwargs)
    if bound is not None:
        return converted(bound, *args, **kwargs)
    return converted(*args, **kwargs)


# conversion ------------------------------------------------------------------------------
def _converted(fn: types.FunctionType) -> types.FunctionType:
    if "ag__" in fn.__code__.co_freevars or "ag__factory" in fn.__qualname__:
        return fn   # defined inside converted code: converted with it
    hit = _cache.get(fn)
    if hit is None:
        hit = _cache[fn] = _convert_function(fn)
    return hit


def _parse(fn: types.FunctionType) -> ast.FunctionDef:
    """The function's own definition, its lines numbered as in its file."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        raise _NoSource() from None
    tree = _parse_block(source)
    ast.increment_lineno(tree, fn.__code__.co_firstlineno - 1)
    name = fn.__code__.co_name
    if name == "<lambda>":
        lambdas = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)]
        if len(lambdas) != 1:
            raise _NoSource()
        node = ast.FunctionDef(name="ag__lambda", args=lambdas[0].args, body=[
            ast.copy_location(ast.Return(value=lambdas[0].body), lambdas[0])], decorator_list=[], returns=None,
            type_comment=None)
        return ast.copy_location(node, lambdas[0])
    if not tree.body or not isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) or \
            tree.body[0].name != name:
        raise _NoSource()
    return tree.body[0]


def _parse_block(source: str) -> ast.Module:
    """The source of an indented definition (a method, a nested function) parsed as is: under `if 1:`, a
    block may start at any indentation, where dedenting fails on a multi-line string less indented."""
    if source[:1] in (" ", "\t"):
        try:
            wrapped = ast.parse("if 1:\n" + source)
        except SyntaxError:   # e.g. a lambda cut out of a longer expression
            raise _NoSource() from None
        ast.increment_lineno(wrapped, -1)
        return ast.Module(body=wrapped.body[0].body, type_ignores=[])
    try:
        return ast.parse(source)
    except SyntaxError:
        raise _NoSource() from None


def _strip(node: ast.FunctionDef) -> None:
    """Decorators, defaults and annotations go: the new function takes the original's own."""
    node.decorator_list = []
    node.returns = None
    args = node.args
    args.defaults, args.kw_defaults = [], [None] * len(args.kwonlyargs)
    for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
        if a is not None:
            a.annotation = None


def transform(node: ast.FunctionDef, filename: str) -> ast.FunctionDef:
    """The converters, in order, on one function definition (lines already the file's)."""
    unsupported.check(node, filename, node.name)
    _strip(node)
    module = ast.Module(body=[node], type_ignores=[])
    break_continue_return.transform(module, filename)
    calls.transform(module, filename)
    logical.transform(module, filename)
    control_flow.transform(module, filename)
    return module.body[0]


def _convert_function(fn: types.FunctionType) -> types.FunctionType:
    code = fn.__code__
    node = transform(_parse(fn), code.co_filename)
    node.name = "ag__converted"   # not the user's name, which inside the factory would shadow a global
    freevars = list(code.co_freevars)
    factory = ast.FunctionDef(name="ag__factory", args=ast.arguments(
        posonlyargs=[], args=[ast.arg(arg=n) for n in ["ag__"] + freevars], vararg=None, kwonlyargs=[],
        kw_defaults=[], kwarg=None, defaults=[]), body=[node, ast.Return(value=ast.Name(node.name, ast.Load()))],
        decorator_list=[], returns=None, type_comment=None)
    module = ast.Module(body=[ast.copy_location(factory, node)], type_ignores=[])
    ast.fix_missing_locations(module)
    compiled = compile(module, code.co_filename, "exec", flags=code.co_flags & _FUTURE_FLAGS, dont_inherit=True)
    namespace: dict = {}
    exec(compiled, {"__builtins__": __builtins__}, namespace)   # noqa: S102 - the user's own code, converted
    inner = namespace["ag__factory"](operators, *[None] * len(freevars))
    cells = dict(zip(freevars, fn.__closure__ or ()))
    closure = tuple(types.CellType(operators) if n == "ag__" else cells.get(n, types.CellType())
                    for n in inner.__code__.co_freevars)
    new_code = inner.__code__.replace(co_name=code.co_name, co_qualname=code.co_qualname)
    new = types.FunctionType(new_code, fn.__globals__, fn.__name__, fn.__defaults__, closure or None)
    new.__kwdefaults__ = fn.__kwdefaults__
    functools.update_wrapper(new, fn)
    setattr(new, _CONVERTED, True)
    return new


def converted_source(fn) -> str:
    """The converted code of `fn` as Python text (for reading what AutoGraph made)."""
    fn = getattr(fn, "__func__", fn)
    return ast.unparse(transform(_parse(fn), fn.__code__.co_filename))


__all__ = ["convert", "converted_call", "converted_source", "do_not_convert", "to_graph"]
