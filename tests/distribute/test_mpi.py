"""xlite.distribute.mpi (Horovod's API) in a world of one process: the same script runs unlaunched, and
its training is plain training. Two processes: test_mpi_training.py."""
import numpy as np
import pytest

import xlite as tf
import xlite.distribute.mpi as hvd


def test_a_process_alone_is_rank_0_of_1():
    hvd.init()
    assert (hvd.rank(), hvd.size(), hvd.local_rank(), hvd.local_size(), hvd.cross_rank(), hvd.cross_size()) == \
        (0, 1, 0, 1, 0, 1)
    assert not hvd.mpi_enabled() and hvd.broadcast_object({"a": 1}, 0) == {"a": 1}
    assert hvd.allgather_object(3) == [3]
    hvd.init([0])
    with pytest.raises(tf.errors.UnimplementedError, match="a part of the world"):
        hvd.init([0, 1])


def _train(distributed: bool) -> list:
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        x = tf.constant(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))
        w = tf.Variable(tf.truncated_normal([3, 2]))
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - 1.0))
        opt = tf.train.AdamOptimizer(0.1)
        if distributed:
            opt = hvd.DistributedOptimizer(opt)
        train = opt.minimize(loss)
        hooks = [hvd.BroadcastGlobalVariablesHook(0)] if distributed else []
        with tf.train.MonitoredTrainingSession(hooks=hooks) as sess:
            for _ in range(3):
                sess.run(train)
            return sess.run([w])


def test_distributed_optimizer_and_broadcast_hook_of_one_process_train_as_plain_ones():
    np.testing.assert_array_equal(_train(True)[0], _train(False)[0])


def test_allreduce_ops_and_errors():
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.constant([1.0, -2.0])
        assert hvd.allreduce(x).op.attrs["reduce_op"] == "average"
        assert hvd.allreduce(x, average=False).op.attrs["reduce_op"] == "sum"
        assert hvd.allreduce(x, op=hvd.Max).op.attrs["reduce_op"] == "max"
        np.testing.assert_array_equal(sess.run(hvd.allreduce(x, prescale_factor=2.0, postscale_factor=3.0)), [6, -12])
        np.testing.assert_array_equal(sess.run(hvd.allgather(x)), [1, -2])
        with pytest.raises(tf.errors.UnimplementedError, match="Adasum"):
            hvd.allreduce(x, op=hvd.Adasum)


def test_keras_optimizer_wrapped_keeps_its_class_name_and_config():
    opt = hvd.DistributedOptimizer(tf.keras.optimizers.SGD(0.5))
    assert type(opt).__name__ == "SGD" and isinstance(opt, tf.keras.optimizers.SGD)
    assert opt.get_config() == tf.keras.optimizers.SGD(0.5).get_config()


def test_compression_none_passes_gradients_as_they_are_and_fp16_says_it_is_unsupported():
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.constant([1.0, -2.0])
        np.testing.assert_array_equal(sess.run(hvd.allreduce(x, compression=hvd.Compression.none)), [1, -2])
        assert hvd.Compression.none.decompress(*hvd.Compression.none.compress(x)) is x
        hvd.DistributedOptimizer(tf.train.GradientDescentOptimizer(0.1), compression=hvd.Compression.none)
        for use in (lambda: hvd.allreduce(x, compression=hvd.Compression.fp16),
                    lambda: hvd.DistributedOptimizer(tf.train.GradientDescentOptimizer(0.1),
                                                     compression=hvd.Compression.fp16),
                    lambda: hvd.DistributedGradientTape(None, compression=hvd.Compression.fp16)):
            with pytest.raises(tf.errors.UnimplementedError, match="FP16Compressor"):
                use()


def _aggregated_sgd(passes: int, steps: int):
    """SGD(0.1) through hvd.DistributedOptimizer(backward_passes_per_step=passes), batch k fed at step k."""
    data = np.random.RandomState(0).standard_normal((steps, 4, 3)).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [4, 3])
        w = tf.Variable(np.ones((3, 2), np.float32))
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - 1.0))
        gradient = tf.gradients(loss, [w])[0]
        step = tf.train.get_or_create_global_step()
        opt = hvd.DistributedOptimizer(tf.train.GradientDescentOptimizer(0.1), backward_passes_per_step=passes)
        train = opt.minimize(loss, global_step=step)
        with tf.train.MonitoredTrainingSession() as sess:     # initializes the local accumulators too
            history = []
            for k in range(steps):
                history.append((sess.run(w), sess.run(gradient, {x: data[k]})))
                sess.run(train, {x: data[k]})
            return history, sess.run(w), sess.run(step)


def test_backward_passes_per_step_applies_the_summed_gradients_every_nth_call():
    history, final, global_step = _aggregated_sgd(passes=2, steps=4)
    (w0, g0), (w1, g1), (w2, g2), (w3, g3) = history
    np.testing.assert_array_equal(w1, w0)                   # the first pass only accumulates
    np.testing.assert_allclose(w2, w0 - 0.1 * (g0 + g1), rtol=1e-6)
    np.testing.assert_array_equal(w3, w2)
    np.testing.assert_allclose(final, w2 - 0.1 * (g2 + g3), rtol=1e-6)
    assert global_step == 4                                 # counted on every call, as Horovod counts it
    with pytest.raises(ValueError, match="> 0"):
        hvd.DistributedOptimizer(tf.train.GradientDescentOptimizer(0.1), backward_passes_per_step=0)
    with pytest.raises(tf.errors.UnimplementedError, match="Keras optimizer"):
        hvd.DistributedOptimizer(tf.keras.optimizers.SGD(0.1), backward_passes_per_step=2)
