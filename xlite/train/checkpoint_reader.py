"""tf.train.NewCheckpointReader: the tensors of a checkpoint by name, whichever format holds them.

TF's V2 format (`PREFIX.index` + `PREFIX.data-*`, xlite/io/format/bundle.py) is what Saver writes;
xlite's earlier single-file format (`PREFIX.xckpt`, xlite/train/xckpt.py) is still read.
"""
from __future__ import annotations

import os

import numpy as np

from xlite import errors
from xlite.io.format import bundle
from xlite.train import xckpt


def checkpoint_exists(prefix: str) -> bool:
    """Whether a checkpoint (V2 or xlite's old format) is saved under `prefix`."""
    return bundle.bundle_exists(prefix) or os.path.exists(prefix + xckpt.SUFFIX)


class CheckpointReader:
    """Reads a checkpoint's tensors; the index is read (and checked) once, tensors on demand."""

    def __init__(self, prefix: str):
        prefix = os.fspath(prefix)
        self._prefix = prefix
        if bundle.bundle_exists(prefix) or not os.path.exists(prefix + xckpt.SUFFIX):
            self._bundle = bundle.BundleReader(prefix)   # NotFoundError naming PREFIX.index if absent
            self._legacy = None
        else:
            self._bundle = None
            self._legacy = xckpt.read_checkpoint(prefix + xckpt.SUFFIX)

    def has_tensor(self, name: str) -> bool:
        return name in (self._bundle.entries if self._bundle else self._legacy)

    def get_tensor(self, name: str) -> np.ndarray:
        if not self.has_tensor(name):
            raise errors.NotFoundError(None, None, f"Key {name} not found in checkpoint")
        if self._bundle is not None:
            return self._bundle.get_tensor(name)
        return self._legacy[name].copy()

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        if self._bundle is not None:
            return {name: list(e.shape) for name, e in self._bundle.entries.items()}
        return {name: list(v.shape) for name, v in self._legacy.items()}

    def get_variable_to_dtype_map(self) -> dict:
        from xlite.ir.dtypes import as_dtype
        if self._bundle is not None:
            return {name: as_dtype(self._bundle.dtype_name(name)) for name in self._bundle.entries}
        return {name: as_dtype(v.dtype.name) for name, v in self._legacy.items()}

    def debug_string(self) -> bytes:
        shapes, dtypes = self.get_variable_to_shape_map(), self.get_variable_to_dtype_map()
        return "".join(f"{n} ({dtypes[n].name}) {shapes[n]}\n" for n in sorted(shapes)).encode()


def NewCheckpointReader(filepattern: str) -> CheckpointReader:  # noqa: N802  (TF's spelling)
    return CheckpointReader(filepattern)
