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
from xlite.frontend.graph import Tensor
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


def read_file(filename, name=None):
    """The bytes of the file a HostString names (tf.io.read_file)."""
    if not isinstance(filename, HostString):
        raise errors.unimplemented("tf.io.read_file outside a dataset function (xlite has no string tensors)")
    out = HostString(filename.program, [], name or "ReadFile")

    def step(values, feeds):
        path = values[filename]
        try:
            with open(bytes(path).decode() if not isinstance(path, str) else path, "rb") as f:
                values[out] = np.bytes_(f.read())
        except FileNotFoundError:
            raise errors.NotFoundError(None, None, f"{path!r}; No such file or directory") from None
    filename.program.steps.append(step)
    return out


def decode_csv(records, record_defaults, field_delim=",", use_quote_delim=True, name=None, na_value="",
               select_cols=None):
    """tf.io.decode_csv: one tensor per column, of its default's dtype; an empty field (or `na_value`)
    takes the default, and a column without a default must be present."""
    if not isinstance(records, HostString):
        raise errors.unimplemented("tf.io.decode_csv outside a dataset function (xlite has no string tensors)")
    columns = []
    for default in record_defaults:
        if isinstance(default, Tensor):
            dtype, value = default.dtype, np.asarray(default._static_value if default._static_value is not None
                                                     else [])
        else:
            value = structure.to_array(default)       # Python floats are float32, ints int32, as in TF
            dtype = structure.dtype_of(value)
        if dtype is structure.string:
            raise errors.unimplemented("tf.io.decode_csv string columns inside a traced function")
        columns.append((dtype, value.reshape(-1)[0] if value.size else None))
    outs = [placeholder(dtype, records.shape, name=f"{name or 'DecodeCSV'}_{i}") for i, (dtype, _) in
            enumerate(columns)]
    cols = list(range(len(columns))) if select_cols is None else list(select_cols)

    def step(values, feeds):
        text = values[records]
        lines = np.asarray(text, dtype=object)
        parsed = [np.empty(lines.shape, dtype=d.np) for d, _ in columns]
        for index, line in np.ndenumerate(lines):
            fields = _fields(line, field_delim, use_quote_delim)
            for k, (column, (dtype, default)) in enumerate(zip(cols, columns)):
                if column >= len(fields):
                    raise errors.InvalidArgumentError(
                        None, None, f"Expect {len(cols)} fields but have {len(fields)} in record")
                field = fields[column]
                if field == "" or field == na_value:
                    if default is None:
                        raise errors.InvalidArgumentError(None, None, f"Field {k} is required but missing in "
                                                                      f"record!")
                    parsed[k][index] = default
                    continue
                try:
                    parsed[k][index] = float(field) if dtype.is_floating else int(field)
                except ValueError:
                    raise errors.InvalidArgumentError(
                        None, None, f"Field {k} in record is not a valid {dtype.name}: {field}") from None
        feeds.update(zip(outs, parsed))
    records.program.steps.append(step)
    return outs


def _fields(line, delim: str, quotes: bool) -> list[str]:
    text = bytes(line).decode() if not isinstance(line, str) else line
    if not quotes:
        return text.split(delim)
    return next(csv.reader(io.StringIO(text), delimiter=delim), [""])


__all__ = ["HostProgram", "HostString", "read_file", "decode_csv"]
