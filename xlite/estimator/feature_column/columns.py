"""tf.feature_column's columns: how a raw feature becomes a dense tensor or categorical ids.

TF hands categorical ids around as a SparseTensor; xlite has none, so a categorical column gives a dense
int64 `[batch, n]` id tensor with a validity mask (an id of a missing or ignored value is invalid), which
is what TF's SparseTensor holds for dense input. indicator_column, embedding_column and linear_model read
the ids the same way TF's sparse ops do: counts of one-hot rows, a combined gather, a sum of weight rows.
All of it is graph ops, compiled with the model; only strings (never inside an executable) are looked up
on the host, by the host ops of xlite/estimator/feature_column/string_lookup.py.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from xlite.data import structure
from xlite.frontend import array_ops, fill_ops, gather_ops, math_ops, reduction_ops
from xlite.frontend.convert import constant
from xlite.frontend.graph import Tensor
from xlite.frontend.init_ops import TruncatedNormal
from xlite.frontend.variable_scope import get_variable
from xlite.ir import dtypes


class FeatureTransformationCache:
    """Each column's transformed tensor, made once per set of features (TF's _LazyBuilder)."""

    def __init__(self, features: dict):
        self._features = dict(features)
        self._cache: dict = {}

    def raw(self, key: str) -> Tensor:
        if key not in self._features:
            raise ValueError(f"The following feature is not found in features: {key}. Given features: "
                             f"{sorted(self._features)}")
        value = self._features[key]
        if not isinstance(value, Tensor):
            value = constant(value)
        return value

    def get(self, column):
        if column not in self._cache:
            self._cache[column] = column.transform(self)
        return self._cache[column]


def _as_batch_matrix(t: Tensor) -> Tensor:
    """[batch] -> [batch, 1]; [batch, d...] -> [batch, prod(d)]."""
    if t.shape.ndims == 1:
        return array_ops.expand_dims(t, -1)
    if t.shape.ndims == 2:
        return t
    dims = t.shape.as_list()[1:]
    if any(d is None for d in dims):
        raise ValueError(f"Feature {t.name} needs a static shape past the batch dimension, got {t.shape}")
    return array_ops.reshape(t, [-1, int(np.prod(dims))])


def _full_like(t: Tensor, value) -> Tensor:
    return fill_ops.zeros_like(t) + constant(np.asarray(value, t.dtype.np))


# dense columns ---------------------------------------------------------------------------------------------
class NumericColumn(NamedTuple("NumericColumn", [("key", str), ("shape", tuple), ("default_value", object),
                                                 ("dtype", object), ("normalizer_fn", object)])):
    """A real-valued feature of `shape` per example, cast to `dtype` and flattened."""

    name = property(lambda self: self.key)
    variable_shape = property(lambda self: (int(np.prod(self.shape)),))
    num_elements = property(lambda self: int(np.prod(self.shape)))

    def transform(self, cache):
        value = cache.raw(self.key)
        if not value.dtype.is_floating and not value.dtype.is_integer:
            raise ValueError(f"The corresponding Tensor of numerical column must be a Tensor. Given: {value}")
        value = math_ops.cast(value, self.dtype)
        if self.normalizer_fn is not None:
            value = self.normalizer_fn(value)
        return value

    def get_dense_tensor(self, cache, trainable: bool = True) -> Tensor:
        value = cache.get(self)
        if value.shape.ndims == 1 and self.num_elements == 1:
            return array_ops.expand_dims(value, -1)
        return array_ops.reshape(value, [-1, self.num_elements])


def numeric_column(key, shape=(1,), default_value=None, dtype=dtypes.float32, normalizer_fn=None) -> NumericColumn:
    shape = (shape,) if isinstance(shape, int) else tuple(int(d) for d in shape)
    if any(d <= 0 for d in shape):
        raise ValueError(f"shape dimensions must be greater than 0. shape: {shape}, key: {key}")
    if not dtypes.as_dtype(dtype).is_floating and not dtypes.as_dtype(dtype).is_integer:
        raise ValueError(f"dtype must be convertible to float. dtype: {dtype}, key: {key}")
    if normalizer_fn is not None and not callable(normalizer_fn):
        raise TypeError(f"normalizer_fn must be a callable. Given: {normalizer_fn}")
    return NumericColumn(key, shape, default_value, dtypes.as_dtype(dtype), normalizer_fn)


class BucketizedColumn(NamedTuple("BucketizedColumn", [("source_column", NumericColumn),
                                                       ("boundaries", tuple)])):
    """A numeric column cut at `boundaries`: dense as one-hot buckets, categorical as bucket ids."""

    name = property(lambda self: f"{self.source_column.name}_bucketized")
    variable_shape = property(lambda self: (self.source_column.num_elements * (len(self.boundaries) + 1),))
    num_buckets = property(lambda self: self.source_column.num_elements * (len(self.boundaries) + 1))

    def transform(self, cache):
        """The bucket of each element: how many boundaries are <= it (TF's Bucketize)."""
        value = _as_batch_matrix(math_ops.cast(cache.get(self.source_column), dtypes.float32))
        bounds = constant(np.asarray(self.boundaries, np.float32))
        above = math_ops.cast(math_ops.greater_equal(array_ops.expand_dims(value, -1), bounds), dtypes.int64)
        return reduction_ops.reduce_sum(above, axis=-1)

    def get_dense_tensor(self, cache, trainable: bool = True) -> Tensor:
        buckets = fill_ops.one_hot(cache.get(self), len(self.boundaries) + 1, dtype=dtypes.float32)
        return array_ops.reshape(buckets, [-1, self.num_buckets])

    def get_ids(self, cache):
        buckets = cache.get(self)
        n = self.source_column.num_elements
        offsets = constant(np.arange(n, dtype=np.int64) * (len(self.boundaries) + 1))
        ids = buckets + offsets
        return ids, math_ops.greater_equal(ids, constant(np.int64(0)))


def bucketized_column(source_column, boundaries) -> BucketizedColumn:
    if not isinstance(source_column, NumericColumn):
        raise ValueError(f"source_column must be a column generated with numeric_column(). Given: {source_column}")
    if len(source_column.shape) > 1:
        raise ValueError(f"source_column must be one-dimensional column. Given: {source_column}")
    if not boundaries or not isinstance(boundaries, (list, tuple)):
        raise ValueError("boundaries must be a sorted list.")
    if any(a >= b for a, b in zip(boundaries, boundaries[1:])):
        raise ValueError("boundaries must be a sorted list.")
    return BucketizedColumn(source_column, tuple(float(b) for b in boundaries))


# categorical columns ---------------------------------------------------------------------------------------
def _integer_input(cache, key: str) -> Tensor:
    value = cache.raw(key)
    if not value.dtype.is_integer:
        raise ValueError(f"Column dtype and SparseTensors dtype must be compatible. key: {key}, column dtype: "
                         f"int64, tensor dtype: {value.dtype.name}")
    return _as_batch_matrix(math_ops.cast(value, dtypes.int64))


class IdentityCategoricalColumn(NamedTuple("IdentityCategoricalColumn", [("key", str), ("number_buckets", int),
                                                                         ("default_value", object)])):
    """Integer features that are their own ids in [0, num_buckets)."""

    name = property(lambda self: self.key)
    num_buckets = property(lambda self: self.number_buckets)

    def transform(self, cache):
        values = _integer_input(cache, self.key)
        valid = math_ops.greater_equal(values, constant(np.int64(0)))
        in_range = math_ops.logical_and(valid, math_ops.less(values, constant(np.int64(self.number_buckets))))
        if self.default_value is None:
            # TF fails the run on an id outside [0, num_buckets); xlite treats it as missing (no valid id)
            return math_ops.where(in_range, values, _full_like(values, -1)), in_range
        fallback = _full_like(values, self.default_value)
        return math_ops.where(in_range, values, math_ops.where(valid, fallback, values)), valid

    def get_ids(self, cache):
        return cache.get(self)


def categorical_column_with_identity(key, num_buckets, default_value=None) -> IdentityCategoricalColumn:
    if num_buckets < 1:
        raise ValueError(f"num_buckets {num_buckets} < 1, column_name {key}")
    if default_value is not None and not 0 <= default_value < num_buckets:
        raise ValueError(f"default_value {default_value} not in range [0, {num_buckets}), column_name {key}")
    return IdentityCategoricalColumn(key, int(num_buckets), default_value)


class VocabularyListCategoricalColumn(NamedTuple("VocabularyListCategoricalColumn", [
        ("key", str), ("vocabulary_list", tuple), ("dtype", object), ("default_value", int),
        ("num_oov_buckets", int)])):
    """A feature's position in an in-memory vocabulary (default_value when absent)."""

    name = property(lambda self: self.key)
    num_buckets = property(lambda self: len(self.vocabulary_list) + self.num_oov_buckets)

    def transform(self, cache):
        value = cache.raw(self.key)
        if self.dtype is structure.string:
            from xlite.estimator.feature_column import string_lookup
            return string_lookup.vocabulary_ids(value, self.vocabulary_list, self.default_value,
                                                self.num_oov_buckets)
        values = _integer_input(cache, self.key)
        vocab = constant(np.asarray(self.vocabulary_list, np.int64))
        matches = math_ops.equal(array_ops.expand_dims(values, -1), vocab)
        found = reduction_ops.reduce_any(matches, axis=-1)
        position = reduction_ops.argmax(math_ops.cast(matches, dtypes.int32), axis=-1, output_type=dtypes.int64)
        ids = math_ops.where(found, position, _full_like(position, self.default_value))
        return ids, math_ops.greater_equal(values, constant(np.int64(0)))

    def get_ids(self, cache):
        ids, present = cache.get(self)
        return ids, math_ops.logical_and(present, math_ops.greater_equal(ids, constant(np.int64(0))))


def categorical_column_with_vocabulary_list(key, vocabulary_list, dtype=None, default_value=-1, num_oov_buckets=0):
    """Integer vocabularies are looked up in the graph; string ones on the host (strings never reach native
    code). num_oov_buckets needs TF's string hash (Fingerprint64) and is supported for strings only."""
    if vocabulary_list is None or len(vocabulary_list) < 1:
        raise ValueError(f"vocabulary_list {vocabulary_list} must be non-empty, column_name: {key}")
    if len(set(vocabulary_list)) != len(vocabulary_list):
        raise ValueError(f"Duplicate keys in vocabulary_list {vocabulary_list}, column_name: {key}")
    if num_oov_buckets and default_value != -1:
        raise ValueError(f"Can't specify both num_oov_buckets and default_value in {key}.")
    is_string = isinstance(vocabulary_list[0], (str, bytes))
    dtype = structure.string if (dtype is None and is_string) else dtypes.int64 if dtype is None else dtype
    dtype = structure.string if dtype in (structure.string, "string") else dtypes.as_dtype(dtype)
    if (dtype is structure.string) != is_string:
        raise ValueError(f"dtype {dtype} of column {key} does not match its vocabulary_list {vocabulary_list}")
    if num_oov_buckets and dtype is not structure.string:
        from xlite import errors
        raise errors.unimplemented("categorical_column_with_vocabulary_list(num_oov_buckets=...) of an integer "
                                   "vocabulary (TF hashes the number's text on the host)")
    vocab = tuple(v.decode() if isinstance(v, bytes) else v for v in vocabulary_list)
    return VocabularyListCategoricalColumn(key, vocab, dtype, int(default_value), int(num_oov_buckets))


class HashedCategoricalColumn(NamedTuple("HashedCategoricalColumn", [("key", str), ("hash_bucket_size", int),
                                                                     ("dtype", object)])):
    """Fingerprint64(feature) % hash_bucket_size, as TF's StringToHashBucketFast (on the host)."""

    name = property(lambda self: self.key)
    num_buckets = property(lambda self: self.hash_bucket_size)

    def transform(self, cache):
        from xlite.estimator.feature_column import string_lookup
        return string_lookup.hash_bucket_ids(cache.raw(self.key), self.hash_bucket_size)

    def get_ids(self, cache):
        return cache.get(self)


def categorical_column_with_hash_bucket(key, hash_bucket_size, dtype=None) -> HashedCategoricalColumn:
    if hash_bucket_size is None or hash_bucket_size < 1:
        raise ValueError(f"hash_bucket_size must be at least 1. hash_bucket_size: {hash_bucket_size}, key: {key}")
    dtype = structure.string if dtype in (None, structure.string, "string") else dtypes.as_dtype(dtype)
    return HashedCategoricalColumn(key, int(hash_bucket_size), dtype)


class CrossedColumn(NamedTuple("CrossedColumn", [("keys", tuple), ("hash_bucket_size", int),
                                                 ("hash_key", object)])):
    """Every combination of the crossed features' values, hashed into hash_bucket_size buckets (TF's
    SparseCross with FingerprintCat64), on the host."""

    name = property(lambda self: "_X_".join(k if isinstance(k, str) else k.name for k in self.keys))
    num_buckets = property(lambda self: self.hash_bucket_size)

    def transform(self, cache):
        from xlite.estimator.feature_column import string_lookup
        return string_lookup.crossed_ids([cache.raw(k) if isinstance(k, str) else k for k in self.keys],
                                         self.hash_bucket_size, self.hash_key)

    def get_ids(self, cache):
        return cache.get(self)


def crossed_column(keys, hash_bucket_size, hash_key=None) -> CrossedColumn:
    if not hash_bucket_size or hash_bucket_size < 1:
        raise ValueError(f"hash_bucket_size must be > 1. hash_bucket_size: {hash_bucket_size}")
    if not keys or len(keys) < 2:
        raise ValueError(f"keys must be a list with length > 1. Given: {keys}")
    for key in keys:
        if not isinstance(key, (str, VocabularyListCategoricalColumn, IdentityCategoricalColumn,
                                HashedCategoricalColumn, BucketizedColumn, CrossedColumn)):
            raise ValueError(f"Unsupported key type. All keys must be either string, or categorical column "
                             f"except HashedCategoricalColumn. Given: {key}")
        if isinstance(key, HashedCategoricalColumn):
            raise ValueError("categorical_column_with_hash_bucket is not supported for crossing. Hashing before "
                             f"crossing will increase probability of collision. Instead, use the feature name "
                             f"as a string. Given: {key}")
    return CrossedColumn(tuple(keys), int(hash_bucket_size), hash_key)


# columns over categorical ids ------------------------------------------------------------------------------
def _valid_ids(ids: Tensor, valid: Tensor) -> tuple[Tensor, Tensor]:
    """Invalid ids replaced by 0 (so a gather stays in bounds) and the float mask that zeroes their rows."""
    safe = math_ops.where(valid, ids, fill_ops.zeros_like(ids))
    return safe, math_ops.cast(valid, dtypes.float32)


class IndicatorColumn(NamedTuple("IndicatorColumn", [("categorical_column", object)])):
    """Multi-hot counts of a categorical column's ids: [batch, num_buckets]."""

    name = property(lambda self: f"{self.categorical_column.name}_indicator")
    variable_shape = property(lambda self: (self.categorical_column.num_buckets,))

    def get_dense_tensor(self, cache, trainable: bool = True) -> Tensor:
        ids, valid = self.categorical_column.get_ids(cache)
        ids = math_ops.where(valid, ids, _full_like(ids, -1))        # one_hot of -1 is all zeros
        one_hot = fill_ops.one_hot(ids, self.categorical_column.num_buckets, dtype=dtypes.float32)
        return reduction_ops.reduce_sum(one_hot, axis=-2)


def indicator_column(categorical_column) -> IndicatorColumn:
    if not hasattr(categorical_column, "get_ids"):
        raise ValueError(f"Unsupported input type. Input must be a CategoricalColumn. Given: {categorical_column}")
    return IndicatorColumn(categorical_column)


def combine_rows(weights: Tensor, ids: Tensor, valid: Tensor, combiner: str) -> Tensor:
    """For each example, its valid ids' rows of `weights` combined by sum, mean or sqrtn (TF's
    embedding_lookup_sparse); an example without a valid id gives zeros."""
    safe, mask = _valid_ids(ids, valid)
    rows = gather_ops.gather(weights, safe) * array_ops.expand_dims(mask, -1)
    total = reduction_ops.reduce_sum(rows, axis=-2)
    if combiner == "sum":
        return total
    count = reduction_ops.reduce_sum(mask, axis=-1, keepdims=True)
    if combiner == "sqrtn":
        count = math_ops.sqrt(count)
    elif combiner != "mean":
        raise ValueError(f"combiner must be one of 'mean', 'sqrtn' or 'sum', given: {combiner}")
    return total / math_ops.maximum(count, constant(np.float32(1e-12))) * math_ops.cast(
        math_ops.greater(count, constant(np.float32(0))), dtypes.float32)


class EmbeddingColumn(NamedTuple("EmbeddingColumn", [
        ("categorical_column", object), ("dimension", int), ("combiner", str), ("initializer", object),
        ("ckpt_to_load_from", object), ("tensor_name_in_ckpt", object), ("max_norm", object),
        ("trainable", bool)])):
    """A trained [num_buckets, dimension] table; each example gets its ids' rows combined."""

    name = property(lambda self: f"{self.categorical_column.name}_embedding")
    variable_shape = property(lambda self: (self.dimension,))

    def get_dense_tensor(self, cache, trainable: bool = True) -> Tensor:
        weights = get_variable("embedding_weights", [self.categorical_column.num_buckets, self.dimension],
                               dtype=dtypes.float32, initializer=self.initializer,
                               trainable=self.trainable and trainable)
        ids, valid = self.categorical_column.get_ids(cache)
        return combine_rows(weights, ids, valid, self.combiner)


def embedding_column(categorical_column, dimension, combiner="mean", initializer=None, ckpt_to_load_from=None,
                     tensor_name_in_ckpt=None, max_norm=None, trainable=True, use_safe_embedding_lookup=True):
    if dimension is None or dimension < 1:
        raise ValueError(f"Invalid dimension {dimension}.")
    if (ckpt_to_load_from is None) != (tensor_name_in_ckpt is None):
        raise ValueError("Must specify both `ckpt_to_load_from` and `tensor_name_in_ckpt` or none of them.")
    if initializer is not None and not callable(initializer):
        raise ValueError(f"initializer must be callable if specified. Embedding of column_name: "
                         f"{categorical_column.name}")
    if max_norm is not None or ckpt_to_load_from is not None:
        from xlite import errors
        raise errors.unimplemented("embedding_column(max_norm=..., ckpt_to_load_from=...)")
    initializer = initializer or TruncatedNormal(mean=0.0, stddev=1 / math.sqrt(dimension))
    return EmbeddingColumn(categorical_column, int(dimension), combiner, initializer, None, None, None,
                           bool(trainable))


def columns_in_order(feature_columns) -> list:
    """The columns sorted by name, as TF's input_layer and linear_model concatenate them."""
    if feature_columns is None:
        raise ValueError("feature_columns must not be empty.")
    columns = list(feature_columns) if isinstance(feature_columns, (list, tuple, set)) else [feature_columns]
    if not columns:
        raise ValueError("feature_columns must not be empty.")
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise ValueError(f"Duplicate feature column name found for columns: {sorted(names)}")
    return sorted(columns, key=lambda c: c.name)


__all__ = ["numeric_column", "bucketized_column", "categorical_column_with_identity",
           "categorical_column_with_vocabulary_list", "categorical_column_with_hash_bucket", "crossed_column",
           "indicator_column", "embedding_column"]
