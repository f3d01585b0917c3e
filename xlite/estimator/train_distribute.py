"""RunConfig(train_distribute=strategy): an Estimator trained data-parallel over the strategy's processes.

The model_fn is called under the strategy's scope, so a tf.train optimizer averages the replicas'
gradients with an all-reduce (train/optimizers.py); each replica reads every num_replicas-th batch of
the input_fn's dataset (its batch size is the per-replica one, as in TF's Estimator), or input_fn
shards its data itself when it takes an `input_context`. Only rank 0 writes checkpoints and summaries.
"""
from __future__ import annotations

import contextlib

from xlite.data.dataset import Dataset


@contextlib.contextmanager
def replica_scope(strategy):
    """The strategy's scope, or nothing without one."""
    if strategy is None:
        yield None
        return
    with strategy.scope():
        yield strategy


def input_context(strategy):
    """What an input_fn taking `input_context` learns about its pipeline (None without a strategy)."""
    if strategy is None:
        return None
    return strategy.distribute_datasets_from_function(lambda context: context)


def shard_input(result, strategy, sharded_by_input_fn: bool):
    """This replica's batches of a Dataset input_fn returned (anything else as it is)."""
    if strategy is None or sharded_by_input_fn or not isinstance(result, Dataset):
        return result
    context = input_context(strategy)
    if context.num_input_pipelines == 1:
        return result
    return result.shard(context.num_input_pipelines, context.input_pipeline_id)


__all__ = ["replica_scope", "input_context", "shard_input"]
