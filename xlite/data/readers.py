"""File sources: TextLineDataset (the lines of text files, without their line endings)."""
from __future__ import annotations

import gzip
import os
import zlib
from typing import Iterator

import numpy as np

from xlite import errors
from xlite.data import structure
from xlite.data.dataset import Dataset
from xlite.data.sources import TensorSlices
from xlite.data.structure import TensorSpec
from xlite.data.text import HostString


class TextLineDataset(Dataset):
    """Each line of each file in turn, as bytes; `compression_type` "" / "GZIP" / "ZLIB"."""

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        if isinstance(filenames, Dataset):
            self._files = filenames
        elif isinstance(filenames, HostString):       # a file name inside interleave/flat_map's function
            self._files = _HostNames(filenames)
        else:
            names = [filenames] if isinstance(filenames, (str, bytes)) else list(filenames)
            self._files = TensorSlices(np.array([os.fsencode(n) for n in names], dtype=object))
        spec = self._files.element_spec
        if not isinstance(spec, TensorSpec) or spec.dtype is not structure.string:
            raise TypeError("`filenames` must be a string, a list of strings or a dataset of tf.string scalars")
        self._compression = (compression_type or "").upper()
        if self._compression not in ("", "GZIP", "ZLIB"):
            raise errors.InvalidArgumentError(None, None, f"Unsupported compression type: {compression_type}")
        self._spec = TensorSpec([], structure.string)

    def _inputs(self):
        return [self._files]

    def _elements(self, env: dict) -> Iterator:
        for name in self._files._elements(env):
            yield from self._lines(os.fsdecode(bytes(name)))

    def _lines(self, path: str) -> Iterator:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise errors.NotFoundError(None, None, f"{path}; No such file or directory") from None
        if self._compression == "GZIP":
            data = gzip.decompress(data)
        elif self._compression == "ZLIB":
            data = zlib.decompress(data)
        for line in data.splitlines():
            yield np.bytes_(line.rstrip(b"\r"))


class _HostNames(Dataset):
    """The file names a HostString holds for one element of the enclosing dataset (a scalar: one)."""

    def __init__(self, names: HostString):
        self._names = names
        self._spec = TensorSpec([], structure.string)

    def _tensors(self):
        return [self._names]

    def _elements(self, env: dict) -> Iterator:
        value = np.asarray(env[self._names], dtype=object)
        yield from (value.reshape(-1) if value.ndim else [value[()]])


__all__ = ["TextLineDataset"]
