"""RunConfig(train_distribute=...): each replica's batches of input_fn's dataset, the strategy's scope around
model_fn, and a one-process strategy training as no strategy does (two processes:
tests/distribute/test_mpi_training.py)."""
import numpy as np
import pytest

import xlite as tf
from xlite.distribute.strategies import MirroredStrategy
from xlite.estimator import train_distribute
from xlite.semantics.world import World


class _SecondOfTwo(MirroredStrategy):
    _own_world = World(size=2, rank=1)


def _batches(dataset) -> list:
    with tf.Graph().as_default(), tf.Session() as sess:
        get_next = tf.compat.v1.data.make_one_shot_iterator(dataset).get_next()
        out = []
        while True:
            try:
                out.append(list(sess.run(get_next)))
            except tf.errors.OutOfRangeError:
                return out


def test_each_replica_reads_every_other_batch():
    dataset = tf.data.Dataset.range(10).batch(2)
    assert _batches(train_distribute.shard_input(dataset, _SecondOfTwo(), False)) == [[2, 3], [6, 7]]
    assert train_distribute.shard_input(dataset, _SecondOfTwo(), True) is dataset
    assert train_distribute.shard_input(dataset, None, False) is dataset
    context = train_distribute.input_context(_SecondOfTwo())
    assert (context.num_input_pipelines, context.input_pipeline_id) == (2, 1)


def test_the_strategy_scope_is_open_while_model_fn_runs():
    strategy = MirroredStrategy()
    with train_distribute.replica_scope(strategy):
        assert tf.distribute.get_strategy() is strategy
    with train_distribute.replica_scope(None) as nothing:
        assert nothing is None and not tf.distribute.has_strategy()


def _train(tmp_path, strategy) -> list:
    x = np.linspace(-1, 1, 24, dtype=np.float32).reshape(8, 3)
    y = (x.sum(1, keepdims=True) > 0).astype(np.float32)

    def model_fn(features, labels, mode):
        loss = tf.losses.mean_squared_error(labels, tf.layers.dense(features, 1))
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=tf.train.AdamOptimizer(0.1).minimize(
            loss, global_step=tf.train.get_global_step()))

    config = tf.estimator.RunConfig(model_dir=str(tmp_path), tf_random_seed=1, train_distribute=strategy)
    estimator = tf.estimator.Estimator(model_fn, config=config)
    estimator.train(lambda: tf.data.Dataset.from_tensor_slices((x, y)).batch(4))
    return [estimator.get_variable_value(n) for n in sorted(estimator.get_variable_names()) if "dense" in n]


@pytest.mark.slow
def test_a_one_process_strategy_trains_as_no_strategy(tmp_path):
    for got, want in zip(_train(tmp_path / "a", MirroredStrategy()), _train(tmp_path / "b", None)):
        np.testing.assert_array_equal(got, want)
