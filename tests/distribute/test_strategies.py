"""tf.distribute strategies in a world of one process: one replica, the scope is the model's, and fit
under it trains as without it. Two processes: test_mpi_training.py."""
import numpy as np

import xlite as tf


def test_one_replica_and_the_scope():
    strategy = tf.distribute.MirroredStrategy()
    assert strategy.num_replicas_in_sync == 1
    assert not tf.distribute.has_strategy()
    with strategy.scope() as s:
        assert s is strategy and tf.distribute.get_strategy() is strategy and tf.distribute.has_strategy()
    assert tf.distribute.get_strategy() is not strategy
    assert isinstance(tf.distribute.experimental.MultiWorkerMirroredStrategy(), tf.distribute.Strategy)
    assert strategy.run(lambda a, b: a + b, args=(1,), kwargs={"b": 2}) == 3
    assert strategy.experimental_run_v2 == strategy.run
    dataset = tf.data.Dataset.range(4).batch(2)
    assert strategy.experimental_distribute_dataset(dataset) is dataset
    context = strategy.distribute_datasets_from_function(lambda ctx: ctx)
    assert (context.num_input_pipelines, context.input_pipeline_id, context.get_per_replica_batch_size(8)) == (1, 0, 8)


def test_replica_contexts():
    strategy = tf.distribute.MirroredStrategy()
    assert tf.distribute.get_replica_context().num_replicas_in_sync == 1 and not tf.distribute.in_cross_replica_context()
    with strategy.scope():
        assert tf.distribute.get_replica_context() is None and tf.distribute.in_cross_replica_context()
        context = strategy.run(tf.distribute.get_replica_context)
    assert (context.strategy, context.replica_id_in_sync_group, context.num_replicas_in_sync) == (strategy, 0, 1)
    with tf.Graph().as_default(), tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(context.all_reduce("SUM", tf.constant([1.0, 2.0]))), [1.0, 2.0])


def test_reduce():
    strategy = tf.distribute.MirroredStrategy()
    with tf.Graph().as_default(), tf.Session() as sess:
        v = tf.constant([[1.0, 2.0], [3.0, 6.0]])
        got = sess.run([strategy.reduce(tf.distribute.ReduceOp.SUM, v), strategy.reduce("MEAN", v, axis=0),
                        strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=1)])
    np.testing.assert_array_equal(got[0], [[1, 2], [3, 6]])
    np.testing.assert_array_equal(got[1], [2, 4])
    np.testing.assert_array_equal(got[2], [3, 9])


def _fit(strategy) -> list:
    x = np.linspace(-1, 1, 24, dtype=np.float32).reshape(8, 3)
    y = np.eye(2, dtype=np.float32)[[0, 1] * 4]
    with tf.Graph().as_default():
        tf.set_random_seed(2)

        def build():
            model = tf.keras.Sequential([tf.keras.layers.Dense(4, activation="relu", input_shape=(3,)),
                                         tf.keras.layers.Dense(2)])
            model.compile(tf.keras.optimizers.SGD(0.1), tf.keras.losses.CategoricalCrossentropy(from_logits=True))
            return model
        if strategy is None:
            model = build()
        else:
            with strategy.scope():
                model = build()
            assert model._distribution_strategy is strategy
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        return model.get_weights()


def test_fit_under_a_strategy_of_one_replica_is_plain_fit():
    for got, want in zip(_fit(tf.distribute.MirroredStrategy()), _fit(None)):
        np.testing.assert_array_equal(got, want)
