"""tf.strings (and TF1's tf.string_join, tf.substr, tf.as_string, tf.string_split, ...): host ops.

Each op runs where its strings are: eagerly at once; in a tf.data function as a step of the function's
HostProgram (a string stays a HostString, a number becomes a placeholder the program feeds, as
decode_csv does); in a graph as a host op (xlite/frontend/string_ops.py) that Session.run evaluates
around the executable (xlite/runtime/host_values.py)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from xlite import errors
from xlite.data.text import HostString
from xlite.frontend import string_ops as ops
from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gradients import no_gradient
from xlite.frontend.graph import Tensor, executing_eagerly
from xlite.frontend.op_registry import make_op
from xlite.frontend.missing_api import namespace_getattr
from xlite.frontend.sparse_ops import SparseTensor
from xlite.frontend.tensor_shape import TensorShape
from xlite.frontend.variables import placeholder
from xlite.ir import dtypes

no_gradient(*ops.STRING_OP_TYPES, "StringToHashBucketFast")
string = dtypes.string


def _string_input(value):
    """A string argument as a HostString, a graph/eager Tensor, or a Const made from a Python value."""
    if isinstance(value, HostString):
        return value
    if isinstance(value, (list, tuple)) and any(isinstance(v, (Tensor, HostString)) for v in value):
        return _stack([_string_input(v) for v in value])       # tf.string_split([line]) of a tensor
    if isinstance(value, Tensor):
        if value.dtype is not dtypes.string:
            raise TypeError(f"Input 'input' of string op expected dtype string, got {value.dtype.name}")
        return value
    return ops.string_constant(value)


def _host(op_type: str, inputs: list, attrs: dict, outputs: Callable, compute: Callable, name=None) -> list:
    """Runs `compute(input values) -> output values` where the inputs live. `outputs(shapes)` gives the
    (dtype, shape) of each output from the inputs' static shapes."""
    kernel = compute

    def compute(values):     # strings as object arrays of bytes, whatever their source gives
        return kernel([ops.bytes_array(v) if t.dtype is string else np.asarray(v) for t, v in zip(inputs, values)])
    inputs = [t if isinstance(t, (Tensor, HostString)) else convert_to_tensor(t) for t in inputs]
    if any(isinstance(t, HostString) for t in inputs):
        return _dataset_step(op_type, inputs, outputs, compute, name)
    if executing_eagerly() and all(t._is_eager for t in inputs):
        values = compute([t._value for t in inputs])
        return [make_op("Const", [], {"value": np.asarray(v, dtype=d.np), "dtype": d}, name or op_type).outputs[0]
                for v, (d, _) in zip(values, outputs([t.shape for t in inputs]))]
    return ops.host_op(op_type, inputs, attrs, outputs([t.shape for t in inputs]), compute, name)


def _dataset_step(op_type: str, inputs: list, outputs: Callable, compute: Callable, name) -> list:
    """A step of a dataset function's HostProgram: strings stay HostStrings, numbers are fed placeholders."""
    program = next(t.program for t in inputs if isinstance(t, HostString))
    constants = []
    for t in inputs:
        if isinstance(t, HostString):
            constants.append(None)
        elif t._static_value is not None:
            constants.append(np.asarray(t._static_value))
        elif t.op.type == "Const" and getattr(t.op, "_host_compute", None) is not None:     # a string constant
            constants.append(t.op.attrs["value"])
        else:
            raise errors.unimplemented(f"{op_type} in a dataset function over a computed {t.dtype.name} tensor "
                                       "and a string: only constants join strings there")
    made = []
    for i, (dtype, shape) in enumerate(outputs([t.shape for t in inputs])):
        label = f"{name or op_type}_{i}"
        made.append(HostString(program, shape, label) if dtype is dtypes.string else placeholder(dtype, shape, label))

    def step(values, feeds):
        results = compute([values[t] if c is None else c for t, c in zip(inputs, constants)])
        for out, value in zip(made, results):
            (values if isinstance(out, HostString) else feeds)[out] = value
    program.steps.append(step)
    return made


def _stack(items: list):
    """The strings of `items` (all of one shape) stacked along a new first axis, as tf.stack (Pack)."""
    return _host("Pack", items, {"axis": 0, "N": len(items)},
                 lambda shapes: [(string, TensorShape([len(items)]).concatenate(shapes[0]))],
                 lambda values: [np.stack(values)])[0]


def _sparse(indices, values, dense_shape) -> SparseTensor:
    """A SparseTensor of the parts; in a dataset function its values may be a HostString (`.values`
    then feeds more string ops there), which SparseTensor's own constructor would refuse."""
    if not isinstance(values, HostString):
        return SparseTensor(indices, values, dense_shape)
    sparse = SparseTensor.__new__(SparseTensor)
    sparse._indices, sparse._values, sparse._dense_shape = indices, values, dense_shape
    return sparse


def _same(dtype):
    return lambda shapes: [(dtype, shapes[0])]


def _join_shape(shapes: list) -> TensorShape:
    """StringJoin's static shape: the non-scalar inputs' common shape (TF broadcasts scalars only)."""
    full = [s for s in shapes if s.ndims != 0]
    shape = TensorShape(None) if any(s.ndims is None for s in full) or not full else full[0]
    for s in full[1:]:
        if not s.is_compatible_with(full[0]):
            raise ValueError(f"Input shapes do not match: {full[0]} vs. {s} (tf.strings.join)")
        shape = shape.merge_with(s) if shape.ndims is not None else shape
    return TensorShape([]) if not full else shape


# the ops ---------------------------------------------------------------------------------------------------
def join(inputs, separator="", name=None):
    """tf.strings.join: the element-wise concatenation of `inputs` (scalars broadcast)."""
    inputs = [_string_input(t) for t in inputs]
    sep = ops.to_bytes(separator)
    return _host("StringJoin", inputs, {"separator": separator}, lambda shapes: [(string, _join_shape(shapes))],
                 lambda values: [ops.join_kernel(values, sep)], name)[0]


def reduce_join(inputs, axis=None, keepdims=False, separator="", name=None, keep_dims=None,
                reduction_indices=None):
    """tf.strings.reduce_join: the strings along `axis` (all axes when None) joined by `separator`."""
    value = _string_input(inputs)
    keepdims = bool(keep_dims) if keep_dims is not None else bool(keepdims)
    axis = reduction_indices if axis is None else axis
    rank = value.shape.ndims
    if rank is None:
        raise errors.unimplemented("tf.strings.reduce_join of a tensor of unknown rank")
    axes = tuple(range(rank)) if axis is None else tuple(sorted({int(a) % max(rank, 1) for a in np.ravel(axis)}))
    for a in np.ravel(axis if axis is not None else []):
        if not -rank <= int(a) < rank:
            raise errors.InvalidArgumentError(None, None, f"Invalid reduction dimension {int(a)} for input with "
                                                          f"{rank} dimensions.")
    dims = value.shape.as_list()
    shape = [1 if d in axes else n for d, n in enumerate(dims)] if keepdims else \
        [n for d, n in enumerate(dims) if d not in axes]
    sep = ops.to_bytes(separator)
    return _host("ReduceJoin", [value], {"keep_dims": keepdims, "separator": separator},
                 lambda shapes: [(string, TensorShape(shape))],
                 lambda values: [ops.reduce_join_kernel(values[0], axes, keepdims, sep)], name)[0]


def length(input, unit="BYTE", name=None):  # noqa: A002
    """tf.strings.length: bytes (or, with unit='UTF8_CHAR', Unicode characters) per string, int32."""
    _check_unit(unit)
    return _host("StringLength", [_string_input(input)], {"unit": unit}, _same(dtypes.int32),
                 lambda values: [ops.length_kernel(values[0], unit)], name)[0]


def substr(input, pos, len, name=None, unit="BYTE"):  # noqa: A002
    """tf.strings.substr: `len` bytes (or characters) from `pos` (negative counts from the end)."""
    _check_unit(unit)
    return _host("Substr", [_string_input(input), _int_input(pos), _int_input(len)], {"unit": unit},
                 lambda shapes: [(string, shapes[0])],
                 lambda values: [ops.substr_kernel(*values, unit)], name)[0]


def to_number(string_tensor, out_type=dtypes.float32, name=None):
    """tf.strings.to_number: parses each string; InvalidArgumentError names one it cannot."""
    out_type = dtypes.as_dtype(out_type)
    if out_type not in (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64):
        raise TypeError(f"Value passed to parameter 'out_type' has DataType {out_type.name} not in list of "
                        "allowed values: float32, float64, int32, int64")
    return _host("StringToNumber", [_string_input(string_tensor)], {"out_type": out_type}, _same(out_type),
                 lambda values: [ops.to_number_kernel(values[0], out_type)], name)[0]


def as_string(input, precision=-1, scientific=False, shortest=False, width=-1, fill="", name=None):  # noqa: A002
    """tf.strings.as_string: numbers (and bools) printed with TF's printf format."""
    value = input if isinstance(input, (Tensor, HostString)) else convert_to_tensor(input)
    if value.dtype is string:
        raise TypeError("Value passed to parameter 'input' has DataType string not in list of allowed values")
    fmt = ops.as_string_format(value.dtype, precision, scientific, shortest, width, fill)
    return _host("AsString", [value], {"precision": precision, "scientific": scientific, "shortest": shortest,
                                       "width": width, "fill": fill}, _same(string),
                 lambda values: [ops.as_string_kernel(np.asarray(values[0]), fmt, value.dtype.is_bool)], name)[0]


def split(input=None, sep=None, maxsplit=-1, result_type=None, source=None, name=None):  # noqa: A002
    """tf.strings.split: a scalar's pieces as a 1-D tensor (TF2); with result_type='SparseTensor', TF1's
    SparseTensor of a vector's pieces. Any other rank needs a RaggedTensor, which xlite lacks."""
    value = _string_input(input if input is not None else source)
    if result_type == "SparseTensor":
        return compat_v1_split(value, sep, maxsplit, result_type, name)
    if value.shape.ndims != 0:
        raise errors.unimplemented("tf.strings.split of a tensor of rank other than 0 (it returns a RaggedTensor, "
                                   "which xlite lacks); use result_type='SparseTensor' or tf.string_split")
    separator = None if sep is None else ops.to_bytes(sep)

    def compute(values):
        pieces = ops.split_kernel(values[0][()], separator, maxsplit)
        out = np.empty(len(pieces), dtype=object)
        out[:] = pieces
        return [out]
    return _host("StringSplitV2", [value], {"sep": sep, "maxsplit": maxsplit},
                 lambda shapes: [(string, TensorShape([None]))], compute, name)[0]


def string_split(source, sep=None, skip_empty=True, delimiter=None, result_type="SparseTensor", name=None):
    """TF1's tf.string_split: a SparseTensor of each vector element's pieces (every byte of `delimiter`
    separates, default ' ')."""
    if result_type != "SparseTensor":
        raise errors.unimplemented("tf.string_split(result_type='RaggedTensor'): xlite has no RaggedTensor")
    value = _string_input(source)
    chars = ops.to_bytes(" " if delimiter is None and sep is None else delimiter if delimiter is not None else sep)
    outputs = [(dtypes.int64, TensorShape([None, 2])), (string, TensorShape([None])), (dtypes.int64, TensorShape([2]))]
    return _sparse(*_host("StringSplit", [value], {"skip_empty": skip_empty}, lambda shapes: outputs,
                          lambda vals: ops.sparse_split(vals[0], lambda s: ops.split_v1_kernel(s, chars, skip_empty)),
                          name))


def compat_v1_split(source, sep=None, maxsplit=-1, result_type="SparseTensor", name=None, input=None):  # noqa: A002
    """tf.compat.v1.strings.split: StringSplitV2's pieces of a vector as a SparseTensor."""
    if result_type != "SparseTensor":
        raise errors.unimplemented("tf.compat.v1.strings.split(result_type='RaggedTensor'): xlite has no "
                                   "RaggedTensor")
    value = _string_input(source if source is not None else input)
    if value.shape.ndims == 0:
        value = _stack([value])         # a scalar is split as a vector of one, as in TF
    separator = None if sep is None else ops.to_bytes(sep)
    outputs = [(dtypes.int64, TensorShape([None, 2])), (string, TensorShape([None])), (dtypes.int64, TensorShape([2]))]
    return _sparse(*_host("StringSplitV2", [value], {"maxsplit": maxsplit}, lambda shapes: outputs,
                          lambda vals: ops.sparse_split(vals[0], lambda s: ops.split_kernel(s, separator, maxsplit)),
                          name))


def _ascii_or(encoding: str, fn_bytes: Callable, fn_text: Callable) -> Callable:
    if encoding in ("", None):
        return fn_bytes
    if encoding.lower().replace("-", "") != "utf8":
        raise errors.InvalidArgumentError(None, None, f"encoding must be '' or 'utf-8', got {encoding!r}")
    return lambda b: fn_text(b.decode("utf-8")).encode("utf-8")


def lower(input, encoding="", name=None):  # noqa: A002
    """tf.strings.lower: ASCII letters (all letters with encoding='utf-8') to lower case."""
    fn = _ascii_or(encoding, bytes.lower, str.lower)
    return _host("StringLower", [_string_input(input)], {"encoding": encoding}, _same(string),
                 lambda values: [ops._map(fn, values[0])], name)[0]


def upper(input, encoding="", name=None):  # noqa: A002
    """tf.strings.upper: ASCII letters (all letters with encoding='utf-8') to upper case."""
    fn = _ascii_or(encoding, bytes.upper, str.upper)
    return _host("StringUpper", [_string_input(input)], {"encoding": encoding}, _same(string),
                 lambda values: [ops._map(fn, values[0])], name)[0]


def strip(input, name=None):  # noqa: A002
    """tf.strings.strip: leading and trailing ASCII whitespace removed."""
    return _host("StringStrip", [_string_input(input)], {}, _same(string),
                 lambda values: [ops._map(bytes.strip, values[0])], name)[0]


def regex_replace(input, pattern, rewrite, replace_global=True, name=None):  # noqa: A002
    """tf.strings.regex_replace: matches of `pattern` (RE2 syntax, as far as Python's re shares it)
    replaced by `rewrite` (\\1 a group, \\0 the match)."""
    pattern, rewrite = ops.to_bytes(pattern), ops.to_bytes(rewrite)
    return _host("RegexReplace", [_string_input(input)], {"replace_global": replace_global}, _same(string),
                 lambda values: [ops.regex_replace_kernel(values[0], pattern, rewrite, replace_global)], name)[0]


def to_hash_bucket_fast(input, num_buckets, name=None):  # noqa: A002
    """tf.strings.to_hash_bucket_fast: Fingerprint64 of each string modulo num_buckets, int64."""
    if num_buckets < 1:
        raise errors.InvalidArgumentError(None, None, "Number of buckets must be at least 1")
    from xlite.estimator.feature_column.fingerprint import fingerprint64    # loads tf.estimator: not at import
    return _host("StringToHashBucketFast", [_string_input(input)], {"num_buckets": num_buckets},
                 _same(dtypes.int64),
                 lambda values: [ops._map(lambda b: fingerprint64(b) % num_buckets, values[0], np.int64)], name)[0]


def _check_unit(unit: str) -> None:
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"unit must be one of BYTE, UTF8_CHAR, got {unit!r}")


def _int_input(value):
    return value if isinstance(value, Tensor) else convert_to_tensor(value, dtypes.int32)


string_join = join
string_length = length
string_to_number = to_number
string_to_hash_bucket_fast = to_hash_bucket_fast

__all__ = ["join", "reduce_join", "length", "substr", "to_number", "as_string", "split", "string_split", "compat_v1_split", "lower",
           "upper", "strip", "regex_replace", "to_hash_bucket_fast", "string_join", "string_length",
           "string_to_number", "string_to_hash_bucket_fast", "string"]

__getattr__ = namespace_getattr("strings", __name__)      # a TF name it lacks: UnimplementedError naming it
