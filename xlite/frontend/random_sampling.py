"""tf.random_shuffle and tf.multinomial (tf.random.shuffle, tf.random.categorical), composed of a random_uniform
and ordinary ops, so they compile and differentiate like them. The values are xlite's Philox draws, not TF's."""
from __future__ import annotations

from xlite.frontend.convert import convert_to_tensor
from xlite.frontend.gather_ops import gather
from xlite.frontend.graph import Tensor
from xlite.frontend.join_ops import stack
from xlite.frontend.math_ops import log, negative
from xlite.frontend.random_ops import random_uniform
from xlite.frontend.reduction_ops import argmax
from xlite.frontend.scopes import name_scope
from xlite.frontend.shape_ops import shape
from xlite.frontend.sort_ops import argsort
from xlite.frontend.array_ops import expand_dims
from xlite.ir import dtypes

__all__ = ["random_shuffle", "multinomial"]


def random_shuffle(value, seed=None, name=None) -> Tensor:
    """`value` with its rows (dimension 0) in a random order: the argsort of a uniform key per row."""
    with name_scope(name, "RandomShuffle", [value]) as scope:
        value = convert_to_tensor(value, name="value")
        if value.shape.ndims == 0:
            raise ValueError("input must be at least 1-D, got a scalar")
        keys = random_uniform(shape(value)[:1], seed=seed)
        return gather(value, argsort(keys), name=scope)


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None) -> Tensor:
    """[batch, num_samples] class indices drawn from each row's unnormalized log-probabilities (the Gumbel-max
    trick: the argmax of the logits plus -log(-log(u)) noise)."""
    with name_scope(name, "multinomial", [logits]):
        logits = convert_to_tensor(logits, name="logits")
        if logits.shape.ndims not in (None, 2):
            raise ValueError(f"logits should be a matrix, got shape {logits.shape}")
        dims = shape(logits)
        u = random_uniform(stack([dims[0], convert_to_tensor(num_samples, dtypes.int32), dims[1]]),
                           dtype=logits.dtype, seed=seed)
        gumbel = negative(log(negative(log(u))))
        return argmax(expand_dims(logits, 1) + gumbel, axis=-1, output_type=output_dtype or dtypes.int64)


def categorical(logits, num_samples, dtype=None, seed=None, name=None) -> Tensor:
    """TF2's spelling of multinomial."""
    return multinomial(logits, num_samples, seed, name, dtype)
