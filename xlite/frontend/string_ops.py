"""tf.strings as host ops: no executable takes a string, so a string op of a graph carries the NumPy
function (`_host_compute`) that makes its outputs from its inputs' values, and the Session runs it on the
host (xlite/runtime/host_values.py): before the executable when compiled ops read its numeric outputs,
after it when a fetch reads a string made from computed numbers. The kernels here work on object
arrays of bytes, TF's value of a tf.string tensor; eager ops and dataset functions call them directly."""
from __future__ import annotations

import re
from typing import Callable

import numpy as np

from xlite import errors
from xlite.frontend.graph import Tensor, executing_eagerly, get_default_graph, user_source_location
from xlite.frontend.op_registry import lowering, make_op
from xlite.frontend.tensor_shape import TensorShape
from xlite.ir import dtypes
from xlite.ir.module import Metadata
from xlite.ir.shape import Shape

HOST_OPS = "_xlite_host_ops"        # the graph collection of ops the host runs (runtime/host_fed.py)
STRING_OP_TYPES = ("StringJoin", "ReduceJoin", "StringLength", "Substr", "StringToNumber", "AsString", "StringSplit",
                   "StringSplitV2", "StringLower", "StringUpper", "StringStrip", "RegexReplace")


# values ---------------------------------------------------------------------------------------------
def to_bytes(value) -> bytes:
    """One element of a tf.string value: str is UTF-8 encoded, as TF does."""
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value)
    if isinstance(value, (str, np.str_)):
        return value.encode("utf-8")
    raise TypeError(f"Expected string, but got {value!r} of type '{type(value).__name__}'.")


def bytes_array(value) -> np.ndarray:
    """A tf.string value as an object array of bytes (nested lists, str, bytes or NumPy S/U/O arrays)."""
    array = np.asarray(value, dtype=object)
    out = np.empty(array.shape, dtype=object)
    for index, element in np.ndenumerate(array):
        out[index] = to_bytes(element)
    return out


def is_string_value(value) -> bool:
    """Whether a Python/NumPy value is text (str, bytes, their nested lists or arrays)."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "SU" or (value.dtype == object and value.size > 0
                                              and isinstance(value.flat[0], (str, bytes)))
    if isinstance(value, (list, tuple)):
        return len(value) > 0 and is_string_value(value[0])
    return isinstance(value, (str, bytes, np.str_, np.bytes_))


# kernels: object arrays of bytes in, arrays out -----------------------------------------------------
def _map(fn: Callable, array: np.ndarray, dtype=object) -> np.ndarray:
    out = np.empty(array.shape, dtype=dtype)
    for index, element in np.ndenumerate(array):
        out[index] = fn(element)
    return out


def join_shape(shapes: list) -> tuple:
    """StringJoin's output shape: its inputs' one shape, scalars broadcast; others must match (TF's error)."""
    shapes = [tuple(s) for s in shapes]
    full = [s for s in shapes if s != ()]
    for s in full[1:]:
        if s != full[0]:
            raise errors.InvalidArgumentError(None, None, f"Input shapes do not match: {list(full[0])} vs. {list(s)}")
    return full[0] if full else ()


def join_kernel(inputs: list, separator: bytes) -> np.ndarray:
    arrays = [np.asarray(a, dtype=object) for a in inputs]
    shape = join_shape([a.shape for a in arrays])
    arrays = [np.broadcast_to(a, shape) for a in arrays]
    out = np.empty(arrays[0].shape, dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = separator.join(a[index] for a in arrays)
    return out


def reduce_join_kernel(array: np.ndarray, axes: tuple, keepdims: bool, separator: bytes) -> np.ndarray:
    """ReduceJoin: the strings along `axes` joined in row-major order of those axes."""
    kept = [d for d in range(array.ndim) if d not in axes]
    moved = np.transpose(array, kept + list(axes))
    rows = moved.reshape(moved.shape[:len(kept)] + (-1,)) if moved.size else \
        np.empty(moved.shape[:len(kept)] + (0,), object)
    out = np.empty(rows.shape[:-1], dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = separator.join(rows[index])
    return out.reshape([1 if d in axes else n for d, n in enumerate(array.shape)]) if keepdims else out


def length_kernel(array: np.ndarray, unit: str) -> np.ndarray:
    if unit == "UTF8_CHAR":      # TF counts the bytes that do not continue a character
        return _map(lambda b: sum((c & 0xC0) != 0x80 for c in b), array, np.int32)
    return _map(len, array, np.int32)


def substr_kernel(array: np.ndarray, pos: np.ndarray, length: np.ndarray, unit: str) -> np.ndarray:
    pos, length = np.asarray(pos), np.asarray(length)
    if pos.shape != length.shape:
        raise errors.InvalidArgumentError(None, None, "pos and len should have the same shape, got: "
                                                      f"{list(pos.shape)} vs. {list(length.shape)}")
    try:
        strings, pos, length = np.broadcast_arrays(array, pos, length)
    except ValueError:
        raise errors.InvalidArgumentError(None, None, f"Incompatible shapes: {list(array.shape)} vs. "
                                                      f"{list(pos.shape)}") from None
    out = np.empty(strings.shape, dtype=object)
    for k, index in enumerate(np.ndindex(out.shape)):
        text = strings[index].decode("utf-8") if unit == "UTF8_CHAR" else strings[index]
        p, n = int(pos[index]), int(length[index])
        if p > len(text) or p < -len(text):
            raise errors.InvalidArgumentError(None, None, f"pos {p} out of range for string {strings[index]!r} "
                                                          f"at index {k}")
        start = p if p >= 0 else len(text) + p
        piece = text[start:] if n < 0 else text[start:start + n]       # TF: a negative len takes the rest
        out[index] = piece.encode("utf-8") if unit == "UTF8_CHAR" else piece
    return out


_INT = re.compile(rb"\s*[+-]?\d+\s*\Z")
_FLOAT = re.compile(rb"\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)\s*\Z", re.I)


_HEX_FLOAT = re.compile(rb"\s*[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)([pP][+-]?\d+)?\s*\Z")


def to_number_kernel(array: np.ndarray, out_type: dtypes.DType) -> np.ndarray:
    def parse(b: bytes):
        if out_type.is_floating and _FLOAT.match(b):
            return float(b)
        if out_type.is_floating and _HEX_FLOAT.match(b):      # strtod reads C99 hex floats
            return float.fromhex(b.decode().strip())
        if out_type.is_integer and _INT.match(b):
            value = int(b)
            if out_type.min <= value <= out_type.max:
                return value
        raise errors.InvalidArgumentError(None, None, "StringToNumberOp could not correctly convert string: "
                                                      + b.decode("utf-8", errors="replace"))
    with np.errstate(over="ignore"):        # 1e300 is inf in float32, as strtof makes it
        return _map(parse, array).astype(out_type.np) if array.size else np.zeros(array.shape, out_type.np)


def as_string_format(dtype: dtypes.DType, precision: int, scientific: bool, shortest: bool, width: int,
                     fill: str) -> str:
    """The printf format TF's AsString builds from its attributes, with its errors."""
    if scientific and shortest:
        raise errors.InvalidArgumentError(None, None, "Cannot select both scientific and shortest notation")
    if len(fill) > 1:
        raise errors.InvalidArgumentError(None, None, f"Fill string must be one or fewer characters: {fill}")
    if fill and fill not in " +-0#":
        raise errors.InvalidArgumentError(None, None, f'Fill argument not supported: "{fill}"')
    if not dtype.is_floating and (scientific or shortest or precision > -1):
        what = "scientific" if scientific else "shortest" if shortest else "precision"
        raise errors.InvalidArgumentError(None, None, f"{what} not supported for datatype {dtype.name}")
    spec = "%" + fill + (str(width) if width > -1 else "")
    if not dtype.is_floating:
        return spec + ("s" if dtype.is_bool else "d")
    return spec + (f".{precision}" if precision > -1 else "") + ("g" if shortest else "e" if scientific else "f")


def as_string_kernel(array: np.ndarray, fmt: str, is_bool: bool) -> np.ndarray:
    if is_bool:                 # TF prints bools without the width or fill
        return _map(lambda v: b"true" if v else b"false", array)
    return _map(lambda v: (fmt % v.item()).encode() if hasattr(v, "item") else (fmt % v).encode(), array)


def split_kernel(text: bytes, sep: bytes | None, maxsplit: int) -> list[bytes]:
    """TF's StringSplitV2 of one string: sep None splits on runs of whitespace, else on each `sep`."""
    if sep is None or sep == b"":
        return text.split(None, maxsplit)
    return text.split(sep, maxsplit)


def split_v1_kernel(text: bytes, delimiter: bytes, skip_empty: bool) -> list[bytes]:
    """TF1's StringSplit of one string: every byte of `delimiter` separates; an empty one splits bytes."""
    if delimiter == b"" or text == b"":     # an empty string has no pieces, even kept empty ones
        return [text[i:i + 1] for i in range(len(text))]
    pieces = re.split(b"[" + re.escape(delimiter) + b"]", text)
    return [p for p in pieces if p] if skip_empty else pieces


def sparse_split(array: np.ndarray, split_one: Callable) -> list[np.ndarray]:
    """(indices, values, dense_shape) of a 1-D string vector split row by row, TF's SparseTensor parts."""
    if array.ndim != 1:
        raise errors.InvalidArgumentError(None, None, f"input must be a vector, got shape: {list(array.shape)}")
    rows = [split_one(s) for s in array]
    indices = np.array([[i, j] for i, r in enumerate(rows) for j in range(len(r))], np.int64).reshape(-1, 2)
    values = np.empty(len(indices), dtype=object)
    values[:] = [p for r in rows for p in r]
    width = max([len(r) for r in rows] + [0])
    return [indices, values, np.array([len(rows), width], np.int64)]


def regex_replace_kernel(array: np.ndarray, pattern: bytes, rewrite: bytes, replace_global: bool) -> np.ndarray:
    try:
        compiled = re.compile(pattern)
    except re.error as e:
        raise errors.InvalidArgumentError(None, None, f"Invalid pattern: {pattern.decode()}, error: {e}") from None
    template = re.sub(rb"\\0", rb"\\g<0>", rewrite)     # RE2's \0 is the whole match
    return _map(lambda b: compiled.sub(template, b, count=0 if replace_global else 1), array)


# graph ops ---------------------------------------------------------------------------------------------
def host_op(op_type: str, inputs: list, attrs: dict, outputs: list, compute: Callable, name=None) -> list:
    """A graph op the host runs: `compute(input values) -> output values`; `outputs` lists (dtype, shape).
    No lowering rule sees it while building: its shapes are what the caller says."""
    graph = get_default_graph()
    if inputs and inputs[0].graph is not graph and not hasattr(graph, "capture"):
        graph = inputs[0].graph
    scope_name = graph.unique_name(name or op_type)
    file, line = user_source_location()
    metadata = Metadata(op_name=scope_name, op_type=op_type, source_file=file, source_line=line)
    specs = [(dtype, TensorShape(shape)) for dtype, shape in outputs]
    attrs = dict(attrs, _output_types=tuple(d for d, _ in specs), _output_shapes=tuple(s for _, s in specs))
    op = graph.add_op(op_type, scope_name, list(inputs), attrs, specs, metadata)
    op._host_compute = compute
    graph.add_to_collection(HOST_OPS, op)
    return list(op.outputs)


def string_constant(value, name: str = "Const") -> Tensor:
    """A tf.string Const of the graph (its value is an object array of bytes)."""
    array = bytes_array(value)
    array.flags.writeable = False
    if executing_eagerly():
        return make_op("Const", [], {"value": array, "dtype": dtypes.string}, name).outputs[0]
    return host_op("Const", [], {"value": array, "dtype": dtypes.string}, [(dtypes.string, array.shape)],
                   lambda values: [array], name)[0]


@lowering(*STRING_OP_TYPES, stateful=True)
def lower_host_op(ctx, op, *inputs):
    """A host op's lowering: its outputs' shapes while building; an error if the executable needs them."""
    if ctx.static:
        return [ctx.unknown(Shape(dtype, () if shape.ndims is None else tuple(shape.dims)))
                for dtype, shape in zip(op.attrs["_output_types"], op.attrs["_output_shapes"])]
    raise errors.unimplemented(f"{op.type} '{op.name}': a host string op whose outputs compiled ops read, over "
                               "a value computed in the same run (a compiled -> host -> compiled edge); fetch "
                               "its input in one run and feed it to the next")



__all__ = ["HOST_OPS", "STRING_OP_TYPES", "to_bytes", "bytes_array", "is_string_value", "join_kernel",
           "reduce_join_kernel", "join_shape",
           "length_kernel", "substr_kernel", "to_number_kernel", "as_string_format", "as_string_kernel",
           "split_kernel", "split_v1_kernel", "sparse_split", "regex_replace_kernel", "host_op",
           "string_constant", "lower_host_op"]
