"""Small data sets for the examples, an MNIST IDX reader for local files, and a shuffling batch iterator.

Nothing here downloads: digits and iris come from scikit-learn's shipped copies
(the `examples` extra), MNIST from IDX files the user already has.
"""
from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass

import numpy as np

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str) -> np.ndarray:
    """An IDX file (the MNIST format), gzip-compressed or raw, as a NumPy array of its stored shape."""
    with open(path, "rb") as f:
        head = f.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError(f"{path}: too short to be an IDX file")
    zero, type_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or type_code not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (magic bytes {data[:4].hex()})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_DTYPES[type_code])
    count = int(np.prod(dims, dtype=np.int64))
    if len(data) - header != count * dtype.itemsize:
        raise ValueError(f"{path}: expected {count * dtype.itemsize} bytes of data for shape {dims}, "
                         f"found {len(data) - header}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(path: str, array: np.ndarray, compress: bool = False) -> None:
    """Writes an array in IDX format (for tests and for making MNIST-format files from other data)."""
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("=").name: k for k, v in _IDX_DTYPES.items()}
    if array.dtype.name not in codes:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    big = array.dtype.newbyteorder(">")
    payload = struct.pack(">HBB", 0, codes[array.dtype.name], array.ndim)
    payload += struct.pack(f">{array.ndim}I", *array.shape) + array.astype(big).tobytes()
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(payload)


@dataclass
class Dataset:
    """Features and labels with a shuffling `next_batch`, like the TF tutorials' DataSet."""

    features: np.ndarray
    labels: np.ndarray
    seed: int = 0

    def __post_init__(self):
        self._rng = np.random.default_rng(self.seed)
        self._order = self._rng.permutation(len(self.features))
        self._position = 0
        self.epochs_completed = 0

    @property
    def num_examples(self) -> int:
        return len(self.features)

    def next_batch(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        if self._position + batch_size > len(self._order):
            self.epochs_completed += 1
            self._order = self._rng.permutation(len(self.features))
            self._position = 0
        idx = self._order[self._position:self._position + batch_size]
        self._position += batch_size
        return self.features[idx], self.labels[idx]


def one_hot(labels: np.ndarray, depth: int) -> np.ndarray:
    out = np.zeros((len(labels), depth), dtype=np.float32)
    out[np.arange(len(labels)), labels] = 1.0
    return out


def train_test_split(features, labels, test_fraction: float = 0.2, seed: int = 0):
    order = np.random.default_rng(seed).permutation(len(features))
    n_test = int(round(len(features) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return (features[train], labels[train]), (features[test], labels[test])


def _sklearn():
    try:
        from sklearn import datasets
    except ImportError:
        raise ImportError("xlite.datasets.load_digits/load_iris need scikit-learn: "
                          "pip install 'xlite[examples]'") from None
    return datasets


def _sklearn_data_file(name: str):
    """The path of a data file scikit-learn ships (sklearn/datasets/data/NAME), found without importing
    scikit-learn (its import, SciPy's statistics included, took seconds of the examples' start); or None."""
    import importlib.util
    import os
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.origin:
        return None
    path = os.path.join(os.path.dirname(spec.origin), "datasets", "data", name)
    return path if os.path.isfile(path) else None


def load_digits(test_fraction: float = 0.2, seed: int = 0):
    """scikit-learn's 8x8 digits as float32 in [0, 1] and int labels: ((x_train, y_train), (x_test, y_test))."""
    path = _sklearn_data_file("digits.csv.gz")
    if path is None:
        d = _sklearn().load_digits()
        data, target = d.data, d.target
    else:                               # the 64 pixels and the label per row, as sklearn.datasets reads it
        import gzip
        with gzip.open(path, "rt") as f:
            table = np.loadtxt(f, delimiter=",")
        data, target = table[:, :-1], table[:, -1]
    return train_test_split((data / 16.0).astype(np.float32), target.astype(np.int32), test_fraction, seed)


def load_iris(test_fraction: float = 0.2, seed: int = 0):
    """Iris: 4 float32 features, 3 classes: ((x_train, y_train), (x_test, y_test))."""
    d = _sklearn().load_iris()
    return train_test_split(d.data.astype(np.float32), d.target.astype(np.int32), test_fraction, seed)
