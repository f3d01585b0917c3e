"""MonitoredSession / MonitoredTrainingSession and the basic hooks. The expected call order and checkpoint files
are TF 2.21's: the same script (a hook logging its calls, save_checkpoint_steps=2, five runs of a global-step
increment) run with tensorflow.compat.v1 printed the same log and the same file list."""
import glob
import logging
import os

import numpy as np
import pytest

import xlite as tf
from xlite import errors


@pytest.fixture(autouse=True)
def graph():
    """A fresh default graph per test (a monitored session finalizes its graph, as TF's does)."""
    with tf.Graph().as_default() as g:
        yield g


class Recorder(tf.train.SessionRunHook):
    def __init__(self, log):
        self.log = log

    def begin(self):
        self.log.append("begin")

    def after_create_session(self, session, coord):
        self.log.append("after_create_session")

    def before_run(self, run_context):
        self.log.append("before_run")
        return tf.train.SessionRunArgs({"step": tf.train.get_global_step()})

    def after_run(self, run_context, run_values):
        self.log.append(("after_run", sorted(run_values.results)))

    def end(self, session):
        self.log.append("end")


def _model():
    w = tf.Variable(3.0, name="w")
    step = tf.train.get_or_create_global_step()
    loss = tf.square(w - 1.0)
    train = tf.train.GradientDescentOptimizer(0.25).minimize(loss, global_step=step)
    return w, loss, train


def test_hook_order_checkpoints_and_restore(tmp_path):
    d = str(tmp_path)
    w, loss, train = _model()
    log = []
    with tf.train.MonitoredTrainingSession(checkpoint_dir=d, hooks=[Recorder(log)], save_checkpoint_steps=2) as sess:
        for _ in range(5):
            sess.run(train)
        w_after = sess.run(w)
    assert log == ["begin", "after_create_session"] + ["before_run", ("after_run", ["step"])] * 6 + ["end"]   # 5 steps and the read of w
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, "model.ckpt-*.index")))
    assert names == ["model.ckpt-0.index", "model.ckpt-2.index", "model.ckpt-4.index", "model.ckpt-5.index"]
    assert tf.train.latest_checkpoint(d).endswith("model.ckpt-5")
    assert w_after == pytest.approx(1.0 + 2.0 * 0.5 ** 5)

    # A new graph and session in the same directory restores (no initializer runs), then stops at step 7.
    with tf.Graph().as_default():
        w, loss, train = _model()
        hooks = [tf.train.StopAtStepHook(last_step=7)]
        with tf.train.MonitoredTrainingSession(checkpoint_dir=d, hooks=hooks, save_checkpoint_steps=100) as sess:
            assert sess.run(w) == pytest.approx(w_after)
            runs = 0
            while not sess.should_stop():
                sess.run(train)
                runs += 1
        assert runs == 2
    assert tf.train.latest_checkpoint(d).endswith("model.ckpt-7")    # saved at the end


def test_stop_at_step_counts_from_the_start_and_run_after_stop_raises():
    w, loss, train = _model()
    creator = tf.train.ChiefSessionCreator()
    with tf.train.MonitoredSession(session_creator=creator, hooks=[tf.train.StopAtStepHook(num_steps=3)]) as sess:
        steps = []
        while not sess.should_stop():
            steps.append(sess.run([train, tf.train.get_global_step()])[1])
        with pytest.raises(RuntimeError, match="Run called even after should_stop requested"):
            sess.run(train)
    assert len(steps) == 3
    with pytest.raises(ValueError, match="Only one of num_steps or last_step"):
        tf.train.StopAtStepHook(num_steps=1, last_step=2)


def test_hooks_need_the_global_step_as_in_tf(tmp_path):
    tf.Variable(1.0, name="w")
    with pytest.raises(RuntimeError, match="Global step should be created to use StepCounterHook"):
        tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path))


def test_hook_feeds_and_request_stop():
    x = tf.placeholder(tf.float32, [], name="x")
    y = tf.placeholder(tf.float32, [], name="y")
    total = x + y
    doubled = x * 2.0

    class Feeder(tf.train.SessionRunHook):
        def before_run(self, run_context):
            return tf.train.SessionRunArgs(total, feed_dict={y: 10.0})

        def after_run(self, run_context, run_values):
            self.seen = run_values.results
            run_context.request_stop()

    feeder = Feeder()
    with tf.train.MonitoredSession(hooks=[feeder]) as sess:
        assert sess.run(doubled, feed_dict={x: 1.5}) == 3.0
        assert feeder.seen == 11.5 and sess.should_stop()
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        x1 = x + 1.0

        class Clash(tf.train.SessionRunHook):
            def before_run(self, run_context):
                return tf.train.SessionRunArgs(None, feed_dict={x: 1.0})

        with tf.train.MonitoredSession(hooks=[Clash()]) as sess:
            with pytest.raises(RuntimeError, match="Same tensor is fed by a SessionRunHook and user"):
                sess.run(x1, feed_dict={x: 2.0})


def test_out_of_range_ends_cleanly_and_calls_end():
    log = []
    v = tf.Variable(0.0)
    with tf.train.MonitoredSession(hooks=[_EndRecorder(log)]) as sess:
        sess.run(v)
        raise errors.OutOfRangeError(None, None, "End of sequence")
    assert log == ["end"]


class _EndRecorder(tf.train.SessionRunHook):
    def __init__(self, log):
        self.log = log

    def end(self, session):
        self.log.append("end")


def test_nan_tensor_hook():
    bad = tf.constant(np.nan)
    nothing = tf.no_op()
    with tf.train.MonitoredSession(hooks=[tf.train.NanTensorHook(bad)]) as sess:
        with pytest.raises(tf.train.NanLossDuringTrainingError, match="NaN loss during training"):
            sess.run(nothing)
    with tf.train.MonitoredSession(hooks=[tf.train.NanTensorHook(bad, fail_on_nan_loss=False)]) as sess:
        sess.run(nothing)
        assert sess.should_stop()


def test_logging_tensor_hook_logs_every_n_iter_and_at_end(caplog):
    counter = tf.Variable(0, name="counter")
    bump = tf.assign_add(counter, 1)
    hook = tf.train.LoggingTensorHook({"c": counter}, every_n_iter=2, at_end=True,
                                      formatter=lambda values: f"counter is {values['c']}")
    with caplog.at_level(logging.INFO, logger="xlite"):   # whatever verbosity earlier tests set
        with tf.train.MonitoredSession(hooks=[hook]) as sess:
            for _ in range(5):
                sess.run(bump)
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("counter is")]
    assert len(logged) == 4                          # iterations 0, 2, 4 and the end
    assert logged[-1] == "counter is 5"
    with pytest.raises(ValueError, match="exactly one of every_n_iter and every_n_secs"):
        tf.train.LoggingTensorHook({"c": counter})


def test_summary_saver_hook_writes_every_n_steps(tmp_path):
    tb = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    w, loss, train = _model()
    tf.summary.scalar("loss", loss)
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), save_summaries_steps=2,
                                           save_checkpoint_secs=None, log_step_count_steps=None) as sess:
        for _ in range(5):
            sess.run(train)
    acc = tb.EventAccumulator(str(tmp_path))
    acc.Reload()
    steps = [e.step for e in acc.Scalars("loss")]     # TF 2.21 writes the same steps (same script, compat.v1)
    assert steps == [1, 3, 5]
    assert not glob.glob(os.path.join(str(tmp_path), "model.ckpt-*"))


def test_feed_fn_and_final_ops_hooks_with_a_streaming_metric():
    x = tf.placeholder(tf.float32, [None])
    value, update = tf.metrics.mean(x)
    batches = iter([[1.0, 2.0], [3.0], [6.0, 8.0]])
    final = tf.train.FinalOpsHook(value)
    feeder = tf.train.FeedFnHook(lambda: {x: next(batches)})
    with tf.train.MonitoredSession(hooks=[feeder, final]) as sess:
        while True:
            sess.run(update)          # StopIteration from feed_fn ends the session cleanly, as in TF
    assert final.final_ops_values == pytest.approx(4.0)


def test_partial_run_is_unimplemented():
    x = tf.placeholder(tf.float32, [])
    with tf.Session() as sess:
        with pytest.raises(errors.UnimplementedError, match="partial runs are not supported"):
            sess.partial_run_setup([x + 1.0], [x])
        with pytest.raises(errors.UnimplementedError, match="partial runs are not supported"):
            sess.partial_run(None, x + 1.0, {x: 1.0})
