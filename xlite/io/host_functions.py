"""The Python functions of host-call ops (py_func, Print, check_numerics, Assert) across a GraphDef.

A host op's function lives in this process's registry (xlite/semantics/host_calls.py) under a key
(TF keeps py_func's callables the same way, under a token). Export writes the key with this
process's token as `_xlite_graph_host`; an import in the same process finds the function under it
again. Elsewhere a Python callable cannot come back: an imported PyFunc raises, when it runs,
InvalidArgumentError naming the op (TF: "callback pyfunc_N is not found"); Print, PrintV2,
CheckNumerics and Assert are made again from their inputs and attrs (a tf.print's or tf.Assert's
string literals and output stream are not in the graph: their values print without them).
"""
from __future__ import annotations

import uuid

from xlite import errors
from xlite.frontend.graph import Operation
from xlite.semantics import host_calls

ATTR = "_host_key"
TOKEN = "_xlite_graph_host"
_PROCESS = uuid.uuid4().hex
_PY_FUNCS = ("PyFunc", "PyFuncStateless", "EagerPyFunc")      # (EagerPyFunc: tf.py_function)


def write(node, op: Operation) -> None:
    """Adds `op`'s host function key, with this process's token, to `node`."""
    key = op.attrs.get(ATTR)
    if key is not None:
        node.attr[TOKEN].s = f"{_PROCESS}:{key}".encode()


def registered_key(node) -> int | None:
    """The key `node`'s function has in this process, or None (another process wrote it, or none)."""
    if TOKEN not in node.attr:
        return None
    process, _, key = node.attr[TOKEN].s.decode().partition(":")
    return int(key) if process == _PROCESS and host_calls.is_registered(int(key)) else None


def missing_py_func(op_type: str, name: str, node) -> int:
    """The key of a function that raises, when the imported PyFunc `name` runs, that its Python
    function is not registered in this process."""
    token = node.attr[TOKEN].s.decode().partition(":")[2] if TOKEN in node.attr else "?"

    def call(*args):
        raise errors.InvalidArgumentError(
            None, None, f"ValueError: callback pyfunc_{token} is not found: the Python function of {op_type} "
                        f"op '{name}' was registered by the process that built the graph, and a function "
                        f"cannot be saved with it; build the tf.py_func again in this process\n\t "
                        f"[[{{{{node {name}}}}}]]")
    return host_calls.register(call, name)


def is_py_func(op_type: str) -> bool:
    return op_type in _PY_FUNCS


def rebuild(op_type: str, inputs: list, attrs: dict, name: str) -> Operation | None:
    """A Print, PrintV2, CheckNumerics or Assert op of another process made again through the frontend
    under `name` (ending in "/"), its function new in this process."""
    import sys

    from xlite.frontend import host_ops

    def data(tensors):
        template = attrs.get("_template") or (None,) * len(tensors)
        it = iter(tensors)
        return [next(it) if t is None else t for t in template]
    if op_type == "CheckNumerics":
        return host_ops.check_numerics(inputs[0], attrs["message"], name=name).op
    if op_type == "Print":
        return host_ops.print_v1(inputs[0], inputs[1:], attrs.get("message"), attrs.get("first_n"),
                                 attrs.get("summarize"), name=name).op
    if op_type == "Assert":
        return host_ops.Assert(inputs[0], data(inputs[1:]), attrs.get("summarize"), name=name)
    if op_type == "PrintV2":
        stream = attrs.get("_output_stream")
        return host_ops.print_v2(*data(inputs), output_stream=sys.stdout if stream == "stdout" else stream,
                                 summarize=attrs.get("summarize", 3), sep=attrs.get("_sep", " "),
                                 end=attrs.get("_end", "\n"), name=name)
    raise errors.UnimplementedError(None, None, f"import_graph_def: {op_type} op {name[:-1]!r} calls a Python "
                                                f"function of the process that wrote the graph")
