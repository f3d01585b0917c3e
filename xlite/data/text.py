"""Strings in dataset functions: tf.io.read_file and tf.io.decode_csv as host steps of a traced function.

No executable takes a string, so a string component of a dataset element (a file name, a line of text)
enters a traced function as a `HostString`, not a placeholder: a symbolic value the function's
`HostProgram` computes per element on the host. `read_file` makes another HostString (the file's
bytes); `decode_csv` parses one into numbers and hands them to the compiled part of the function as
placeholders of its trace graph, which the program feeds. So `TextLineDataset(...).map(lambda line:
parse(decode_csv(line, ...)))` reads and splits text on the host and does the arithmetic compiled.
"""
from __future__ import annotations

import csv
import io
from typing import Callable

import numpy as np

from xlite import errors
from xlite.data import structure
from xlite.frontend.gradients import no_gradient
from xlite.frontend.graph import Tensor
from xlite.frontend import string_ops
from xlite.frontend.op_registry import lowering
from xlite.frontend.tensor_shape import TensorShape
from xlite.frontend.variables import placeholder


class HostProgram:
    """The host steps of one traced function, run in order for each element before its compiled run."""

    def __init__(self):
        self.steps: list[Callable[[dict], dict]] = []    # values of HostStrings -> feeds (and new values)

    def run(self, inputs: dict) -> tuple[dict, dict]:
        """(values of every HostString, feeds of the placeholders the steps fill) for one element."""
        values, feeds = dict(inputs), {}
        for step in self.steps:
            step(values, feeds)
        return values, feeds


class HostString:
    """A tf.string tensor of a traced dataset function: its value is made on the host per element."""

    dtype = structure.string

    def __init__(self, program: HostProgram, shape, name: str):
        self.program = program
        self.shape = TensorShape(shape)
        self.name = name

    def __repr__(self) -> str:
        return f"<tf.Tensor '{self.name}' shape={self.shape} dtype=string (host)>"

    def __getitem__(self, key):
        """x[i], x[a:b], x[..., i]: Python indices (ints, slices, Ellipsis, None) of a string, per element."""
        keys = key if isinstance(key, tuple) else (key,)
        if not all(k is None or k is Ellipsis or isinstance(k, (int, slice, np.integer)) for k in keys):
            raise errors.unimplemented("indexing a dataset function's string with a tensor (only Python ints "
                                       "and slices index it)")
        if self.shape.ndims is None:
            raise errors.unimplemented("indexing a dataset function's string of unknown rank")
        dims = [1 << 30 if d is None else d for d in self.shape.as_list()]     # unknown: any index fits
        try:
            picked = np.shape(np.broadcast_to(np.int8(0), dims)[key])       # the result's rank (no memory)
        except IndexError as e:
            raise errors.InvalidArgumentError(None, None, f"{e} (indexing {self.name})") from None
        known = all(d is not None for d in self.shape.as_list())
        out = HostString(self.program, picked if known else [None] * len(picked), f"{self.name}_item")

        def step(values, feeds):
            try:
                values[out] = np.asarray(values[self], dtype=object)[key]
            except IndexError as e:
                raise errors.InvalidArgumentError(None, None, f"{e} (indexing {self.name})") from None
        self.program.steps.append(step)
        return out


def read_file(filename, name=None):
    """The bytes of the file a string names (tf.io.read_file): a HostString inside a dataset function,
    or a host op on a graph string (a get_next component)."""
    if _graph_string(filename):
        return _host_op("ReadFile", [filename], [(structure.string, filename.shape)],
                        lambda values: [string_ops.bytes_array(_read(np.asarray(values[0], object).item()))],
                        name)[0]
    if not isinstance(filename, HostString):
        raise errors.unimplemented("tf.io.read_file of a value that is not a dataset's string")
    out = HostString(filename.program, [], name or "ReadFile")

    def step(values, feeds):
        values[out] = _read(values[filename])
    filename.program.steps.append(step)
    return out


def _read(path) -> np.bytes_:
    path = path if isinstance(path, str) else bytes(path).decode()
    try:
        with open(path, "rb") as f:
            return np.bytes_(f.read())
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{path}; No such file or directory") from None


def decode_csv(records, record_defaults, field_delim=",", use_quote_delim=True, name=None, na_value="",
               select_cols=None):
    """tf.io.decode_csv: one tensor per column, of its default's dtype; an empty field (or `na_value`)
    takes the default, and a column without a default must be present."""
    columns = []
    for default in record_defaults:
        if isinstance(default, Tensor):
            dtype, value = default.dtype, np.asarray(default._static_value if default._static_value is not None
                                                     else [])
        else:
            value = structure.to_array(default)       # Python floats are float32, ints int32, as in TF
            dtype = structure.dtype_of(value)
        if dtype is structure.string:
            raise errors.unimplemented("tf.io.decode_csv string columns")
        columns.append((dtype, value.reshape(-1)[0] if value.size else None))
    cols = list(range(len(columns))) if select_cols is None else list(select_cols)

    def parse(text):
        return _parse(text, columns, cols, field_delim, use_quote_delim, na_value, exact=select_cols is None)
    if _graph_string(records):
        return _host_op("DecodeCSV", [records], [(dtype, records.shape) for dtype, _ in columns],
                        lambda values: parse(values[0]), name)
    if not isinstance(records, HostString):
        raise errors.unimplemented("tf.io.decode_csv of a value that is not a dataset's string")
    outs = [placeholder(dtype, records.shape, name=f"{name or 'DecodeCSV'}_{i}") for i, (dtype, _) in
            enumerate(columns)]

    def step(values, feeds):
        feeds.update(zip(outs, parse(values[records])))
    records.program.steps.append(step)
    return outs


def _parse(text, columns, cols, field_delim, use_quote_delim, na_value, exact: bool) -> list[np.ndarray]:
    lines = np.asarray(text, dtype=object)
    parsed = [np.empty(lines.shape, dtype=d.np) for d, _ in columns]
    for index, line in np.ndenumerate(lines):
        fields = _fields(line, field_delim, use_quote_delim)
        if exact and len(fields) != len(columns):
            raise errors.InvalidArgumentError(
                None, None, f"Expect {len(columns)} fields but have {len(fields)} in record")
        for k, (column, (dtype, default)) in enumerate(zip(cols, columns)):
            if column >= len(fields):
                raise errors.InvalidArgumentError(
                    None, None, f"Expect {len(cols)} fields but have {len(fields)} in record")
            field = fields[column]
            if field == "" or field == na_value:
                if default is None:
                    raise errors.InvalidArgumentError(None, None, f"Field {k} is required but missing in record!")
                parsed[k][index] = default
                continue
            try:
                parsed[k][index] = float(field) if dtype.is_floating else int(field)
            except ValueError:
                raise errors.InvalidArgumentError(
                    None, None, f"Field {k} in record is not a valid {dtype.name}: {field}") from None
    return parsed


# string host ops in graphs (xlite/frontend/string_ops.py): the Session runs them on the host ---------
def _graph_string(value) -> bool:
    return isinstance(value, Tensor) and value.dtype is structure.string


lowering("DecodeCSV", "ReadFile", stateful=True)(string_ops.lower_host_op)
no_gradient("DecodeCSV", "ReadFile")


def _host_op(op_type: str, inputs: list, outputs: list, compute: Callable, name) -> list:
    return string_ops.host_op(op_type, inputs, {}, outputs, compute, name)


def _fields(line, delim: str, quotes: bool) -> list[str]:
    text = bytes(line).decode() if not isinstance(line, str) else line
    if not quotes:
        return text.split(delim)
    return next(csv.reader(io.StringIO(text), delimiter=delim), [""])


__all__ = ["HostProgram", "HostString", "read_file", "decode_csv"]
