"""tf.feature_column: columns that turn raw features into dense tensors or categorical ids, and the
input_layer / linear_model that combine them."""
from __future__ import annotations

from xlite.estimator.feature_column.columns import (bucketized_column, categorical_column_with_hash_bucket,
                                                    categorical_column_with_identity,
                                                    categorical_column_with_vocabulary_list, crossed_column,
                                                    embedding_column, indicator_column, numeric_column)
from xlite.estimator.feature_column.feature_layers import input_layer, linear_model

__all__ = ["bucketized_column", "categorical_column_with_hash_bucket", "categorical_column_with_identity",
           "categorical_column_with_vocabulary_list", "crossed_column", "embedding_column", "indicator_column",
           "numeric_column", "input_layer", "linear_model"]
