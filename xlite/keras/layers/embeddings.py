"""Keras Embedding: rows of an [input_dim, output_dim] matrix by integer id (a gather)."""
from __future__ import annotations

from xlite.frontend import math_ops, nn_ops
from xlite.ir import dtypes
from xlite.keras.engine.base_layer import Layer


class Embedding(Layer):
    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 activity_regularizer=None, embeddings_constraint=None, mask_zero=False, input_length=None,
                 **kwargs):
        if input_length is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        if mask_zero:
            from xlite import errors
            raise errors.unimplemented("Embedding(mask_zero=True) (Keras masking) is not supported by xlite yet")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = embeddings_initializer
        self.embeddings_regularizer, self.embeddings_constraint = embeddings_regularizer, embeddings_constraint
        if activity_regularizer is not None:
            from xlite import errors
            raise errors.unimplemented("Embedding(activity_regularizer=...) is not supported by xlite yet")
        self.input_length = input_length

    def build(self, input_shape) -> None:
        self.embeddings = self.add_weight("embeddings", [self.input_dim, self.output_dim],
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs):
        if inputs.dtype not in (dtypes.int32, dtypes.int64):
            inputs = math_ops.cast(inputs, dtypes.int32)
        return nn_ops.embedding_lookup(self.embeddings, inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "input_length": self.input_length}
