"""tf.keras.utils: to_categorical, normalize, Progbar, get_file (local cache only), plot-free helpers."""
from __future__ import annotations

import os

import numpy as np

from xlite.keras.progbar import Progbar  # noqa: F401


def to_categorical(y, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """One-hot rows for integer labels (a trailing dim of 1 is dropped), Keras' host-side helper."""
    y = np.array(y, dtype="int")
    shape = y.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = tuple(shape[:-1])
    y = y.ravel()
    if not num_classes:
        num_classes = int(np.max(y)) + 1
    n = y.shape[0]
    categorical = np.zeros((n, num_classes), dtype=dtype)
    categorical[np.arange(n), y] = 1
    return np.reshape(categorical, shape + (num_classes,))


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)


def get_file(fname: str, origin: str | None = None, cache_subdir: str = "datasets", cache_dir: str | None = None,
             **kwargs) -> str:
    """The path of `fname` in Keras' cache (~/.keras/<cache_subdir>); xlite never downloads, so a missing file
    is an error naming where to put it."""
    base = os.path.expanduser(cache_dir or os.path.join("~", ".keras"))
    path = os.path.join(base, cache_subdir, fname)
    if not os.path.exists(path):
        from xlite import errors
        raise errors.NotFoundError(None, None, f"{path} not found: xlite does not download datasets; place the "
                                   f"file there (origin: {origin})")
    return path
