"""String features to categorical ids, as host ops of the graph (TF's LookupTableFindV2,
StringToHashBucketFast and SparseCrossHashed run on the CPU too). A string tensor comes from the input
pipeline's get_next and never enters an executable; these ops read its value on the host before each run
and hand the step int64 ids and a validity mask as feeds (xlite/data/text.py's host ops)."""
from __future__ import annotations

import itertools

import numpy as np

from xlite import errors
from xlite.data import structure
from xlite.estimator.feature_column.fingerprint import fingerprint64, fingerprint_cat64
from xlite.frontend import string_ops
from xlite.frontend.op_registry import lowering
from xlite.frontend.gradients import no_gradient
from xlite.ir import dtypes

DEFAULT_HASH_KEY = 0xDECAFCAFFE     # TF's SparseCross hash_key when crossed_column gives none

lowering("LookupTableFindV2", "StringToHashBucketFast", "SparseCrossHashed", stateful=True)(string_ops.lower_host_op)
no_gradient("LookupTableFindV2", "StringToHashBucketFast", "SparseCrossHashed")


def _as_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _matrix(values) -> np.ndarray:
    array = np.asarray(values, dtype=object)
    return array.reshape(-1, 1) if array.ndim == 1 else array.reshape(array.shape[0], -1)


def _out_shape(t):
    return [t.shape.as_list()[0] if t.shape.ndims else None,
            1 if t.shape.ndims == 1 else (None if t.shape.ndims is None else int(np.prod(t.shape.as_list()[1:])))]


def _require_string(t, what: str) -> None:
    if t.dtype is not structure.string:
        raise errors.unimplemented(f"{what} of a {t.dtype.name} feature: xlite hashes and looks up strings "
                                   "only (integer features: use an integer vocabulary or "
                                   "categorical_column_with_identity)")


def _host_ids(op_type: str, inputs: list, compute, shape=None):
    """(ids, valid) of `compute` over the inputs' string matrices, in a host op (shape: the first input's)."""
    shape = _out_shape(inputs[0]) if shape is None else shape
    ids, valid = string_ops.host_op(op_type, inputs, {}, [(dtypes.int64, shape), (dtypes.bool_, shape)],
                                    lambda values: compute(*[_matrix(v) for v in values]), None)
    return ids, valid


def vocabulary_ids(value, vocabulary: tuple, default_value: int, num_oov_buckets: int):
    """(ids, valid): each string's index in `vocabulary`, else an OOV bucket (len(vocabulary) +
    Fingerprint64 % num_oov_buckets) or default_value; the empty string is a missing value."""
    _require_string(value, "categorical_column_with_vocabulary_list")
    table = {_as_bytes(v): i for i, v in enumerate(vocabulary)}

    def compute(strings):
        keys = [_as_bytes(s) for s in strings.reshape(-1)]
        ids = [table.get(k, len(table) + fingerprint64(k) % num_oov_buckets if num_oov_buckets else default_value)
               for k in keys]
        ids = np.asarray(ids, np.int64).reshape(strings.shape)
        valid = np.asarray([k != b"" for k in keys]).reshape(strings.shape) & (ids >= 0)
        return [ids, valid]
    return _host_ids("LookupTableFindV2", [value], compute)


def hash_bucket_ids(value, num_buckets: int):
    """(ids, valid): Fingerprint64(string) % num_buckets, TF's StringToHashBucketFast."""
    _require_string(value, "categorical_column_with_hash_bucket")

    def compute(strings):
        keys = [_as_bytes(s) for s in strings.reshape(-1)]
        ids = np.asarray([fingerprint64(k) % num_buckets for k in keys], np.int64).reshape(strings.shape)
        return [ids, np.asarray([k != b"" for k in keys]).reshape(strings.shape)]
    return _host_ids("StringToHashBucketFast", [value], compute)


def crossed_ids(values: list, num_buckets: int, hash_key):
    """(ids, valid) of every combination of the examples' strings: FingerprintCat64 chained over the
    strings' Fingerprint64s from hash_key, modulo num_buckets (TF's SparseCrossHashed)."""
    for v in values:
        if not hasattr(v, "dtype"):
            raise errors.unimplemented(f"crossed_column over {v}: xlite crosses raw string features only")
        _require_string(v, "crossed_column")
    key = DEFAULT_HASH_KEY if hash_key is None else hash_key
    shape = [_out_shape(values[0])[0], None]

    def compute(*columns):
        rows = []
        for example in zip(*columns):
            present = [[fingerprint64(_as_bytes(s)) for s in col if _as_bytes(s) != b""] for col in example]
            crosses = []
            for combination in itertools.product(*present):
                h = key
                for fp in combination:
                    h = fingerprint_cat64(h, fp)
                crosses.append(h % num_buckets)
            rows.append(crosses)
        width = max([len(r) for r in rows] + [1])
        ids = np.zeros((len(rows), width), np.int64)
        valid = np.zeros((len(rows), width), bool)
        for i, r in enumerate(rows):
            ids[i, :len(r)], valid[i, :len(r)] = r, True
        return [ids, valid]
    return _host_ids("SparseCrossHashed", list(values), compute, shape)
